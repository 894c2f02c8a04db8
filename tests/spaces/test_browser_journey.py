"""Manager imports a floor, sees the plan, allocates four desks with the suggestion; the founder sees
them highlighted on the plan. Real Chromium on a phone-sized screen."""
from __future__ import annotations

import pytest

from tests.conftest import PASSWORD, click_and_follow, end_test_transaction

pytestmark = pytest.mark.browser


def _layout_csv() -> str:
    lines = ["code,floor,zone,type,capacity,x,y,width,height,features"]
    for n in range(12):
        lines.append(f"5F-A-{n + 1:03d},5,A,desk_fixed,1,{40 + (n % 4) * 130},{40 + (n // 4) * 110},120,100,power")
    for n in range(6):
        lines.append(f"5F-B-{n + 1:03d},5,B,desk_hot,1,{700 + (n % 3) * 130},{40 + (n // 3) * 110},120,100,")
    lines.append("5F-B-901,5,B,office,6,700,300,380,240,window")
    return "\n".join(lines) + "\n"


def _login(page, url, email):
    page.goto(url + "/login")
    page.fill("#email", email)
    page.fill("#password", PASSWORD)
    click_and_follow(page, page.locator("#login-form").get_by_role("button"))


def test_manager_imports_floor_and_allocates_four_desks_founder_sees_them(live_server, page, output_dir, db,
                                                                         make_user, tmp_path):
    from incubator.applications.models import Team
    from incubator.enums import Role
    from incubator.spaces.models import Building, Lease
    from incubator.spaces.services import admit_team

    manager = make_user(Role.MANAGER, email="mgr.browser@example.cn", name="沈经理")
    founder = make_user(Role.FOUNDER, email="founder.browser@example.cn", name="周子涵")
    team = Team(name="南湖智芯", created_by_id=founder.id)
    db.session.add_all([team, Building(name="中国南湖·青创城", address="嘉兴")])
    db.session.flush()
    admit_team(manager, team, "路演一等奖")
    db.session.commit()
    manager_email, founder_email, team_id = manager.email, founder.email, team.id
    end_test_transaction()  # and touch no ORM attribute until the next commit: on SQLite a read begins IMMEDIATE

    _login(page, live_server.url, manager_email)
    page.goto(live_server.url + "/spaces/")
    page.fill("#f-number", "5")
    page.fill("#f-name", "5F")
    page.locator("#floor-form button[type=submit]").click()
    page.wait_for_url("**/import")
    csv_path = tmp_path / "5F.csv"
    csv_path.write_text(_layout_csv(), encoding="utf-8-sig")
    page.set_input_files("#file", str(csv_path))
    click_and_follow(page, page.locator("#import-form button[type=submit]"))
    assert "/plan" in page.url, page.locator("main").inner_text()
    assert page.locator("#floorplan svg a.fp-space").count() == 19
    assert page.locator("#floorplan svg a.fp-free").count() == 19
    page.screenshot(path=str(output_dir / "spaces-manager-plan.png"), full_page=True)

    page.goto(live_server.url + "/spaces/allocate")
    page.fill("#s-seats", "4")
    page.select_option("#s-type", "desk_fixed")
    click_and_follow(page, page.locator("#suggest-button"))
    assert "5F-A-" in page.locator("#suggestion").inner_text()
    assert page.locator("input[name=space_ids]:checked").count() == 4
    page.select_option("#team_id", label="南湖智芯")
    page.locator("#allocate-button").click()
    page.wait_for_url("**/spaces/teams/*")
    assert page.locator("#team-history tbody tr").count() == 4

    db.session.expire_all()
    leased = sorted(db.session.scalars(db.select(Lease).where(Lease.team_id == team_id)), key=lambda lease: lease.id)
    assert len(leased) == 4
    db.session.commit()

    page.context.clear_cookies()
    _login(page, live_server.url, founder_email)
    page.goto(live_server.url + "/spaces/mine")
    assert page.locator("#my-leases li").count() == 4
    mine = page.locator("svg a.fp-mine")
    assert mine.count() == 4
    assert "南湖智芯" in mine.first.locator("title").text_content()
    page.screenshot(path=str(output_dir / "spaces-founder-plan.png"), full_page=True)
