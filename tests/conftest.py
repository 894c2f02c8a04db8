"""Test fixtures on real services.

Backend: TEST_BACKEND=postgresql (a database of its own on 127.0.0.1:5432, created and migrated
for the run) or TEST_BACKEND=sqlite (a file in the run's temp folder). The schema comes from the
migrations, never from create_all. Each test starts with empty tables.

Services started once per run: SeaweedFS (`weed mini`) on free loopback ports, an aiosmtpd SMTP
server capturing mail, and (for browser tests) Debian's Chromium driven by Playwright.
"""
from __future__ import annotations

import contextvars
import hashlib
import os
import re
import secrets
import threading
import time
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from pathlib import Path

import pytest
import sqlalchemy as sa

ROOT = Path(__file__).resolve().parent.parent
BACKEND = os.environ.get("TEST_BACKEND", "sqlite")
PG_ADMIN_URL = os.environ.get("TEST_PG_ADMIN_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
OUTPUT_DIR = Path(os.environ.get("TEST_OUTPUT_DIR", ROOT / "test-output"))
S3_ACCESS_KEY = "test-access-key"
S3_SECRET_KEY = "test-secret-key-0123456789"
S3_BUCKET = "incubator-test"
PASSWORD = "Passw0rd-2026"


def pytest_report_header(config):
    return f"database backend: {BACKEND}"


def pytest_collection_modifyitems(config, items):
    skip_pg = pytest.mark.skip(reason="needs PostgreSQL (runs in the PostgreSQL pass of `make test`)")
    for item in items:
        if "postgres_only" in item.keywords and BACKEND != "postgresql":
            item.add_marker(skip_pg)


# --- database --------------------------------------------------------------------------------

def _pg_database_name() -> str:
    # One database per checkout, so two worktrees (or a CI clone) never share test data.
    return "incubator_test_" + hashlib.sha1(str(ROOT).encode()).hexdigest()[:8]


@pytest.fixture(scope="session")
def database_url(tmp_path_factory) -> str:
    if BACKEND == "postgresql":
        name = _pg_database_name()
        admin = sa.create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(sa.text(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :n AND pid <> pg_backend_pid()"
            ), {"n": name})
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}"'))
            conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
        admin.dispose()
        return PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + name
    if BACKEND == "sqlite":
        return "sqlite:///" + str(tmp_path_factory.mktemp("db") / "test.sqlite3")
    raise RuntimeError(f"unknown TEST_BACKEND {BACKEND!r}")


# --- services --------------------------------------------------------------------------------

@pytest.fixture(scope="session")
def seaweedfs(tmp_path_factory):
    from incubator.devstack import SeaweedFS

    server = SeaweedFS(tmp_path_factory.mktemp("s3"), access_key=S3_ACCESS_KEY, secret_key=S3_SECRET_KEY,
                       bucket=S3_BUCKET)
    server.start()
    yield server
    server.stop()


@dataclass
class SMTPSink:
    """The aiosmtpd server's mailbox: every message it received, parsed."""

    port: int
    messages: list = field(default_factory=list)

    def clear(self) -> None:
        self.messages.clear()

    def wait_for(self, count: int = 1, timeout: float = 5.0) -> list:
        deadline = time.monotonic() + timeout
        while len(self.messages) < count and time.monotonic() < deadline:
            time.sleep(0.05)
        return list(self.messages)

    @staticmethod
    def text_of(message) -> str:
        part = message.get_body(preferencelist=("plain",))
        return part.get_content() if part is not None else ""


@pytest.fixture(scope="session")
def smtp_server():
    from aiosmtpd.controller import Controller

    from incubator.devstack import free_port

    sink = SMTPSink(port=free_port())

    class Handler:
        async def handle_DATA(self, server, session, envelope):
            msg = message_from_bytes(envelope.original_content or envelope.content, policy=policy.default)
            sink.messages.append(msg)
            return "250 Message accepted for delivery"

    controller = Controller(Handler(), hostname="127.0.0.1", port=sink.port)
    controller.start()
    sink.controller = controller
    yield sink
    controller.stop()


@pytest.fixture
def smtp(smtp_server):
    smtp_server.clear()
    return smtp_server


# --- the app ---------------------------------------------------------------------------------

def make_config(database_url: str, seaweedfs, smtp_server) -> dict:
    return {
        "SQLALCHEMY_DATABASE_URI": database_url,
        "S3_ENDPOINT_URL": seaweedfs.endpoint_url,
        "S3_BUCKET": S3_BUCKET,
        "S3_ACCESS_KEY_ID": S3_ACCESS_KEY,
        "S3_SECRET_ACCESS_KEY": S3_SECRET_KEY,
        "S3_REGION": "us-east-1",
        "S3_ADDRESSING_STYLE": "path",
        "MAIL_SERVER": "127.0.0.1",
        "MAIL_PORT": smtp_server.port,
        "MAIL_TIMEOUT_SECONDS": 3,
        "RATELIMIT_STORAGE_URI": "memory://",
        "PUBLIC_URL": "http://127.0.0.1",
    }


@pytest.fixture(scope="session")
def app_config(database_url, seaweedfs, smtp_server) -> dict:
    return make_config(database_url, seaweedfs, smtp_server)


@pytest.fixture(scope="session")
def migrated(app_config):
    """Build the schema once per run, from the migrations."""
    from flask_migrate import upgrade

    from incubator import create_app
    from incubator.extensions import db

    app = create_app("testing", app_config)
    with app.app_context():
        upgrade()
        db.engine.dispose()
    return True


