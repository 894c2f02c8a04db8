"""Accounts at their edges: who may take an invitation, what a proxy changes, how long a login
lasts, a double-tapped registration, and input no person types (NUL, other scripts' digits,
pages and dates beyond any list or calendar)."""
from __future__ import annotations

import json
import threading
from datetime import timedelta

import pytest

from incubator.accounts.models import LoginSession, User
from incubator.enums import Role
from incubator.notifications.models import OutboxMessage
from incubator.timeutils import utcnow
from tests.accounts.test_reset_and_invitations import _invite, _mailed_path
from tests.conftest import PASSWORD, csrf_from, login, post_form

GOOD = {"name": "周子涵", "email": "zihan@example.cn", "mobile": "138 1234 5678", "password": "Startup2026",
        "confirm": "Startup2026"}


def _roles(db, email: str) -> set:
    db.session.expire_all()
    return db.session.scalar(db.select(User).where(User.email == email)).roles


def test_an_invitation_to_an_existing_email_needs_that_account_logged_in(app, client, make_user, smtp, db):
    """Anyone can register an address they do not own; the invitation's roles must not go to them
    because its owner clicked the mailed link."""
    manager = make_user(Role.MANAGER)
    attacker = app.test_client()
    assert post_form(attacker, "/register", dict(GOOD, email="prof.wang@zju.example.cn")).status_code == 302
    _invite(client, manager, "prof.wang@zju.example.cn", roles=("judge", "manager"))
    path = _mailed_path(smtp)

    professor = app.test_client()  # the mailbox's owner, not logged in
    page = professor.get(path)
    assert page.status_code == 302 and page.headers["Location"].startswith("/login?next=/invitations/")
    token = csrf_from(professor, "/login")
    refused = professor.post(path, data={"csrf_token": token})
    assert refused.status_code == 302 and "/login" in refused.headers["Location"]
    assert _roles(db, "prof.wang@zju.example.cn") == {Role.FOUNDER}
    assert attacker.get("/manage").status_code == 403

    # Logged in as someone else: told whose invitation it is, nothing granted.
    other = make_user(Role.FOUNDER, email="other@example.cn")
    bystander = app.test_client()
    login(bystander, other)
    wrong = bystander.get(path)
    assert wrong.status_code == 403 and "prof.wang@zju.example.cn" in wrong.get_data(as_text=True)
    assert _roles(db, "other@example.cn") == {Role.FOUNDER}

    # The owner takes the account back by a reset mailed to the address, then accepts.
    smtp.clear()
    post_form(professor, "/password/forgot", {"email": "prof.wang@zju.example.cn"})
    reset = _mailed_path(smtp)
    assert post_form(professor, reset, {"password": "Judge2026ok", "confirm": "Judge2026ok"}).status_code == 302
    assert attacker.get("/founder").status_code == 302  # the reset ended the attacker's login
    login(professor, "prof.wang@zju.example.cn", "Judge2026ok")
    assert post_form(professor, path, {}).status_code == 302
    assert _roles(db, "prof.wang@zju.example.cn") == {Role.FOUNDER, Role.JUDGE, Role.MANAGER}


def test_the_service_refuses_an_existing_accounts_invitation_without_its_owner(app, make_user, db):
    from incubator.accounts import services
    from incubator.errors import DomainError

    manager = make_user(Role.MANAGER)
    owner = make_user(Role.FOUNDER, email="owner@example.cn")
    other = make_user(Role.FOUNDER, email="someone@example.cn")
    with app.test_request_context():  # the invitation mail's link is built for a request
        _, token = services.invite(manager, "owner@example.cn", [Role.JUDGE])
    db.session.commit()
    for actor in (None, other):
        with pytest.raises(DomainError) as refused:
            services.accept_invitation(token, actor=actor, name=None, password=None, mobile=None, locale="zh_CN")
        assert refused.value.status_code == 403
        db.session.rollback()
    assert services.accept_invitation(token, actor=owner, name=None, password=None, mobile=None,
                                      locale="zh_CN").roles == {Role.FOUNDER, Role.JUDGE}


