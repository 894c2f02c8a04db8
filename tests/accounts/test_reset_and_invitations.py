"""Password reset through real mail (aiosmtpd), and invitations for judges and managers."""
from __future__ import annotations

import re
from datetime import timedelta

from incubator.accounts.models import Invitation, User
from incubator.enums import Role
from incubator.notifications.mailer import deliver_pending
from incubator.timeutils import utcnow
from tests.conftest import PASSWORD, login, post_form

LINK = re.compile(r"http://127\.0\.0\.1(/\S+)")


def _mailed_path(smtp) -> str:
    deliver_pending()
    messages = smtp.wait_for(1)
    assert len(messages) == 1
    match = LINK.search(smtp.text_of(messages[0]))
    assert match, smtp.text_of(messages[0])
    return match.group(1)


def test_password_reset_through_real_mail_changes_the_password_once(client, make_user, smtp, db):
    user = make_user(Role.FOUNDER, email="reset.me@example.cn")
    old_client_login = login(client, user)
    assert old_client_login.status_code == 302
    other = client.application.test_client()
    response = post_form(other, "/password/forgot", {"email": "Reset.Me@example.cn"})
    assert response.status_code == 302
    path = _mailed_path(smtp)
    assert smtp.messages[0]["To"] == "reset.me@example.cn"
    assert "重置" in smtp.messages[0]["Subject"]
    assert other.get(path).status_code == 200
    done = post_form(other, path, {"password": "NewSecret2026", "confirm": "NewSecret2026"})
    assert done.status_code == 302
    # The old password no longer works, the new one does, and sessions opened before are revoked.
    assert client.get("/founder").status_code == 302
    assert post_form(other, "/login", {"email": user.email, "password": PASSWORD}).status_code == 400
    assert login(other, user, password="NewSecret2026").status_code == 302
    # The link was single-use.
    again = other.get(path)
    assert again.status_code == 400
    assert "已被使用" in again.get_data(as_text=True)


def test_password_reset_for_unknown_email_says_the_same_and_sends_nothing(client, make_user, smtp):
    make_user(Role.FOUNDER, email="known@example.cn")
    known = post_form(client, "/password/forgot", {"email": "known@example.cn"}, follow_redirects=True)
    unknown = post_form(client, "/password/forgot", {"email": "ghost@example.cn"}, follow_redirects=True)
    for response in (known, unknown):
        assert "如果该邮箱已注册" in response.get_data(as_text=True)
    deliver_pending()
    assert len(smtp.wait_for(1)) == 1
    assert smtp.messages[0]["To"] == "known@example.cn"


def test_password_reset_with_a_tampered_token_is_refused(client, make_user, smtp):
    make_user(Role.FOUNDER, email="tamper@example.cn")
    post_form(client, "/password/forgot", {"email": "tamper@example.cn"})
    path = _mailed_path(smtp)
    token = path.rsplit("/", 1)[-1]
    tampered = token[:-3] + ("AAA" if not token.endswith("AAA") else "BBB")
    for bad in (tampered, "nonsense", "x" * 500):
        response = client.get(f"/password/reset/{bad}")
        assert response.status_code == 400
        assert "无效" in response.get_data(as_text=True)


def test_password_reset_link_expires(app, client, make_user, smtp):
    make_user(Role.FOUNDER, email="late@example.cn")
    post_form(client, "/password/forgot", {"email": "late@example.cn"})
    path = _mailed_path(smtp)
    app.config["PASSWORD_RESET_MAX_AGE"] = -1
    response = client.get(path)
    assert response.status_code == 400
    assert "已过期" in response.get_data(as_text=True)


def test_reset_mail_is_in_the_recipients_language(client, make_user, smtp):
    make_user(Role.FOUNDER, email="english@example.cn", locale="en")
    post_form(client, "/password/forgot", {"email": "english@example.cn"})
    deliver_pending()
    message = smtp.wait_for(1)[0]
    assert message["Subject"] == "Reset your Qingchuangcheng password"
    assert "The link works once" in smtp.text_of(message)
    assert message.get_body(preferencelist=("html",)) is not None


