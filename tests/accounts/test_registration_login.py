"""Founders register, log in and out; bad input gets a clear message and a 4xx."""
from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from incubator.accounts.models import LoginSession, User
from incubator.enums import Role
from tests.conftest import PASSWORD, csrf_from, login, post_form

GOOD = {"name": "周子涵", "email": "zihan@example.cn", "mobile": "138 1234 5678", "password": "Startup2026",
        "confirm": "Startup2026"}


def test_register_founder_creates_account_and_logs_in(client, db):
    response = post_form(client, "/register", GOOD)
    assert response.status_code == 302
    user = db.session.scalar(db.select(User).where(User.email == "zihan@example.cn"))
    assert user is not None and user.roles == {Role.FOUNDER}
    assert user.mobile == "13812345678"
    assert user.password_hash.startswith("scrypt:") and "Startup2026" not in user.password_hash
    page = client.get("/founder")
    assert page.status_code == 200
    assert "你好，周子涵" in page.get_data(as_text=True)


@pytest.mark.parametrize("field,value,message", [
    ("email", "not-an-email", "请输入有效的邮箱地址"),
    ("email", "a@" + "x" * 260 + ".cn", "Field cannot be longer"),
    ("mobile", "12345", "请输入11位中国大陆手机号"),
    ("mobile", "+1 415 555 0100", "请输入11位中国大陆手机号"),
    ("password", "short1", "密码至少8位"),
    ("password", "onlyletters", "密码至少8位"),
    ("confirm", "Different2026", "两次输入的密码不一致"),
    ("name", "", "此项为必填项"),
    ("name", "名" * 200, "Field cannot be longer"),
])
def test_register_bad_input_is_refused_with_a_message(client, db, field, value, message):
    data = dict(GOOD, **{field: value})
    response = post_form(client, "/register", data)
    assert response.status_code == 400
    body = response.get_data(as_text=True)
    # WTForms' built-in Length message is translated by WTForms' own catalog; ours by ours.
    assert message in body or "不能超过" in body or "长度" in body
    assert db.session.scalar(db.select(db.func.count(User.id))) == 0
    # What was typed (except passwords) is still in the form.
    if field not in ("password", "confirm", "name"):
        assert 'value="周子涵"' in body


def test_register_twice_with_same_email_is_refused(client, db, make_user):
    make_user(Role.FOUNDER, email="zihan@example.cn")
    response = post_form(client, "/register", dict(GOOD, email="ZiHan@Example.cn"))
    assert response.status_code == 400
    assert "该邮箱已注册" in response.get_data(as_text=True)
    assert db.session.scalar(db.select(db.func.count(User.id))) == 1


def test_login_wrong_password_and_unknown_email_get_the_same_message(client, make_user):
    make_user(Role.FOUNDER, email="known@example.cn")
    wrong = post_form(client, "/login", {"email": "known@example.cn", "password": "Wrong-pass-1"})
    unknown = post_form(client, "/login", {"email": "nobody@example.cn", "password": "Wrong-pass-1"})
    assert wrong.status_code == unknown.status_code == 400
    for response in (wrong, unknown):
        assert "邮箱或密码错误" in response.get_data(as_text=True)
    assert client.get("/founder").status_code == 302


def test_login_lands_on_the_dashboard_of_the_role(client, make_user):
    manager = make_user(Role.MANAGER, Role.JUDGE)
    response = login(client, manager)
    assert response.headers["Location"].endswith("/dashboard")
    assert client.get("/dashboard").headers["Location"].endswith("/manage")


def test_logout_invalidates_the_session_cookie(app, client, make_user, db):
    user = make_user(Role.FOUNDER)
    login(client, user)
    assert client.get("/founder").status_code == 200
    stolen = client.get_cookie("session").value
    post_form(client, "/logout", {}, csrf_page="/founder")
    assert client.get("/founder").status_code == 302
    # A copy of the old cookie no longer opens the account: the login session was revoked.
    other = app.test_client()
    other.set_cookie("session", stolen)
    response = other.get("/founder")
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    revoked = db.session.scalars(db.select(LoginSession)).all()
    assert len(revoked) == 1 and revoked[0].revoked_at is not None


@pytest.mark.parametrize("remember", [False, True])
def test_a_deactivated_account_is_logged_out_at_its_next_request(client, make_user, db, remember):
    """Its live session (or remember-me cookie) no longer opens the account, which cannot log in again."""
    user = make_user(Role.FOUNDER)
    login(client, user, remember=remember)
    assert client.get("/founder").status_code == 200
    user.active = False
    db.session.commit()
    response = client.get("/founder")
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    refused = post_form(client, "/login", {"email": user.email, "password": PASSWORD})
    assert refused.status_code == 400 and 'name="password"' in refused.get_data(as_text=True)  # the form again
    assert client.get("/founder").status_code == 302