def test_behind_a_proxy_each_client_has_its_own_login_limit(app_config, migrated, make_user, db):
    """With TRUSTED_PROXIES=1 (production's default), the limit counts the address the proxy
    forwards, not the proxy's own: one client's failures do not lock everyone out."""
    from incubator import create_app

    make_user(Role.FOUNDER, email="victim@example.cn")
    proxied = create_app("testing", {**app_config, "TRUSTED_PROXIES": 1}).test_client()
    token = csrf_from(proxied, "/login")

    def attempt(client_address: str, email: str, password: str) -> int:
        return proxied.post("/login", data={"email": email, "password": password, "csrf_token": token},
                            headers={"X-Forwarded-For": client_address}).status_code

    # One client guessing at many accounts is stopped ...
    assert [attempt("203.0.113.7", f"someone{i}@example.cn", "guess") for i in range(11)][-1] == 429
    # ... and only that client: every request comes from the proxy's address, yet another person logs in.
    assert attempt("198.51.100.20", "victim@example.cn", PASSWORD) == 302
    assert db.session.scalar(db.select(LoginSession.ip_address)) == "198.51.100.20"


def test_without_trusted_proxies_a_forwarded_address_is_not_believed(client, make_user):
    make_user(Role.FOUNDER, email="victim@example.cn")
    token = csrf_from(client, "/login")
    statuses = [client.post("/login", data={"email": "nobody@example.cn", "password": "x", "csrf_token": token},
                            headers={"X-Forwarded-For": f"203.0.113.{i}"}).status_code for i in range(11)]
    assert statuses[-1] == 429


def test_a_login_ends_on_the_server_after_the_remember_days(app, client, make_user, db):
    user = make_user(Role.FOUNDER)
    browser = app.test_client()  # (the `client` fixture makes each request run in its own context)
    login(browser, user, remember=True)
    assert browser.get("/founder").status_code == 200
    row = db.session.scalar(db.select(LoginSession).where(LoginSession.user_id == user.id))
    row.created_at = utcnow() - app.config["REMEMBER_COOKIE_DURATION"] + timedelta(hours=1)
    db.session.commit()
    assert browser.get("/founder").status_code == 200
    row.created_at = utcnow() - app.config["REMEMBER_COOKIE_DURATION"] - timedelta(minutes=1)
    db.session.commit()
    assert browser.get("/founder").status_code == 302  # to the login page


def test_a_judge_changing_network_stays_logged_in(app, client, make_user):
    """From the venue's Wi-Fi to 4G in the middle of a final: the same login, not a new one."""
    judge = make_user(Role.JUDGE)
    phone = app.test_client()
    phone.environ_base["REMOTE_ADDR"] = "10.0.0.5"
    login(phone, judge, remember=True)
    assert phone.get("/judge").status_code == 200
    phone.environ_base["REMOTE_ADDR"] = "100.64.3.9"
    assert phone.get("/judge").status_code == 200


