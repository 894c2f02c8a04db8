"""The competition open for applications and its founder, for the application flow's tests."""
from __future__ import annotations

import pytest

from incubator.enums import Role

from .helpers import open_competition


@pytest.fixture
def comp(db):
    return open_competition(db)


@pytest.fixture
def founder(make_user):
    return make_user(Role.FOUNDER, email="zhou@example.cn", name="周子涵")
