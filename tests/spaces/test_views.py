"""Spaces pages through the app: layout import all-or-nothing, access, fixed query counts."""
from __future__ import annotations

import gzip
import io
from datetime import timedelta

import sqlalchemy as sa
from markupsafe import escape

from incubator.spaces import services
from incubator.spaces.models import Lease, Space

from tests.conftest import csrf_from, login, post_form
from tests.spaces.conftest import lease_two_desks

GOOD_CSV = ("code,floor,zone,type,capacity,x,y,width,height,features\n"
            "3F-C-001,3,C,desk_hot,1,1600,0,100,80,power\n"
            "3F-C-002,3,C,desk_hot,1,1720,0,100,80,window;power\n"
            "3F-C-010,3,C,office,6,1600,200,300,200,window\n")


def _upload(client, floor_id, content: bytes, name="layout.csv"):
    url = f"/spaces/floors/{floor_id}/import"
    token = csrf_from(client, url)
    return client.post(url, data={"csrf_token": token, "file": (io.BytesIO(content), name)},
                       content_type="multipart/form-data")


def _space_count(db):
    db.session.expire_all()
    return db.session.scalar(sa.select(sa.func.count()).select_from(Space))


def test_layout_import_with_bad_rows_changes_nothing_and_names_each_line(client, db, world, login_as):
    login_as(world.manager)
    before = _space_count(db)
    bad = GOOD_CSV + ("3F-C-003,3,C,desk_hot,2,1840,0,100,80,\n"       # line 5: desk with 2 seats
                      "3F-C-004,3,C,sofa,1,1960,0,100,80,\n"           # line 6: unknown type
                      "3F-C-005,3,C,desk_hot,1,1600,0,100,80,\n"         # line 7: overlaps 3F-C-001
                      "3F-A-001,3,A,desk_fixed,1,900,900,100,80,\n")  # line 8: code of an existing desk, fine
    response = _upload(client, world.floor.id, bad.encode("utf-8"))
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    for line in (5, 6, 7):
        assert f'data-line="{line}"' in page
    assert 'data-line="8"' not in page and "3F-C-001" in page
    assert "第 5 行" in page  # translated message
    assert _space_count(db) == before


def test_layout_import_of_a_good_file_creates_zone_and_spaces_and_exports_back(client, db, world, login_as):
    login_as(world.manager)
    before = _space_count(db)
    response = _upload(client, world.floor.id, ("\ufeff" + GOOD_CSV).encode("utf-8"))
    assert response.status_code == 302
    assert _space_count(db) == before + 3
    exported = client.get(f"/spaces/floors/{world.floor.id}/layout.csv")
    assert exported.data.startswith("\ufeff".encode("utf-8"))
    text = exported.get_data(as_text=True)
    assert "3F-C-010,3,C,office,6,1600,200,300,200,window" in text
    xlsx = client.get(f"/spaces/floors/{world.floor.id}/layout.xlsx")
    assert xlsx.status_code == 200 and xlsx.data[:2] == b"PK"
    # The XLSX export imports back unchanged (same codes → updated, nothing new).
    response = _upload(client, world.floor.id, xlsx.data, name="layout.xlsx")
    assert response.status_code == 302 and _space_count(db) == before + 3


def test_layout_import_refuses_a_binary_file_with_a_message(client, db, world, login_as):
    login_as(world.manager)
    response = _upload(client, world.floor.id, b"\xff\xfe\x00garbage\x00", name="x.csv")
    assert response.status_code == 400 and 'data-line="1"' in response.get_data(as_text=True)


