"""Editing an application through its pages: a submitted one must stay complete and eligible,
member rows keep their own person's data, over-long values and odd numbers get a field error."""
from __future__ import annotations

import html
import re

import pytest

from incubator.applications.models import Application, TeamMember
from incubator.enums import Role
from tests.conftest import login, post_form

from .helpers import COMPANY, PROJECT, TEAM

INPUT_RE = re.compile(r"<input\b[^>]*>")
ATTR_RE = re.compile(r'\b(name|value|type)="([^"]*)"')


def form_on_page(client, url: str) -> dict:
    """The fields the page's form would send as rendered (hidden ones included), like a browser
    would: text inputs with their values, checked boxes only, the CSRF token."""
    page = client.get(url)
    assert page.status_code == 200, url
    data = {}
    for tag in INPUT_RE.findall(page.get_data(as_text=True)):
        attrs = {k: html.unescape(v) for k, v in ATTR_RE.findall(tag)}
        if "name" not in attrs or (attrs.get("type") in ("checkbox", "radio") and "checked" not in tag):
            continue
        data[attrs["name"]] = attrs.get("value", "")
    return data


def _reload(db, application_id: int) -> Application:
    db.session.expire_all()
    return db.session.get(Application, application_id)


def _draft(client, db, comp, founder, team: dict = TEAM) -> Application:
    login(client, founder)
    r = post_form(client, f"/apply/{comp.id}/new", {**PROJECT, "track_id": str(comp.tracks[0].id)})
    assert r.status_code == 302
    application = db.session.scalar(db.select(Application))
    base = f"/applications/{application.id}"
    assert post_form(client, f"{base}/team", team).status_code == 302
    assert post_form(client, f"{base}/company", COMPANY).status_code == 302
    assert post_form(client, f"{base}/questions", {f"q_{comp.questions[0].id}": "yes"}).status_code == 302
    return application


def _submitted(client, db, comp, founder) -> Application:
    application = _draft(client, db, comp, founder)
    r = post_form(client, f"/applications/{application.id}/submit", {}, csrf_page=f"/applications/{application.id}")
    assert r.status_code == 302
    return _reload(db, application.id)


# --- a submitted application stays complete and eligible -----------------------------------------

def test_submitted_application_edit_that_leaves_it_incomplete_is_refused_and_kept(client, db, comp, founder):
    application = _submitted(client, db, comp, founder)
    base = f"/applications/{application.id}"

    # "Save draft" with the project name emptied: refused, nothing saved, the typed values shown.
    r = post_form(client, f"{base}/project", {**PROJECT, "track_id": str(comp.tracks[0].id), "project_name": "",
                                              "one_line_pitch": "改过的一句话介绍", "action": "save"})
    assert r.status_code == 409
    page = r.get_data(as_text=True)
    assert "已经提交" in page and "项目名称" in page and "未保存" in page
    assert "改过的一句话介绍" in page and "is-invalid" in page
    saved = _reload(db, application.id)
    assert saved.status == "submitted" and saved.version == 1
    assert saved.project_name == PROJECT["project_name"] and saved.one_line_pitch == PROJECT["one_line_pitch"]

    # The required question left unanswered: refused the same way.
    r = post_form(client, f"{base}/questions", {"action": "save"})
    assert r.status_code == 409 and "已经提交" in r.get_data(as_text=True)
    assert _reload(db, application.id).answer_for(comp.questions[0].id) == "yes"

    # A change that keeps it complete goes through and counts as a new version.
    r = post_form(client, f"{base}/project", {**PROJECT, "track_id": str(comp.tracks[0].id),
                                              "one_line_pitch": "新的一句话介绍", "action": "save"})
    assert r.status_code == 302
    saved = _reload(db, application.id)
    assert saved.status == "submitted" and saved.version == 2 and saved.one_line_pitch == "新的一句话介绍"


def test_submitted_application_edit_that_makes_the_lead_ineligible_is_refused(client, db, comp, founder):
    application = _submitted(client, db, comp, founder)
    data = form_on_page(client, f"/applications/{application.id}/team")
    data.update({"members-0-birth_year": "1980", "members-0-graduation_year": "2002", "action": "save"})
    r = client.post(f"/applications/{application.id}/team", data=data)
    assert r.status_code == 409
    page = r.get_data(as_text=True)
    assert "已经提交" in page and "35" in page and "1980" in page
    saved = _reload(db, application.id)
    lead = saved.team.lead
    assert saved.status == "submitted" and saved.version == 1
    assert (lead.birth_year, lead.graduation_year) == (2000, 2023)
    assert [m.name for m in saved.team.members] == ["周子涵", "徐一鸣"]


