"""Fixtures for the spaces tests: a small floor, admitted teams, a manager."""
from __future__ import annotations

from dataclasses import dataclass

import pytest

from incubator.enums import Role


@dataclass
class World:
    manager: object
    founder: object
    team: object
    other_founder: object
    other_team: object
    floor: object
    spaces: list


def build_floor(db, *, desks_per_zone: int = 8, zones: str = "AB", offices: int = 1, building_name: str = "青创城"):
    from incubator.spaces.models import Building, Floor, Space, Zone

    building = db.session.scalar(db.select(Building).where(Building.name == building_name))
    if building is None:
        building = Building(name=building_name, address="嘉兴市南湖区")
        db.session.add(building)
    floor = Floor(building=building, number=3, name="3F", plan_width=2000, plan_height=1200)
    db.session.add(floor)
    spaces = []
    for zi, code in enumerate(zones):
        zone = Zone(floor=floor, code=code, name=f"{code}区")
        db.session.add(zone)
        db.session.flush()
        for n in range(desks_per_zone):
            spaces.append(Space(code=f"3F-{code}-{n + 1:03d}", floor_id=floor.id, zone_id=zone.id, type="desk_fixed",
                                capacity=1, features=["power"], x=100 + zi * 700 + (n % 4) * 120,
                                y=100 + (n // 4) * 100, w=110, h=90))
        for n in range(offices):
            spaces.append(Space(code=f"3F-{code}-{900 + n:03d}", floor_id=floor.id, zone_id=zone.id, type="office",
                                capacity=4, features=["window"], x=100 + zi * 700, y=700 + n * 220, w=400, h=200))
    db.session.add_all(spaces)
    db.session.commit()
    return floor, spaces


def make_team(db, user, name):
    from incubator.applications.models import Team

    team = Team(name=name, created_by_id=user.id)
    db.session.add(team)
    db.session.commit()
    return team


@pytest.fixture
def world(db, make_user):
    from incubator.spaces.services import admit_team

    manager = make_user(Role.MANAGER, email="manager@example.cn", name="园区经理")
    founder = make_user(Role.FOUNDER, email="founder@example.cn", name="创业者甲")
    other = make_user(Role.FOUNDER, email="other@example.cn", name="创业者乙")
    team = make_team(db, founder, "南湖智能")
    other_team = make_team(db, other, "微电子<小队>")
    admit_team(manager, team, "direct")
    admit_team(manager, other_team, "direct", award_level_rank=1)
    floor, spaces = build_floor(db)
    db.session.commit()
    return World(manager, founder, team, other, other_team, floor, spaces)


@pytest.fixture
def new_team(db, make_user):
    def factory(name: str, *, admitted_by=None, award_level_rank=None):
        from incubator.spaces.services import admit_team

        team = make_team(db, make_user(), name)
        if admitted_by is not None:
            admit_team(admitted_by, team, award_level_rank=award_level_rank)
            db.session.commit()
        return team

    return factory


def lease_two_desks(db, world, start, days: int):
    """world.team leases the world's first two desks from `start` for `days` (committed): the desks,
    and the ids of their leases in the same order."""
    from datetime import timedelta

    from incubator.spaces import services

    d1, d2 = world.spaces[:2]
    first, second = sorted(services.allocate(world.manager, world.team, [d1.id, d2.id], start,
                                             start + timedelta(days=days)), key=lambda lease: lease.space_id)
    db.session.commit()
    return d1, d2, first.id, second.id
