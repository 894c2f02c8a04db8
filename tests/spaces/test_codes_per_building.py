"""A space's code is unique in its building, not across buildings: every building may have its own
3F-A-001, and every code a person types is looked up in the building in question."""
from __future__ import annotations

import io
from datetime import timedelta

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from incubator.spaces import services
from incubator.spaces.models import Lease, Space

from tests.conftest import csrf_from, post_form
from tests.spaces.conftest import build_floor, lease_two_desks


def _space(db, building_name: str, code: str) -> Space:
    from incubator.spaces.models import Building

    return db.session.scalar(sa.select(Space).join(Building, Building.id == Space.building_id)
                             .where(Building.name == building_name, Space.code == code))


def test_two_buildings_may_have_the_same_codes_one_building_may_not(db, world):
    floor, spaces = build_floor(db, building_name="二号楼")  # the same 3F-A-001 … as the world's 青创城
    assert [s.code for s in spaces] == [s.code for s in world.spaces]
    assert all(s.building_id == floor.building_id != world.floor.building_id for s in spaces)
    zone_id = spaces[0].zone_id
    db.session.add(Space(code="3F-A-001", floor_id=floor.id, zone_id=zone_id, type="desk_hot", capacity=1,
                         features=[], x=1500, y=900, w=50, h=50))
    with pytest.raises(IntegrityError):  # twice in one building
        db.session.flush()
    db.session.rollback()
    # A space is always in its floor's building: the database refuses another one.
    db.session.add(Space(code="3F-A-777", floor_id=floor.id, building_id=world.floor.building_id, zone_id=zone_id,
                         type="desk_hot", capacity=1, features=[], x=1500, y=900, w=50, h=50))
    with pytest.raises(IntegrityError):
        db.session.flush()
    db.session.rollback()


def _upload(client, floor_id, content: bytes):
    url = f"/spaces/floors/{floor_id}/import"
    return client.post(url, data={"csrf_token": csrf_from(client, url), "file": (io.BytesIO(content), "layout.csv")},
                       content_type="multipart/form-data")


def test_layout_import_takes_codes_another_building_uses(client, db, world, login_as):
    from incubator.spaces.models import Building, Floor

    building = Building(name="二号楼", address="")
    db.session.add(building)
    db.session.flush()
    floor = Floor(building_id=building.id, number=3, name="3F", plan_width=2000, plan_height=1200)
    db.session.add(floor)
    db.session.commit()
    floor_id = floor.id
    first = world.spaces[0]
    login_as(world.manager)
    response = _upload(client, floor_id, ("code,floor,zone,type,capacity,x,y,width,height,features\n"
                                          f"{first.code},3,A,desk_hot,1,0,0,100,80,power\n"
                                          "3F-A-002,3,A,desk_hot,1,120,0,100,80,\n").encode())
    assert response.status_code == 302, response.get_data(as_text=True)
    db.session.expire_all()
    theirs = _space(db, "二号楼", first.code)
    assert theirs is not None and theirs.floor_id == floor_id and (theirs.x, theirs.type) == (0, "desk_hot")
    ours = db.session.get(Space, first.id)  # 青创城's desk of the same code is left as it was
    assert (ours.floor_id, ours.x, ours.type) == (world.floor.id, first.x, "desk_fixed")
    # Importing the same file again updates 二号楼's spaces, never 青创城's.
    assert _upload(client, floor_id, ("code,floor,zone,type,capacity,x,y,width,height,features\n"
                                      f"{first.code},3,A,desk_fixed,1,0,0,100,80,\n").encode()).status_code == 302
    db.session.expire_all()
    assert _space(db, "二号楼", first.code).type == "desk_fixed" and db.session.get(Space, first.id).x == first.x
    # Within one building a code stays on its floor: 青创城's 3F renumbered 4F keeps its 3F-A-001, so a
    # new 3F of 青创城 cannot take that code.
    services.update_floor(world.manager, world.floor, 4, "4F", 2000, 1200)
    new_floor = Floor(building_id=world.floor.building_id, number=3, name="3F", plan_width=2000, plan_height=1200)
    db.session.add(new_floor)
    db.session.commit()
    response = _upload(client, new_floor.id, ("code,floor,zone,type,capacity,x,y,width,height,features\n"
                                              f"{first.code},3,A,desk_hot,1,0,0,100,80,\n").encode())
    assert response.status_code == 400
    assert f"编号 {first.code} 已属于本楼宇另一楼层（4F）的空间" in response.get_data(as_text=True)


