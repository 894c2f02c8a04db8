"""Whole-page cache for heavy pages that many staff open again and again (the managers' application
list, floor plans), shared by every user of the same roles and language, never stale.

How a page stays right:
- The key holds the endpoint, the full path with its query, the language, the user's roles, the
  date in Beijing, any extra the view passes, and the version of each data scope the page shows
  (``DataVersion``, bumped by database triggers in the writing transaction). A change anywhere in
  a scope's tables changes the key; nothing expires by time.
- The versions come in the same query that loads the logged-in user (``version_columns``), so a
  cache hit costs no query of its own.
- What differs per person is left as holes in the stored page and filled per request: the CSRF
  token, the user's name and the unread-notices badge. The markers carry a random per-process
  nonce, so no text a user typed can imitate one.
- A request with flashed messages, or that is not a GET, renders normally and stores nothing.

Each process has its own bounded LRU (gunicorn workers do not share memory); a miss renders the
page as before, then stores it.
"""
from __future__ import annotations

import functools
import re
import secrets
import threading
from collections import OrderedDict
from collections.abc import Callable

from flask import Response, current_app, g, make_response, request, session
from flask_babel import get_locale
from flask_login import current_user
from markupsafe import Markup, escape

from ..extensions import db
from .models import SCOPES, DataVersion

CACHE_SIZE = 64  # pages per process
CACHE_BYTES = 32 * 1024 * 1024  # and their text in all (a 2,000-space floor plan is ~0.6 MB)

_NONCE = secrets.token_hex(8)
HOLE_CSRF = f"\ue000csrf-{_NONCE}\ue001"
HOLE_NAME = f"\ue000name-{_NONCE}\ue001"
HOLE_BADGE = f"\ue000badge-{_NONCE}\ue001"
_HOLES = (HOLE_CSRF, HOLE_NAME, HOLE_BADGE)
_HOLE_RE = re.compile("(" + "|".join(map(re.escape, _HOLES)) + ")")  # the group keeps the holes in split()


# --- versions, loaded with the user -------------------------------------------------------------

def version_columns() -> dict:
    """Scalar subqueries for every scope's version, to ride along the user's query (a missing row
    reads as None: no write has happened since the table was emptied)."""
    return {f"dv_{scope}": db.select(DataVersion.version).where(DataVersion.name == scope).scalar_subquery()
            for scope in SCOPES}


def remember_versions(values: dict) -> None:
    g._data_versions = {key[3:]: value for key, value in values.items() if key.startswith("dv_")}


def current_versions(scopes: tuple[str, ...]) -> tuple:
    """The scopes' versions as the request's first query read them (or read now, if it did not)."""
    known = g.get("_data_versions")
    if known is None or any(s not in known for s in scopes):
        known = {**(known or {}), **dict(zip(scopes, read_versions(scopes)))}
        g._data_versions = known
    return tuple(known[s] for s in scopes)


def read_versions(scopes: tuple[str, ...]) -> tuple:
    """The scopes' versions as of now, in this transaction (after its own writes): for a caller that
    may run after a write of its own request, or outside a request."""
    rows = dict(db.session.execute(db.select(DataVersion.name, DataVersion.version)
                                   .where(DataVersion.name.in_(scopes))).all())
    return tuple(rows.get(s) for s in scopes)


# --- requests without a transaction --------------------------------------------------------------

def read_only(view):
    """Mark a GET view that only reads. On PostgreSQL its request runs without a transaction
    (autocommit): no BEGIN and no ROLLBACK round trips, which on a cache hit are two of the three.
    Under READ COMMITTED every statement sees its own snapshot either way, so reads see the same
    rows; a write attempted in such a request is refused (guard_writes)."""
    view.autocommit_writes = {"GET": 0, "HEAD": 0}
    return view


