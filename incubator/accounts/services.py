"""Every change to accounts: registration, login sessions, password reset, invitations, roles."""
from __future__ import annotations

import secrets
from datetime import timedelta

from flask import current_app, url_for
from flask_babel import lazy_gettext as _l
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload

from ..audit.services import record
from ..enums import ROLE_LABELS, InvitationState, Role
from ..errors import DomainError, NotAllowed
from ..extensions import db
from ..notifications.services import notify, queue_mail
from ..timeutils import utcnow
from .models import Invitation, LoginSession, User, hash_token

# Used to spend the same time on unknown emails as on known ones (no enumeration by timing).
_DUMMY_HASH = "scrypt:32768:8:1$ZZd44xNqKFK4uh7U$8a887c919bf7443c33501e2aaee220d320dc0a0a52a503cdf26e7a0aa24e39e247450eaddfca1d29930c0e64f47cf7cd48a14e3ede691911a26bae2f5dde827d"


class EmailTaken(DomainError):
    pass


class TokenInvalid(DomainError):
    pass


class TokenExpired(DomainError):
    pass


def normalize_email(email: str) -> str:
    return email.strip().lower()


def find_user_by_email(email: str) -> User | None:
    return db.session.scalar(db.select(User).where(User.email == normalize_email(email)))


def create_user(email: str, name: str, password: str, *, roles: list[Role], mobile: str | None = None,
                locale: str = "zh_CN", actor=None) -> User:
    email = normalize_email(email)
    taken = EmailTaken(_l("This email is already registered. Log in or reset your password."), field="email")
    if find_user_by_email(email) is not None:
        raise taken
    user = User(email=email, name=name.strip(), mobile=mobile or None, locale=locale)
    user.set_password(password)
    for role in roles:
        user.add_role(role)
    db.session.add(user)
    try:
        db.session.flush()
    except IntegrityError:  # a double-tapped "register": the second insert meets the first's row
        db.session.rollback()  # (a failed flush leaves nothing of this transaction worth keeping)
        raise taken from None
    record(actor or user, "user.create", user, after={"email": email, "roles": sorted(r.value for r in roles)})
    return user


def register_founder(email: str, name: str, password: str, mobile: str | None, locale: str) -> User:
    user = create_user(email, name, password, roles=[Role.FOUNDER], mobile=mobile, locale=locale)
    notify(user, "welcome", "欢迎加入青创城！完善资料后即可组建团队、提交参赛申请。",
           "Welcome to Qingchuangcheng! Form a team and apply to the competition.")
    return user


def authenticate(email: str, password: str) -> User | None:
    user = find_user_by_email(email)
    if user is None:
        from werkzeug.security import check_password_hash
        check_password_hash(_DUMMY_HASH, password)
        return None
    if not user.check_password(password) or not user.active:
        return None
    return user


def start_session(user: User, user_agent: str | None, ip_address: str | None) -> str:
    token = LoginSession.new_token()
    db.session.add(LoginSession(token_hash=hash_token(token), user_id=user.id,
                                user_agent=(user_agent or "")[:255], ip_address=ip_address))
    user.last_login_at = utcnow()
    user.current_session_token = token
    record(user, "user.login", user)
    return token


_SESSION_USER_STATEMENTS: dict[tuple[str, ...], object] = {}


def _session_user_statement(extra_columns: dict):
    """Built once per set of extra names (a name always stands for the same column): building the
    statement anew cost more than running it, on every request."""
    key = tuple(extra_columns)
    statement = _SESSION_USER_STATEMENTS.get(key)
    if statement is None:
        statement = (
            db.select(User, *(column.label(name) for name, column in extra_columns.items()))
            .join(LoginSession, User.id == LoginSession.user_id)
            .where(*_live_login())
            .options(joinedload(User.role_rows))
        )
        _SESSION_USER_STATEMENTS[key] = statement
    return statement


def _live_login() -> tuple:
    """The conditions of a live login session, with the parameters of live_login_parameters."""
    return (LoginSession.token_hash == db.bindparam("token_hash"), LoginSession.revoked_at.is_(None),
            LoginSession.created_at > db.bindparam("since"))


def live_login_parameters(token: str) -> dict:
    return {"token_hash": hash_token(token), "since": utcnow() - login_lifetime()}


def login_lifetime() -> timedelta:
    """How long a login lasts on the server, whatever the browser keeps: a "keep me logged in"
    cookie's days, and no login outlives them."""
    return max(current_app.config["REMEMBER_COOKIE_DURATION"], current_app.config["PERMANENT_SESSION_LIFETIME"])