def test_floor_plan_page_draws_every_space_with_a_fixed_number_of_queries(client, db, world, login_as):
    from tests.sql_statements import recorded_statements

    login_as(world.manager)
    services.allocate(world.manager, world.team, [s.id for s in world.spaces[:3]], services.local_today(),
                      services.local_today() + timedelta(days=200))
    db.session.commit()
    with recorded_statements(db) as small:
        page = client.get(f"/spaces/floors/{world.floor.id}/plan").get_data(as_text=True)
    assert page.count('class="fp-space fp-') == len(world.spaces) and "<title>" in page
    assert 'fp-leased' in page and "南湖智能" in page
    # Twice as many spaces and leases: the same number of queries.
    extra = [Space(code=f"3F-A-{100 + n:03d}", floor_id=world.floor.id, zone_id=world.spaces[0].zone_id, type="desk_hot",
                   capacity=1, features=[], x=2500 + (n % 5) * 60, y=(n // 5) * 60, w=50, h=50) for n in range(30)]
    db.session.add_all(extra)
    db.session.commit()
    services.allocate(world.manager, world.other_team, [s.id for s in extra[:10]], services.local_today(),
                      services.local_today() + timedelta(days=10))
    db.session.commit()
    with recorded_statements(db) as big:
        page = client.get(f"/spaces/floors/{world.floor.id}/plan").get_data(as_text=True)
    assert page.count('class="fp-space fp-') == len(world.spaces) + 30
    assert len(big) == len(small)


def _without_csrf(body: bytes) -> bytes:
    import re

    return re.sub(rb'(name="csrf_token"[^>]*value=")[^"]+"', rb'\1"', body)


def test_floor_plan_page_is_gzipped_only_for_clients_that_ask(client, db, world, login_as):
    login_as(world.manager)
    services.allocate(world.manager, world.team, [s.id for s in world.spaces[:3]], services.local_today(),
                      services.local_today() + timedelta(days=200))
    db.session.commit()
    url = f"/spaces/floors/{world.floor.id}/plan"
    plain = client.get(url)
    assert "Content-Encoding" not in plain.headers and "Accept-Encoding" in plain.headers["Vary"]
    zipped = client.get(url, headers={"Accept-Encoding": "gzip, deflate, br"})
    assert zipped.status_code == 200 and zipped.headers["Content-Encoding"] == "gzip"
    assert "Accept-Encoding" in zipped.headers["Vary"] and zipped.headers["Cache-Control"] == "no-store"
    assert int(zipped.headers["Content-Length"]) == len(zipped.data) < len(plain.data)
    # The same page either way (CSRF tokens carry a timestamp, so they may differ by a second).
    assert _without_csrf(gzip.decompress(zipped.data)) == _without_csrf(plain.data)
    refused = client.get(url, headers={"Accept-Encoding": "gzip;q=0, identity"})
    assert "Content-Encoding" not in refused.headers and _without_csrf(refused.data) == _without_csrf(plain.data)
    # A POST (whose page may echo submitted text next to the CSRF token) is never compressed.
    space_url = f"/spaces/space/{world.spaces[0].id}"
    response = client.post(space_url, data={"csrf_token": csrf_from(client, space_url), "reason": "x" * 200},
                           headers={"Accept-Encoding": "gzip"})
    assert response.status_code == 200 and "x" * 200 in response.get_data(as_text=True)
    assert "Content-Encoding" not in response.headers
    assert client.get(space_url, headers={"Accept-Encoding": "gzip"}).headers["Content-Encoding"] == "gzip"


def test_list_pages_run_a_fixed_number_of_queries(client, db, world, login_as):
    from tests.sql_statements import recorded_statements

    login_as(world.manager)
    today = services.local_today()
    services.allocate(world.manager, world.team, [world.spaces[0].id], today, today + timedelta(days=20))
    db.session.commit()
    counts = {}
    for url in ("/spaces/leases", "/spaces/waitlist", "/spaces/occupancy"):
        with recorded_statements(db) as c:
            assert client.get(url).status_code == 200
        counts[url] = len(c)
    services.allocate(world.manager, world.other_team, [s.id for s in world.spaces[1:8]], today, today + timedelta(days=20))
    for team in (world.team, world.other_team):
        services.create_request(world.founder, team, seats=2, space_type="desk_fixed", start_date=today, duration_months=3)
    db.session.commit()
    for url, n in counts.items():
        with recorded_statements(db) as c:
            assert client.get(url).status_code == 200
        assert len(c) == n, url


def test_founder_sees_only_own_leases_and_no_manager_pages(client, db, world, login_as):
    today = services.local_today()
    (mine,) = services.allocate(world.manager, world.team, [world.spaces[0].id], today, today + timedelta(days=30))
    (theirs,) = services.allocate(world.manager, world.other_team, [world.spaces[1].id], today, today + timedelta(days=30))
    db.session.commit()
    login_as(world.founder)
    assert client.get(f"/spaces/mine/leases/{mine.id}").status_code == 200
    assert client.get(f"/spaces/mine/leases/{theirs.id}").status_code == 404
    assert client.get("/spaces/mine/leases/999999").status_code == 404
    page = client.get("/spaces/mine").get_data(as_text=True)
    assert "3F-A-001" in page and 'fp-mine' in page and world.other_team.name not in page
    for url in ("/spaces/", "/spaces/leases", f"/spaces/leases/{mine.id}", "/spaces/waitlist", "/spaces/allocate",
                "/spaces/occupancy", f"/spaces/floors/{world.floor.id}/plan", f"/spaces/space/{world.spaces[0].id}",
                f"/spaces/teams/{world.team.id}", "/spaces/export/leases.csv"):
        assert client.get(url).status_code == 403, url


def test_founder_request_shows_place_in_queue_and_cancel_is_own_only(client, db, world, login_as):
    today = services.local_today()
    other = services.create_request(world.other_founder, world.other_team, seats=1, space_type="desk_fixed",
                                    start_date=today + timedelta(days=3), duration_months=2)
    db.session.commit()
    login_as(world.founder)
    response = post_form(client, "/spaces/mine/request", {
        "team_id": world.team.id, "seats": 4, "space_type": "desk_fixed", "preferred_zone_id": 0,
        "start_date": (today + timedelta(days=5)).isoformat(), "duration_months": 6, "note": ""})
    assert response.status_code == 302
    page = client.get("/spaces/mine").get_data(as_text=True)
    assert 'data-place="2"' in page  # behind the first-prize team
    token = csrf_from(client, "/spaces/mine")
    assert client.post(f"/spaces/mine/requests/{other.id}/cancel", data={"csrf_token": token}).status_code == 404


def test_allocation_conflict_reaches_the_manager_as_a_message_not_a_500(client, db, world, login_as):
    today = services.local_today()
    services.allocate(world.manager, world.other_team, [world.spaces[0].id], today, today + timedelta(days=30))
    db.session.commit()
    login_as(world.manager)
    response = post_form(client, "/spaces/allocate", {
        "team_id": world.team.id, "start_date": today.isoformat(), "end_date": (today + timedelta(days=10)).isoformat(),
        "space_ids": [world.spaces[0].id]})
    assert response.status_code == 409
    assert "3F-A-001" in response.get_data(as_text=True) and str(escape(world.other_team.name)) in response.get_data(as_text=True)


def test_manager_pages_render(client, db, world, login_as):
    today = services.local_today()
    (lease,) = services.allocate(world.manager, world.team, [world.spaces[0].id], today, today + timedelta(days=20))
    db.session.commit()
    login_as(world.manager)
    for url in ("/spaces/", "/spaces/admissions", f"/spaces/leases/{lease.id}", f"/spaces/teams/{world.team.id}",
                f"/spaces/space/{world.spaces[0].id}", "/spaces/allocate?seats=3&type=desk_fixed",
                "/spaces/export/occupancy.xlsx", "/spaces/export/leases.csv"):
        assert client.get(url).status_code == 200, url
    response = post_form(client, f"/spaces/leases/{lease.id}/renew",
                         {"renew-end_date": (today + timedelta(days=60)).isoformat()}, csrf_page=f"/spaces/leases/{lease.id}")
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(Lease, lease.id).end_date == today + timedelta(days=60)


PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + bytes(200)


def test_plan_image_is_kept_in_s3_checked_by_content_and_shown_to_the_right_people(client, db, world, login_as):
    login_as(world.manager)
    plan = f"/spaces/floors/{world.floor.id}/plan"
    token = csrf_from(client, plan)
    url = f"/spaces/floors/{world.floor.id}/background"
    bad = client.post(url, data={"csrf_token": token, "image": (io.BytesIO(b"<svg onload=alert(1)>"), "x.png")},
                      content_type="multipart/form-data")
    assert bad.status_code == 303
    db.session.expire_all()
    assert db.session.get(type(world.floor), world.floor.id).background_key is None
    ok = client.post(url, data={"csrf_token": token, "image": (io.BytesIO(PNG), "plan.png")},
                     content_type="multipart/form-data")
    assert ok.status_code == 302
    assert f'href="{url}"' in client.get(plan).get_data(as_text=True)  # cache invalidated by the upload
    image = client.get(url)
    assert image.status_code == 200 and image.mimetype == "image/png" and image.data == PNG
    # A founder sees it only while the team has a lease on this floor.
    client.post("/logout", data={"csrf_token": csrf_from(client, "/")})
    login_as(world.founder)
    assert client.get(url).status_code == 404
    today = services.local_today()
    services.allocate(world.manager, world.team, [world.spaces[0].id], today, today + timedelta(days=5))
    assert client.get(url).status_code == 200


def test_plan_image_spans_the_floors_plan_size_with_the_spaces_on_it(client, db, world, login_as):
    """The world's spaces start at (100, 100) and end well inside the 2000 × 1200 plan: the image
    must still cover the plan from its origin, not be squeezed onto the spaces."""
    import re
    import xml.etree.ElementTree as ET

    services.set_floor_background(world.manager, world.floor, "floorplans/test.png")
    db.session.commit()
    login_as(world.manager)
    page = client.get(f"/spaces/floors/{world.floor.id}/plan").get_data(as_text=True)
    root = ET.fromstring(re.search(r'<svg xmlns="http://www.w3.org/2000/svg" class="floorplan".*?</svg>', page,
                                   re.S).group(0))
    ns = "{http://www.w3.org/2000/svg}"
    image = root.find(f"{ns}image")
    assert [float(image.get(k)) for k in ("x", "y", "width", "height")] == [0, 0, 2000, 1200]
    x, y, w, h = map(float, root.get("viewBox").split())
    assert x <= 0 and y <= 0 and x + w >= 2000 and y + h >= 1200
    first = world.spaces[0]
    rect = root.find(f"{ns}g[@class='fp-spaces']/{ns}a[@data-space-id='{first.id}']/{ns}rect")
    assert [float(rect.get(k)) for k in ("x", "y")] == [first.x, first.y] == [100, 100]
    # A new plan size moves the image with it (the cached plan is drawn again).
    services.update_floor(world.manager, world.floor, 3, "3F", 2400, 1500)
    db.session.commit()
    page = client.get(f"/spaces/floors/{world.floor.id}/plan").get_data(as_text=True)
    assert re.search(r'<image class="fp-background" [^>]*x="0" y="0" width="2400" height="1500"', page)


def test_occupancy_over_time_per_floor_and_zone(client, db, world, login_as):
    today = services.local_today()
    services.allocate(world.manager, world.team, [s.id for s in world.spaces[:8]], today - timedelta(days=70),
                      today + timedelta(days=30))
    db.session.commit()
    login_as(world.manager)
    whole = client.get("/spaces/occupancy").get_data(as_text=True)
    # The park: 16 desks and two 4-seat offices (24 seats), 8 desks leased → 33.3 % today and last month.
    assert f"{today.isoformat()}: 33.3%" in whole
    last_month = services.add_months(today.replace(day=1), -1).strftime("%Y-%m")
    assert f"{last_month}: 33.3%" in whole  # the lease began 70 days ago, before the first of last month
    zone_a = world.spaces[0].zone_id
    page = client.get(f"/spaces/occupancy?scope=zone-{zone_a}").get_data(as_text=True)
    # Zone A has 8 desks and a 4-seat office (12 seats); 8 desks leased today → 66.7 %.
    assert f"{today.isoformat()}: 66.7%" in page
    assert client.get("/spaces/occupancy?scope=nonsense").status_code == 200


def test_manager_moves_a_team_by_space_codes(client, db, world, login_as):
    today = services.local_today()
    leases = services.allocate(world.manager, world.team, [s.id for s in world.spaces[:2]], today,
                               today + timedelta(days=60))
    db.session.commit()
    login_as(world.manager)
    url = f"/spaces/teams/{world.team.id}"
    a, b = sorted(leases, key=lambda lease: lease.id)
    response = post_form(client, url, {f"new_code-{a.id}": "3F-B-001", f"new_code-{b.id}": " 3f-b-002 ",
                                       "on_date": (today + timedelta(days=10)).isoformat()})
    assert response.status_code == 302
    db.session.expire_all()
    active = db.session.scalars(sa.select(Lease).where(Lease.status == "active", Lease.start_date > today)).all()
    assert sorted(lease.space.code for lease in active) == ["3F-B-001", "3F-B-002"]


def test_manager_edits_a_building_and_a_floor_and_bad_input_keeps_what_was_saved(client, db, world, login_as):
    from incubator.audit.models import AuditRecord
    from incubator.spaces.models import Building, Floor

    floor = world.floor
    building_id, floor_id = floor.building_id, floor.id
    db.session.add(Building(name="二号楼", address=""))
    db.session.commit()
    login_as(world.manager)
    assert "/spaces/floors/%d/edit" % floor_id in client.get("/spaces/").get_data(as_text=True)
    # Created from the set-up page through the same rules: a taken name or floor number is refused.
    response = post_form(client, "/spaces/buildings", {"b-name": " 二号楼 ", "b-address": ""}, csrf_page="/spaces/",
                         follow_redirects=True)
    assert "已有同名楼宇" in response.get_data(as_text=True)
    floor_fields = {"f-building_id": building_id, "f-number": 3, "f-name": "", "f-plan_width": 2000,
                    "f-plan_height": 1200}
    response = post_form(client, "/spaces/floors", floor_fields, csrf_page="/spaces/", follow_redirects=True)
    assert "该楼层已存在" in response.get_data(as_text=True)
    assert post_form(client, "/spaces/floors", {**floor_fields, "f-number": 4}, csrf_page="/spaces/").status_code == 302
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Floor).where(Floor.building_id == building_id)) == 2

    edit = f"/spaces/buildings/{building_id}/edit"
    response = post_form(client, edit, {"name": "二号楼", "address": "x"})  # another building's name
    assert response.status_code == 409 and "同名" in response.get_data(as_text=True)
    assert post_form(client, edit, {"name": "青创城主楼", "address": "嘉兴市南湖区亚太路"}).status_code == 302

    edit = f"/spaces/floors/{floor_id}/edit"
    # The spaces reach x = 1270 and y = 900: a smaller plan is refused, with the size it needs.
    response = post_form(client, edit, {"number": 3, "name": "", "plan_width": 1000, "plan_height": 1200})
    assert response.status_code == 400 and "1270" in response.get_data(as_text=True)
    assert post_form(client, edit, {"number": 5, "name": "", "plan_width": 1300, "plan_height": 950}).status_code == 302

    db.session.expire_all()
    building, floor = db.session.get(Building, building_id), db.session.get(Floor, floor_id)
    assert (building.name, building.address) == ("青创城主楼", "嘉兴市南湖区亚太路")
    assert (floor.number, floor.label, floor.plan_width, floor.plan_height) == (5, "5F", 1300, 950)
    actions = set(db.session.scalars(sa.select(AuditRecord.action)))
    assert {"spaces.building_updated", "spaces.floor_updated"} <= actions


def test_a_floor_goes_only_if_never_leased_and_a_building_only_when_empty(app, client, db, world, login_as,
                                                                         make_user):
    from incubator.enums import Role
    from incubator.spaces.models import Building, Floor, Zone

    today = services.local_today()
    services.allocate(world.manager, world.team, [world.spaces[0].id], today, today + timedelta(days=10))
    db.session.commit()
    floor_id, building_id = world.floor.id, world.floor.building_id
    spaces_before = _space_count(db)

    founder_client = app.test_client()
    login(founder_client, make_user(Role.FOUNDER, email="f2@example.cn"))
    assert post_form(founder_client, f"/spaces/floors/{floor_id}/delete", {}, csrf_page="/").status_code == 403
    login_as(world.manager)
    assert client.post(f"/spaces/floors/{floor_id}/delete", data={}).status_code == 400  # no CSRF token

    response = post_form(client, f"/spaces/floors/{floor_id}/delete", {}, csrf_page=f"/spaces/floors/{floor_id}/edit",
                         follow_redirects=True)
    assert response.status_code == 200 and _space_count(db) == spaces_before  # leased once: refused, nothing lost
    assert "租约记录须保留" in response.get_data(as_text=True)
    assert db.session.get(Floor, floor_id) is not None
    response = post_form(client, f"/spaces/buildings/{building_id}/delete", {},
                         csrf_page=f"/spaces/buildings/{building_id}/edit", follow_redirects=True)
    assert db.session.get(Building, building_id) is not None and "请先删除楼层" in response.get_data(as_text=True)

    # A new floor with a layout but no lease goes, with its zones and spaces.
    db.session.add(Floor(building_id=building_id, number=7, name="", plan_width=2000, plan_height=1200))
    db.session.commit()
    new_id = db.session.scalar(sa.select(Floor.id).where(Floor.number == 7))
    assert _upload(client, new_id, GOOD_CSV.replace("3F-", "7F-").replace(",3,", ",7,").encode()).status_code == 302
    assert _space_count(db) == spaces_before + 3
    response = post_form(client, f"/spaces/floors/{new_id}/delete", {}, csrf_page=f"/spaces/floors/{new_id}/edit")
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(Floor, new_id) is None and _space_count(db) == spaces_before
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Zone).where(Zone.floor_id == new_id)) == 0

    empty = Building(name="空楼", address="")
    db.session.add(empty)
    db.session.commit()
    empty_id = empty.id
    assert post_form(client, f"/spaces/buildings/{empty_id}/delete", {},
                     csrf_page=f"/spaces/buildings/{empty_id}/edit").status_code == 302
    db.session.expire_all()
    assert db.session.get(Building, empty_id) is None