def one_statement_post(view):
    """Mark a view whose POST writes with exactly one statement, atomic by itself (the judges' score
    submit: the score and its audit row in one data-modifying WITH statement). On PostgreSQL that
    request runs in autocommit too: no BEGIN and no COMMIT round trips, the statement commits alone.
    A second write statement in such a request is refused before it runs, since it would commit
    separately (guard_writes); so is any write in a GET of the view."""
    view.autocommit_writes = {"GET": 0, "HEAD": 0, "POST": 1}
    return view


def register(app) -> None:
    """The request hooks of requests without a transaction and of the cache's per-request state."""
    app.before_request(functools.partial(begin_autocommit_request, app))
    with app.app_context():
        if db.engine.dialect.name == "postgresql":
            from sqlalchemy import event

            event.listen(db.engine, "before_cursor_execute", guard_writes)

    @app.teardown_request
    def forget_request_state(_exc):
        # A test client without its own app context shares `g` across requests; a server never does.
        for name in ("_writes_allowed", "_data_versions", "_pagecache_shell"):
            g.pop(name, None)


def begin_autocommit_request(app) -> None:
    """before_request: a marked view's request takes its connection in autocommit."""
    view = app.view_functions.get(request.endpoint)
    allowed = getattr(view, "autocommit_writes", {}).get(request.method)
    if allowed is not None and db.engine.dialect.name == "postgresql" and not db.session().in_transaction():
        # (a session already in a transaction: a test sharing one app context across requests)
        db.session.connection(execution_options={"isolation_level": "AUTOCOMMIT"})
        g._writes_allowed = allowed


def refuse_session_writes() -> None:
    """From now on in this request, guard_writes refuses every write through SQLAlchemy (PostgreSQL):
    for the judges' submit lane, whose one write runs on its own connection (driver_sql), so that a
    write through the session, which would never commit, fails instead of vanishing."""
    g._writes_allowed = 0


_WRITE = re.compile(r"\s*(INSERT|UPDATE|DELETE|MERGE|CREATE|DROP|ALTER|TRUNCATE)\b", re.IGNORECASE)
_WITH = re.compile(r"\s*WITH\b", re.IGNORECASE)
_DML = re.compile(r"\b(INSERT|UPDATE|DELETE|MERGE)\b", re.IGNORECASE)


def is_write(statement: str) -> bool:
    """A statement that writes: one that starts with a write, or a WITH statement holding one
    (erring on the safe side: a read CTE with SELECT .. FOR UPDATE counts too)."""
    return bool(_WRITE.match(statement) or (_WITH.match(statement) and _DML.search(statement)))


def guard_writes(_conn, _cursor, statement, *_args) -> None:
    """before_cursor_execute: in an autocommit request each write commits at once, alone; refuse any
    beyond the number the view was marked with."""
    from flask import has_request_context

    if not has_request_context():
        return
    allowed = g.get("_writes_allowed")
    if allowed is not None and is_write(statement):
        if allowed <= 0:
            raise RuntimeError(f"write beyond the one-statement budget of {request.endpoint}: {statement[:80]}")
        g._writes_allowed = allowed - 1


# --- what the base layout shows per person ------------------------------------------------------

def in_shell() -> bool:
    """True while a page is rendered for the cache: the layout then writes holes, not values."""
    return bool(g.get("_pagecache_shell"))


def unread_badge(count: int) -> Markup:
    if not count:
        return Markup("")
    return Markup(' <span class="badge rounded-pill text-bg-warning" id="unread-count">{}</span>').format(count)


def nav_values(user, unread: int) -> dict:
    """The navigation's per-person values for the layout (holes while rendering a shell)."""
    if in_shell():
        return {"nav_user_name": Markup(HOLE_NAME), "nav_unread_badge": Markup(HOLE_BADGE)}
    return {"nav_user_name": user.name if user is not None else "", "nav_unread_badge": unread_badge(unread)}


# --- the cache ----------------------------------------------------------------------------------

class _Shell:
    """A stored page: UTF-8 text parts and hole markers in order, and (made on the first request
    that accepts gzip) the same parts deflated one by one for compression.splice_gzip."""

    __slots__ = ("parts", "deflated", "size")

    def __init__(self, parts: tuple):
        self.parts = parts
        self.deflated = None
        self.size = sum(len(p) for p in parts if isinstance(p, bytes))


