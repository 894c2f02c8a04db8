"""Forms of the spaces pages. Validation of shape here; rules in services."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import DateField, FloatField, IntegerField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from .layout_csv import MAX_COORDINATE
from .models import SPACE_TYPE_LABELS, SPACE_TYPES

_req = DataRequired(message=_l("This field is required."))


def type_choices():
    return [(t, SPACE_TYPE_LABELS[t]) for t in SPACE_TYPES]


class BuildingForm(FlaskForm):
    name = StringField(_l("Building name"), validators=[_req, Length(max=120)])
    address = StringField(_l("Address"), validators=[Optional(), Length(max=200)])


class FloorForm(FlaskForm):
    building_id = SelectField(_l("Building"), coerce=int, validators=[InputRequired()])
    number = IntegerField(_l("Floor number"), validators=[InputRequired(), NumberRange(min=0, max=999)])
    name = StringField(_l("Floor name"), validators=[Optional(), Length(max=120)])
    plan_width = FloatField(_l("Plan width"), default=2000,
                            validators=[InputRequired(), NumberRange(min=1, max=MAX_COORDINATE)])
    plan_height = FloatField(_l("Plan height"), default=1200,
                             validators=[InputRequired(), NumberRange(min=1, max=MAX_COORDINATE)])


class LayoutUploadForm(FlaskForm):
    file = FileField(_l("Layout file (CSV or XLSX)"), validators=[FileRequired(message=_l("Choose a file."))])


class BackgroundForm(FlaskForm):
    image = FileField(_l("Plan image (PNG or JPEG, at most 5 MB)"), validators=[FileRequired(message=_l("Choose a file."))])


class OutageForm(FlaskForm):
    start_date = DateField(_l("Out of service from"), validators=[InputRequired()])
    end_date = DateField(_l("Back in service on (empty: until further notice)"), validators=[Optional()])
    reason = StringField(_l("Reason"), validators=[Optional(), Length(max=200)])


class OutageEndForm(FlaskForm):
    on_date = DateField(_l("Back in service on"), validators=[InputRequired()])


class AdmitForm(FlaskForm):
    team_id = SelectField(_l("Team"), coerce=int, validators=[InputRequired()])
    award_level_rank = SelectField(_l("Award level"), coerce=int, default=0)
    note = StringField(_l("Note"), validators=[Optional(), Length(max=500)])


class SpaceRequestForm(FlaskForm):
    team_id = SelectField(_l("Team"), coerce=int, validators=[InputRequired()])
    seats = IntegerField(_l("Seats"), default=1, validators=[InputRequired(), NumberRange(min=1, max=200)])
    space_type = SelectField(_l("Type of space"), choices=[], validators=[InputRequired()])
    preferred_zone_id = SelectField(_l("Preferred zone"), coerce=int, default=0)
    start_date = DateField(_l("Start date"), validators=[InputRequired()])
    duration_months = IntegerField(_l("Duration (months)"), default=6,
                                   validators=[InputRequired(), NumberRange(min=1, max=36)])
    note = TextAreaField(_l("Note for the managers"), validators=[Optional(), Length(max=500)])


class PriorityForm(FlaskForm):
    priority = IntegerField(_l("Manual priority (1 = first; empty removes it)"),
                            validators=[Optional(), NumberRange(min=1, max=9999)])
    reason = StringField(_l("Reason"), validators=[Optional(), Length(max=300)])


class AllocateForm(FlaskForm):
    team_id = SelectField(_l("Team"), coerce=int, validators=[InputRequired()])
    start_date = DateField(_l("Start date"), validators=[InputRequired()])
    end_date = DateField(_l("End date (first day without the space)"), validators=[InputRequired()])


class DateChangeForm(FlaskForm):
    end_date = DateField(_l("New end date (first day without the space)"), validators=[InputRequired()])


class CancelForm(FlaskForm):
    reason = StringField(_l("Reason"), validators=[_req, Length(max=300)])


class MoveForm(FlaskForm):
    on_date = DateField(_l("Move on"), validators=[InputRequired()])
