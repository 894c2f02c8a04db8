from __future__ import annotations

import re

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (BooleanField, DateTimeLocalField, IntegerField, SelectField, StringField,
                     TextAreaField)
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from ..formfields import FiniteDecimalField, YearInRange
from .models import (ADVANCEMENT_KINDS, ADVANCEMENT_LABELS, AGGREGATION_LABELS, AGGREGATIONS, QUESTION_KIND_LABELS,
                     QUESTION_KINDS)

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def clean_text(value):
    """Strip surrounding space and control characters (PostgreSQL refuses NUL; none belong in a form)."""
    if isinstance(value, str):
        return _CONTROL.sub("", value).strip()
    return value


def clean_line(value):
    value = clean_text(value)
    return value.replace("\r", " ").replace("\n", " ") if isinstance(value, str) else value


required = DataRequired(message=_l("This field is required."))
LOCAL_FORMAT = "%Y-%m-%dT%H:%M"


def _len(n: int) -> Length:
    return Length(max=n, message=_l("At most %(max)d characters.", max=n))


class CompetitionForm(FlaskForm):
    name_zh = StringField(_l("Name (Chinese)"), filters=[clean_line], validators=[required, _len(120)])
    name_en = StringField(_l("Name (English)"), filters=[clean_line], validators=[Optional(), _len(160)])
    description_zh = TextAreaField(_l("Description (Chinese)"), filters=[clean_text], validators=[_len(10000)])
    description_en = TextAreaField(_l("Description (English)"), filters=[clean_text], validators=[_len(10000)])
    opens_at = DateTimeLocalField(_l("Applications open (Beijing time)"), format=LOCAL_FORMAT,
                                  validators=[Optional(), YearInRange()])
    closes_at = DateTimeLocalField(_l("Applications close (Beijing time)"), format=LOCAL_FORMAT,
                                   validators=[Optional(), YearInRange()])
    max_founder_age = IntegerField(_l("Maximum age of the team lead"), validators=[
        Optional(), NumberRange(min=16, max=80, message=_l("Enter a number between %(min)s and %(max)s."))])
    graduated_within_years = IntegerField(_l("Or graduated within (years)"), validators=[
        Optional(), NumberRange(min=0, max=30, message=_l("Enter a number between %(min)s and %(max)s."))])
    seats_offered = IntegerField(_l("Incubator seats on offer"), validators=[
        Optional(), NumberRange(min=0, max=10000, message=_l("Enter a number between %(min)s and %(max)s."))])
    deck_required = BooleanField(_l("A pitch deck is required to submit"))


class TrackForm(FlaskForm):
    name_zh = StringField(_l("Name (Chinese)"), filters=[clean_line], validators=[required, _len(80)])
    name_en = StringField(_l("Name (English)"), filters=[clean_line], validators=[Optional(), _len(120)])


class RoundForm(FlaskForm):
    name_zh = StringField(_l("Name (Chinese)"), filters=[clean_line], validators=[required, _len(80)])
    name_en = StringField(_l("Name (English)"), filters=[clean_line], validators=[Optional(), _len(120)])
    scoring_opens_at = DateTimeLocalField(_l("Scoring opens (Beijing time)"), format=LOCAL_FORMAT,
                                          validators=[Optional(), YearInRange()])
    scoring_closes_at = DateTimeLocalField(_l("Scoring closes (Beijing time)"), format=LOCAL_FORMAT,
                                           validators=[Optional(), YearInRange()])
    judges_per_entry = IntegerField(_l("Judges per entry"), default=3, validators=[
        required, NumberRange(min=1, max=50, message=_l("Enter a number between %(min)s and %(max)s."))])
    blind = BooleanField(_l("Blind review (judges do not see team names)"))
    aggregation = SelectField(_l("Score aggregation"), choices=[(a, AGGREGATION_LABELS[a]) for a in AGGREGATIONS],
                              default="mean")
    advancement_kind = SelectField(_l("Who advances"),
                                   choices=[(k, ADVANCEMENT_LABELS[k]) for k in ADVANCEMENT_KINDS],
                                   default="top_n_per_track")
    advancement_value = IntegerField(_l("N or percent"), default=10, validators=[
        required, NumberRange(min=1, max=1000, message=_l("Enter a number between %(min)s and %(max)s."))])

    def validate_advancement_value(self, field):
        if self.advancement_kind.data == "top_percent_overall" and field.data and field.data > 100:
            from wtforms.validators import ValidationError

            raise ValidationError(_l("A percentage is at most 100."))


class CriterionForm(FlaskForm):
    name_zh = StringField(_l("Name (Chinese)"), filters=[clean_line], validators=[required, _len(80)])
    name_en = StringField(_l("Name (English)"), filters=[clean_line], validators=[Optional(), _len(120)])
    description_zh = TextAreaField(_l("What judges look for (Chinese)"), filters=[clean_text],
                                   validators=[_len(2000)])
    description_en = TextAreaField(_l("What judges look for (English)"), filters=[clean_text],
                                   validators=[_len(2000)])
    weight = FiniteDecimalField(_l("Weight"), places=2, validators=[
        required, NumberRange(min=0.01, max=1000, message=_l("Enter a number between %(min)s and %(max)s."))])
    max_score = FiniteDecimalField(_l("Maximum score"), places=2, default=10, validators=[
        required, NumberRange(min=0.01, max=1000, message=_l("Enter a number between %(min)s and %(max)s."))])
    step = FiniteDecimalField(_l("Score step"), places=2, default=1, validators=[
        required, NumberRange(min=0.01, max=100, message=_l("Enter a number between %(min)s and %(max)s."))])


class QuestionForm(FlaskForm):
    label_zh = StringField(_l("Question (Chinese)"), filters=[clean_line], validators=[required, _len(200)])
    label_en = StringField(_l("Question (English)"), filters=[clean_line], validators=[Optional(), _len(300)])
    kind = SelectField(_l("Answer type"), choices=[(k, QUESTION_KIND_LABELS[k]) for k in QUESTION_KINDS],
                       default="text")
    choices = TextAreaField(_l("Options (one per line, for a choice question)"), filters=[clean_text],
                            validators=[_len(4000)])
    required = BooleanField(_l("An answer is required"))

    def choice_list(self) -> list[str]:
        lines = [line.strip()[:200] for line in (self.choices.data or "").splitlines()]
        return list(dict.fromkeys(line for line in lines if line))