# --- dates far ahead ---------------------------------------------------------------------------

def test_founder_request_far_in_the_future_is_refused_with_a_message(client, db, world, login_as):
    from incubator.spaces.models import SpaceRequest

    login_as(world.founder)
    response = post_form(client, "/spaces/mine/request", {
        "team_id": world.team.id, "seats": 1, "space_type": "desk_fixed", "preferred_zone_id": 0,
        "start_date": "9999-12-01", "duration_months": 6, "note": ""})
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    latest = services.add_months(services.local_today(), services.MAX_MONTHS_AHEAD).isoformat()
    assert f"开始日期最晚只能在今天起 24 个月内（不晚于 {latest}）" in page
    assert db.session.scalar(sa.select(sa.func.count()).select_from(SpaceRequest)) == 0


def test_allocate_page_with_far_dates_answers_and_refuses_an_endless_lease(client, db, world, login_as):
    from datetime import date

    from incubator.spaces.models import SpaceRequest

    old = SpaceRequest(team_id=world.team.id, seats=2, space_type="desk_fixed", start_date=date(9999, 12, 1),
                       duration_months=6)  # stored before requests were bounded
    db.session.add(old)
    db.session.commit()
    login_as(world.manager)
    assert client.get(f"/spaces/allocate?request_id={old.id}").status_code == 200
    assert client.get("/spaces/allocate?start=9999-12-01").status_code == 200
    today = services.local_today()
    response = post_form(client, "/spaces/allocate", {
        "team_id": world.team.id, "start_date": today.isoformat(), "end_date": "9999-12-31",
        "space_ids": [world.spaces[0].id]})
    assert response.status_code == 400
    assert f"期限最长为 36 个月：结束日期最晚为 {services.add_months(today, 36).isoformat()}" in response.get_data(as_text=True)
    response = post_form(client, "/spaces/allocate", {
        "team_id": world.team.id, "start_date": "9999-12-01", "end_date": "9999-12-31",
        "space_ids": [world.spaces[0].id]})
    assert response.status_code == 400 and "开始日期最晚只能在今天起 24 个月内" in response.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Lease)) == 0


