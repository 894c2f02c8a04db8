"""Application step forms. Fields carry format rules only; "required" is checked per step when the
founder moves on (so "save draft" always keeps what is valid) and again by the submit service."""
from __future__ import annotations

from decimal import Decimal

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (BooleanField, DateTimeLocalField, DecimalField, Form, HiddenField, IntegerField, RadioField,
                     SelectField, StringField, TextAreaField, FieldList, FormField)
from wtforms.validators import DataRequired, Length, NumberRange, Optional, ValidationError

from ..competitions.forms import LOCAL_FORMAT, clean_line, clean_text
from ..timeutils import local_today
from .creditcode import is_valid_credit_code, normalize_credit_code
from .models import MANAGER_TARGET_STATUSES, STAGE_LABELS, STAGES, STATUS_LABELS


def _len(n: int) -> Length:
    return Length(max=n, message=_l("At most %(max)d characters.", max=n))


def _range(lo: int, hi: int) -> NumberRange:
    return NumberRange(min=lo, max=hi, message=_l("Enter a number between %(min)s and %(max)s."))


NOT_A_NUMBER = _l("Enter a whole number.")


class StepForm(FlaskForm):
    """A step form: `required_fields` get a "required" error only when the founder moves on."""

    required_fields: tuple[str, ...] = ()

    def add_required_errors(self) -> bool:
        found = False
        for name in self.required_fields:
            f = self[name]
            if not f.errors and (f.data is None or (isinstance(f.data, str) and not f.data.strip())):
                f.errors = list(f.errors) + [_l("This field is required.")]
                found = True
        return found

    def valid_data(self, names, formdata=None) -> dict:
        """The fields of `names` that were sent and passed validation, to save as draft even when
        other fields failed. A field missing from the request is left as it was."""
        return {n: self[n].data for n in names
                if not self[n].errors and (formdata is None or self[n].name in formdata)}


