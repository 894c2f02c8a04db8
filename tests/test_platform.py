"""The platform's wiring: schema from migrations, translations, security headers, error pages,
configuration, the language switch and SQLite under concurrent writers."""
from __future__ import annotations

import logging
import threading
from datetime import datetime, timezone

import pytest

from incubator.enums import Role
from tests.conftest import BACKEND, csrf_from, login, post_form


def test_models_and_migrations_agree(app, db):
    """`flask db migrate` would generate nothing: every model change has its migration."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    with db.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        diff = compare_metadata(context, db.metadata)
    assert diff == []


def test_every_string_has_a_chinese_translation():
    from incubator.i18n import catalogs, missing

    problems = [p for spec in catalogs() for p in missing(spec)]
    assert problems == []


def test_a_message_has_one_chinese_translation_across_catalogs():
    """Feature catalogs are merged into one namespace at run time: the same English msgid with two
    Chinese translations would show whichever catalog loaded last. Give a different meaning a
    different msgid (or pgettext) instead."""
    from incubator.i18n import catalogs, load_po

    seen: dict[str, dict[str, str]] = {}
    for spec in catalogs():
        for message in load_po(spec):
            if message.id and isinstance(message.id, str) and message.string:
                seen.setdefault(message.id, {})[spec.name] = message.string
    divergent = {msgid: by_catalog for msgid, by_catalog in seen.items() if len(set(by_catalog.values())) > 1}
    assert divergent == {}


def test_interface_is_chinese_by_default_and_english_on_request(client):
    assert "登录" in client.get("/login").get_data(as_text=True)
    english = client.get("/login", headers={"Accept-Language": "en-US,en;q=0.9"}).get_data(as_text=True)
    assert "Log in" in english and "登录" not in english.replace('lang="zh-CN"', "")


def test_language_switch_persists_in_a_cookie_and_on_the_account(client, make_user, db):
    user = make_user(Role.FOUNDER)
    login(client, user)
    response = post_form(client, "/language", {"lang": "en", "next": "/founder"}, csrf_page="/founder")
    assert response.status_code == 302 and response.headers["Location"] == "/founder"
    assert "Hello, " in client.get("/founder").get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(type(user), user.id).locale == "en"


def test_language_switch_returns_to_the_page_and_its_query_without_echoing_the_query(client, make_user):
    """Pages carry the switch with their path only (no query text of anyone's choosing next to the
    CSRF token in a compressed page); the query comes back from the Referer of this site."""
    login(client, make_user(Role.MANAGER))
    page = client.get("/manage/audit/?person=probe-12345").get_data(as_text=True)
    assert 'name="next" value="/manage/audit/"' in page
    token = csrf_from(client, "/manage")
    back = client.post("/language", data={"lang": "en", "next": "/manage/audit/", "csrf_token": token},
                       headers={"Referer": "http://localhost/manage/audit/?person=probe-12345"})
    assert back.headers["Location"] == "/manage/audit/?person=probe-12345"
    # Another site's Referer, or another page's, gives back the path alone.
    for referrer in ("https://evil.example.com/manage/audit/?x=1", "http://localhost/manage/jobs/?x=1"):
        back = client.post("/language", data={"lang": "zh_CN", "next": "/manage/audit/", "csrf_token": token},
                           headers={"Referer": referrer})
        assert back.headers["Location"] == "/manage/audit/"


def test_language_switch_refuses_unknown_languages_and_foreign_next(client):
    token = csrf_from(client, "/")
    assert client.post("/language", data={"lang": "fr", "csrf_token": token}).status_code == 400
    response = client.post("/language", data={"lang": "en", "next": "https://evil.example.com", "csrf_token": token})
    assert response.headers["Location"] == "/"


def test_security_headers_are_set(client):
    response = client.get("/login")
    csp = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp and "frame-ancestors 'none'" in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "same-origin"
    assert response.headers["X-Request-ID"]


def test_no_inline_scripts_or_styles_in_pages(client, make_user):
    login(client, make_user(Role.MANAGER, Role.JUDGE, Role.FOUNDER))
    for path in ("/", "/manage", "/judge", "/founder", "/manage/invitations", "/notices/"):
        body = client.get(path).get_data(as_text=True)
        assert "<script>" not in body and " style=" not in body and "onclick=" not in body, path


@pytest.mark.parametrize("lang,text", [("zh_CN", "页面不存在"), ("en", "Page not found")])
def test_not_found_page_in_both_languages(client, lang, text):
    client.set_cookie("lang", lang)
    response = client.get("/no/such/page")
    assert response.status_code == 404
    assert text in response.get_data(as_text=True)


def test_unexpected_error_renders_a_page_logs_and_rolls_back(app, db, caplog, make_user):
    from incubator.accounts.models import User

    def explode():
        db.session.add(User(email="half@example.cn", name="半", password_hash="x"))
        db.session.flush()
        raise RuntimeError("boom")

    app.add_url_rule("/test-explode", "test_explode", explode)
    client = app.test_client()
    with caplog.at_level(logging.ERROR, logger="incubator"):
        response = client.get("/test-explode")
    assert response.status_code == 500
    assert "系统出错了" in response.get_data(as_text=True)
    assert response.headers["X-Request-ID"] in response.get_data(as_text=True)
    assert any("Unhandled error" in r.getMessage() for r in caplog.records)
    assert db.session.scalar(db.select(db.func.count(User.id)).where(User.email == "half@example.cn")) == 0


def test_production_refuses_to_start_without_a_real_secret_key(monkeypatch):
    from incubator import create_app

    monkeypatch.delenv("SECRET_KEY", raising=False)
    with pytest.raises(RuntimeError, match="SECRET_KEY"):
        create_app("production")
    monkeypatch.setenv("SECRET_KEY", "short")
    with pytest.raises(RuntimeError, match="SECRET_KEY"):
        create_app("production")


def test_production_without_secret_key_exits_with_one_clear_line():
    import subprocess
    import sys

    env = {k: v for k, v in __import__("os").environ.items() if k != "SECRET_KEY"}
    env["INCUBATOR_ENV"] = "production"
    result = subprocess.run([sys.executable, "-c", "import wsgi"], capture_output=True, text=True, env=env,
                            cwd=str(__import__("pathlib").Path(__file__).resolve().parent.parent))
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "SECRET_KEY" in lines[0]


def test_production_cookies_are_secure(monkeypatch, app_config):
    from incubator import create_app

    monkeypatch.setenv("SECRET_KEY", "p" * 48)
    prod = create_app("production", dict(app_config))
    assert prod.config["SESSION_COOKIE_SECURE"] and prod.config["REMEMBER_COOKIE_SECURE"]
    assert prod.config["SESSION_COOKIE_HTTPONLY"] and prod.config["SESSION_COOKIE_SAMESITE"] == "Lax"


def test_times_are_shown_in_asia_shanghai(app):
    with app.test_request_context("/"):
        render = app.jinja_env.filters["local_dt"]
        assert render(datetime(2026, 6, 30, 16, 30, tzinfo=timezone.utc)) == "2026-07-01 00:30"
        assert render(datetime(2026, 6, 30, 16, 30, tzinfo=timezone.utc), "yyyy-MM-dd") == "2026-07-01"
        assert render(None) == ""


def test_utc_columns_round_trip_as_aware_utc(app, db, make_user):
    from incubator.accounts.models import User

    user = make_user(Role.FOUNDER)
    db.session.expire_all()
    created = db.session.get(User, user.id).created_at
    assert created.tzinfo is not None and created.utcoffset().total_seconds() == 0


@pytest.mark.skipif(BACKEND != "sqlite", reason="SQLite's locking is what this checks")
def test_sqlite_concurrent_writers_never_see_database_is_locked(app, db):
    """Two threads read then write in a loop; BEGIN IMMEDIATE makes the second wait, not fail."""
    from incubator.notifications.models import Notice
    from incubator.accounts.services import create_user

    user_id = create_user("writer@example.cn", "写入者", "Writer2026x", roles=[Role.FOUNDER]).id
    db.session.commit()
    errors: list[BaseException] = []

    def writer(tag: str) -> None:
        try:
            with app.app_context():
                for i in range(40):
                    count = db.session.scalar(db.select(db.func.count(Notice.id)))
                    db.session.add(Notice(user_id=user_id, kind=tag, text_zh=f"{tag}{i}/{count}", text_en="x"))
                    db.session.commit()
        except BaseException as exc:  # collected and asserted below
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(t,)) for t in ("a", "b")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert db.session.scalar(db.select(db.func.count(Notice.id))) == 80


def test_sqlite_is_configured_for_a_web_app(app, db):
    if db.engine.dialect.name != "sqlite":
        pytest.skip("SQLite pragmas")
    with db.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() >= 5000


def test_healthz_answers(client):
    assert client.get("/healthz").get_json() == {"status": "ok"}


def test_seed_demo_loads_once_and_prints_logins(app, db):
    runner = app.test_cli_runner()
    first = runner.invoke(args=["seed-demo"])
    assert first.exit_code == 0, first.output
    assert "manager@qcc.demo" in first.output and "loaded" in first.output
    second = runner.invoke(args=["seed-demo"])
    assert "already present" in second.output


def test_manager_dashboard_links_every_section_with_its_figures(client, make_user, db):
    from incubator.notifications.models import OutboxMessage

    db.session.add(OutboxMessage(recipient="x@example.cn", subject="s", body_text="b", template="t",
                                 state="failed", message_id="<failed@test>"))
    login(client, make_user(Role.MANAGER))
    body = client.get("/manage").get_data(as_text=True)
    for path in ("/manage/competitions/", "/manage/applications", "/manage/invitations", "/manage/outbox/",
                 "/manage/jobs/", "/manage/audit/", "/manage/storage/", "/manage/judging/", "/spaces/"):
        assert f'href="{path}"' in body, path
    assert "border-warning" in body  # the failed message is flagged


@pytest.mark.skipif(BACKEND != "postgresql", reason="a server connection that can be dropped")
@pytest.mark.parametrize("idle_limit, survives", [(0, True), (3600, False)])
def test_a_pooled_connection_dropped_while_idle_is_replaced(app_config, idle_limit, survives):
    """The pool pings a connection that sat idle longer than DB_PING_AFTER_IDLE_SECONDS and opens a
    new one when the server has dropped it; without the ping (a long limit) the request fails —
    which is what shows the ping does the work."""
    import logging as _logging

    import sqlalchemy as sa

    from incubator import create_app

    name = f"ping-test-{idle_limit}"
    other = create_app("testing", {**app_config, "DB_PING_AFTER_IDLE_SECONDS": idle_limit,
                                   "SQLALCHEMY_ENGINE_OPTIONS": {"connect_args": {"application_name": name}}})
    client = other.test_client()
    assert client.get("/healthz").status_code == 200  # the pool now holds a connection
    admin = sa.create_engine(app_config["SQLALCHEMY_DATABASE_URI"])
    with admin.begin() as conn:
        killed = conn.execute(sa.text("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                                      "WHERE application_name = :n"), {"n": name}).scalar()
    admin.dispose()
    assert killed >= 1
    _logging.disable(_logging.ERROR)  # the failing case logs its 500 on purpose
    try:
        status = client.get("/healthz").status_code
    finally:
        _logging.disable(_logging.NOTSET)
    assert (status == 200) is survives, status
    assert client.get("/healthz").status_code == 200  # either way the pool recovers
    with other.app_context():
        from incubator.extensions import db as _db

        _db.engine.dispose()


@pytest.mark.skipif(BACKEND != "postgresql", reason="the idle ping is PostgreSQL's")
def test_the_idle_ping_leaves_the_connection_outside_a_transaction(app_config):
    """A request running in autocommit (read-only pages, the score submit) switches its pooled
    connection over; that fails on a connection left inside the ping's transaction."""
    from incubator import create_app

    other = create_app("testing", {**app_config, "DB_PING_AFTER_IDLE_SECONDS": 0})
    with other.app_context():
        from incubator.extensions import db as _db

        with _db.engine.connect() as conn:
            conn.exec_driver_sql("SELECT 1")
        with _db.engine.connect() as conn:  # checked out again: pinged
            assert conn.connection.dbapi_connection.info.transaction_status == 0  # idle
            conn.execution_options(isolation_level="AUTOCOMMIT").exec_driver_sql("SELECT 1")
        _db.engine.dispose()
