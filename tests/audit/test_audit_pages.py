"""The audit trail pages: records from real views, manager-only access, filters, CSV, query count."""
from __future__ import annotations

import csv
import io
from datetime import datetime, timezone

import pytest

from incubator.enums import Role
from tests.conftest import post_form
from tests.sql_statements import recorded_statements, without_transaction_control


def _records(db, **where):
    from incubator.audit.models import AuditRecord

    query = db.select(AuditRecord).order_by(AuditRecord.id)
    for key, value in where.items():
        query = query.where(getattr(AuditRecord, key) == value)
    rows = db.session.scalars(query).all()
    db.session.commit()
    return rows


def test_views_leave_audit_records_shown_to_managers(client, db, make_user, login_as):
    from incubator.accounts.models import Invitation

    manager = make_user(Role.MANAGER, name="王主任", email="wang@example.cn")
    login_as(manager)
    response = post_form(client, "/manage/invitations", {"email": "judge.li@example.cn", "name": "李评委",
                                                          "roles": ["judge"]})
    assert response.status_code == 302
    invitation = db.session.scalar(db.select(Invitation).where(Invitation.email == "judge.li@example.cn"))
    response = post_form(client, f"/manage/invitations/{invitation.id}/revoke", {}, csrf_page="/manage/invitations")
    assert response.status_code == 302

    assert [r.actor_id for r in _records(db, action="user.login")] == [manager.id]
    created = _records(db, action="invitation.create")
    revoked = _records(db, action="invitation.revoke")
    assert len(created) == 1 and len(revoked) == 1
    assert created[0].target_type == "invitations" and created[0].target_id == str(invitation.id)
    assert created[0].request_id  # tied to the request that made the change

    html = client.get("/manage/audit/").get_data(as_text=True)
    assert "发送邀请" in html and "撤回邀请" in html and "登录" in html and "王主任" in html
    # Filter by object: only the invitation's records.
    html = client.get(f"/manage/audit/?target_type=invitations&target_id={invitation.id}").get_data(as_text=True)
    assert html.count('audit-row"') == 2
    # Filter by action.
    html = client.get("/manage/audit/?action=user.login").get_data(as_text=True)
    assert html.count('audit-row"') == 1


@pytest.mark.parametrize("url", ["/manage/audit/", "/manage/audit/export.csv"])
@pytest.mark.parametrize("role", [Role.FOUNDER, Role.JUDGE])
def test_audit_pages_forbidden_for_founders_and_judges(client, make_user, login_as, url, role):
    login_as(make_user(role))
    assert client.get(url).status_code == 403


@pytest.mark.parametrize("url", ["/manage/audit/", "/manage/audit/export.csv"])
def test_audit_pages_send_anonymous_to_login(client, url):
    response = client.get(url)
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def _seed(db, actors, n, when=None):
    from incubator.audit.models import AuditRecord

    for i in range(n):
        db.session.add(AuditRecord(actor_id=actors[i % len(actors)].id, action="application.submit",
                                   target_type="applications", target_id=str(i), target_label=f"智能养老项目{i}",
                                   after={"state": "submitted"},
                                   created_at=when or datetime(2026, 5, 1, 2, 0, tzinfo=timezone.utc)))
    db.session.commit()


def test_filter_by_person_and_shanghai_dates(client, db, make_user, login_as):
    from incubator.audit.models import AuditRecord

    manager = make_user(Role.MANAGER, name="管理员", email="admin@example.cn")
    alice = make_user(Role.FOUNDER, name="陈小红", email="hong@example.cn")
    bob = make_user(Role.FOUNDER, name="刘强", email="liu@example.cn")
    # 2026-05-01 23:30 UTC is 2026-05-02 07:30 in Jiaxing.
    _seed(db, [alice], 2, when=datetime(2026, 5, 1, 23, 30, tzinfo=timezone.utc))
    _seed(db, [bob], 3, when=datetime(2026, 5, 1, 12, 0, tzinfo=timezone.utc))
    login_as(manager)
    html = client.get("/manage/audit/?person=小红&action=application.submit").get_data(as_text=True)
    assert html.count('audit-row"') == 2
    html = client.get("/manage/audit/?person=LIU@EXAMPLE&action=application.submit").get_data(as_text=True)
    assert html.count('audit-row"') == 3
    html = client.get("/manage/audit/?date_from=2026-05-02&date_to=2026-05-02&action=application.submit").get_data(as_text=True)
    assert html.count('audit-row"') == 2
    html = client.get("/manage/audit/?date_to=2026-05-01&action=application.submit").get_data(as_text=True)
    assert html.count('audit-row"') == 3
    # Percent signs are searched literally, not as wildcards.
    assert client.get("/manage/audit/?person=%25").get_data(as_text=True).count('audit-row"') == 0
    assert db.session.scalar(db.select(db.func.count(AuditRecord.id))) >= 5


def test_bad_date_range_is_a_clear_400(client, make_user, login_as):
    login_as(make_user(Role.MANAGER))
    response = client.get("/manage/audit/?date_from=2026-05-03&date_to=2026-05-01")
    assert response.status_code == 400
    assert "截止日期早于起始日期" in response.get_data(as_text=True)
    response = client.get("/manage/audit/?date_from=not-a-date")
    assert response.status_code == 400


