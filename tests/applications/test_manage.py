from __future__ import annotations

import csv
import io

import pytest
from openpyxl import load_workbook

from incubator.applications.models import Application, StatusChange, Team, TeamMember
from incubator.audit.models import AuditRecord
from incubator.enums import Role
from incubator.timeutils import utcnow
from tests.conftest import login, post_form
from tests.sql_statements import recorded_statements

from .helpers import open_competition


def _make_applications(db, comp, founder_factory, n: int, status: str = "submitted"):
    apps = []
    for i in range(n):
        founder = founder_factory(Role.FOUNDER, email=f"f{i}@example.cn")
        team = Team(name=f"团队{i:03d}", created_by_id=founder.id)
        team.members.append(TeamMember(is_lead=True, user_id=founder.id, name=f"队长{i}", contact="138", birth_year=2000))
        team.members.append(TeamMember(name=f"队员{i}", position=1))
        track = comp.tracks[i % 2]
        app = Application(competition=comp, team=team, track=track, project_name=f"项目{i:03d}",
                          one_line_pitch="=HYPERLINK(\"http://evil\")" if i == 0 else "一句话", status=status,
                          submitted_at=utcnow() if status != "draft" else None, version=1 if status != "draft" else 0)
        db.session.add(app)
        apps.append(app)
    db.session.commit()
    return apps


@pytest.fixture
def comp(db):
    return open_competition(db, questions=False)


@pytest.fixture
def manager_client(client, make_user):
    login(client, make_user(Role.MANAGER, email="boss@example.cn"))
    return client


def _count_queries(db, fn):
    with recorded_statements(db) as statements:
        response = fn()
    return response, len(statements)


def test_manage_list_query_count_fixed_whatever_the_rows(db, comp, make_user, manager_client):
    _make_applications(db, comp, make_user, 5)
    r, few = _count_queries(db, lambda: manager_client.get("/manage/applications"))
    assert r.status_code == 200 and r.get_data(as_text=True).count('name="ids"') == 5
    # 55 more (60 in all): the page shows 50, the query count stays the same
    more = []
    for i in range(55):
        more.append(make_user(Role.FOUNDER, email=f"g{i}@example.cn"))
    for i, founder in enumerate(more):
        team = Team(name=f"队{i}", created_by_id=founder.id)
        team.members.append(TeamMember(is_lead=True, name=f"长{i}"))
        db.session.add(Application(competition=comp, team=team, track=comp.tracks[0], project_name=f"P{i}"))
    db.session.commit()
    r, many = _count_queries(db, lambda: manager_client.get("/manage/applications"))
    assert r.status_code == 200 and r.get_data(as_text=True).count('name="ids"') == 50
    assert many == few, (few, many)


def test_manage_list_filters_and_counts(db, comp, make_user, manager_client):
    apps = _make_applications(db, comp, make_user, 6)
    apps[1].status = "draft"
    apps[1].submitted_at = None
    db.session.commit()
    page = manager_client.get(f"/manage/applications?competition_id={comp.id}&track_id={comp.tracks[0].id}").get_data(as_text=True)
    assert page.count('name="ids"') == 3  # 0, 2, 4
    page = manager_client.get("/manage/applications?status=draft").get_data(as_text=True)
    assert page.count('name="ids"') == 1 and "项目001" in page
    page = manager_client.get("/manage/applications?q=团队004").get_data(as_text=True)
    assert page.count('name="ids"') == 1 and "项目004" in page
    page = manager_client.get("/manage/applications?q=%25").get_data(as_text=True)  # a literal %, not a wildcard
    assert page.count('name="ids"') == 0
    page = manager_client.get(f"/manage/applications?competition_id={comp.id}").get_data(as_text=True)
    t0, t1 = comp.tracks[0].id, comp.tracks[1].id
    assert f'data-track="{t0}" data-status="submitted">3<' in page
    assert f'data-track="{t1}" data-status="submitted">2<' in page
    assert f'data-track="{t1}" data-status="draft">1<' in page
    assert manager_client.get("/manage/applications?page=999&sort=nonsense&track_id=abc").status_code == 200


def test_manage_bulk_status_change(db, comp, make_user, manager_client):
    apps = _make_applications(db, comp, make_user, 3)
    apps[2].status = "draft"
    apps[2].submitted_at = None
    db.session.commit()
    ids = [a.id for a in apps]
    r = post_form(manager_client, "/manage/applications/bulk-status",
                  {"ids": [str(i) for i in ids], "to_status": "in_review", "note": "进入初赛评审"},
                  csrf_page="/manage/applications")
    assert r.status_code == 302
    db.session.expire_all()
    assert [db.session.get(Application, i).status for i in ids] == ["in_review", "in_review", "draft"]
    assert db.session.scalar(db.select(db.func.count(StatusChange.id)).where(StatusChange.to_status == "in_review")) == 2
    assert db.session.scalar(db.select(db.func.count(AuditRecord.id)).where(AuditRecord.action == "application.bulk_status")) == 2
    # without CSRF nothing changes
    r = manager_client.post("/manage/applications/bulk-status", data={"ids": [str(ids[0])], "to_status": "advanced"})
    assert r.status_code == 400
    db.session.expire_all()
    assert db.session.get(Application, ids[0]).status == "in_review"


