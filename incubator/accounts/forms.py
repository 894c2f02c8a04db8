from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, PasswordField, SelectMultipleField, StringField, TelField
from wtforms.validators import DataRequired, Email, EqualTo, Length, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from ..enums import Role
from .validators import MainlandMobile, StrongEnoughPassword

_required = DataRequired(message=_l("This field is required."))
_email_format = Email(message=_l("Enter a valid email address."), check_deliverability=False)


class RegisterForm(FlaskForm):
    name = StringField(_l("Name"), validators=[_required, Length(max=80)])
    email = EmailField(_l("Email"), validators=[_required, Length(max=254), _email_format])
    mobile = TelField(_l("Mobile number"), validators=[_required, Length(max=20), MainlandMobile()])
    password = PasswordField(_l("Password"), validators=[_required, Length(max=128), StrongEnoughPassword()])
    confirm = PasswordField(_l("Repeat password"), validators=[
        _required, EqualTo("password", message=_l("The two passwords differ."))])


class LoginForm(FlaskForm):
    email = EmailField(_l("Email"), validators=[_required, Length(max=254), _email_format])
    password = PasswordField(_l("Password"), validators=[_required, Length(max=128)])
    remember = BooleanField(_l("Keep me logged in on this device"))


class ForgotPasswordForm(FlaskForm):
    email = EmailField(_l("Email"), validators=[_required, Length(max=254), _email_format])


class ResetPasswordForm(FlaskForm):
    password = PasswordField(_l("New password"), validators=[_required, Length(max=128), StrongEnoughPassword()])
    confirm = PasswordField(_l("Repeat password"), validators=[
        _required, EqualTo("password", message=_l("The two passwords differ."))])


class MultiCheckboxField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class InviteForm(FlaskForm):
    email = EmailField(_l("Email"), validators=[_required, Length(max=254), _email_format])
    name = StringField(_l("Name"), validators=[Optional(), Length(max=80)])
    roles = MultiCheckboxField(
        _l("Roles"),
        choices=[(Role.JUDGE.value, _l("Judge")), (Role.MANAGER.value, _l("Manager"))],
        validators=[DataRequired(message=_l("Choose at least one role."))],
    )


class AcceptInvitationForm(FlaskForm):
    name = StringField(_l("Name"), validators=[_required, Length(max=80)])
    mobile = TelField(_l("Mobile number"), validators=[Optional(), Length(max=20), MainlandMobile()])
    password = PasswordField(_l("Password"), validators=[_required, Length(max=128), StrongEnoughPassword()])
    confirm = PasswordField(_l("Repeat password"), validators=[
        _required, EqualTo("password", message=_l("The two passwords differ."))])


class ConfirmForm(FlaskForm):
    """A form with only the CSRF token, for buttons that change state (logout, accept, revoke)."""