def _store() -> tuple[OrderedDict, threading.Lock]:
    # Per app: a new app (each test app) never sees pages of a database it did not read.
    return current_app.extensions.setdefault("pagecache", (OrderedDict(), threading.Lock()))


def _split(html: str) -> tuple:
    """The page as (text, hole, text, hole, ..., text), the text parts encoded once."""
    return tuple(p if p in _HOLES else p.encode("utf-8") for p in _HOLE_RE.split(html))


class _HoleValues(dict):
    """This request's text for each hole, worked out on first use (a page without the badge never
    counts notices)."""

    def __missing__(self, hole: str) -> bytes:
        from flask_wtf.csrf import generate_csrf

        from ..notifications.services import unread_count

        user = current_user._get_current_object()
        if hole == HOLE_CSRF:
            value = generate_csrf()
        elif hole == HOLE_NAME:
            value = str(escape(user.name))
        else:
            value = str(unread_badge(unread_count(user)))
        self[hole] = value.encode("utf-8")
        return self[hole]


def _respond(shell: _Shell, *, gzip: bool) -> Response:
    from ..compression import DeflatedPart, splice_gzip

    values = _HoleValues()
    if gzip and request.accept_encodings.quality("gzip") > 0:
        if shell.deflated is None:  # two threads may both build it: the same bytes either way
            shell.deflated = tuple(DeflatedPart(p) if isinstance(p, bytes) else p for p in shell.parts)
        body = splice_gzip([values[p] if isinstance(p, str) else p for p in shell.deflated])
        response = Response(body, mimetype="text/html")
        response.headers["Content-Encoding"] = "gzip"
    else:
        response = Response(b"".join(values[p] if isinstance(p, str) else p for p in shell.parts),
                            mimetype="text/html")
    if gzip:
        response.vary.add("Accept-Encoding")
    return response


def cached_page(scopes: tuple[str, ...], render: Callable[[], str], *, extra: tuple = (),
                gzip: bool = False) -> Response:
    """The page `render()` would return for this request, from the cache when its key is known.

    gzip=True answers clients that accept it with a compressed body, without compressing the page
    per request (compression.splice_gzip). It is safe from BREACH even on a page that echoes a
    query: the CSRF token is never compressed, it travels in a stored block of its own, outside
    any text a match could refer to."""
    if request.method != "GET" or session.get("_flashes") or not current_user.is_authenticated \
            or not current_app.config.get("PAGE_CACHE", True):
        return make_response(render())
    from ..timeutils import local_today

    key = (request.endpoint, request.full_path, str(get_locale()), frozenset(current_user.roles),
           local_today(), current_versions(scopes), extra)
    cache, lock = _store()
    with lock:
        shell = cache.get(key)
        if shell is not None:
            cache.move_to_end(key)
    if shell is None:
        parts, storable = _render_shell(render)
        shell = _Shell(parts)
        if not storable:  # the page came out with a message of this request only
            return _respond(shell, gzip=False)
        with lock:
            cache[key] = shell
            total = sum(entry.size for entry in cache.values())
            while len(cache) > CACHE_SIZE or (total > CACHE_BYTES and len(cache) > 1):
                _, dropped = cache.popitem(last=False)
                total -= dropped.size
    return _respond(shell, gzip=gzip)


def _render_shell(render: Callable[[], str]) -> tuple[tuple, bool]:
    """The page with holes, and whether it may be stored (not when the view flashed a message)."""
    from flask.globals import request_ctx

    g._pagecache_shell = True
    try:
        html = render()
    finally:
        g._pagecache_shell = False
    token = g.get("csrf_token")  # Flask-WTF keeps the request's signed token here once generated
    if token:
        html = html.replace(token, HOLE_CSRF)
    shown_messages = bool(request_ctx.flashes) or "_flashes" in session  # read by the layout, or still pending
    return _split(html), not shown_messages
