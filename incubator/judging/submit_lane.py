"""The judges' submit lane: the scoring form's POST (a draft saved, a score submitted) served beside
the view, for the live final, where every judge in the hall submits within the same minute.

What the lane leaves out is the view's way to the user. Flask-Login's user loader builds the User
with its roles, the unread-notices count and every data version (an ORM query), and the role
decorator and the view's dispatch come around it: about a third of the request. The lane checks the
login inside the scoring target's own query instead (services.scoring_target_of_login, built on
accounts.services.session_login: the same live-session conditions, the judge role, an active
account), so the submit is two statements: that query and the write.

On PostgreSQL the lane also leaves out SQLAlchemy's execution around those two statements (the
session, the execution context, the result objects: a fifth of what was left). It takes one
connection of the pool in autocommit and runs them on psycopg's connection through driver_sql:
the SQL SQLAlchemy compiled, the values it converts, no BEGIN or COMMIT; the write, the score and
its audit row in one statement, commits alone. The session may still read (a rubric not yet in the
process cache) but not write: pagecache.refuse_session_writes.

Everything else is the application's own, called as the view is called:
- the request context: the session, `g`, the URL's rule;
- the app's before_request hooks but the rate limiter's and the session's autocommit
  (_before_request_hooks): the request id, the NUL refusal, CSRF protection;
- Flask-Login's session protection (a session from another address or browser is not fresh);
- the access and conflict checks, the values' checks and the write (services.scoring_target_of_login,
  services.scoring_form, services.save_score);
- the after_request hooks and the session cookie (app.process_response).

The lane only ever answers the plain success: the score written and a redirect to the page. Any
other case hands the request, body included, to the application, which checks everything again and
answers as it always did: no login or another kind of session, a refused check or value, a stale
version, anything unexpected before the write. A save the lane tried and saw refused is not tried
again: the view shows that refusal (REFUSAL). An error once the write began is answered by the lane,
as the application answers errors. So the lane can accept nothing the view would refuse
(tests/judging/test_submit_lane.py runs each case through both). Config SUBMIT_LANE turns it off.
"""
from __future__ import annotations

import io
import re
from typing import NamedTuple

from flask import Flask, redirect, request, session, url_for
from flask_wtf.csrf import CSRFError

from ..errors import DomainError
from ..extensions import db, limiter, login_manager
from ..pagecache import begin_autocommit_request, refuse_session_writes
from ..urls import record_id

PATH = re.compile(r"/judging/assignments/([0-9]{1,10})")
ENDPOINT = "judging.score_entry"
REFUSAL = "incubator.submit_lane.refusal"  # (WSGI environ keys: the save's refusal, for the view;
WRITING = "incubator.submit_lane.writing"  # and that the lane is writing, after which it answers itself)
MAX_BODY = 256 * 1024  # two 5,000-character texts percent-encoded are under 100 KiB; larger goes to the app


class Judge(NamedTuple):
    """Who is scoring: all that scoring_target and save_score read of the judge is the id."""
    id: int


def wrap(app: Flask, wsgi_app):
    """The WSGI application serving the lane's requests and passing every other one to `wsgi_app`."""
    def lane_or_app(environ, start_response):
        if (environ.get("REQUEST_METHOD") == "POST"
                and environ.get("CONTENT_TYPE", "").startswith("application/x-www-form-urlencoded")
                and "werkzeug.debug.preserve_context" not in environ):  # (a test client kept open: the app)
            match = PATH.fullmatch(environ.get("PATH_INFO", ""))
            if match:
                response = serve(app, environ)
                if response is not None:
                    return response(environ, start_response)
        return wsgi_app(environ, start_response)

    return lane_or_app


def serve(app: Flask, environ) -> object | None:
    """The lane's response, or None (nothing written) with the request's body put back for the app."""
    try:
        length = int(environ.get("CONTENT_LENGTH") or "")
    except ValueError:
        return None
    if not 0 < length <= min(MAX_BODY, app.config.get("MAX_CONTENT_LENGTH") or MAX_BODY):
        return None  # (over the app's own limit: its 413, without the lane reading the body first)
    body = environ["wsgi.input"].read(length)
    environ["wsgi.input"] = io.BytesIO(body)
    try:
        with app.request_context(environ):
            response = _submit(app)
    except Exception:
        if environ.get(WRITING):  # (only where the app propagates errors: tests)
            raise
        # Nothing was written: the application serves the request and answers the error itself.
        app.logger.warning("submit lane: passed to the application after an error", exc_info=True)
        response = None
    if response is None:
        environ["wsgi.input"] = io.BytesIO(body)
    return response