def test_move_by_code_looks_in_the_leases_building_and_names_ambiguous_codes(client, db, world, login_as):
    build_floor(db, zones="BC", building_name="二号楼")  # 3F-B-… as 青创城 has, and 3F-C-…
    build_floor(db, zones="C", building_name="三号楼")  # 3F-C-… as 二号楼 has, not 青创城
    today = services.local_today()
    _, _, first_id, second_id = lease_two_desks(db, world, today, 90)
    login_as(world.manager)
    url = f"/spaces/teams/{world.team.id}"
    on = today + timedelta(days=10)
    # 3F-B-001 is in 青创城 and 二号楼: the lease is in 青创城, so it means 青创城's. Another
    # building's space is named with the building first.
    response = post_form(client, url, {f"new_code-{first_id}": "3f-b-001", f"new_code-{second_id}": "二号楼 3F-B-002",
                                       "on_date": on.isoformat()})
    assert response.status_code == 302
    db.session.expire_all()
    moved_first = db.session.get(Lease, db.session.get(Lease, first_id).moved_to_id)
    moved_second = db.session.get(Lease, db.session.get(Lease, second_id).moved_to_id)
    assert moved_first.space_id == _space(db, "青创城", "3F-B-001").id
    assert moved_second.space_id == _space(db, "二号楼", "3F-B-002").id
    # 3F-C-001 is not in 青创城 but in two other buildings: which one is meant cannot be guessed.
    later = (on + timedelta(days=10)).isoformat()
    page = post_form(client, url, {f"new_code-{moved_first.id}": "3F-C-001", "on_date": later}).get_data(as_text=True)
    assert "编号 3F-C-001 在多栋楼宇中都有（三号楼、二号楼）" in page and "例如“三号楼 3F-C-001”" in page
    page = post_form(client, url, {f"new_code-{moved_first.id}": "四号楼 3F-C-001", "on_date": later}
                     ).get_data(as_text=True)
    assert "名为“四号楼”的楼宇中没有空间 3F-C-001" in page
    db.session.expire_all()
    assert db.session.get(Lease, moved_first.id).moved_to_id is None  # nothing was moved by either
    response = post_form(client, url, {f"new_code-{moved_first.id}": "三号楼 3F-C-001", "on_date": later})
    assert response.status_code == 302
    db.session.expire_all()
    third = db.session.get(Lease, db.session.get(Lease, moved_first.id).moved_to_id)
    assert third.space_id == _space(db, "三号楼", "3F-C-001").id
    # The code of a lease now in 二号楼 means 二号楼's space, though 三号楼 has one too.
    services.move_team(world.manager, world.team, {moved_second.id: "3F-C-002"}, on + timedelta(days=20))
    db.session.commit()
    db.session.expire_all()
    fourth = db.session.get(Lease, db.session.get(Lease, moved_second.id).moved_to_id)
    assert fourth.space_id == _space(db, "二号楼", "3F-C-002").id


def test_allocation_page_names_the_building_of_each_space(client, db, world, login_as):
    build_floor(db, building_name="二号楼")
    login_as(world.manager)
    page = client.get("/spaces/allocate?type=desk_fixed").get_data(as_text=True)
    labels = [line for line in page.splitlines() if 'name="space_ids"' in line and ">3F-A-001 <" in line]
    assert len(labels) == 2 and any("青创城" in line for line in labels) and any("二号楼" in line for line in labels)