# --- outages -----------------------------------------------------------------------------------

def test_manager_lifts_an_outage_and_the_space_can_be_leased_again(client, db, world, login_as):
    from incubator.audit.models import AuditRecord
    from incubator.spaces.models import SpaceOutage

    today = services.local_today()
    space = world.spaces[0]
    current = services.put_out_of_service(world.manager, space, today - timedelta(days=3), None, "漏水维修")
    planned = services.put_out_of_service(world.manager, world.spaces[1], today + timedelta(days=20),
                                          today + timedelta(days=30), "更换地毯")
    db.session.commit()
    current_id, planned_id = current.id, planned.id
    login_as(world.manager)
    page = client.get(f"/spaces/space/{space.id}").get_data(as_text=True)
    assert f"/spaces/outages/{current_id}/end" in page and "恢复使用" in page
    response = post_form(client, f"/spaces/outages/{current_id}/end", {"lift-on_date": today.isoformat()},
                         csrf_page=f"/spaces/space/{space.id}", follow_redirects=True)
    assert response.status_code == 200 and f"该空间自 {today.isoformat()} 起恢复使用" in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(SpaceOutage, current_id).end_date == today
    # An outage that has not begun is called off altogether.
    assert post_form(client, f"/spaces/outages/{planned_id}/end", {"lift-on_date": today.isoformat()},
                     csrf_page=f"/spaces/space/{world.spaces[1].id}").status_code == 302
    assert db.session.get(SpaceOutage, planned_id) is None
    # Ending it again is refused with a message; nothing changes.
    response = post_form(client, f"/spaces/outages/{current_id}/end", {"lift-on_date": today.isoformat()},
                         csrf_page=f"/spaces/space/{space.id}", follow_redirects=True)
    assert "该空间在此日期前已恢复使用" in response.get_data(as_text=True)
    records = db.session.scalars(sa.select(AuditRecord).where(AuditRecord.action == "spaces.back_in_service")
                                 .order_by(AuditRecord.id)).all()
    assert [(r.target_type, r.target_id) for r in records] == [("spaces", str(space.id)),
                                                                ("spaces", str(world.spaces[1].id))]
    plan = client.get(f"/spaces/floors/{world.floor.id}/plan").get_data(as_text=True)
    assert "fp-out_of_service" not in plan.split("fp-legend")[0]
    services.allocate(world.manager, world.team, [space.id], today, today + timedelta(days=30))
    db.session.commit()