def load_session_user(token: str, extra_columns: dict | None = None) -> tuple[User | None, dict]:
    """The user of a live login session, and the values of `extra_columns` (name -> scalar
    subquery, which may refer to User) read in the same query.

    The roles come joined: every authenticated request checks them, and the default select-in load
    would cost a second round trip per request; so do the extras, for the same reason."""
    extra_columns = extra_columns or {}
    row = db.session.execute(_session_user_statement(extra_columns), live_login_parameters(token)
                             ).unique().one_or_none()
    if row is None:
        return None, {}
    user = row[0]
    user.current_session_token = token
    return user, {name: row._mapping[name] for name in extra_columns}


def session_login(role: Role):
    """A subquery of one row (column user_id), or none: the active user of the live login session
    whose token is given by the parameters of live_login_parameters, if they hold `role`. For a
    statement that checks the login itself and needs no User (the judges' submit lane,
    judging/submit_lane.py): joined once in its FROM clause, the login is looked up once."""
    from .models import UserRole

    holds_role = db.exists().where(UserRole.user_id == User.id, UserRole.role == role)
    return (db.select(User.id.label("user_id")).join(LoginSession, User.id == LoginSession.user_id)
            .where(*_live_login(), User.active.is_(True), holds_role).subquery("login"))


def prune_login_sessions(keep_days: int = 30) -> dict:
    """Delete the logins that ended (logged out, revoked, or past login_lifetime) more than
    `keep_days` ago; the audit trail keeps who logged in when."""
    cutoff = utcnow() - timedelta(days=keep_days)
    result = db.session.execute(
        db.delete(LoginSession)
        .where(db.or_(LoginSession.revoked_at < cutoff, LoginSession.created_at < cutoff - login_lifetime()))
        .execution_options(synchronize_session=False))
    return {"deleted": result.rowcount}


def end_session(user: User) -> None:
    if user.current_session_token:
        db.session.execute(
            db.update(LoginSession)
            .where(LoginSession.token_hash == hash_token(user.current_session_token), LoginSession.revoked_at.is_(None))
            .values(revoked_at=utcnow())
        )
    record(user, "user.logout", user)


def revoke_all_sessions(user: User) -> None:
    db.session.execute(
        db.update(LoginSession)
        .where(LoginSession.user_id == user.id, LoginSession.revoked_at.is_(None))
        .values(revoked_at=utcnow())
    )


# --- password reset -----------------------------------------------------------------------

def _reset_serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt="password-reset")


def make_reset_token(user: User) -> str:
    return _reset_serializer().dumps({"u": user.id, "p": user.password_fingerprint})


def request_password_reset(email: str) -> None:
    """Queue a reset mail if the account exists; the caller shows the same message either way."""
    user = find_user_by_email(email)
    if user is None or not user.active:
        return
    token = make_reset_token(user)
    link = current_app.config["PUBLIC_URL"].rstrip("/") + url_for("accounts.reset_password", token=token)
    minutes = current_app.config["PASSWORD_RESET_MAX_AGE"] // 60
    queue_mail(user.email, "password_reset", _l("Reset your Qingchuangcheng password"), locale=user.locale,
               user=user, name=user.name, link=link, minutes=minutes)
    record(None, "user.password_reset_requested", user)


def user_from_reset_token(token: str) -> User:
    try:
        data = _reset_serializer().loads(token, max_age=current_app.config["PASSWORD_RESET_MAX_AGE"])
    except SignatureExpired:
        raise TokenExpired(_l("This reset link has expired. Ask for a new one."))
    except BadSignature:
        raise TokenInvalid(_l("This reset link is not valid."))
    if not isinstance(data, dict):
        raise TokenInvalid(_l("This reset link is not valid."))
    user = db.session.get(User, data.get("u"))
    if user is None or user.password_fingerprint != data.get("p"):
        # The password changed since the link was made: the link has been used.
        raise TokenInvalid(_l("This reset link has already been used. Ask for a new one."))
    return user


def reset_password(token: str, new_password: str) -> User:
    user = user_from_reset_token(token)
    user.set_password(new_password)
    revoke_all_sessions(user)
    record(user, "user.password_reset", user)
    notify(user, "password_changed", "你的密码已重置。如非本人操作，请立即联系园区工作人员。",
           "Your password was reset. If this was not you, contact the incubator staff at once.")
    return user


def change_locale(user: User, locale: str) -> None:
    user.locale = locale


# --- invitations --------------------------------------------------------------------------

