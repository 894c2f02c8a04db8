from __future__ import annotations

from datetime import timedelta

import pytest

from incubator.applications.models import Application, StatusChange
from incubator.audit.models import AuditRecord
from incubator.enums import Role
from incubator.notifications.models import Notice, OutboxMessage
from incubator.timeutils import utcnow
from tests.conftest import login, post_form

from .helpers import COMPANY, PROJECT, TEAM, fill_everything


def _logout(client):
    post_form(client, "/logout", {}, csrf_page="/apply")


def _start(client, comp, data=None):
    track = comp.tracks[0].id
    r = post_form(client, f"/apply/{comp.id}/new", {**PROJECT, "track_id": str(track), **(data or {})})
    return r


def test_application_created_over_two_visits_then_submitted(app, client, db, comp, founder, smtp):
    login(client, founder)
    r = post_form(client, f"/apply/{comp.id}/new", {"project_name": "柔性电子皮肤", "action": "save"})
    assert r.status_code == 302
    application = db.session.scalar(db.select(Application))
    assert application.status == "draft" and application.project_name == "柔性电子皮肤"
    _logout(client)

    # second visit, a fresh browser
    other = app.test_client()
    login(other, founder)
    assert other.get(f"/apply/{comp.id}/new").status_code == 302  # goes back to the draft
    page = other.get(f"/applications/{application.id}/project").get_data(as_text=True)
    assert "柔性电子皮肤" in page
    r = post_form(other, f"/applications/{application.id}/project", {**PROJECT, "track_id": str(comp.tracks[1].id)})
    assert r.status_code == 302 and r.headers["Location"].endswith("/team")
    fill_everything(other, post_form, application.id, comp.questions[0].id)
    r = post_form(other, f"/applications/{application.id}/submit", {}, csrf_page=f"/applications/{application.id}")
    assert r.status_code == 302
    db.session.expire_all()
    application = db.session.get(Application, application.id)
    assert application.status == "submitted" and application.version == 1 and application.submitted_at
    assert [m.name for m in application.team.members] == ["周子涵", "徐一鸣"]
    assert application.track_id == comp.tracks[1].id
    assert [c.to_status for c in application.status_changes] == ["draft", "submitted"]
    assert db.session.scalar(db.select(AuditRecord).where(AuditRecord.action == "application.submit"))
    assert db.session.scalar(db.select(Notice).where(Notice.user_id == founder.id, Notice.kind == "application_status"))
    mail = db.session.scalar(db.select(OutboxMessage).where(OutboxMessage.template == "application_status"))
    assert mail.recipient == founder.email and "柔性电子皮肤传感器" in mail.body_text and "已提交" in mail.body_text

    # edit after submission: version goes up, status stays
    r = post_form(other, f"/applications/{application.id}/project", {**PROJECT, "track_id": str(comp.tracks[1].id),
                                                                     "one_line_pitch": "新的一句话介绍"})
    assert r.status_code == 302
    db.session.expire_all()
    application = db.session.get(Application, application.id)
    assert application.status == "submitted" and application.version == 2


def test_application_validation_errors_keep_typed_values_and_save_valid_ones(client, db, comp, founder):
    login(client, founder)
    long_pitch = "太长" * 200
    r = _start(client, comp, {"one_line_pitch": long_pitch, "project_name": "保留我"})
    assert r.status_code == 400
    page = r.get_data(as_text=True)
    assert long_pitch in page  # what was typed is still in the form
    assert "140" in page and "is-invalid" in page
    application = db.session.scalar(db.select(Application))
    assert application.project_name == "保留我" and application.one_line_pitch == ""

    r = post_form(client, f"/applications/{application.id}/company",
                  {**COMPANY, "company_name": "嘉兴柔电科技有限公司", "credit_code": "91350100M000100Y44"})
    assert r.status_code == 400
    assert "91350100M000100Y44" in r.get_data(as_text=True)
    assert "统一社会信用代码" in r.get_data(as_text=True)
    db.session.expire_all()
    application = db.session.get(Application, application.id)
    assert application.company_name == "嘉兴柔电科技有限公司" and application.credit_code is None
    assert application.desks_wanted == 4