def _empty_all_tables(db) -> None:
    tables = [t for t in reversed(db.metadata.sorted_tables)]
    with db.engine.begin() as conn:
        if db.engine.dialect.name == "postgresql":
            names = ", ".join(f'"{t.name}"' for t in tables)
            conn.execute(sa.text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
        else:
            for table in tables:
                conn.execute(table.delete())
        # As after the migrations, every data scope has a version, a new random one: ids start again
        # at 1 in the next test, and no key cached in this process by an earlier test may match.
        from incubator.pagecache.models import SCOPES

        conn.execute(sa.text("DELETE FROM data_versions"))  # SQLite's delete triggers wrote some again
        conn.execute(sa.text("INSERT INTO data_versions (name, version) VALUES (:name, :version)"),
                     [{"name": scope, "version": secrets.randbelow(2**62) + 1} for scope in SCOPES])


@pytest.fixture
def app(app_config, migrated):
    from incubator import create_app
    from incubator.extensions import db, limiter

    app = create_app("testing", dict(app_config))
    with app.app_context():
        _empty_all_tables(db)
        limiter.reset()
    ctx = app.app_context()
    ctx.push()
    yield app
    db.session.remove()
    ctx.pop()
    with app.app_context():
        db.engine.dispose()


@pytest.fixture
def db(app):
    from incubator.extensions import db as _db

    return _db


def end_test_transaction() -> None:
    """Commit what the test staged before the app handles a request. On SQLite every transaction
    begins IMMEDIATE (one writer at a time), so a transaction left open by the test thread would
    make the request wait for the lock; on both backends it also means the test reads fresh rows
    afterwards. Browser tests call this before driving the page."""
    from flask import has_app_context

    from incubator.extensions import db as _db

    if has_app_context():  # redirects followed by the client run inside the request's empty context
        _db.session.commit()


@pytest.fixture
def client(app):
    from flask.testing import FlaskClient

    class CommittingClient(FlaskClient):
        """Each request runs in an empty contextvars context, as in a real server: its own app
        context, `g`, login state and database session, not the ones the test pushed."""

        def open(self, *args, **kwargs):
            end_test_transaction()
            # Buffered: a streamed body (exports) is produced inside the request's context too.
            kwargs.setdefault("buffered", True)
            return contextvars.Context().run(super().open, *args, **kwargs)

    app.test_client_class = CommittingClient
    return app.test_client()


# --- helpers ---------------------------------------------------------------------------------

CSRF_RE = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


def csrf_from(client, url: str) -> str:
    response = client.get(url)
    match = CSRF_RE.search(response.get_data(as_text=True))
    assert match, f"no CSRF token on {url} (status {response.status_code})"
    return match.group(1)


def post_form(client, url: str, data: dict, *, csrf_page: str | None = None, **kwargs):
    """POST like a browser: first GET a page for the CSRF token (the form page itself by default)."""
    token = csrf_from(client, csrf_page or url)
    return client.post(url, data={**data, "csrf_token": token}, **kwargs)


@pytest.fixture
def make_user(db):
    from incubator.accounts.services import create_user
    from incubator.enums import Role

    counter = {"n": 0}

    def factory(*roles: Role | str, email: str | None = None, name: str | None = None,
                password: str = PASSWORD, locale: str = "zh_CN"):
        counter["n"] += 1
        roles = [Role(r) for r in roles] or [Role.FOUNDER]
        user = create_user(email or f"user{counter['n']}@example.cn", name or f"测试用户{counter['n']}", password,
                           roles=roles, mobile="13800000000", locale=locale)
        db.session.commit()
        return user

    return factory


def login(client, user_or_email, password: str = PASSWORD, remember: bool = False):
    email = getattr(user_or_email, "email", user_or_email)
    response = post_form(client, "/login", {"email": email, "password": password,
                                            **({"remember": "y"} if remember else {})})
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    return response


@pytest.fixture
def login_as(client):
    def do(user, **kwargs):
        return login(client, user, **kwargs)

    return do


# --- live server and browser -----------------------------------------------------------------

@pytest.fixture
def live_server(app):
    """The app served by a real WSGI server in a thread, for the browser."""
    from werkzeug.serving import make_server

    from incubator.devstack import free_port

    port = free_port()
    app.config["PUBLIC_URL"] = f"http://127.0.0.1:{port}"
    server = make_server("127.0.0.1", port, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    server.url = f"http://127.0.0.1:{port}"
    yield server
    server.shutdown()
    thread.join(timeout=5)


CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run", "--disable-quic"]


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    executable = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
    if not Path(executable).exists():
        pytest.fail(f"Chromium not found at {executable}: run `make test`, which installs it with apt-get")
    with sync_playwright() as pw:
        instance = pw.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS, headless=True)
        yield instance
        instance.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(locale="zh-CN", viewport={"width": 390, "height": 844})
    pg = context.new_page()
    pg.set_default_timeout(15000)
    yield pg
    context.close()


@pytest.fixture
def output_dir(request) -> Path:
    path = OUTPUT_DIR / BACKEND
    path.mkdir(parents=True, exist_ok=True)
    return path


def click_and_follow(page, target) -> None:
    """Click what submits a form (a selector or a locator) and wait for the navigation it starts:
    the POST, its redirect and the page they lead to. Waiting for the load state instead returns at
    once (the current page is loaded already), and a goto right after would cancel the POST still
    in flight, which happened under load."""
    with page.expect_navigation():
        (page.locator(target) if isinstance(target, str) else target).click()