# --- layout import -----------------------------------------------------------------------------

def test_layout_import_bounds_coordinates_and_reports_every_problem_in_one_round(client, db, world, login_as):
    login_as(world.manager)
    before = _space_count(db)
    csv_text = ("code,floor,zone,type,capacity,x,y,width,height,features\n"
                "3F-C-001,3,C,desk_hot,1,1e308,0,1e308,80,\n"     # line 2: huge numbers
                "3F-C-002,3,C,desk_hot,1,100,100,50,50,\n"        # line 3: on top of 3F-A-001 (in the database)
                "3F-C-003,3,C,desk_hot,1,1990,0,100,80,\n"        # line 4: past the 2000-wide plan
                "3F-C-004,3,C,desk_hot,1,1600,0,100,80,\n")       # line 5: fine
    response = _upload(client, world.floor.id, csv_text.encode())
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert 'data-line="2"' in page and "x：1e308 过大（最大为 100000）" in page and "width：1e308 过大" in page
    assert 'data-line="3"' in page and "3F-A-001" in page
    assert 'data-line="4"' in page and "超出了平面图范围（2000 × 1200）" in page
    assert 'data-line="5"' not in page
    assert _space_count(db) == before
    assert client.get(f"/spaces/floors/{world.floor.id}/plan").status_code == 200


