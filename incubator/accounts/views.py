from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, session, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user

from ..enums import InvitationState, Role
from ..errors import DomainError
from ..extensions import db, limiter
from ..urls import safe_next
from . import services
from .forms import (AcceptInvitationForm, ConfirmForm, ForgotPasswordForm, InviteForm, LoginForm, RegisterForm,
                    ResetPasswordForm)
from .models import Invitation
from .permissions import manager_required
from .validators import normalize_mobile

bp = Blueprint("accounts", __name__)


def _login_rate_limit() -> str:
    return current_app.config["LOGIN_RATE_LIMIT"]


def _email_key() -> str:
    return "login:" + (request.form.get("email") or "").strip().lower()[:254]


def _reset_email_key() -> str:
    """Reset mails per address asked for, whichever network asks: no flooding one inbox."""
    return "reset:" + (request.form.get("email") or "").strip().lower()[:254]


def _sign_in(user, remember: bool) -> None:
    session.clear()  # a fresh session on login (no fixation)
    services.start_session(user, request.user_agent.string, request.remote_addr)
    db.session.commit()
    login_user(user, remember=remember)


@bp.route("/register", methods=["GET", "POST"])
@limiter.limit(_login_rate_limit, methods=["POST"])
def register():
    if current_user.is_authenticated:
        return redirect(url_for("home.dashboard"))
    form = RegisterForm()
    if form.validate_on_submit():
        try:
            user = services.register_founder(form.email.data, form.name.data, form.password.data,
                                             normalize_mobile(form.mobile.data), str(get_locale()))
        except DomainError as exc:
            db.session.rollback()
            getattr(form, exc.field or "email").errors.append(exc.message)
        else:
            _sign_in(user, remember=False)
            flash(_("Welcome, %(name)s! Your founder account is ready.", name=user.name), "success")
            return redirect(url_for("home.dashboard"))
    return render_template("accounts/register.html", form=form), (400 if form.errors else 200)


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(_login_rate_limit, methods=["POST"])
@limiter.limit(_login_rate_limit, methods=["POST"], key_func=_email_key)
def login():
    next_url = safe_next(request.values.get("next"), url_for("home.dashboard"))
    if current_user.is_authenticated:
        return redirect(next_url)
    form = LoginForm()
    if form.validate_on_submit():
        user = services.authenticate(form.email.data, form.password.data)
        if user is None:
            # The same words whether the email exists or not.
            form.password.errors.append(_("Wrong email or password."))
        else:
            _sign_in(user, remember=form.remember.data)
            return redirect(next_url)
    status = 400 if form.errors else 200
    return render_template("accounts/login.html", form=form, next_url=next_url), status


@bp.post("/logout")
@login_required
def logout():
    form = ConfirmForm()
    if not form.validate_on_submit():
        abort(400)
    services.end_session(current_user._get_current_object())
    db.session.commit()
    logout_user()
    session.clear()
    flash(_("You have logged out."), "info")
    return redirect(url_for("accounts.login"))


@bp.route("/password/forgot", methods=["GET", "POST"])
@limiter.limit(_login_rate_limit, methods=["POST"])
@limiter.limit(_login_rate_limit, methods=["POST"], key_func=_reset_email_key)
def forgot_password():
    form = ForgotPasswordForm()
    if form.validate_on_submit():
        services.request_password_reset(form.email.data)
        db.session.commit()
        flash(_("If an account uses that address, a reset link is on its way. Check your inbox."), "info")
        return redirect(url_for("accounts.login"))
    return render_template("accounts/forgot_password.html", form=form), (400 if form.errors else 200)


@bp.route("/password/reset/<token>", methods=["GET", "POST"])
def reset_password(token: str):
    try:
        services.user_from_reset_token(token)
    except DomainError as exc:
        return render_template("accounts/token_problem.html", message=exc.message,
                               retry_url=url_for("accounts.forgot_password")), 400
    form = ResetPasswordForm()
    if form.validate_on_submit():
        services.reset_password(token, form.password.data)
        db.session.commit()
        logout_user()
        flash(_("Your password has been changed. Log in with the new one."), "success")
        return redirect(url_for("accounts.login"))
    return render_template("accounts/reset_password.html", form=form), (400 if form.errors else 200)


@bp.route("/invitations/<token>", methods=["GET", "POST"])
def accept_invitation(token: str):
    try:
        invitation = services.invitation_from_token(token)
    except DomainError as exc:
        return render_template("accounts/token_problem.html", message=exc.message,
                               retry_url=url_for("accounts.login")), 400
    existing = services.find_user_by_email(invitation.email)
    if existing is not None and not (current_user.is_authenticated and current_user.id == existing.id):
        # Roles go to an existing account only once its owner has logged in: the email alone proves
        # nothing, since anyone may have registered it.
        if current_user.is_authenticated:
            return render_template("accounts/token_problem.html", message=_(
                "This invitation is for the account %(email)s. Log out, then log in with that account to "
                "accept it.", email=invitation.email), retry_url=url_for("home.dashboard")), 403
        flash(_("An account with this email already exists. Log in with it to accept the invitation; if you "
                "do not know its password, reset it."), "info")
        return redirect(url_for("accounts.login", next=request.path))
    form = ConfirmForm() if existing else AcceptInvitationForm(name=invitation.name)
    if form.validate_on_submit():
        user = services.accept_invitation(
            token,
            actor=current_user._get_current_object() if existing else None,
            name=getattr(form, "name", None) and form.name.data,
            password=getattr(form, "password", None) and form.password.data,
            mobile=normalize_mobile(form.mobile.data) if hasattr(form, "mobile") else None,
            locale=str(get_locale()),
        )
        db.session.commit()
        if existing:
            flash(_("The invitation is accepted: your account now has the new roles."), "success")
            return redirect(url_for("home.dashboard"))
        _sign_in(user, remember=False)
        flash(_("Welcome, %(name)s! Your account is ready.", name=user.name), "success")
        return redirect(url_for("home.dashboard"))
    return render_template("accounts/accept_invitation.html", form=form, invitation=invitation,
                           existing=existing), (400 if form.errors else 200)


@bp.route("/manage/invitations", methods=["GET", "POST"])
@manager_required
def invitations():
    form = InviteForm()
    if form.validate_on_submit():
        try:
            services.invite(current_user._get_current_object(), form.email.data,
                            [Role(r) for r in form.roles.data], form.name.data)
        except DomainError as exc:
            db.session.rollback()
            flash(exc.message, "danger")
        else:
            db.session.commit()
            flash(_("Invitation sent to %(email)s.", email=form.email.data), "success")
            return redirect(url_for("accounts.invitations"))
    rows = db.session.scalars(
        db.select(Invitation).options(db.joinedload(Invitation.invited_by)).order_by(Invitation.created_at.desc()).limit(200)
    ).all()
    return render_template("accounts/invitations.html", form=form, invitations=rows, revoke_form=ConfirmForm(),
                           InvitationState=InvitationState), (400 if form.errors else 200)


@bp.post("/manage/invitations/<int:invitation_id>/revoke")
@manager_required
def revoke_invitation(invitation_id: int):
    form = ConfirmForm()
    if not form.validate_on_submit():
        abort(400)
    invitation = db.get_or_404(Invitation, invitation_id)
    try:
        services.revoke_invitation(current_user._get_current_object(), invitation)
    except DomainError as exc:
        db.session.rollback()
        flash(exc.message, "warning")
    else:
        db.session.commit()
        flash(_("The invitation was withdrawn."), "info")
    return redirect(url_for("accounts.invitations"))
