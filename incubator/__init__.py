"""The 青创城 incubator platform: create_app() assembles it from small register_* steps."""
from __future__ import annotations

import functools
import logging
import os
import uuid
from pathlib import Path

from flask import Flask, g, render_template, request, session
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf.csrf import CSRFError
from sqlalchemy import event
from sqlalchemy.engine import Engine
from werkzeug.exceptions import HTTPException

from .extensions import babel, csrf, db, limiter, login_manager, migrate

ROOT = Path(__file__).resolve().parent.parent


def create_app(config_name: str | None = None, config_overrides: dict | None = None) -> Flask:
    from config import config_by_name

    config_name = config_name or os.environ.get("INCUBATOR_ENV") or "development"
    config_class = config_by_name[config_name]
    if hasattr(config_class, "validate"):
        config_class.validate()

    app = Flask(
        __name__,
        template_folder=str(ROOT / "templates"),
        static_folder=str(ROOT / "static"),
        instance_path=os.environ.get("INSTANCE_PATH", str(ROOT / "instance")),
        instance_relative_config=True,
    )
    app.config.from_object(config_class)
    if config_overrides:
        app.config.update(config_overrides)
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)

    from .urls import RecordIdConverter

    app.url_map.converters["int"] = RecordIdConverter  # before any route is added
    register_logging(app)
    register_extensions(app)
    register_blueprints(app)
    register_request_hooks(app)
    register_errorhandlers(app)
    register_template_helpers(app)
    register_commands(app)
    from .judging import submit_lane

    submit_lane.register(app)  # the judges' score submit served beside the full request stack
    proxies = app.config.get("TRUSTED_PROXIES") or 0
    if proxies:
        # The client's address and scheme as the proxy saw them (rate limits, login records, https links).
        from werkzeug.middleware.proxy_fix import ProxyFix

        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies, x_proto=proxies)
    return app


class RequestIdFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        from flask import has_request_context

        record.request_id = g.get("request_id", "-") if has_request_context() else "-"
        return True


def register_logging(app: Flask) -> None:
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s [%(request_id)s] %(name)s: %(message)s"))
    handler.addFilter(RequestIdFilter())
    app.logger.handlers[:] = [handler]
    app.logger.setLevel(app.config["LOG_LEVEL"])
    package_logger = logging.getLogger("incubator")
    if not any(isinstance(f, RequestIdFilter) for h in package_logger.handlers for f in h.filters):
        package_logger.addHandler(handler)
    package_logger.setLevel(app.config["LOG_LEVEL"])
    package_logger.propagate = False


def _configure_sqlite(app: Flask) -> None:
    """SQLite as a web database: WAL, a busy timeout, foreign keys, and BEGIN IMMEDIATE so that two
    writers queue for the lock at the start of a transaction instead of failing halfway with
    "database is locked" when a read lock cannot be upgraded."""
    busy_ms = app.config["SQLITE_BUSY_TIMEOUT_MS"]
    engine = db.engine
    if engine.dialect.name != "sqlite" or getattr(engine, "_incubator_configured", False):
        return
    engine._incubator_configured = True

    @event.listens_for(engine, "connect")
    def on_connect(dbapi_connection, _record):
        dbapi_connection.isolation_level = None  # we issue BEGIN ourselves
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA busy_timeout = {int(busy_ms)}")
        cursor.execute("PRAGMA journal_mode = WAL")
        cursor.execute("PRAGMA synchronous = NORMAL")
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def on_begin(conn):
        conn.exec_driver_sql("BEGIN IMMEDIATE")