def test_application_next_with_missing_required_fields_saves_draft_and_shows_errors(client, db, comp, founder):
    login(client, founder)
    r = post_form(client, f"/apply/{comp.id}/new", {"project_name": "只填了名字", "action": "next"})
    assert r.status_code == 400
    assert "此项为必填项" in r.get_data(as_text=True) or "required" in r.get_data(as_text=True)
    assert db.session.scalar(db.select(Application)).project_name == "只填了名字"


def _complete_draft(client, db, comp, founder):
    login(client, founder)
    assert _start(client, comp).status_code == 302
    application = db.session.scalar(db.select(Application))
    fill_everything(client, post_form, application.id, comp.questions[0].id)
    return application


def test_application_deadline_passed_while_editing_refuses_submit_and_keeps_draft(client, db, comp, founder):
    application = _complete_draft(client, db, comp, founder)
    comp.closes_at = utcnow() - timedelta(minutes=1)
    db.session.commit()
    r = post_form(client, f"/applications/{application.id}/submit", {}, csrf_page=f"/applications/{application.id}")
    assert r.status_code == 409
    text = r.get_data(as_text=True)
    assert "截止时间" in text and "草稿已保留" in text
    db.session.expire_all()
    application = db.session.get(Application, application.id)
    assert application.status == "draft" and application.project_name == PROJECT["project_name"]
    assert len(application.team.members) == 2
    # the draft stays visible
    assert client.get(f"/applications/{application.id}").status_code == 200


def test_application_extension_lets_only_that_application_submit(app, client, db, comp, founder, make_user):
    application = _complete_draft(client, db, comp, founder)
    other_founder = make_user(Role.FOUNDER, email="he@example.cn")
    other_client = app.test_client()
    login(other_client, other_founder)
    _start(other_client, comp)
    other_app = db.session.scalar(db.select(Application).where(Application.id != application.id))
    fill_everything(other_client, post_form, other_app.id, comp.questions[0].id)
    comp.closes_at = utcnow() - timedelta(minutes=1)
    db.session.commit()

    manager = make_user(Role.MANAGER, email="boss@example.cn")
    manager_client = app.test_client()
    login(manager_client, manager)
    until = (utcnow() + timedelta(days=1)).astimezone().astimezone(
        __import__("zoneinfo").ZoneInfo("Asia/Shanghai")).strftime("%Y-%m-%dT%H:%M")
    r = post_form(manager_client, f"/manage/applications/{application.id}/extension", {"until": until},
                  csrf_page=f"/manage/applications/{application.id}")
    assert r.status_code == 302

    r = post_form(client, f"/applications/{application.id}/submit", {}, csrf_page=f"/applications/{application.id}")
    assert r.status_code == 302
    r = post_form(other_client, f"/applications/{other_app.id}/submit", {}, csrf_page=f"/applications/{other_app.id}")
    assert r.status_code == 409
    db.session.expire_all()
    assert db.session.get(Application, application.id).status == "submitted"
    assert db.session.get(Application, other_app.id).status == "draft"
    assert db.session.scalar(db.select(AuditRecord).where(AuditRecord.action == "application.extension"))


def test_application_incomplete_or_ineligible_cannot_submit(client, db, comp, founder):
    login(client, founder)
    _start(client, comp)
    application = db.session.scalar(db.select(Application))
    r = post_form(client, f"/applications/{application.id}/submit", {}, csrf_page=f"/applications/{application.id}")
    assert r.status_code == 409
    fill_everything(client, post_form, application.id, comp.questions[0].id)
    old = {**TEAM, "members-0-birth_year": "1980", "members-0-graduation_year": "2002"}
    assert post_form(client, f"/applications/{application.id}/team", old).status_code == 302
    r = post_form(client, f"/applications/{application.id}/submit", {}, csrf_page=f"/applications/{application.id}")
    assert r.status_code == 409 and "35" in r.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Application, application.id).status == "draft"