# --- team members -------------------------------------------------------------------------------

THREE = {**TEAM, "members-2-name": "陈一帆", "members-2-role_in_team": "COO", "members-2-school_or_employer": "浙江大学",
         "members-2-birth_year": "1999", "members-2-graduation_year": "2021", "members-2-contact": "chen@example.cn"}


def test_removing_the_second_of_three_members_keeps_the_third_members_own_row(client, db, comp, founder, make_user):
    application = _draft(client, db, comp, founder, THREE)
    chen_account = make_user(Role.FOUNDER, email="chen@example.cn", name="陈一帆")
    team = _reload(db, application.id).team
    xu, chen = [m for m in team.members if not m.is_lead]
    assert (xu.name, chen.name) == ("徐一鸣", "陈一帆")
    chen.user_id = chen_account.id  # his account is linked to his row (e.g. to read the deck)
    chen_id = chen.id
    db.session.commit()

    data = form_on_page(client, f"/applications/{application.id}/team")
    assert data["members-1-name"] == "徐一鸣" and data["members-2-name"] == "陈一帆"
    data.update({"members-1-remove": "y", "action": "save"})
    assert client.post(f"/applications/{application.id}/team", data=data).status_code == 302

    members = _reload(db, application.id).team.members
    assert [m.name for m in members] == ["周子涵", "陈一帆"]
    (left,) = [m for m in members if not m.is_lead]
    assert left.id == chen_id and left.user_id == chen_account.id
    assert (left.role_in_team, left.school_or_employer, left.birth_year, left.graduation_year, left.contact) == (
        "COO", "浙江大学", 1999, 2021, "chen@example.cn")
    assert db.session.scalar(db.select(db.func.count(TeamMember.id))) == 2
    # The page now shows him as the second row, still carrying his own record.
    again = form_on_page(client, f"/applications/{application.id}/team")
    assert again["members-1-name"] == "陈一帆" and again["members-1-member_id"] == str(chen_id)


def test_over_long_member_name_is_a_field_error_and_nothing_else_is_lost(client, db, comp, founder):
    application = _draft(client, db, comp, founder)
    url = f"/applications/{application.id}/team"
    too_long = "长" * 81
    data = form_on_page(client, url)
    data.update({"members-1-name": too_long, "members-1-school_or_employer": "嘉兴大学",
                 "members-2-name": too_long + "新", "members-2-contact": "new@example.cn", "action": "save"})
    r = client.post(url, data=data)
    assert r.status_code == 400  # not a 500 on PostgreSQL, not a silently stored long name on SQLite
    page = r.get_data(as_text=True)
    assert "最多 80 个字符" in page and too_long in page and "new@example.cn" in page
    members = _reload(db, application.id).team.members
    assert [m.name for m in members] == ["周子涵", "徐一鸣"]  # no member added under the invalid name
    assert members[1].school_or_employer == "嘉兴大学"  # the valid field of the row is saved
    assert all(len(m.name) <= 80 for m in members)


# --- number questions -----------------------------------------------------------------------------

@pytest.mark.parametrize("typed", ["NaN", "inf", "-Infinity", "1e400", "sNaN", "1e-400", "1234567890123456"])
def test_number_question_refuses_what_is_not_an_ordinary_number(client, db, comp, founder, typed):
    from incubator.competitions import services as comp_services

    question = comp_services.add_question(None, comp, label_zh="团队已获融资（万元）", kind="number", required=False)
    db.session.commit()
    application = _draft(client, db, comp, founder)
    url = f"/applications/{application.id}/questions"
    yes_no = f"q_{comp.questions[0].id}"
    r = post_form(client, url, {yes_no: "yes", f"q_{question.id}": typed, "action": "save"})
    assert r.status_code == 400
    page = r.get_data(as_text=True)
    assert "请输入普通的数字" in page and typed in page
    assert _reload(db, application.id).answer_for(question.id) is None

    assert post_form(client, url, {yes_no: "yes", f"q_{question.id}": "1e3", "action": "save"}).status_code == 302
    assert _reload(db, application.id).answer_for(question.id) == "1000"
    assert post_form(client, url, {yes_no: "yes", f"q_{question.id}": "12.50", "action": "save"}).status_code == 302
    assert _reload(db, application.id).answer_for(question.id) == "12.5"
