import pytest


@pytest.fixture(autouse=True)
def fresh_request_globals(app):
    """Work-around for a shared-fixture problem (reported to the integrator): the `app` fixture keeps
    one app context pushed for the whole test, so every request shares one flask.g. Flask-WTF's token
    cached in g.csrf_token then outlives the session.clear() done at login (every POST after a login
    fails with "CSRF session token is missing"), and Flask-Login's g._login_user makes a second test
    client look logged in as the first one. Dropping both per request restores the behaviour of a
    real server, where each request has its own g."""
    from flask import g

    def _drop_request_cache():
        g.pop("csrf_token", None)
        g.pop("_login_user", None)

    app.before_request_funcs.setdefault(None, []).insert(0, _drop_request_cache)
    yield