def test_application_withdraw_needs_confirmation(client, db, comp, founder):
    application = _complete_draft(client, db, comp, founder)
    url = f"/applications/{application.id}/withdraw"
    assert post_form(client, url, {"reason": "团队调整"}).status_code == 400
    assert db.session.get(Application, application.id).status == "draft"
    assert post_form(client, url, {"reason": "团队调整", "confirm": "y"}).status_code == 302
    db.session.expire_all()
    application = db.session.get(Application, application.id)
    assert application.status == "withdrawn"
    assert application.status_changes[-1].note == "团队调整"


def test_application_urls_of_another_founder_are_404(app, client, db, comp, founder, make_user):
    application = _complete_draft(client, db, comp, founder)
    intruder = make_user(Role.FOUNDER, email="intruder@example.cn")
    other = app.test_client()
    login(other, intruder)
    token_page = "/apply"
    base = f"/applications/{application.id}"
    for url in (base, f"{base}/project", f"{base}/team", f"{base}/company", f"{base}/questions", f"{base}/withdraw"):
        assert other.get(url).status_code == 404, url
    for url in (f"{base}/project", f"{base}/team", f"{base}/company", f"{base}/questions", f"{base}/withdraw",
                f"{base}/submit"):
        r = post_form(other, url, {"project_name": "篡改", "confirm": "y"}, csrf_page=token_page)
        assert r.status_code == 404, url
    db.session.expire_all()
    application = db.session.get(Application, application.id)
    assert application.project_name == PROJECT["project_name"] and application.status == "draft"
    # managers' pages are not for founders
    assert other.get(f"/manage/applications/{application.id}").status_code == 403
    assert other.get("/manage/applications").status_code == 403


def test_application_post_without_csrf_is_400_and_changes_nothing(client, db, comp, founder):
    application = _complete_draft(client, db, comp, founder)
    r = client.post(f"/applications/{application.id}/project", data={**PROJECT, "project_name": "无令牌"})
    assert r.status_code == 400
    r = client.post(f"/applications/{application.id}/submit", data={})
    assert r.status_code == 400
    db.session.expire_all()
    application = db.session.get(Application, application.id)
    assert application.project_name == PROJECT["project_name"] and application.status == "draft"
    assert db.session.scalar(db.select(db.func.count(StatusChange.id))) == 1


def test_application_pages_refused_for_judges_and_anonymous(client, db, comp, make_user):
    assert client.get("/apply").status_code == 302
    login(client, make_user(Role.JUDGE))
    assert client.get("/apply").status_code == 403
    assert client.get(f"/apply/{comp.id}/new").status_code == 403


def test_application_submitted_edit_after_deadline_refused_and_typed_values_shown(client, db, comp, founder):
    application = _complete_draft(client, db, comp, founder)
    assert post_form(client, f"/applications/{application.id}/submit", {},
                     csrf_page=f"/applications/{application.id}").status_code == 302
    url = f"/applications/{application.id}/project"
    token_page = f"/applications/{application.id}"
    comp.closes_at = utcnow() - timedelta(minutes=1)
    db.session.commit()
    assert client.get(url).status_code == 302  # read-only now: back to the review page
    r = post_form(client, url, {**PROJECT, "track_id": str(comp.tracks[0].id), "project_name": "截止后才改的名字"},
                  csrf_page=token_page)
    assert r.status_code == 409 and "截止后才改的名字" in r.get_data(as_text=True)
    db.session.expire_all()
    application = db.session.get(Application, application.id)
    assert application.project_name == PROJECT["project_name"] and application.version == 1


@pytest.mark.parametrize("birth, graduated, eligible", [
    (2000, None, True),   # young enough
    (1980, 2024, True),   # older, but a recent graduate: either rule is enough
    (1980, 2010, False),
    (None, None, False),
])
def test_application_eligibility_age_or_recent_graduate(db, comp, founder, birth, graduated, eligible):
    from incubator.applications import services

    application = services.start_application(founder, comp)
    lead = application.team.lead
    lead.birth_year, lead.graduation_year = birth, graduated
    assert (services.eligibility_problems(application, year=2026) == []) is eligible