def test_csv_export_has_bom_chinese_headers_and_filtered_rows(client, db, make_user, login_as):
    manager = make_user(Role.MANAGER)
    founder = make_user(Role.FOUNDER, name="=1+2 张伟", email="zhang@example.cn")
    _seed(db, [founder], 4)
    login_as(manager)
    response = client.get("/manage/audit/export.csv?action=application.submit")
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    body = response.get_data()
    assert body.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))
    assert rows[0][:4] == ["时间（北京时间）", "操作人", "邮箱", "操作"]
    assert len(rows) == 1 + 4
    assert rows[1][0] == "2026-05-01 10:00:00"  # 02:00 UTC shown in Beijing time
    assert rows[1][1] == "'=1+2 张伟"  # formula-looking cells are defused
    assert rows[1][4] == "application.submit"
    assert "智能养老项目" in rows[1][7]


def test_csv_export_headers_follow_english_ui(client, db, make_user, login_as):
    manager = make_user(Role.MANAGER, locale="en")
    login_as(manager)
    client.set_cookie("lang", "en")
    rows = list(csv.reader(io.StringIO(client.get("/manage/audit/export.csv").get_data().decode("utf-8-sig"))))
    assert rows[0][:4] == ["Time (Beijing)", "Person", "Email", "Action"]


def _count_queries(db, client, url) -> int:
    with recorded_statements(db) as statements:
        response = client.get(url)
    assert response.status_code == 200
    return len(without_transaction_control(statements))


@pytest.mark.parametrize("url", ["/manage/audit/", "/manage/audit/export.csv"])
def test_audit_list_runs_fixed_number_of_queries(client, db, make_user, login_as, url):
    from incubator.audit.models import AuditRecord

    manager = make_user(Role.MANAGER)
    founders = [make_user(Role.FOUNDER) for _ in range(10)]
    login_as(manager)
    db.session.execute(db.delete(AuditRecord))
    db.session.commit()
    _seed(db, founders, 10)
    with_10 = _count_queries(db, client, url)
    _seed(db, founders, 40)
    with_50 = _count_queries(db, client, url)
    assert with_10 == with_50
    body = client.get(url).get_data(as_text=True)
    assert body.count("智能养老项目") == 50


def _recorded_action_codes() -> set[str]:
    """Every action code the platform's code records: literals passed to record()/record_now(), given
    as an `action` (argument, default or fallback), and the set-up items' f"{table}.reorder" and
    f"{table}.delete"."""
    import re
    from pathlib import Path

    import incubator
    from incubator.competitions.models import CustomQuestion, Criterion, Round, Track

    code = r'"([a-z_]+\.[a-z_.]+)"'
    patterns = [re.compile(r"\brecord(?:_now)?\((?:[^,()]|\([^()]*\))+,\s*" + code),  # record(actor, "x.y"
                re.compile(r"\baction(?::\s*str)?\s*=\s*" + code),  # action = "x.y", action: str = "x.y"
                re.compile(r"\baction\s*=\s*" + code + r"\s+if\b[^\n]*else\s+" + code),
                re.compile(r"\baction or\s+" + code)]
    found = set()
    for path in Path(incubator.__file__).parent.rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        for pattern in patterns:
            for match in pattern.finditer(text):
                found.update(g for g in match.groups() if g)
    for model in (Track, Round, Criterion, CustomQuestion):
        found.update({f"{model.__tablename__}.reorder", f"{model.__tablename__}.delete"})
    return found


def test_every_recorded_action_has_a_readable_name_in_both_languages(app):
    from flask_babel import force_locale

    from incubator.audit.views import ACTION_LABELS, action_label

    codes = _recorded_action_codes()
    assert {"judging.score.submit", "judging.score.draft", "spaces.lease_ended_early", "criteria.delete"} <= codes
    assert codes - ACTION_LABELS.keys() == set()
    with app.test_request_context():
        with force_locale("en"):
            english = {c: action_label(c) for c in codes}
        with force_locale("zh_CN"):
            chinese = {c: action_label(c) for c in codes}
    assert english["spaces.lease_moved"] == "Team moved to other spaces" and chinese["spaces.lease_moved"] == "调换工位"
    assert {c for c in codes if chinese[c] == english[c]} == set()  # every name translated


def test_audit_rows_name_their_object_by_its_table_so_an_objects_history_is_whole(app):
    """Hand-made target types (record(..., ("kind", id))) are table names too, or "job": an object's
    history (the audit page filtered by type and id) then holds every row about it. Each has a name."""
    import re
    from pathlib import Path

    import incubator
    from incubator.audit.views import TARGET_LABELS
    from incubator.extensions import db

    kinds = set()
    for path in Path(incubator.__file__).parent.rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        kinds.update(re.findall(r'\brecord(?:_now)?\((?:[^,()]|\([^()]*\))+,\s*"[a-z_.]+",\s*\("([a-z_]+)"', text))
        kinds.update(re.findall(r'\bwith_audit_row\([^,]+,\s*"([a-z_]+)"\)', text))
    assert {"scores", "teams", "outbox_messages", "job"} <= kinds
    tables = set(db.metadata.tables) | {"job"}
    assert kinds - tables == set() and TARGET_LABELS.keys() - tables == set() and kinds <= TARGET_LABELS.keys()