def _submit(app: Flask):
    if request.routing_exception is not None or request.endpoint != ENDPOINT:
        return None
    token = session.get("_user_id")
    # A login kept by the remember-me cookie, or a session from another address or browser (which
    # Flask-Login marks not fresh): the application's own user loading.
    if not token or "_remember" in session or session.get("_id") != login_manager._session_identifier_generator():
        return None
    try:
        for hook in _before_request_hooks(app):
            if hook() is not None:  # a hook answered (a NUL character refused)
                return None
    except CSRFError:
        return None
    version = record_id(request.form.get("version", "0"))
    if version is None:
        return None
    if db.engine.dialect.name != "postgresql":
        return _score(app, token, version, None)
    # PostgreSQL: both statements on one autocommit connection of the pool, run through driver_sql.
    refuse_session_writes()
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        dbapi_connection = conn.connection.driver_connection
        try:
            return _score(app, token, version, dbapi_connection)
        finally:
            if dbapi_connection.closed or dbapi_connection.broken:  # not back into the pool
                conn.invalidate()


def _score(app: Flask, token: str, version: int, dbapi_connection):
    """The save and the redirect, or None; the statements run on `dbapi_connection` (PostgreSQL)
    or on the session's connection (SQLite)."""
    from . import services

    target = services.scoring_target_of_login(token, request.view_args["assignment_id"], dbapi_connection)
    if target is None:
        return None
    fields = services.scoring_form(target, request.form)
    request.environ[WRITING] = True  # from here on, a write may have committed (PostgreSQL: autocommit)
    try:
        services.save_score(Judge(target.judge_id), target, version=version, dbapi_connection=dbapi_connection,
                            **fields)
        if dbapi_connection is None:
            db.session.commit()  # (on PostgreSQL the write committed alone)
    except DomainError as refusal:
        # Refused (a value, a stale version, a rubric changed meanwhile), nothing written: the view
        # checks again and shows this refusal without saving again, since a second try could pass
        # where this one was rightly refused (the rubric changed after the judge's page was built).
        db.session.rollback()
        request.environ[REFUSAL] = refusal
        del request.environ[WRITING]
        return None
    except Exception as exc:  # the lane answers: the error page, as the view's request would
        db.session.rollback()
        return app.handle_exception(exc)  # (raises again where the app propagates errors: tests)
    try:
        return app.process_response(redirect(url_for(
            ENDPOINT, assignment_id=target.assignment_id, saved="submitted" if fields["submit"] else "draft")))
    except Exception as exc:
        return app.handle_exception(exc)


def _before_request_hooks(app: Flask) -> list:
    """The app's before_request hooks, in order, but the rate limiter's (no limit applies to the
    scoring form: register() keeps the lane off if one ever does) and the one putting the session's
    connection in autocommit (the lane takes its own connection)."""
    return [hook for hook in app.before_request_funcs.get(None, ())
            if getattr(hook, "__self__", None) is not limiter
            and getattr(hook, "func", None) is not begin_autocommit_request]


def register(app: Flask) -> None:
    """Put the lane in front of the application's WSGI callable (inside any proxy fix-up), unless
    config SUBMIT_LANE is off or a rate limit may apply to the scoring form."""
    if app.config.get("SUBMIT_LANE", True) and not _rate_limited(app):
        app.wsgi_app = wrap(app, app.wsgi_app)


def _rate_limited(app: Flask) -> bool:
    """Whether any rate limit could apply to the scoring form: then the lane, which skips the
    limiter, stays off. (Flask-Limiter keeps its decorated views and hints in attributes of its
    own; if they are ever not there, the answer is yes.)"""
    from flask_limiter.util import get_qualified_name

    view = app.view_functions[ENDPOINT]
    try:
        marked = get_qualified_name(view) in limiter._marked_for_limiting
        hinted = limiter.limit_manager.has_hints(ENDPOINT)
    except AttributeError:
        return True
    return bool(marked or hinted or app.config.get("RATELIMIT_DEFAULT") or app.config.get("RATELIMIT_APPLICATION")
                or limiter.limit_manager._default_limits or limiter.limit_manager._application_limits)