# --- the floor plan ----------------------------------------------------------------------------

def test_floor_plan_shows_a_lease_starting_later_as_reserved(client, db, world, login_as):
    today = services.local_today()
    space = world.spaces[0]
    services.allocate(world.manager, world.team, [space.id], today + timedelta(days=10), today + timedelta(days=40))
    db.session.commit()
    login_as(world.manager)
    page = client.get(f"/spaces/floors/{world.floor.id}/plan").get_data(as_text=True)
    link = page[page.index(f'data-space-id="{space.id}"') - 200:page.index(f'data-space-id="{space.id}"')]
    assert 'class="fp-space fp-reserved"' in link
    title = page[page.index(f'data-space-id="{space.id}"'):].split("</title>")[0]
    assert "南湖智能" in title and (today + timedelta(days=10)).isoformat() in title


def test_floor_plan_shows_a_renamed_team_at_once(client, db, world, login_as):
    today = services.local_today()
    services.allocate(world.manager, world.team, [world.spaces[0].id], today, today + timedelta(days=60))
    db.session.commit()
    login_as(world.manager)
    url = f"/spaces/floors/{world.floor.id}/plan"
    assert "南湖智能" in client.get(url).get_data(as_text=True)
    world.team.name = "南湖芯光"  # renamed where teams are edited, outside the spaces services
    db.session.commit()
    page = client.get(url).get_data(as_text=True)
    assert "南湖芯光" in page and "南湖智能" not in page