class ProjectForm(StepForm):
    required_fields = ("project_name", "track_id", "one_line_pitch", "description", "stage")

    project_name = StringField(_l("Project name"), filters=[clean_line], validators=[_len(120)])
    track_id = SelectField(_l("Track"), coerce=int, validate_choice=False, validators=[Optional()])
    one_line_pitch = StringField(_l("One-line pitch"), filters=[clean_line], validators=[_len(140)],
                                 description=_l("What you make and for whom, in one sentence."))
    description = TextAreaField(_l("Project description"), filters=[clean_text], validators=[_len(5000)],
                                description=_l("The problem, your solution, the technology, where you stand."))
    stage = SelectField(_l("Stage"), choices=[("", "—")] + [(s, STAGE_LABELS[s]) for s in STAGES],
                        validators=[Optional()])

    def __init__(self, *args, tracks=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.track_id.choices = [(0, "—")] + [(t.id, t.name) for t in tracks]
        self._track_ids = {t.id for t in tracks}

    def validate_track_id(self, field):
        if field.data in (None, 0):
            field.data = None
            return
        if field.data not in self._track_ids:
            field.data = None
            raise ValidationError(_l("Choose one of the tracks."))

    def validate_stage(self, field):
        if field.data and field.data not in STAGES:
            field.data = None
            raise ValidationError(_l("Choose one of the stages."))
        if not field.data:
            field.data = None


def _year_check(form, field):
    if field.data is not None and not (1940 <= field.data <= local_today().year + 10):
        raise ValidationError(_l("Enter a year such as 2001."))


class MemberForm(Form):
    # Which saved member the row edits: the data follows the person when rows around it go.
    member_id = HiddenField()
    name = StringField(_l("Name"), filters=[clean_line], validators=[_len(80)])
    role_in_team = StringField(_l("Role in the team"), filters=[clean_line], validators=[_len(80)])
    school_or_employer = StringField(_l("School or employer"), filters=[clean_line], validators=[_len(120)])
    birth_year = IntegerField(_l("Year of birth"), validators=[Optional(), _year_check])
    graduation_year = IntegerField(_l("Year of graduation"), validators=[Optional(), _year_check])
    contact = StringField(_l("Mobile or email"), filters=[clean_line], validators=[_len(120)])
    remove = BooleanField(_l("Remove from the team"))


class TeamForm(StepForm):
    required_fields = ("team_name",)

    team_name = StringField(_l("Team name"), filters=[clean_line], validators=[_len(120)])
    members = FieldList(FormField(MemberForm), min_entries=1, max_entries=10)

    def add_required_errors(self) -> bool:
        found = super().add_required_errors()
        lead = self.members.entries[0].form if self.members.entries else None
        if lead is not None:
            for name in ("name", "school_or_employer", "birth_year", "contact"):
                f = lead[name]
                if not f.errors and (f.data is None or (isinstance(f.data, str) and not f.data.strip())):
                    f.errors = list(f.errors) + [_l("This field is required.")]
                    found = True
        return found


class CompanyForm(StepForm):
    required_fields = ("desks_wanted",)

    company_name = StringField(_l("Company name (if registered)"), filters=[clean_line], validators=[_len(120)])
    credit_code = StringField(_l("Unified social credit code"), filters=[clean_line, normalize_credit_code],
                              validators=[_len(40)], description=_l("18 characters, on the business licence."))
    funding_sought = IntegerField(_l("Funding sought (10,000 yuan)"), validators=[Optional(), _range(0, 1000000)])
    desks_wanted = IntegerField(_l("Desks wanted in the incubator"), validators=[Optional(), _range(0, 200)])

    def validate_credit_code(self, field):
        if field.data and not is_valid_credit_code(field.data):
            raise ValidationError(_l("This is not a valid unified social credit code: check each character."))
        if not field.data:
            field.data = None

    def add_required_errors(self) -> bool:
        found = super().add_required_errors()
        if self.company_name.data and not self.credit_code.data and not self.credit_code.errors:
            self.credit_code.errors = list(self.credit_code.errors) + [
                _l("Enter the unified social credit code of the company.")]
            found = True
        return found


# Answers to number questions are kept as text and exported to spreadsheets: an ordinary number
# (Excel keeps 15 significant digits), never NaN, infinity or 1e400.
NUMBER_MAX_DIGITS = 15
NUMBER_MAX_PLACES = 6


def _ordinary_number(form, field):
    value = field.data
    if value is None:
        return
    message = _l("Enter an ordinary number such as 12 or 3.5, with at most %(digits)s digits before the decimal "
                 "point and %(places)s after it.", digits=NUMBER_MAX_DIGITS, places=NUMBER_MAX_PLACES)
    if value.is_finite() and value.is_zero():
        field.data = Decimal(0)
        return
    # adjusted() (the power of ten of the first digit) is checked before anything that uses the
    # decimal context: normalize() on 1e999999999 would raise Overflow.
    if (not value.is_finite()  # NaN, sNaN, Infinity
            or not -NUMBER_MAX_PLACES <= value.adjusted() < NUMBER_MAX_DIGITS
            or -value.normalize().as_tuple().exponent > NUMBER_MAX_PLACES):
        field.data = None
        raise ValidationError(message)
    value = value.normalize()
    # Plain notation ("1000", not "1E+3") once the size is known to be small.
    field.data = value.quantize(1) if value == value.to_integral_value() else value


def questions_form(questions, formdata=None, data=None):
    """A form built from the competition's custom questions (field names q_<id>)."""

    class QuestionsForm(StepForm):
        pass

    required = []
    for q in questions:
        name = f"q_{q.id}"
        if q.kind == "number":
            field = DecimalField(q.label, validators=[Optional(), _ordinary_number], places=None)
        elif q.kind == "choice":
            field = SelectField(q.label, choices=[("", "—")] + [(c, c) for c in q.choices], validators=[Optional()])
        elif q.kind == "yes_no":
            field = RadioField(q.label, choices=[("yes", _l("Yes")), ("no", _l("No"))], validators=[Optional()])
        else:
            field = TextAreaField(q.label, filters=[clean_text], validators=[_len(5000)])
        setattr(QuestionsForm, name, field)
        if q.required:
            required.append(name)
    QuestionsForm.required_fields = tuple(required)
    return QuestionsForm(formdata=formdata, data=data or {})


class ExtensionForm(FlaskForm):
    until = DateTimeLocalField(_l("Extend until (Beijing time)"), format=LOCAL_FORMAT,
                               validators=[DataRequired(message=_l("This field is required."))])


class BulkStatusForm(FlaskForm):
    to_status = SelectField(_l("New status"), choices=[(s, STATUS_LABELS[s]) for s in MANAGER_TARGET_STATUSES])
    note = StringField(_l("Note to the teams (optional)"), filters=[clean_line], validators=[_len(500)])


class WithdrawForm(FlaskForm):
    reason = StringField(_l("Reason (optional)"), filters=[clean_line], validators=[_len(500)])
    confirm = BooleanField(_l("Yes, withdraw this application"),
                           validators=[DataRequired(message=_l("Tick the box to confirm."))])