def invite(inviter: User, email: str, roles: list[Role], name: str | None = None) -> tuple[Invitation, str]:
    if not roles or any(r not in (Role.JUDGE, Role.MANAGER) for r in roles):
        raise DomainError(_l("Invitations are for judges and managers."), field="roles")
    token = secrets.token_urlsafe(32)
    invitation = Invitation(
        email=normalize_email(email), name=(name or "").strip() or None,
        roles_csv=",".join(sorted(r.value for r in roles)), token_hash=hash_token(token),
        invited_by_id=inviter.id,
        expires_at=utcnow() + timedelta(days=current_app.config["INVITATION_DAYS"]),
    )
    db.session.add(invitation)
    db.session.flush()
    link = current_app.config["PUBLIC_URL"].rstrip("/") + url_for("accounts.accept_invitation", token=token)
    existing = find_user_by_email(email)
    queue_mail(invitation.email, "invitation", _l("You are invited to the Qingchuangcheng platform"),
               locale=existing.locale if existing else current_app.config["BABEL_DEFAULT_LOCALE"],
               user=existing, name=invitation.name or invitation.email, inviter=inviter.name, link=link,
               roles=[ROLE_LABELS[r] for r in invitation.roles], days=current_app.config["INVITATION_DAYS"])
    record(inviter, "invitation.create", invitation, after={"email": invitation.email, "roles": invitation.roles_csv})
    return invitation, token


def invitation_from_token(token: str) -> Invitation:
    invitation = db.session.scalar(db.select(Invitation).where(Invitation.token_hash == hash_token(token)))
    if invitation is None:
        raise TokenInvalid(_l("This invitation link is not valid."))
    if invitation.state == InvitationState.ACCEPTED.value:
        raise TokenInvalid(_l("This invitation has already been accepted. Log in with your account."))
    if invitation.state == InvitationState.REVOKED.value:
        raise TokenInvalid(_l("This invitation was withdrawn. Ask the incubator staff for a new one."))
    if invitation.is_expired:
        raise TokenExpired(_l("This invitation has expired. Ask the incubator staff for a new one."))
    return invitation


def accept_invitation(token: str, *, actor: User | None, name: str | None, password: str | None,
                      mobile: str | None, locale: str) -> User:
    """A new person sets a password; a person who already has an account, logged in as `actor`,
    gets the roles added (holding the link is not enough: anyone may have registered the email)."""
    invitation = invitation_from_token(token)
    user = find_user_by_email(invitation.email)
    if user is not None and (actor is None or actor.id != user.id):
        raise NotAllowed(_l("Log in with the invited account to accept this invitation."))
    if user is None:
        if not password:
            raise DomainError(_l("Choose a password."), field="password")
        user = create_user(invitation.email, name or invitation.name or invitation.email.split("@")[0], password,
                           roles=invitation.roles, mobile=mobile, locale=locale)
    else:
        before = sorted(r.value for r in user.roles)
        for role in invitation.roles:
            user.add_role(role)
        record(user, "user.roles_change", user, before={"roles": before},
               after={"roles": sorted(r.value for r in user.roles)})
    invitation.state = InvitationState.ACCEPTED.value
    invitation.accepted_at = utcnow()
    invitation.accepted_user_id = user.id
    record(user, "invitation.accept", invitation)
    return user


def revoke_invitation(actor: User, invitation: Invitation) -> None:
    if invitation.state != InvitationState.PENDING.value:
        raise DomainError(_l("Only pending invitations can be withdrawn."))
    invitation.state = InvitationState.REVOKED.value
    record(actor, "invitation.revoke", invitation)


def set_roles(actor: User, user: User, roles: set[Role]) -> None:
    before = sorted(r.value for r in user.roles)
    if user.id == actor.id and Role.MANAGER not in roles:
        raise DomainError(_l("You cannot remove your own manager role."))
    for role in list(user.roles):
        if role not in roles:
            user.remove_role(role)
    for role in roles:
        user.add_role(role)
    record(actor, "user.roles_change", user, before={"roles": before}, after={"roles": sorted(r.value for r in roles)})


def create_manager(email: str, password: str, name: str | None = None) -> User:
    """For `flask create-manager`: makes the first manager, or adds the role to an existing user."""
    user = find_user_by_email(email)
    if user is not None:
        user.add_role(Role.MANAGER)
        record(None, "user.roles_change", user, after={"roles": sorted(r.value for r in user.roles)})
        return user
    return create_user(email, name or email.split("@")[0], password, roles=[Role.MANAGER])