# --- moves and cancellation reasons ------------------------------------------------------------

def test_moving_several_desks_puts_each_lease_where_its_own_field_says(client, db, world, login_as):
    today = services.local_today()
    (first,) = services.allocate(world.manager, world.team, [world.spaces[0].id], today, today + timedelta(days=60))
    (second,) = services.allocate(world.manager, world.team, [world.spaces[1].id], today, today + timedelta(days=90))
    db.session.commit()
    first_id, second_id = first.id, second.id
    login_as(world.manager)
    url = f"/spaces/teams/{world.team.id}"
    # In the page's order (newest first), the second lease comes first.
    response = post_form(client, url, {f"new_code-{second_id}": "3F-B-001", f"new_code-{first_id}": "3F-B-005",
                                       "on_date": (today + timedelta(days=10)).isoformat()})
    assert response.status_code == 302
    db.session.expire_all()
    moved = {lease_id: db.session.get(Lease, db.session.get(Lease, lease_id).moved_to_id)
             for lease_id in (first_id, second_id)}
    assert (moved[first_id].space.code, moved[first_id].end_date) == ("3F-B-005", today + timedelta(days=60))
    assert (moved[second_id].space.code, moved[second_id].end_date) == ("3F-B-001", today + timedelta(days=90))
    response = post_form(client, url, {f"new_code-{moved[first_id].id}": "3F-Z-999",
                                       "on_date": (today + timedelta(days=20)).isoformat()})
    assert "没有编号为 3F-Z-999 的空间" in response.get_data(as_text=True)