def _invite(client, manager, email, roles=("judge",)):
    login(client, manager)
    return post_form(client, "/manage/invitations", {"email": email, "name": "王教授", "roles": list(roles)})


def test_invitation_lets_a_judge_set_a_password_and_cannot_be_reused(app, client, make_user, smtp, db):
    manager = make_user(Role.MANAGER)
    assert _invite(client, manager, "prof.wang@zju.example.cn").status_code == 302
    path = _mailed_path(smtp)
    guest = app.test_client()
    page = guest.get(path)
    assert page.status_code == 200 and "评委" in page.get_data(as_text=True)
    accepted = post_form(guest, path, {"name": "王教授", "mobile": "", "password": "Judge2026ok",
                                       "confirm": "Judge2026ok"})
    assert accepted.status_code == 302
    judge = db.session.scalar(db.select(User).where(User.email == "prof.wang@zju.example.cn"))
    assert judge.roles == {Role.JUDGE}
    assert guest.get("/judge").status_code == 200
    reused = app.test_client().get(path)
    assert reused.status_code == 400
    assert "已被接受" in reused.get_data(as_text=True)


def test_expired_invitation_gets_a_clear_page(app, client, make_user, smtp, db):
    manager = make_user(Role.MANAGER)
    _invite(client, manager, "late.judge@example.cn")
    path = _mailed_path(smtp)
    invitation = db.session.scalar(db.select(Invitation))
    invitation.expires_at = utcnow() - timedelta(minutes=1)
    db.session.commit()
    response = app.test_client().get(path)
    assert response.status_code == 400
    assert "已过期" in response.get_data(as_text=True)
    assert post_form(app.test_client(), path, {}, csrf_page="/login").status_code == 400
    assert db.session.scalar(db.select(db.func.count(User.id))) == 1


def test_invitation_for_an_existing_account_adds_the_role(app, client, make_user, smtp, db):
    manager = make_user(Role.MANAGER)
    founder = make_user(Role.FOUNDER, email="both@example.cn")
    _invite(client, manager, "both@example.cn", roles=("judge",))
    path = _mailed_path(smtp)
    owner = app.test_client()
    assert owner.get(path).headers["Location"].startswith("/login?next=")  # log in first
    login(owner, founder)
    response = post_form(owner, path, {})
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(User, founder.id).roles == {Role.FOUNDER, Role.JUDGE}


def test_withdrawn_invitation_cannot_be_accepted(app, client, make_user, smtp, db):
    manager = make_user(Role.MANAGER)
    _invite(client, manager, "withdrawn@example.cn")
    path = _mailed_path(smtp)
    invitation = db.session.scalar(db.select(Invitation))
    post_form(client, f"/manage/invitations/{invitation.id}/revoke", {}, csrf_page="/manage/invitations")
    response = app.test_client().get(path)
    assert response.status_code == 400 and "撤回" in response.get_data(as_text=True)


def test_only_managers_can_invite(client, make_user, db):
    judge = make_user(Role.JUDGE)
    login(client, judge)
    assert client.get("/manage/invitations").status_code == 403
    assert db.session.scalar(db.select(db.func.count(Invitation.id))) == 0


def test_create_manager_command_makes_the_first_manager(app, db):
    result = app.test_cli_runner().invoke(args=["create-manager", "boss@qcc.example.cn", "--password", "Manager2026"])
    assert result.exit_code == 0, result.output
    user = db.session.scalar(db.select(User).where(User.email == "boss@qcc.example.cn"))
    assert user.roles == {Role.MANAGER} and user.check_password("Manager2026")
    short = app.test_cli_runner().invoke(args=["create-manager", "x@qcc.example.cn", "--password", "short"])
    assert short.exit_code != 0