def test_remember_me_cookie_survives_a_new_session_but_not_logout(app, client, make_user):
    user = make_user(Role.FOUNDER)
    login(client, user, remember=True)
    remember = client.get_cookie("remember_token")
    assert remember is not None and remember.http_only
    fresh = app.test_client()
    fresh.set_cookie("remember_token", remember.value)
    assert fresh.get("/founder").status_code == 200
    post_form(client, "/logout", {}, csrf_page="/founder")
    again = app.test_client()
    again.set_cookie("remember_token", remember.value)
    assert again.get("/founder").status_code == 302


def test_session_cookie_flags_are_safe(client, make_user):
    user = make_user(Role.FOUNDER)
    response = login(client, user)
    cookies = response.headers.getlist("Set-Cookie")
    session_cookie = next(c for c in cookies if c.startswith("session="))
    assert "HttpOnly" in session_cookie and "SameSite=Lax" in session_cookie


def test_login_is_rate_limited(client, make_user):
    make_user(Role.FOUNDER, email="target@example.cn")
    token = csrf_from(client, "/login")
    statuses = [client.post("/login", data={"email": "target@example.cn", "password": f"guess{i}",
                                            "csrf_token": token}).status_code for i in range(12)]
    assert statuses[:10] == [400] * 10
    assert statuses[10] == 429
    assert "尝试次数过多" in client.post("/login", data={"email": "target@example.cn", "password": "x",
                                                   "csrf_token": token}).get_data(as_text=True)


def test_post_without_csrf_token_is_rejected(client, db):
    response = client.post("/register", data=GOOD)
    assert response.status_code == 400
    assert "表单已过期" in response.get_data(as_text=True)
    assert db.session.scalar(db.select(db.func.count(User.id))) == 0


def test_logout_without_csrf_token_keeps_the_session(client, make_user):
    login(client, make_user(Role.FOUNDER))
    assert client.post("/logout").status_code == 400
    assert client.get("/founder").status_code == 200


@pytest.mark.parametrize("target", ["https://evil.example.com/", "//evil.example.com", "/\\evil.example.com",
                                    "javascript:alert(1)", "http:/evil.example.com", " //evil.example.com"])
def test_login_next_never_redirects_off_site(client, make_user, target):
    user = make_user(Role.FOUNDER)
    token = csrf_from(client, "/login")
    response = client.post("/login", query_string={"next": target},
                           data={"email": user.email, "password": PASSWORD, "csrf_token": token})
    assert response.status_code == 302
    assert response.headers["Location"] == "/dashboard"


def test_login_next_keeps_a_local_path(client, make_user):
    user = make_user(Role.FOUNDER)
    token = csrf_from(client, "/login")
    response = client.post("/login", query_string={"next": "/notices/?page=2"},
                           data={"email": user.email, "password": PASSWORD, "csrf_token": token})
    assert response.headers["Location"] == "/notices/?page=2"


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(name=st.text(max_size=300), email=st.text(max_size=300), mobile=st.text(max_size=40),
       password=st.text(max_size=200))
def test_register_form_survives_arbitrary_input(client, name, email, mobile, password):
    from incubator.extensions import limiter

    limiter.reset()  # this test is about input, not about the rate limit
    token = csrf_from(client, "/register")
    response = client.post("/register", data={"name": name, "email": email, "mobile": mobile,
                                              "password": password, "confirm": password, "csrf_token": token})
    assert response.status_code in (302, 400)
    if response.status_code == 302:
        client.post("/logout", data={"csrf_token": csrf_from(client, "/founder")})


def test_login_rate_limit_is_shared_across_processes_through_redis(app_config, migrated, make_user):
    """Two app instances (as two gunicorn workers) count the same attempts when the limiter uses
    Redis (127.0.0.1:6379, database 15 for tests)."""
    import redis

    from incubator import create_app
    from tests.conftest import csrf_from

    url = "redis://127.0.0.1:6379/15"
    redis.Redis.from_url(url).flushdb()
    make_user(Role.FOUNDER, email="shared@example.cn")
    workers = [create_app("testing", {**app_config, "RATELIMIT_STORAGE_URI": url}) for _ in range(2)]
    statuses = []
    for i in range(12):
        client = workers[i % 2].test_client()
        token = csrf_from(client, "/login")
        statuses.append(client.post("/login", data={"email": "shared@example.cn", "password": f"guess{i}",
                                                    "csrf_token": token}).status_code)
    redis.Redis.from_url(url).flushdb()
    assert statuses[:10] == [400] * 10 and statuses[10:] == [429, 429]
