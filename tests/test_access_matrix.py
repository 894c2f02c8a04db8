"""Every route is checked for every role: anonymous people are sent to log in, people without the
role get 403. New routes join the matrix automatically through their roles_required marker."""
from __future__ import annotations

import pytest

from incubator.enums import Role
from tests.conftest import login

PUBLIC_ENDPOINTS = {"static", "home.index", "home.healthz", "home.set_language", "accounts.register",
                    "accounts.login", "accounts.forgot_password", "accounts.reset_password",
                    "accounts.accept_invitation",
                    # the hall's big screen: a signed link, no login (tests/judging: test_the_halls_screen_link...)
                    "judging.screen", "judging.screen_json"}


def _routes(app):
    for rule in app.url_map.iter_rules():
        if rule.endpoint in PUBLIC_ENDPOINTS or rule.endpoint.startswith("test_"):
            continue
        view = app.view_functions[rule.endpoint]
        roles = getattr(view, "required_roles", None)
        method = "GET" if "GET" in rule.methods else "POST"
        yield rule.endpoint, method, _sample_url(app, rule), roles


def _sample_url(app, rule) -> str:
    """A URL for the rule with ids of objects that do not exist: the role check must come first."""
    from werkzeug.routing import AnyConverter, IntegerConverter

    values = {}
    for arg in rule.arguments:
        converter = rule._converters.get(arg)
        if isinstance(converter, IntegerConverter):
            values[arg] = 999999
        elif isinstance(converter, AnyConverter):
            values[arg] = sorted(converter.items)[0]
        else:
            values[arg] = "x"
    return app.url_map.bind("localhost").build(rule.endpoint, values, method=next(iter(rule.methods - {"HEAD", "OPTIONS"})))


def test_every_non_public_route_requires_login(app, client):
    for endpoint, method, url, _roles in _routes(app):
        response = client.open(url, method=method)
        assert response.status_code in (302, 400, 401), (endpoint, response.status_code)
        if response.status_code == 302:
            assert "/login" in response.headers["Location"], endpoint


@pytest.mark.parametrize("role", list(Role))
def test_role_protected_routes_refuse_other_roles(app, client, make_user, role):
    login(client, make_user(role))
    checked = 0
    for endpoint, method, url, roles in _routes(app):
        if roles is None or role in roles:
            continue
        response = client.open(url, method=method)
        # POST routes without a CSRF token may stop at 400 before the role check; both refuse.
        assert response.status_code in ((403,) if method == "GET" else (400, 403)), (endpoint, response.status_code)
        checked += 1
    assert checked > 0


def test_every_route_is_public_or_protected(app):
    """A view without roles_required or login_required would be public by accident."""
    unprotected = []
    for endpoint, _method, _url, roles in _routes(app):
        view = app.view_functions[endpoint]
        if roles is None and not _is_login_required(view):
            unprotected.append(endpoint)
    assert unprotected == []


def _is_login_required(view) -> bool:
    code = getattr(view, "__code__", None)
    wrapped = getattr(view, "__wrapped__", None)
    # flask_login.login_required wraps with functools.wraps: the wrapper's code is decorated_view.
    return (code is not None and code.co_name == "decorated_view") or (wrapped is not None and _is_login_required(wrapped))
