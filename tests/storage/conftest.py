"""Fixtures for the storage tests."""
from __future__ import annotations

import pytest


@pytest.fixture
def storage(app):
    from incubator.storage import get_storage

    return get_storage()


@pytest.fixture
def in_request(app):
    """Domain errors render their translated message when raised, which needs a request."""
    with app.test_request_context("/"):
        yield
