"""Demo data for the spaces feature: 3F of 中国南湖·青创城 with zones A/B/C (60 desks, 4 offices),
three admitted demo teams, a few leases (one ending within 30 days) and a waiting request.

Call `incubator.spaces.demo.seed()` after the core demo users exist (incubator/demo.py: seed()).
Idempotent: does nothing when the building exists already. Flushes; the caller commits."""
from __future__ import annotations

from datetime import timedelta

from ..extensions import db
from ..timeutils import local_today

BUILDING = "中国南湖·青创城"
TEAMS = [  # (founder email, team name)
    ("founder.zhou@qcc.demo", "南湖智芯微电子"),
    ("founder.xu@qcc.demo", "禾源生物科技"),
    ("founder.he@qcc.demo", "青锋智能装备"),
]


def build_floor(building, number: int = 3):
    from .models import Floor, Space, Zone

    floor = Floor(building=building, number=number, name=f"{number}F", plan_width=2400, plan_height=1400)
    db.session.add(floor)
    spaces = []
    for zi, code in enumerate("ABC"):
        zone = Zone(floor=floor, code=code, name={"A": "A区 · 靠窗", "B": "B区 · 开放办公", "C": "C区 · 办公室"}[code])
        db.session.add(zone)
        db.session.flush()
        ox = 60 + zi * 780
        for n in range(20):
            col, row = n % 5, n // 5
            features = ["power"] + (["window"] if row == 0 else []) + (["monitor"] if code == "A" else [])
            spaces.append(Space(code=f"{number}F-{code}-{n + 1:03d}", floor_id=floor.id, zone_id=zone.id,
                                type="desk_hot" if code == "B" else "desk_fixed", capacity=1, features=features,
                                x=ox + col * 140, y=80 + row * 110, w=120, h=90))
        if code == "C":
            for k in range(4):
                spaces.append(Space(code=f"{number}F-C-{901 + k:03d}", floor_id=floor.id, zone_id=zone.id, type="office",
                                    capacity=(4, 6, 6, 8)[k], features=["window", "power"],
                                    x=ox + (k % 2) * 360, y=580 + (k // 2) * 300, w=340, h=280))
    db.session.add_all(spaces)
    db.session.flush()
    return floor, spaces


def seed() -> bool:
    from ..accounts.models import User
    from ..applications.models import Team
    from . import services
    from .models import Building, Space

    if db.session.scalar(db.select(Building).where(Building.name == BUILDING)) is not None:
        return False
    manager = db.session.scalar(db.select(User).where(User.email == "manager@qcc.demo"))
    building = Building(name=BUILDING, address="浙江省嘉兴市南湖区")
    db.session.add(building)
    floor, spaces = build_floor(building)
    teams = []
    for email, name in TEAMS:
        founder = db.session.scalar(db.select(User).where(User.email == email))
        if founder is None:
            continue
        team = db.session.scalar(db.select(Team).where(Team.created_by_id == founder.id).order_by(Team.id).limit(1))
        if team is None:
            team = Team(name=name, created_by_id=founder.id)
            db.session.add(team)
            db.session.flush()
        teams.append(team)
    by_code = {s.code: s for s in spaces}
    today = local_today()
    for rank, team in enumerate(teams, start=1):
        services.admit_team(manager, team, "演示数据", award_level_rank=rank)
    if len(teams) >= 1:
        services.allocate(manager, teams[0], [by_code[f"3F-A-{n:03d}"].id for n in (1, 2, 6, 7)],
                          services.add_months(today, -2), services.add_months(today, 10))
    if len(teams) >= 2:
        services.allocate(manager, teams[1], [by_code["3F-C-901"].id], services.add_months(today, -11),
                          today + timedelta(days=20))
    if len(teams) >= 3:
        services.create_request(teams[2].created_by, teams[2], seats=6, space_type="desk_hot",
                                start_date=today + timedelta(days=14), duration_months=12,
                                preferred_zone_id=by_code["3F-B-001"].zone_id, note="希望靠近会议室")
    services.put_out_of_service(manager, by_code["3F-B-020"], today, today + timedelta(days=10), "更换电源插座")
    db.session.flush()
    assert db.session.scalar(db.select(db.func.count()).select_from(Space)) >= 64
    return True