def test_registering_twice_at_once_gives_one_account_and_no_error(app, client, db):
    barrier = threading.Barrier(2)
    statuses = []

    def register():
        client = app.test_client()
        token = csrf_from(client, "/register")
        barrier.wait()
        statuses.append(client.post("/register", data={**GOOD, "csrf_token": token}).status_code)

    threads = [threading.Thread(target=register) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(statuses) == [302, 400]
    assert db.session.scalar(db.select(db.func.count(User.id)).where(User.email == "zihan@example.cn")) == 1


def test_the_service_turns_a_lost_insert_race_into_email_taken(app, db, monkeypatch):
    """The check before the insert sees no account (as when another request inserts in between):
    the unique index refuses the insert, and the person is told the email is taken."""
    from incubator.accounts import services

    services.create_user("race@example.cn", "甲", PASSWORD, roles=[Role.FOUNDER])
    db.session.commit()
    monkeypatch.setattr(services, "find_user_by_email", lambda email: None)
    with pytest.raises(services.EmailTaken):
        services.create_user("race@example.cn", "乙", PASSWORD, roles=[Role.FOUNDER])
    db.session.rollback()
    assert db.session.scalar(db.select(db.func.count(User.id))) == 1


def test_reset_mails_to_one_address_are_limited_whatever_the_network(app_config, migrated, make_user, db):
    from incubator import create_app

    make_user(Role.FOUNDER, email="inbox@example.cn")
    proxied = create_app("testing", {**app_config, "TRUSTED_PROXIES": 1}).test_client()
    token = csrf_from(proxied, "/password/forgot")
    statuses = [proxied.post("/password/forgot", data={"email": "inbox@example.cn", "csrf_token": token},
                             headers={"X-Forwarded-For": f"203.0.113.{i}"}).status_code for i in range(12)]
    assert statuses[:10] == [302] * 10 and statuses[10:] == [429, 429]
    assert db.session.scalar(db.select(db.func.count(OutboxMessage.id))) == 10


@pytest.mark.parametrize("url,data", [
    ("/register", dict(GOOD, name="周\x00子涵")),
    ("/register", dict(GOOD, email="zihan@exa\x00mple.cn")),
])
def test_a_nul_character_in_a_form_is_refused_plainly(client, db, url, data):
    response = post_form(client, url, data)
    assert response.status_code == 400
    assert "无法接受的字符" in response.get_data(as_text=True)
    assert db.session.scalar(db.select(db.func.count(User.id))) == 0


def test_a_nul_character_in_a_query_is_refused_plainly(client, make_user):
    login(client, make_user(Role.MANAGER))
    for query in ("person=a%00b", "target_id=1%00", "action=%00"):
        response = client.get(f"/manage/audit/?{query}")
        assert response.status_code == 400, query
        assert "无法接受的字符" in response.get_data(as_text=True)


@pytest.mark.parametrize("mobile,stored", [
    ("１３８１２３４５６７８", "13812345678"),  # typed in full-width mode
    ("＋86 138-1234-5678", "13812345678"),
])
def test_full_width_mobile_numbers_are_understood(client, db, mobile, stored):
    assert post_form(client, "/register", dict(GOOD, mobile=mobile)).status_code == 302
    assert db.session.scalar(db.select(User.mobile)) == stored


def test_other_scripts_digits_are_not_a_mobile_number(client, db):
    response = post_form(client, "/register", dict(GOOD, mobile="13٨١٢٣٤٥٦٧٨"))
    assert response.status_code == 400 and "请输入11位中国大陆手机号" in response.get_data(as_text=True)
    assert db.session.scalar(db.select(db.func.count(User.id))) == 0


@pytest.mark.parametrize("url", ["/manage/audit/", "/manage/outbox/"])
def test_a_page_number_beyond_any_list_shows_the_first_page(client, make_user, url):
    login(client, make_user(Role.MANAGER))
    for page in ("99999999999999999999", "-3", "abc", "2147483648"):
        assert client.get(f"{url}?page={page}").status_code == 200, page


@pytest.mark.parametrize("query", ["date_from=0001-01-01", "date_to=9999-12-31"])
def test_an_audit_search_beyond_the_calendar_gets_a_message(client, make_user, query):
    login(client, make_user(Role.MANAGER))
    response = client.get(f"/manage/audit/?{query}")
    assert response.status_code == 400
    assert "2000" in response.get_data(as_text=True) and "2100" in response.get_data(as_text=True)


def test_ended_logins_are_pruned_by_the_scheduled_job(app, client, make_user, db):
    """The job deletes logins that ended over 30 days ago (logged out, or past their lifetime), and
    keeps the live ones and the recently ended."""
    from incubator.jobs.runner import run_now

    user = make_user(Role.FOUNDER)
    now = utcnow()
    lifetime = app.config["REMEMBER_COOKIE_DURATION"]
    rows = {
        "live": LoginSession(token_hash="a" * 64, user_id=user.id, created_at=now - timedelta(days=1)),
        "logged out lately": LoginSession(token_hash="b" * 64, user_id=user.id, created_at=now - timedelta(days=20),
                                          revoked_at=now - timedelta(days=10)),
        "logged out long ago": LoginSession(token_hash="c" * 64, user_id=user.id, created_at=now - timedelta(days=50),
                                            revoked_at=now - timedelta(days=40)),
        "expired lately": LoginSession(token_hash="d" * 64, user_id=user.id,
                                       created_at=now - lifetime - timedelta(days=5)),
        "expired long ago": LoginSession(token_hash="e" * 64, user_id=user.id,
                                         created_at=now - lifetime - timedelta(days=31)),
    }
    db.session.add_all(rows.values())
    db.session.commit()
    run = run_now("prune_login_sessions")
    assert run.status == "succeeded" and json.loads(run.result) == {"deleted": 2}
    kept = set(db.session.scalars(db.select(LoginSession.token_hash)))
    assert kept == {rows[k].token_hash for k in ("live", "logged out lately", "expired lately")}
