"""The access matrix for the spaces routes alone (the platform matrix covers every feature)."""
from __future__ import annotations

import pytest

from incubator.enums import Role
from tests.conftest import login
from tests.test_access_matrix import _routes


def _spaces_routes(app):
    return [r for r in _routes(app) if r[0].startswith("spaces.")]


def test_spaces_routes_require_login(app, client):
    routes = _spaces_routes(app)
    assert len(routes) > 20
    for endpoint, method, url, roles in routes:
        assert roles, endpoint  # every spaces view declares its roles
        response = client.open(url, method=method)
        assert response.status_code in (302, 400), (endpoint, response.status_code)
        if response.status_code == 302:
            assert "/login" in response.headers["Location"], endpoint


@pytest.mark.parametrize("role", list(Role))
def test_spaces_routes_refuse_other_roles(app, client, make_user, role):
    login(client, make_user(role))
    for endpoint, method, url, roles in _spaces_routes(app):
        if role in roles:
            continue
        response = client.open(url, method=method)
        assert response.status_code in ((403,) if method == "GET" else (400, 403)), (endpoint, response.status_code)


def test_unknown_objects_are_404_for_managers(client, make_user):
    login(client, make_user(Role.MANAGER))
    for url in ("/spaces/floors/999999/plan", "/spaces/floors/999999/import", "/spaces/space/999999",
                "/spaces/leases/999999", "/spaces/teams/999999", "/spaces/floors/999999/layout.csv",
                "/spaces/export/nothing.csv"):
        assert client.get(url).status_code == 404, url