def test_manager_swaps_two_desks_of_a_team_on_its_page(client, db, world, login_as):
    today = services.local_today()
    d1, d2, first_id, second_id = lease_two_desks(db, world, today, 60)
    login_as(world.manager)
    on = today + timedelta(days=10)
    response = post_form(client, f"/spaces/teams/{world.team.id}",
                         {f"new_code-{first_id}": d2.code, f"new_code-{second_id}": d1.code, "on_date": on.isoformat()},
                         follow_redirects=True)
    assert response.status_code == 200 and "已租给" not in response.get_data(as_text=True)
    db.session.expire_all()
    moved = {lease_id: db.session.get(Lease, db.session.get(Lease, lease_id).moved_to_id)
             for lease_id in (first_id, second_id)}
    assert (moved[first_id].space_id, moved[first_id].start_date) == (d2.id, on)
    assert (moved[second_id].space_id, moved[second_id].start_date) == (d1.id, on)
    assert services.overlapping_active_pairs() == 0


def test_reasons_the_platform_gives_are_shown_in_the_readers_language(client, db, world, login_as):
    today = services.local_today()
    (early,) = services.allocate(world.manager, world.team, [world.spaces[0].id], today + timedelta(days=5),
                                 today + timedelta(days=30))
    (later,) = services.allocate(world.manager, world.team, [world.spaces[1].id], today + timedelta(days=5),
                                 today + timedelta(days=30))
    services.end_early(world.manager, early, today)
    services.move(world.manager, [(later, world.spaces[2].id)], today)
    db.session.commit()
    assert (early.cancel_code, early.cancel_reason, later.cancel_code) == ("ended_before_start", "", "moved")
    login_as(world.manager)
    chinese = client.get(f"/spaces/leases/{early.id}").get_data(as_text=True)
    assert "在开始前结束" in chinese
    assert "开始前已调整至其他空间" in client.get(f"/spaces/leases/{later.id}").get_data(as_text=True)
    client.set_cookie("lang", "en")
    english = client.get(f"/spaces/leases/{early.id}").get_data(as_text=True)
    assert "Ended before it started" in english and "在开始前结束" not in english
    english = client.get(f"/spaces/leases/{later.id}").get_data(as_text=True)
    assert "Moved to another space before it started" in english and ">moved<" not in english