def _configure_pool(app: Flask) -> None:
    """Ping a pooled connection before use only when it has sat idle, instead of SQLAlchemy's
    pool_pre_ping on every checkout: a request under load takes a connection that answered
    milliseconds ago, and the ping was a round trip of its own. A connection the server dropped
    while idle (a restart, an idle timeout) fails the ping and the pool opens a new one."""
    import time

    from sqlalchemy import exc

    engine = db.engine
    idle_limit = app.config["DB_PING_AFTER_IDLE_SECONDS"]
    if engine.dialect.name == "sqlite" or getattr(engine, "_incubator_pool_configured", False):
        return
    engine._incubator_pool_configured = True

    @event.listens_for(engine, "checkin")
    def on_checkin(_dbapi_connection, record):
        if record is not None:
            record.info["idle_since"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def on_checkout(dbapi_connection, record, _proxy):
        idle_since = record.info.pop("idle_since", None)
        if idle_since is None or time.monotonic() - idle_since < idle_limit:
            return  # new, or used a moment ago
        try:
            cursor = dbapi_connection.cursor()
            cursor.execute("SELECT 1")
            cursor.close()
            # The SELECT opened a transaction: end it, or a request that runs in autocommit (pagecache:
            # read_only, one_statement_post) could not switch this connection over.
            dbapi_connection.rollback()
        except Exception as error:  # the pool discards it and retries with a new connection
            raise exc.DisconnectionError(str(error)) from error


def register_extensions(app: Flask) -> None:
    db.init_app(app)
    with app.app_context():
        _configure_sqlite(app)
        _configure_pool(app)
    migrate.init_app(app, db, directory=str(ROOT / "migrations"))
    csrf.init_app(app)
    limiter.init_app(app)
    app.config["BABEL_TRANSLATION_DIRECTORIES"] = ";".join(str(p) for p in translation_directories())
    babel.init_app(app, locale_selector=select_locale, timezone_selector=lambda: app.config["TIMEZONE"])

    login_manager.init_app(app)
    # "basic": a session seen from a new address or browser is marked not fresh, not ended. "strong"
    # would log out a judge whose phone moves from the venue's Wi-Fi to 4G in the middle of a final;
    # a copied cookie is stopped on the server instead (logout and password resets revoke the login).
    login_manager.session_protection = "basic"
    login_manager.login_view = "accounts.login"
    login_manager.login_message_category = "warning"
    from flask_babel import lazy_gettext

    login_manager.login_message = lazy_gettext("Please log in to see this page.")

    @login_manager.user_loader
    def load_user(token: str):
        # One query per request brings the user with their roles, the unread-notices count the
        # navigation shows and the data versions cached pages are keyed by.
        from .accounts.services import load_session_user
        from .notifications.services import remember_unread_count
        from .pagecache import remember_versions

        user, extras = load_session_user(token, _login_extras())
        if user is not None:
            remember_unread_count(user, extras["unread"])
            remember_versions(extras)
        return user


@functools.cache
def _login_extras() -> dict:
    from .notifications.services import unread_count_column
    from .pagecache import version_columns

    return {"unread": unread_count_column(), **version_columns()}


def translation_directories() -> list[Path]:
    """One catalog for the shared pages (incubator/translations) plus one per feature package that
    has its own, so each feature owns its translations."""
    base = Path(__file__).resolve().parent
    dirs = [base / "translations"]
    dirs += sorted(p for p in base.glob("*/translations") if p.is_dir())
    return dirs


@functools.lru_cache(maxsize=8)
def _parsed_locale(name: str):
    """Flask-Babel parses the selector's answer on every request (about 0.7 ms); a Locale object
    passes through untouched, so each supported language is parsed once per process."""
    from babel import Locale

    return Locale.parse(name)


def select_locale():
    from flask import current_app, has_request_context

    if not has_request_context():  # jobs and CLI commands: the default language
        return _parsed_locale(current_app.config["BABEL_DEFAULT_LOCALE"])
    supported = current_app.config["LANGUAGES"]
    cookie = request.cookies.get("lang")
    if cookie in supported:
        return _parsed_locale(cookie)
    if current_user and current_user.is_authenticated and current_user.locale in supported:
        return _parsed_locale(current_user.locale)
    # Chinese first: only a browser that prefers English over Chinese gets English.
    best = request.accept_languages.best_match(["zh_CN", "zh", "en"], default="zh_CN")
    return _parsed_locale("en" if best == "en" else "zh_CN")


def register_blueprints(app: Flask) -> None:
    from . import decks, storage
    from .accounts.views import bp as accounts_bp
    from .applications.views import bp as applications_bp
    from .audit.views import bp as audit_bp
    from .competitions.views import bp as competitions_bp
    from .home.views import bp as home_bp
    from .jobs.views import bp as jobs_bp
    from .judging.views import bp as judging_bp
    from .notifications.views import bp as notifications_bp
    from .notifications.views import outbox_bp
    from .spaces.views import bp as spaces_bp

    for blueprint in (home_bp, accounts_bp, notifications_bp, outbox_bp, audit_bp, jobs_bp, competitions_bp,
                      applications_bp, judging_bp, spaces_bp):
        app.register_blueprint(blueprint)
    storage.register(app)  # its blueprint, `flask storage`, and the 503 page for an unreachable store
    decks.register(app)  # deck upload/download routes and the deck_versions template global


CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
    "font-src 'self'; object-src 'none'; base-uri 'self'; frame-ancestors 'none'; "
    "connect-src 'self' {s3}; form-action 'self' {s3}"
)


_FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


def _holds_nul(values) -> bool:
    return any("\x00" in key or any("\x00" in value for value in items) for key, items in values.lists())


def register_request_hooks(app: Flask) -> None:
    s3_origin = (app.config.get("S3_ENDPOINT_URL") or "").rstrip("/")
    csp = CSP.format(s3=s3_origin).replace("  ", " ")

    @app.before_request
    def assign_request_id():
        incoming = request.headers.get("X-Request-ID", "")
        g.request_id = incoming[:36] if incoming and incoming.replace("-", "").isalnum() else str(uuid.uuid4())

    @app.before_request
    def refuse_nul_characters():
        # No form field or query holds a NUL character when typed by a person, and PostgreSQL
        # refuses one in any text (a 500 where SQLite would store it): refuse the request plainly.
        if _holds_nul(request.args) or (request.method == "POST" and request.mimetype in _FORM_TYPES
                                        and _holds_nul(request.form)):
            return render_template("errors/error.html", code=400, message=_(
                "The request holds a character that cannot be accepted (NUL). Go back, remove it and try again.")), 400

    @app.after_request
    def security_headers(response):
        response.headers.setdefault("Content-Security-Policy", csp)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        response.headers.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
        response.headers["X-Request-ID"] = g.get("request_id", "")
        if app.config.get("SESSION_COOKIE_SECURE"):
            response.headers.setdefault("Strict-Transport-Security", "max-age=31536000")
        # Pages of a logged-in person are private. Read the session, not current_user: after the
        # request's commit the user row is expired and touching it would cost two more queries.
        if "_user_id" in session:
            response.headers.setdefault("Cache-Control", "no-store")
        return response

    from . import pagecache

    pagecache.register(app)  # read-only (autocommit) requests and their write guard

    @app.teardown_request
    def forget_unread_count(_exc):
        # A test client without its own app context shares `g` across requests; a server never does.
        g.pop("_unread_notices", None)

    @app.teardown_request
    def rollback_on_error(exc):
        # Nothing half-written survives an exception; the one commit per request never happened.
        if exc is not None:
            db.session.rollback()


from flask_babel import lazy_gettext as _l  # noqa: E402

ERROR_TITLES = {
    400: _l("The request could not be understood"),
    403: _l("You do not have access to this page"),
    404: _l("Page not found"),
    405: _l("Method not allowed"),
    413: _l("The file is too large"),
    429: _l("Too many attempts"),
    500: _l("Something went wrong on our side"),
}


def register_errorhandlers(app: Flask) -> None:
    def render_error(code: int, message: str | None = None):
        db.session.rollback()
        return render_template("errors/error.html", code=code, message=message), code

    @app.errorhandler(CSRFError)
    def csrf_error(exc):
        app.logger.info("CSRF rejected: %s", exc.description)
        return render_error(400, _("This form has expired or was not sent from this site. Go back, reload the page and try again; what you typed is still in the previous page."))

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException):
        code = exc.code or 500
        if code == 429:
            return render_error(429, _("Too many attempts. Wait a minute and try again."))
        if code == 413:
            return render_error(413, _("The upload is larger than allowed."))
        return render_error(code)

    @app.errorhandler(Exception)
    def unexpected_error(exc: Exception):
        app.logger.exception("Unhandled error on %s %s", request.method, request.path)
        return render_error(500)


def register_template_helpers(app: Flask) -> None:
    from flask_babel import format_datetime

    from .timeutils import to_local

    @app.template_filter("local_dt")
    def local_dt(value, fmt="yyyy-MM-dd HH:mm"):
        if not value:
            return ""
        if fmt == "yyyy-MM-dd HH:mm":  # the common case: the same text without Babel's formatter per call
            return to_local(value).strftime("%Y-%m-%d %H:%M")
        return format_datetime(to_local(value), fmt)

    @app.context_processor
    def inject_globals():
        from .enums import ROLE_LABELS, Role
        from .notifications.services import unread_count
        from .pagecache import nav_values

        user, unread = None, 0
        if current_user and getattr(current_user, "is_authenticated", False):
            user = current_user
            unread = unread_count(current_user)  # read with the user: no query of its own
        return {
            "Role": Role,
            "role_labels": ROLE_LABELS,
            "current_locale": str(get_locale()),
            "error_titles": ERROR_TITLES,
            "unread_notices": unread,
            **nav_values(user, unread),
        }


def register_commands(app: Flask) -> None:
    from .commands import register

    register(app)
