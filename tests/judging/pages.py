"""Driving the judging pages as a signed-in person: a client per user, and POSTs that carry the
CSRF token of a page that person can open."""
from __future__ import annotations

from tests.conftest import csrf_from, login


def client_for(app, user):
    c = app.test_client()
    login(c, user)
    return c


def mpost(c, url, data=None):
    """POST as a manager (the token from the judging overview)."""
    return c.post(url, data={**(data or {}), "csrf_token": csrf_from(c, "/manage/judging/")})


def jpost(c, url, data=None):
    """POST as a judge (the token from the judge's queue)."""
    return c.post(url, data={**(data or {}), "csrf_token": csrf_from(c, "/judging/")})