def test_manage_export_csv_and_xlsx_hold_the_rows(db, comp, make_user, manager_client):
    _make_applications(db, comp, make_user, 3)
    r = manager_client.get(f"/manage/applications/export.csv?competition_id={comp.id}")
    assert r.status_code == 200 and r.mimetype == "text/csv"
    raw = r.get_data()
    assert raw.startswith("\ufeff".encode())
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))
    assert rows[0][:4] == ["编号", "赛事", "赛道", "项目名称"]
    assert len(rows) == 4
    by_name = {row[3]: row for row in rows[1:]}
    assert by_name["项目001"][4] == "团队001" and by_name["项目001"][5] == "队长1"
    assert by_name["项目000"][-1].startswith("'=")  # formulas are neutralised

    r = manager_client.get("/manage/applications/export.xlsx?q=项目002")
    assert r.status_code == 200
    sheet = load_workbook(io.BytesIO(r.get_data()), read_only=True).active
    values = [list(row) for row in sheet.iter_rows(values_only=True)]
    assert values[0][3] == "项目名称" and len(values) == 2 and values[1][3] == "项目002"


def test_manage_pages_refused_for_founders_and_anonymous(app, db, comp, make_user):
    anonymous = app.test_client()
    for url in ("/manage/applications", "/manage/applications/export.csv", "/manage/applications/export.xlsx"):
        r = anonymous.get(url)
        assert r.status_code == 302 and "/login" in r.headers["Location"]
    founder_client = app.test_client()
    login(founder_client, make_user(Role.FOUNDER))
    for url in ("/manage/applications", "/manage/applications/export.csv", "/manage/applications/export.xlsx"):
        assert founder_client.get(url).status_code == 403


def test_manage_list_rows_show_lead_track_status_time_and_links_in_both_languages(db, comp, make_user, manager_client):
    """The list renders its rows from plain values (labels translated once, URLs from one prefix,
    strftime for Beijing time): check each row's text, links and the page links."""
    from datetime import datetime, timezone

    apps = _make_applications(db, comp, make_user, 1)
    apps[0].submitted_at = datetime(2026, 3, 1, 16, 5, tzinfo=timezone.utc)  # 00:05 on 2 March in Beijing
    founder = make_user(Role.FOUNDER, email="many@example.cn")
    for i in range(50):  # 51 rows: a second page; the team without a lead shows no lead line
        team = Team(name=f"无队长{i:02d}", created_by_id=founder.id)
        team.members.append(TeamMember(name=f"成员{i}", position=0))
        db.session.add(Application(competition=comp, team=team, project_name="", status="submitted",
                                   submitted_at=utcnow(), version=1))
    db.session.commit()
    first = apps[0]
    page = manager_client.get(f"/manage/applications?competition_id={comp.id}&status=submitted&sort=id").get_data(as_text=True)
    assert page.count('name="ids"') == 50
    row = page.split(f'name="ids" value="{first.id}"', 1)[1].split("</tr>", 1)[0]
    assert f'href="/manage/applications/{first.id}">项目000</a>' in row
    assert '团队000<div class="small text-muted">队长0</div>' in row
    assert "<td>人工智能</td>" in row and "<td>已提交</td>" in row and "2026-03-02 00:05" in row
    assert "无队长00</td>" in page and "（未命名项目）</a>" in page
    assert f'href="/manage/applications?competition_id={comp.id}&amp;status=submitted&amp;sort=id&amp;page=2">2</a>' in page

    post_form(manager_client, "/language", {"lang": "en", "next": "/"})
    page = manager_client.get(f"/manage/applications?competition_id={comp.id}&sort=id").get_data(as_text=True)
    row = page.split(f'name="ids" value="{first.id}"', 1)[1].split("</tr>", 1)[0]
    assert "<td>AI</td>" in row and "<td>Submitted</td>" in row and "2026-03-02 00:05" in row
    assert ">Last change</option>" in page and 'aria-label="Select ' in page


def test_manage_list_shows_a_track_outside_the_filtered_competition(db, comp, make_user, manager_client):
    """Not expected in practice (a track belongs to the application's competition), but the row
    still names it, as the ORM relationship did."""
    from incubator.competitions import services as comp_services

    other = comp_services.create_competition(None, name_zh="另一场", name_en="Another", opens_at=utcnow(),
                                             closes_at=utcnow(), max_founder_age=35, graduated_within_years=5)
    stray = comp_services.add_track(None, other, name_zh="生物技术", name_en="Biotech")
    db.session.flush()
    apps = _make_applications(db, comp, make_user, 1)
    apps[0].track_id = stray.id
    db.session.commit()
    page = manager_client.get(f"/manage/applications?competition_id={comp.id}").get_data(as_text=True)
    row = page.split(f'name="ids" value="{apps[0].id}"', 1)[1].split("</tr>", 1)[0]
    assert "<td>生物技术</td>" in row
