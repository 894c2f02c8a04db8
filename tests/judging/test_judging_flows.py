"""Judging through the views: access matrix, blind rounds, scoring window, versions, automatic
assignment with undo, conflicts, rankings, advancement, publication, reminders."""
from __future__ import annotations

import csv
import io
import os
from datetime import timedelta
from decimal import Decimal

import pytest

from tests.conftest import csrf_from
from tests.judging.pages import client_for, jpost, mpost
from tests.sql_statements import recorded_statements


def post(c, url, data=None, page=None):
    token = csrf_from(c, page or "/judging/" if page is None else page)
    return c.post(url, data={**(data or {}), "csrf_token": token})


def crit_ids(rnd):
    return [c.id for c in rnd.criteria]


def one_assignment(world, db):
    """An open round with the default two-criterion rubric, one judge assigned one entry, committed."""
    return world.one_assignment()


# --- pure helpers --------------------------------------------------------------------------------

def test_normalize_organization_equates_spacing_width_case_and_legal_suffix():
    from incubator.judging.models import normalize_organization as n

    assert n("浙江大学") == n(" 浙江 大学 ") == n("浙江大学。")
    assert n("嘉兴南湖科技有限公司") == n("嘉兴南湖科技") == n("嘉兴南湖科技股份有限公司")
    assert n("Alibaba Co., Ltd.") == n("ALIBABA") == n("Ａｌｉｂａｂａ")
    assert n("浙江大学") != n("浙江工业大学")
    assert n("") == n(None) == n("  ，。") == ""


# --- conflicts and assignment --------------------------------------------------------------------

def test_auto_assign_never_assigns_automatic_or_declared_conflicts(app, db, world, make_user):
    from incubator.judging import services

    comp = world.competition(judges_per_entry=2)
    rnd = comp.rounds[0]
    a1 = world.entry(comp, 0, school="浙江 大学")
    a2 = world.entry(comp, 1, company="嘉兴南湖科技有限公司")
    a3 = world.entry(comp, 0)
    j_zju = world.judge("浙江大学")  # automatic conflict with a1 (normalized)
    j_co = world.judge("")
    j3 = world.judge("")
    j4 = world.judge("")
    services.declare_conflict(j_co, organization="嘉兴南湖科技", reason="前雇主")  # declared org conflict with a2
    services.declare_conflict(j3, application=a3, reason="亲属")
    db.session.commit()
    _batch, n = services.apply_auto_assign(None, rnd)
    db.session.commit()
    pairs = {(a.judge_id, a.application_id) for a in services.active_assignments(rnd)}
    assert n == 6 and len(pairs) == 6
    assert (j_zju.id, a1.id) not in pairs and (j_co.id, a2.id) not in pairs and (j3.id, a3.id) not in pairs
    # manual assignment of a conflicted judge is refused too
    result = services.assign_manual(None, rnd, j_zju, [a1])
    assert result["conflicted"] == 1 and result["added"] == 0
    assert j4.id in {j for j, _ in pairs}


def test_auto_assign_through_view_applies_and_undo_restores(app, db, world, make_user, smtp):
    from incubator.judging.models import Assignment
    from incubator.notifications.models import OutboxMessage

    comp = world.competition(judges_per_entry=2)
    rnd = comp.rounds[0]
    entries = [world.entry(comp, i % 2) for i in range(4)]
    judges = [world.judge(tracks=[comp.tracks[i % 2]]) for i in range(3)]
    manual = world.assign(rnd, judges[0], entries[0])
    manager = make_user("manager", email="m@example.cn")
    db.session.commit()
    c = client_for(app, manager)
    page = c.get(f"/manage/judging/rounds/{rnd.id}/auto").get_data(as_text=True)
    assert "7" in page and 'id="apply-auto"' in page  # 4 entries x 2 - 1 manual = 7 new
    r = mpost(c, f"/manage/judging/rounds/{rnd.id}/auto/apply")
    assert r.status_code == 302
    db.session.expire_all()
    rows = db.session.scalars(db.select(Assignment).where(Assignment.round_id == rnd.id)).all()
    assert len(rows) == 8 and sum(1 for a in rows if a.source == "auto") == 7
    loads = sorted(sum(1 for a in rows if a.judge_id == j.id) for j in judges)
    assert loads[-1] - loads[0] <= 1
    assert db.session.scalar(db.select(db.func.count(OutboxMessage.id))) == 3  # each judge mailed once
    r = mpost(c, f"/manage/judging/rounds/{rnd.id}/auto/undo")
    assert r.status_code == 302
    db.session.expire_all()
    rows = db.session.scalars(db.select(Assignment).where(Assignment.round_id == rnd.id)).all()
    assert [a.id for a in rows] == [manual.id]


def test_auto_assign_infeasible_names_the_entries_lacking_judges(app, db, world, make_user):
    comp = world.competition(judges_per_entry=2)
    rnd = comp.rounds[0]
    ok = world.entry(comp, 0)
    bad = world.entry(comp, 0, school="嘉兴学院", project="缺评委的项目")
    world.judge("嘉兴学院")
    world.judge("")
    manager = make_user("manager", email="m@example.cn")
    db.session.commit()
    c = client_for(app, manager)
    page = c.get(f"/manage/judging/rounds/{rnd.id}/auto").get_data(as_text=True)
    assert 'id="infeasible"' in page and f"#{bad.id} 缺评委的项目" in page and f"#{ok.id} " not in page
    r = mpost(c, f"/manage/judging/rounds/{rnd.id}/auto/apply")
    assert r.status_code == 302
    from incubator.judging.models import Assignment
    assert db.session.scalar(db.select(db.func.count(Assignment.id))) == 0


# --- access matrix for judges --------------------------------------------------------------------

def test_judge_urls_answer_404_for_entries_not_assigned_or_conflicted(app, db, world):
    from incubator.judging import services

    comp = world.competition()
    rnd = comp.rounds[0]
    mine, theirs, conflicted = world.entry(comp), world.entry(comp), world.entry(comp)
    me, other = world.judge(), world.judge()
    a_mine = world.assign(rnd, me, mine)
    a_theirs = world.assign(rnd, other, theirs)
    a_conf = world.assign(rnd, me, conflicted)
    db.session.commit()
    services.declare_conflict(me, application=conflicted, reason="合作关系")  # also withdraws the assignment
    db.session.commit()
    c = client_for(app, me)
    assert c.get(f"/judging/assignments/{a_mine.id}").status_code == 200
    for aid in (a_theirs.id, a_conf.id, 999999):
        assert c.get(f"/judging/assignments/{aid}").status_code == 404
        assert jpost(c, f"/judging/assignments/{aid}", {"version": 0, "action": "draft"}).status_code == 404
        assert jpost(c, f"/judging/assignments/{aid}/recuse", {"reason": "x"}).status_code == 404
    queue = c.get("/judging/").get_data(as_text=True)
    assert mine.project_name in queue and theirs.project_name not in queue and conflicted.project_name not in queue
    assert services.can_view_deck(me, mine) and not services.can_view_deck(me, theirs)
    assert not services.can_view_deck(me, conflicted)
    assert c.get(f"/manage/judging/rounds/{rnd.id}").status_code == 403


def test_score_post_answers_404_for_organisation_conflicts_of_any_member_or_the_company(app, db, world):
    """The scoring POST loads columns, not the team: the automatic conflicts must still cover every
    member's school or employer (not only the lead's) and the company, and an entry without
    conflicts still saves."""
    from incubator.applications.models import TeamMember
    from incubator.judging.models import Score

    comp = world.competition()
    rnd = comp.rounds[0]
    by_member = world.entry(comp, school="清华大学")
    by_member.team.members.append(TeamMember(name="成员", school_or_employer="浙江 大学", position=1))
    by_company = world.entry(comp, school="复旦大学", company="嘉兴南湖科技有限公司")
    clean = world.entry(comp, school="复旦大学")
    db.session.flush()
    zju, company_judge = world.judge(organization="浙江大学"), world.judge(organization="嘉兴南湖科技")
    a_member = world.assign(rnd, zju, by_member)
    a_company = world.assign(rnd, company_judge, by_company)
    a_clean = world.assign(rnd, zju, clean)
    # Conflict rows written directly (declare_conflict would also withdraw the assignments): the
    # POST's own check must refuse them, on the entry and on a declared organisation.
    from incubator.judging.models import JudgeConflict

    declared, on_entry = world.judge(), world.judge()
    a_declared = world.assign(rnd, declared, clean)
    a_on_entry = world.assign(rnd, on_entry, clean)
    db.session.add_all([JudgeConflict(judge_id=declared.id, organization="其他", organization_key="其他"),
                        JudgeConflict(judge_id=declared.id, organization="复旦 大学", organization_key="复旦大学"),
                        # (a conflict declared on the entry; an automatic row only records an
                        # organisation match, which the checks recompute: see test_edge_cases)
                        JudgeConflict(judge_id=on_entry.id, application_id=clean.id, source="declared")])
    db.session.commit()
    c1, c2 = crit_ids(rnd)
    data = {"version": 0, "action": "submit", f"c{c1}": "8", f"c{c2}": "7"}
    assert jpost(client_for(app, zju), f"/judging/assignments/{a_member.id}", data).status_code == 404
    assert jpost(client_for(app, company_judge), f"/judging/assignments/{a_company.id}", data).status_code == 404
    assert jpost(client_for(app, declared), f"/judging/assignments/{a_declared.id}", data).status_code == 404
    assert jpost(client_for(app, on_entry), f"/judging/assignments/{a_on_entry.id}", data).status_code == 404
    assert jpost(client_for(app, zju), f"/judging/assignments/{a_clean.id}", data).status_code == 302
    db.session.expire_all()
    assert [s.assignment_id for s in db.session.scalars(db.select(Score))] == [a_clean.id]


def test_can_view_deck_false_after_recusal_and_for_founders(app, db, world, make_user):
    from incubator.judging import services

    comp = world.competition()
    rnd = comp.rounds[0]
    app_ = world.entry(comp)
    judge = world.judge()
    a = world.assign(rnd, judge, app_)
    db.session.commit()
    assert services.can_view_deck(judge, app_)
    services.recuse(judge, a, "曾指导该团队")
    assert not services.can_view_deck(judge, app_)
    assert not services.can_view_deck(make_user("founder"), app_)
    assert services.can_view_deck(make_user("manager"), app_)


def test_blind_round_hides_team_identity_on_every_judge_page_and_export(app, db, world):
    comp = world.competition(blind=True)
    rnd = comp.rounds[0]
    entry = world.entry(comp, school="秘密大学", company="隐身科技有限公司", team="隐身团队", project="隐身项目")
    judge = world.judge()
    a = world.assign(rnd, judge, entry)
    db.session.commit()
    c = client_for(app, judge)
    pages = [c.get("/judging/"), c.get(f"/judging/assignments/{a.id}"),
             c.get(f"/judging/rounds/{rnd.id}/my-scores.csv")]
    xlsx = c.get(f"/judging/rounds/{rnd.id}/my-scores.xlsx")
    assert xlsx.status_code == 200
    from openpyxl import load_workbook

    cells = " ".join(str(v) for row in load_workbook(io.BytesIO(xlsx.data), read_only=True).worksheets[0]
                     .iter_rows(values_only=True) for v in row if v is not None)
    for r in pages:
        assert r.status_code == 200
        body = r.get_data(as_text=True)
        for secret in ("秘密大学", "隐身科技", "隐身团队", "隐身项目", "队长"):
            assert secret not in body and secret not in cells
    assert f"#{entry.id}" in pages[1].get_data(as_text=True) and f"#{entry.id}" in cells


# --- scoring -------------------------------------------------------------------------------------

def test_scoring_outside_window_is_read_only(app, db, world):
    from incubator.judging.models import Score

    comp = world.competition(open_=False)
    rnd = comp.rounds[0]
    judge = world.judge()
    a = world.assign(rnd, judge, world.entry(comp))
    db.session.commit()
    c = client_for(app, judge)
    page = c.get(f"/judging/assignments/{a.id}").get_data(as_text=True)
    assert "read-only" in page or "只读" in page
    assert 'id="submit-score"' not in page
    c1, c2 = crit_ids(rnd)
    r = jpost(c, f"/judging/assignments/{a.id}", {"version": 0, "action": "submit", f"c{c1}": "8", f"c{c2}": "7"})
    assert r.status_code == 403
    assert db.session.scalar(db.select(db.func.count(Score.id))) == 0


def test_score_draft_then_submit_locks_and_stale_tab_gets_conflict(app, db, world, make_user):
    from incubator.judging.models import Score

    rnd, judge, a = one_assignment(world, db)
    c = client_for(app, judge)
    c1, c2 = crit_ids(rnd)
    url = f"/judging/assignments/{a.id}"
    r = jpost(c, url, {"version": 0, "action": "draft", f"c{c1}": "7.5", f"c{c2}": ""})
    assert r.status_code == 302
    # a second tab still built from version 0 must not overwrite the draft
    r = jpost(c, url, {"version": 0, "action": "draft", f"c{c1}": "1", f"c{c2}": "1"})
    assert r.status_code == 409
    assert "reload" in r.get_data(as_text=True).lower() or "重新加载" in r.get_data(as_text=True)
    db.session.expire_all()
    s = db.session.scalar(db.select(Score))
    assert s.values == {str(c1): 7.5} and s.version == 1
    # bad values get a clear 400
    r = jpost(c, url, {"version": 1, "action": "submit", f"c{c1}": "7.3", f"c{c2}": "8"})
    assert r.status_code == 400
    r = jpost(c, url, {"version": 1, "action": "submit", f"c{c1}": "11", f"c{c2}": "8"})
    assert r.status_code == 400
    r = jpost(c, url, {"version": 1, "action": "submit", f"c{c1}": "7.5", f"c{c2}": "8", "feedback_to_team": "很好"})
    assert r.status_code == 302
    db.session.expire_all()
    s = db.session.scalar(db.select(Score))
    assert s.status == "submitted" and s.version == 2 and s.total == pytest.approx((0.6 * 0.75 + 0.4 * 0.8) * 100)
    r = jpost(c, url, {"version": 2, "action": "draft", f"c{c1}": "1", f"c{c2}": "1"})
    assert r.status_code == 409
    manager = make_user("manager", email="m@example.cn")
    m = client_for(app, manager)
    assert mpost(m, f"/manage/judging/scores/{s.id}/reopen").status_code == 302
    db.session.expire_all()
    assert db.session.get(Score, s.id).status == "draft"
    # The score's history in the audit trail: the judge's saves and the manager's reopening, by name.
    history = m.get(f"/manage/audit/?target_type=scores&target_id={s.id}").get_data(as_text=True)
    assert all(name in history for name in ("保存评分草稿", "提交评分", "重新开放评分", ">得分 #"))


def test_score_post_validates_against_the_rubric_as_changed_a_moment_ago(app, db, world):
    """The scoring POST keeps each round's rubric per process (services._scoring_rubric); a change to
    criteria, through the ORM or raw SQL, must reach the very next POST."""
    import sqlalchemy as sa

    from incubator.competitions.models import Criterion

    rnd, judge, a = one_assignment(world, db)
    c = client_for(app, judge)
    c1, c2 = crit_ids(rnd)
    url = f"/judging/assignments/{a.id}"
    assert jpost(c, url, {"version": 0, "action": "draft", f"c{c1}": "9", f"c{c2}": ""}).status_code == 302
    db.session.get(Criterion, c1).max_score = 5  # ORM write
    db.session.commit()
    r = jpost(c, url, {"version": 1, "action": "draft", f"c{c1}": "9", f"c{c2}": ""})
    assert r.status_code == 400 and "5" in r.get_data(as_text=True)
    db.session.execute(sa.text("UPDATE criteria SET step = 2 WHERE id = :id"), {"id": c2})  # raw SQL write
    db.session.commit()
    r = jpost(c, url, {"version": 1, "action": "draft", f"c{c1}": "4.5", f"c{c2}": "3"})
    assert r.status_code == 400
    assert jpost(c, url, {"version": 1, "action": "draft", f"c{c1}": "4.5", f"c{c2}": "4"}).status_code == 302


def test_score_submit_writes_its_audit_row_with_it_or_nothing(app, db, world, monkeypatch):
    """The submit's score and audit rows: one statement on PostgreSQL (the request runs without a
    transaction), two Core statements in one transaction on SQLite. Both or neither are written."""
    from incubator.audit.models import AuditRecord
    from incubator.judging import services
    from incubator.judging.models import Score

    rnd, judge, a = one_assignment(world, db)
    c = client_for(app, judge)
    c1, c2 = crit_ids(rnd)
    url = f"/judging/assignments/{a.id}"
    data = {"version": 0, "action": "submit", f"c{c1}": "7.5", f"c{c2}": "8"}
    token = csrf_from(c, "/judging/")

    if db.engine.dialect.name == "postgresql":
        real = services.audit_parameters

        def failing_audit(*args, **kwargs):  # an audit row the database refuses (action is varchar(64))
            return {**real(*args, **kwargs), "audit_action": "x" * 65}
        monkeypatch.setattr(services, "audit_parameters", failing_audit)
    else:
        def failing_audit(*args, **kwargs):
            raise RuntimeError("audit store down")
        monkeypatch.setattr(services, "record_now", failing_audit)
    app.config["PROPAGATE_EXCEPTIONS"] = False
    assert c.post(url, data={**data, "csrf_token": token}).status_code == 500
    db.session.expire_all()
    assert db.session.scalar(db.select(db.func.count(Score.id))) == 0
    monkeypatch.undo()
    r = c.post(url, data={**data, "csrf_token": token})
    assert r.status_code == 302
    db.session.expire_all()
    score = db.session.scalar(db.select(Score))
    row = db.session.scalar(db.select(AuditRecord).where(AuditRecord.action == "judging.score.submit"))
    assert row.actor_id == judge.id and row.target_id == str(score.id)
    assert row.after == {"assignment_id": a.id, "values": {str(c1): 7.5, str(c2): 8.0}, "total": score.total}
    assert row.request_id == r.headers["X-Request-ID"]


@pytest.mark.skipif(os.environ.get("TEST_BACKEND") != "postgresql", reason="autocommit requests are PostgreSQL's")
@pytest.mark.parametrize("lane", [True, False])
def test_score_submit_on_postgresql_is_two_statements_without_a_transaction(app, db, world, monkeypatch, lane):
    """The target with the login (submit lane), then one WITH statement writing score and audit
    row; psycopg sends no BEGIN or COMMIT in autocommit. The rubric comes from the process cache
    from the second submit on. Without the lane, the user's query comes first: three statements.
    (Seen by psycopg's cursor: the lane runs its statements on the driver's connection.)"""
    import psycopg
    from flask import Flask

    if not lane:
        monkeypatch.setattr(app, "wsgi_app", Flask.wsgi_app.__get__(app))

    comp = world.competition()
    rnd = comp.rounds[0]
    judge = world.judge()
    entries = [world.assign(rnd, judge, world.entry(comp)).id for _ in range(2)]
    c1, c2 = crit_ids(rnd)
    db.session.commit()
    c = client_for(app, judge)
    token = csrf_from(c, "/judging/")
    seen = []
    execute = psycopg.Cursor.execute

    def spy(cursor, query, *args, **kwargs):
        seen.append((str(query).split()[0].upper(), cursor.connection.autocommit))
        return execute(cursor, query, *args, **kwargs)

    monkeypatch.setattr(psycopg.Cursor, "execute", spy)
    for assignment_id in entries:
        seen.clear()
        r = c.post(f"/judging/assignments/{assignment_id}", data={"version": 0, "action": "submit", f"c{c1}": "7",
                                                         f"c{c2}": "8", "csrf_token": token})
        assert r.status_code == 302
    monkeypatch.undo()
    assert seen == [("SELECT", True)] * (1 if lane else 2) + [("WITH", True)], seen


@pytest.mark.skipif(os.environ.get("TEST_BACKEND") != "postgresql", reason="autocommit requests are PostgreSQL's")
def test_a_second_write_in_a_one_statement_post_is_refused_before_it_runs(app, db, world, monkeypatch):
    import logging

    from incubator.judging import services
    from incubator.judging.models import Score

    rnd, judge, a = one_assignment(world, db)
    real = services.save_score

    def save_and_write_again(*args, **kwargs):
        score_id = real(*args, **kwargs)
        db.session.execute(db.text("UPDATE scores SET comment_to_organizers = 'second write' WHERE id = :id"),
                           {"id": score_id})
        return score_id

    monkeypatch.setattr(services, "save_score", save_and_write_again)
    app.config["PROPAGATE_EXCEPTIONS"] = False
    c = client_for(app, judge)
    c1, c2 = crit_ids(rnd)
    logging.disable(logging.ERROR)  # the 500 is logged on purpose
    try:
        r = jpost(c, f"/judging/assignments/{a.id}", {"version": 0, "action": "submit", f"c{c1}": "7", f"c{c2}": "8"})
    finally:
        logging.disable(logging.NOTSET)
    assert r.status_code == 500
    db.session.expire_all()
    score = db.session.scalar(db.select(Score))
    assert score.status == "submitted" and score.comment_to_organizers == ""  # the one statement, alone


def test_recusal_notifies_managers_and_entry_shows_short_of_judges(app, db, world, make_user):
    from incubator.notifications.models import Notice

    comp = world.competition(judges_per_entry=1)
    rnd = comp.rounds[0]
    entry = world.entry(comp, project="回避项目")
    judge = world.judge()
    a = world.assign(rnd, judge, entry)
    manager = make_user("manager", email="m@example.cn")
    db.session.commit()
    c = client_for(app, judge)
    r = jpost(c, f"/judging/assignments/{a.id}/recuse", {"reason": "我曾投资该团队"})
    assert r.status_code == 302
    assert db.session.scalar(db.select(db.func.count(Notice.id)).where(Notice.user_id == manager.id)) == 1
    m = client_for(app, manager)
    page = m.get(f"/manage/judging/rounds/{rnd.id}").get_data(as_text=True)
    short = page.split('id="short-entries"')[1].split("</ul>")[0]
    assert "回避项目" in short
    assert c.get(f"/judging/assignments/{a.id}").status_code == 404


# --- rankings, advancement, publication ----------------------------------------------------------

def _hand_example(world, db):
    comp = world.competition(judges_per_entry=2, advancement=("top_n_per_track", 1))
    rnd = comp.rounds[0]
    e1, e2, e3 = world.entry(comp, 0, project="甲"), world.entry(comp, 0, project="乙"), world.entry(comp, 1, project="丙")
    j1, j2 = world.judge(), world.judge()
    c1, c2 = crit_ids(rnd)
    # weights 60/40, max 10: total = 6*v1 + 4*v2
    world.score(world.assign(rnd, j1, e1), {c1: 9, c2: 8}, feedback="技术扎实")  # 86
    world.score(world.assign(rnd, j2, e1), {c1: 7, c2: 6})  # 66 -> mean 76
    world.score(world.assign(rnd, j1, e2), {c1: 8, c2: 7})  # 76
    world.score(world.assign(rnd, j2, e2), {c1: 8, c2: 7})  # 76 -> mean 76, ties e1 on total; top criterion 8 = 8 ...
    world.score(world.assign(rnd, j1, e3), {c1: 5, c2: 5})  # 50
    world.score(world.assign(rnd, j2, e3), {c1: 6, c2: 4}, status="draft")  # drafts never count
    db.session.commit()
    return comp, rnd, (e1, e2, e3)


def test_cached_ranking_follows_every_change_it_is_computed_from(app, db, world, make_user):
    """compute_ranking keeps rankings and entry rows per process, keyed by data versions; each kind
    of change below must show in the very next ranking, without a request in between."""
    import sqlalchemy as sa

    from incubator.judging import services
    from incubator.judging.models import Assignment, Score

    comp, rnd, (e1, e2, e3) = _hand_example(world, db)
    c1, c2 = (str(i) for i in crit_ids(rnd))

    def ranking():
        db.session.expire_all()
        return services.compute_ranking(db.session.get(type(rnd), rnd.id))

    def mean_of(entry):
        return ranking().reports[entry.id].aggregated

    assert mean_of(e3) == 50
    assert ranking().reports is ranking().reports  # from the cache while nothing changes
    draft = db.session.scalar(sa.select(Score).where(Score.status == "draft"))
    draft.status, draft.submitted_at = "submitted", draft.updated_at  # a score submitted (ORM)
    db.session.commit()
    assert ranking().reports[e3.id].n_scores == 2 and mean_of(e3) == (50 + 52) / 2  # 6*6 + 4*4 = 52
    db.session.execute(sa.text("UPDATE scores SET status = 'draft', submitted_at = NULL WHERE id = :id"),
                       {"id": draft.id})  # raw SQL
    db.session.commit()
    assert mean_of(e3) == 50
    a = db.session.scalar(sa.select(Assignment).where(Assignment.application_id == e3.id,
                                                      Assignment.id != draft.assignment_id))
    a.recused_at, a.recusal_reason = a.created_at, "利益冲突"  # the only submitted score of e3 no longer counts
    db.session.commit()
    assert mean_of(e3) is None and e3.id in ranking().overall.unscored
    from incubator.competitions.services import update_criterion
    from incubator.enums import Role

    # A rubric change re-totals every sheet in its transaction: e1 = (4*9 + 4*8) / 8 * 10 ...
    update_criterion(make_user(Role.MANAGER), rnd.criteria[0], weight=40)
    db.session.commit()
    assert mean_of(e1) == ((40 * 0.9 + 40 * 0.8) / 80 * 100 + (40 * 0.7 + 40 * 0.6) / 80 * 100) / 2
    e1.project_name = "甲改名"  # entries come from their own cache, keyed by the applications scope
    db.session.commit()
    assert ranking().entries[e1.id].project_name == "甲改名"


def test_kept_sheets_follow_hand_edits_and_removals_and_equal_a_ranking_from_nothing(app, db, world, make_user):
    """After a new score only changed sheets are read (judging/sheets.py: bucket sums on PostgreSQL,
    every sheet compared on SQLite). A sheet edited by hand in SQL (its values and total, as the
    platform writes them), a removed assignment and a new judge's score each show in the next
    ranking, which equals one computed with no cache at all."""
    import sqlalchemy as sa

    from incubator.judging import services
    from incubator.judging.models import Assignment, Score

    comp, rnd, (e1, e2, e3) = _hand_example(world, db)
    c1, c2 = (str(i) for i in crit_ids(rnd))

    def ranking():
        db.session.expire_all()
        return services.compute_ranking(db.session.get(type(rnd), rnd.id))

    def from_nothing():
        services.clear_ranking_caches()
        return ranking()

    def kept_sheets():
        (only,) = services._SHEETS_CACHE.values()
        return only

    assert from_nothing().reports[e1.id].aggregated == 76
    kept = kept_sheets()
    e1_sheet = db.session.scalar(sa.select(Score).join(Assignment).where(Assignment.application_id == e1.id)
                                 .order_by(Score.id))
    db.session.execute(sa.update(Score.__table__).where(Score.__table__.c.id == e1_sheet.id)
                       .values(values={c1: 10, c2: 10}, total=100.0))  # 86 -> 100, in SQL (no ORM, no version bump)
    db.session.commit()
    assert ranking().reports[e1.id].aggregated == (100 + 66) / 2
    assert kept_sheets() is kept  # brought up to date, not rebuilt
    db.session.execute(sa.delete(Assignment).where(Assignment.id == e1_sheet.assignment_id))  # score cascades
    db.session.commit()
    assert ranking().reports[e1.id].n_scores == 1 and ranking().reports[e1.id].aggregated == 66
    world.score(world.assign(rnd, world.judge(), e3), {c1: 10, c2: 0})  # a third judge: 60
    db.session.commit()
    assert ranking().reports[e3.id].totals == (50.0, 60.0)
    e2.project_name = "乙改名"  # who is ranked did not change: the sheets are kept, the name is new
    db.session.commit()
    with recorded_statements(db) as statements:
        assert ranking().entries[e2.id].project_name == "乙改名"
    assert kept_sheets() is kept
    assert not [s for s in statements if "scores" in s]  # no score was written: the sheets are not asked for
    e2.track_id = e3.track_id  # an entry changes track: the kept sheets start over
    db.session.commit()
    assert ranking().reports[e2.id].track == e3.track_id
    assert kept_sheets() is not kept
    kept_result = ranking()
    fresh = from_nothing()
    assert fresh.reports == kept_result.reports and fresh.overall == kept_result.overall
    assert fresh.per_track == kept_result.per_track


def test_rubric_fixed_once_a_score_is_submitted_weights_may_still_change(app, db, world, make_user):
    """A criterion added after judges submitted would have no value in their sheets (the ranking
    could not total them); a removed one or a new maximum would change every total silently. So
    the manager is told no, nothing changes, and the rankings page still works; re-weighting stays
    possible. Drafts alone do not fix the rubric."""
    from incubator.competitions.models import Criterion
    from tests.conftest import post_form

    comp = world.competition()
    rnd = comp.rounds[0]
    entry, judge = world.entry(comp), world.judge()
    a = world.assign(rnd, judge, entry)
    c1, c2 = crit_ids(rnd)
    score = world.score(a, {c1: 8, c2: 6}, status="draft")
    db.session.commit()
    cid, rid = comp.id, rnd.id
    m = client_for(app, make_user("manager", email="m@example.cn"))
    new_url = f"/manage/competitions/{cid}/rounds/{rid}/criteria/new"
    criterion = {"name_zh": "团队", "weight": "10", "max_score": "10", "step": "1"}
    assert post_form(m, new_url, criterion).status_code == 302  # only a draft so far
    added_id = db.session.scalar(db.select(Criterion.id).where(Criterion.name_zh == "团队"))
    r = post_form(m, f"/manage/competitions/{cid}/criteria/{added_id}/delete", {},
                  csrf_page=f"/manage/competitions/{cid}/rounds/{rid}")
    db.session.expire_all()
    assert r.status_code == 302 and db.session.get(Criterion, added_id) is None

    score.status, score.submitted_at = "submitted", score.updated_at
    db.session.commit()
    r = post_form(m, new_url, {**criterion, "name_zh": "路演"})
    assert r.status_code == 409 and "已有评委提交评分" in r.get_data(as_text=True)
    edit_url = f"/manage/competitions/{cid}/criteria/{c1}/edit"
    r = post_form(m, edit_url, {"name_zh": "创新", "weight": "60", "max_score": "5", "step": "0.5"})
    assert r.status_code == 409 and "已有评委提交评分" in r.get_data(as_text=True)
    r = post_form(m, f"/manage/competitions/{cid}/criteria/{c2}/delete", {},
                  csrf_page=f"/manage/competitions/{cid}/rounds/{rid}", follow_redirects=True)
    assert "已有评委提交评分" in r.get_data(as_text=True)
    db.session.expire_all()
    assert [(c.name_zh, c.max_score) for c in db.session.get(type(rnd), rid).criteria] == [
        ("创新", Decimal(10)), ("市场", Decimal(10))]
    r = post_form(m, edit_url, {"name_zh": "技术创新", "weight": "30", "max_score": "10", "step": "1"})
    assert r.status_code == 302  # re-weighting and rewording remain possible
    page = m.get(f"/manage/judging/rounds/{rid}/rankings")
    assert page.status_code == 200 and f'data-entry="{entry.id}" data-rank="1"' in page.get_data(as_text=True)


def test_rankings_export_flags_disagreement_in_the_managers_language(app, db, world, make_user):
    comp = world.competition()
    rnd = comp.rounds[0]
    entry = world.entry(comp)
    c1, c2 = crit_ids(rnd)
    world.score(world.assign(rnd, world.judge(), entry), {c1: 10, c2: 10})  # 100
    world.score(world.assign(rnd, world.judge(), entry), {c1: 5, c2: 5})  # 50: range 50 > 30
    db.session.commit()
    m = client_for(app, make_user("manager", email="m@example.cn"))
    url = f"/manage/judging/rounds/{rnd.id}/export/rankings.csv"
    row = list(csv.reader(io.StringIO(m.get(url).get_data(as_text=True).lstrip("\ufeff"))))[1]
    assert row[2] == str(entry.id) and row[-1] == "是"


def test_per_judge_export_gives_each_judges_load_and_how_they_score(app, db, world, make_user):
    comp = world.competition()
    rnd = comp.rounds[0]
    e1, e2 = world.entry(comp), world.entry(comp)
    c1, c2 = crit_ids(rnd)
    harsh, idle = world.judge(), world.judge()
    world.score(world.assign(rnd, harsh, e1), {c1: 10, c2: 10})  # 100
    world.score(world.assign(rnd, harsh, e2), {c1: 5, c2: 5})  # 50
    world.score(world.assign(rnd, idle, e1), {c1: 1, c2: 1}, status="draft")  # a draft does not count
    db.session.commit()
    m = client_for(app, make_user("manager", email="m@example.cn"))
    text = m.get(f"/manage/judging/rounds/{rnd.id}/export/judges.csv").get_data(as_text=True)
    header, *rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))
    assert header[:4] == ["评委", "邮箱", "已分配", "已提交"]
    by_email = {r[1]: r[2:] for r in rows}
    assert by_email[harsh.email] == ["2", "2", "75.0", "25.0", "50.0", "100.0"]
    assert by_email[idle.email] == ["1", "0", "", "", "", ""]
    xlsx = m.get(f"/manage/judging/rounds/{rnd.id}/export/judges.xlsx")
    assert xlsx.status_code == 200 and xlsx.data[:2] == b"PK"
    assert m.get(f"/manage/judging/rounds/{rnd.id}/export/nothing.csv").status_code == 404


def test_judging_exports_defuse_a_team_named_like_a_formula(app, db, world, make_user):
    """The rankings and scores exports, CSV and XLSX, write a project whose name starts with a tab
    and a team whose name starts with "=" as text (the judging export once checked only = + - @)."""
    comp = world.competition()
    rnd = comp.rounds[0]
    entry = world.entry(comp, project="\t=cmd|' /C calc'!A0", team="=HYPERLINK(\"http://evil\")")
    c1, c2 = crit_ids(rnd)
    world.score(world.assign(rnd, world.judge(), entry), {c1: 8, c2: 6})
    db.session.commit()
    m = client_for(app, make_user("manager", email="m@example.cn"))
    base = f"/manage/judging/rounds/{rnd.id}/export"
    for kind in ("rankings", "scores"):
        response = m.get(f"{base}/{kind}.csv")
        assert response.status_code == 200 and response.mimetype == "text/csv"
        rows = list(csv.reader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))
        assert "'\t=cmd|' /C calc'!A0" in rows[1] and "'=HYPERLINK(\"http://evil\")" in rows[1]
        xlsx = m.get(f"{base}/{kind}.xlsx")
        from openpyxl import load_workbook

        sheet = load_workbook(io.BytesIO(xlsx.data), read_only=True).worksheets[0]
        cells = [list(r) for r in sheet.iter_rows(values_only=True)][1]
        assert "'=HYPERLINK(\"http://evil\")" in cells and not any(str(c).startswith("=") for c in cells if c)


def test_ranking_page_matches_ranking_module_on_hand_example(app, db, world, make_user):
    from incubator.judging import ranking

    comp, rnd, (e1, e2, e3) = _hand_example(world, db)
    c1, c2 = (str(i) for i in crit_ids(rnd))
    rubric = [ranking.Criterion(c1, 60, 10), ranking.Criterion(c2, 40, 10)]
    scores = [ranking.Score(e1.id, 1, {c1: 9, c2: 8}), ranking.Score(e1.id, 2, {c1: 7, c2: 6}),
              ranking.Score(e2.id, 1, {c1: 8, c2: 7}), ranking.Score(e2.id, 2, {c1: 8, c2: 7}),
              ranking.Score(e3.id, 1, {c1: 5, c2: 5})]
    reports = ranking.aggregate(rubric, {e1.id: 0, e2.id: 0, e3.id: 1}, scores, method="mean")
    overall, _ = ranking.rank(reports)
    expected = [(r.entry_id, r.rank) for r in overall.ranked]
    # by hand: e1 and e2 both 76.00; top criterion mean 8 vs 8; top scores 0 vs 0 -> tie at 1; e3 50 -> 3
    assert sorted(expected) == sorted([(e1.id, 1), (e2.id, 1), (e3.id, 3)])
    m = client_for(app, make_user("manager", email="m@example.cn"))
    page = m.get(f"/manage/judging/rounds/{rnd.id}/rankings").get_data(as_text=True)
    table = page.split('id="overall"')[1].split("</table>")[0]
    for entry_id, rank_no in expected:
        assert f'data-entry="{entry_id}" data-rank="{rank_no}"' in table
    assert "76.00" in table and "50.00" in table
    csv_text = m.get(f"/manage/judging/rounds/{rnd.id}/export/rankings.csv").get_data(as_text=True)
    rows = list(csv.reader(io.StringIO(csv_text.lstrip("\ufeff"))))
    assert len(rows) == 4 and {r[2] for r in rows[1:]} == {str(e1.id), str(e2.id), str(e3.id)}
    xlsx = m.get(f"/manage/judging/rounds/{rnd.id}/export/scores.xlsx")
    assert xlsx.status_code == 200 and xlsx.data[:2] == b"PK"
    scores_csv = m.get(f"/manage/judging/rounds/{rnd.id}/export/scores.csv").get_data(as_text=True)
    assert "技术扎实" in scores_csv and len(list(csv.reader(io.StringIO(scores_csv)))) == 7


def test_founder_sees_result_and_feedback_only_after_publication_and_only_own(app, db, world, make_user):
    from incubator.applications.models import Application

    comp, rnd, (e1, e2, e3) = _hand_example(world, db)
    founder1 = e1.team.created_by
    founder3 = e3.team.created_by
    manager = make_user("manager", email="m@example.cn")
    db.session.commit()
    f = client_for(app, founder1)
    page = f.get(f"/results/{e1.id}").get_data(as_text=True)
    assert 'id="no-results"' in page and "技术扎实" not in page and "76.00" not in page
    assert f.get(f"/results/{e2.id}").status_code == 404
    m = client_for(app, manager)
    adv = m.get(f"/manage/judging/rounds/{rnd.id}/advancement").get_data(as_text=True)
    # top 1 per track: e1 and e2 tie in track 0 (both advance), e3 top of track 1
    for e in (e1, e2, e3):
        assert f'value="{e.id}" id="adv-{e.id}" checked' in adv
    # manager adjusts: e3 does not advance
    r = m.post(f"/manage/judging/rounds/{rnd.id}/advancement",
               data={"advance": [e1.id, e2.id], "csrf_token": csrf_from(m, "/manage/judging/")})
    assert r.status_code == 302
    db.session.expire_all()
    assert db.session.get(Application, e3.id).status == "submitted"  # nothing visible before publication
    assert 'id="no-results"' in f.get(f"/results/{e1.id}").get_data(as_text=True)
    assert mpost(m, f"/manage/judging/rounds/{rnd.id}/publish").status_code == 302
    db.session.expire_all()
    assert db.session.get(Application, e1.id).status == "advanced"
    assert db.session.get(Application, e3.id).status == "eliminated"
    page = f.get(f"/results/{e1.id}").get_data(as_text=True)
    assert "技术扎实" in page and 'id="decision"' in page
    other = client_for(app, founder3).get(f"/results/{e3.id}").get_data(as_text=True)
    assert "技术扎实" not in other and "76.00" not in other
    assert client_for(app, founder3).get(f"/results/{e1.id}").status_code == 404


def test_final_round_awards_and_admission(app, db, world, make_user):
    """Admission chosen with the awards becomes the incubator's admission when the results are
    published: the team may then ask for desks, with its award level in the waiting-list order."""
    from incubator.judging import services
    from incubator.spaces.models import Admission

    comp = world.competition(rounds=1, judges_per_entry=1)
    rnd = comp.rounds[0]
    entries = [world.entry(comp) for _ in range(3)]
    judge = world.judge()
    c1, c2 = crit_ids(rnd)
    for e, v in zip(entries, (9, 7, 5)):
        world.score(world.assign(rnd, judge, e), {c1: v, c2: v})
    db.session.commit()
    assert services.award_proposal(rnd, {"first": 1, "second": 1}) == {entries[0].id: "first", entries[1].id: "second"}
    m = client_for(app, make_user("manager", email="m@example.cn"))
    r = m.post(f"/manage/judging/rounds/{rnd.id}/awards",
               data={f"award_{entries[0].id}": "first", f"award_{entries[1].id}": "third", "admit": [entries[0].id],
                     "csrf_token": csrf_from(m, "/manage/judging/")})
    assert r.status_code == 302
    assert services.admitted_ids(comp.id) == {entries[0].id}
    assert db.session.scalars(db.select(Admission)).all() == []  # nothing before publication
    assert mpost(m, f"/manage/judging/rounds/{rnd.id}/publish").status_code == 302
    db.session.expire_all()
    admission = db.session.scalars(db.select(Admission)).one()
    assert (admission.team_id, admission.source, admission.award_level_rank) == (entries[0].team_id, "judging", 1)
    page = client_for(app, entries[0].team.created_by).get(f"/results/{entries[0].id}").get_data(as_text=True)
    assert 'id="award"' in page and 'id="admitted"' in page


def test_leaderboard_json_shows_only_what_is_revealed(app, db, world, make_user):
    comp, rnd, (e1, e2, e3) = _hand_example(world, db)
    m = client_for(app, make_user("manager", email="m@example.cn"))
    data = m.get(f"/manage/judging/rounds/{rnd.id}/leaderboard.json").get_json()
    assert data["rows"] == [] and data["submitted"] == 5
    mpost(m, f"/manage/judging/rounds/{rnd.id}/reveal", {"reveal": "ranks"})
    data = m.get(f"/manage/judging/rounds/{rnd.id}/leaderboard.json").get_json()
    assert [r["rank"] for r in data["rows"]] == [1, 1, 3] and all("score" not in r for r in data["rows"])
    mpost(m, f"/manage/judging/rounds/{rnd.id}/reveal", {"reveal": "scores"})
    data = m.get(f"/manage/judging/rounds/{rnd.id}/leaderboard.json").get_json()
    assert data["rows"][0]["score"] == 76.0
    # the JSON is kept per process: a new submitted score must still show at the next poll
    from incubator.judging.models import Score

    draft = db.session.scalar(db.select(Score).where(Score.status == "draft"))
    draft.status, draft.submitted_at = "submitted", draft.updated_at
    db.session.commit()
    data = m.get(f"/manage/judging/rounds/{rnd.id}/leaderboard.json").get_json()
    assert data["submitted"] == 6 and {r["project"]: r["score"] for r in data["rows"]}["丙"] == 51.0


def test_deadline_reminder_job_mails_each_judge_once_per_round(app, db, world):
    from incubator.judging.jobs import send_deadline_reminders
    from incubator.judging.models import JudgeReminder
    from incubator.notifications.models import OutboxMessage
    from incubator.timeutils import utcnow

    comp = world.competition()
    rnd = comp.rounds[0]
    rnd.scoring_closes_at = utcnow() + timedelta(hours=30)
    e1, e2 = world.entry(comp), world.entry(comp)
    lazy, done = world.judge(), world.judge()
    world.assign(rnd, lazy, e1)
    world.score(world.assign(rnd, done, e2), {c: 5 for c in crit_ids(rnd)})
    db.session.commit()
    assert send_deadline_reminders() == {"rounds": 1, "reminded": 1}
    db.session.commit()
    assert send_deadline_reminders() == {"rounds": 1, "reminded": 0}
    db.session.commit()
    assert db.session.scalar(db.select(db.func.count(OutboxMessage.id))) == 1
    assert db.session.scalar(db.select(JudgeReminder.judge_id)) == lazy.id


def test_automatic_conflicts_are_recorded_when_auto_assigning(app, db, world):
    from incubator.judging import services
    from incubator.judging.models import JudgeConflict

    comp = world.competition(judges_per_entry=1)
    rnd = comp.rounds[0]
    entry = world.entry(comp, school="Zhejiang University ")
    judge = world.judge("zhejiang university")
    world.judge("")
    db.session.commit()
    services.apply_auto_assign(None, rnd)
    services.apply_auto_assign(None, rnd)  # nothing new: no second automatic row
    rows = db.session.scalars(db.select(JudgeConflict)).all()
    assert [(c.judge_id, c.application_id, c.source) for c in rows] == [(judge.id, entry.id, "automatic")]


@pytest.mark.parametrize("page", ["queue", "assignments", "dashboard", "rankings"])
def test_list_pages_run_a_fixed_number_of_queries(app, db, world, make_user, page):
    """Eager loading: the query count of each list page does not grow with the number of entries."""
    comp = world.competition(judges_per_entry=1)
    rnd = comp.rounds[0]
    judge = world.judge()
    manager = make_user("manager", email="m@example.cn")
    c1, c2 = crit_ids(rnd)
    url = {"queue": "/judging/", "assignments": f"/manage/judging/rounds/{rnd.id}/assignments",
           "dashboard": f"/manage/judging/rounds/{rnd.id}", "rankings": f"/manage/judging/rounds/{rnd.id}/rankings"}[page]
    client = client_for(app, judge if page == "queue" else manager)

    def count_queries():
        with recorded_statements(db) as seen:
            assert client.get(url).status_code == 200
        return len(seen)

    def add_entries(n):
        for _ in range(n):
            e = world.entry(comp, _ % 2)
            world.score(world.assign(rnd, judge, e), {c1: 7, c2: 8})
        db.session.commit()

    add_entries(2)
    few = count_queries()
    add_entries(5)
    many = count_queries()
    assert many == few


def test_manual_bulk_assign_by_track_and_bulk_remove_keeps_submitted(app, db, world, make_user):
    from incubator.judging.models import Assignment

    comp = world.competition(judges_per_entry=1)
    rnd = comp.rounds[0]
    ai = [world.entry(comp, 0) for _ in range(3)]
    world.entry(comp, 1)
    judge = world.judge()
    db.session.commit()
    m = client_for(app, make_user("manager", email="m@example.cn"))
    r = mpost(m, f"/manage/judging/rounds/{rnd.id}/assignments/add", {"judge_id": judge.id,
                                                                       "track_id": comp.tracks[0].id})
    assert r.status_code == 302
    rows = db.session.scalars(db.select(Assignment)).all()
    assert sorted(a.application_id for a in rows) == sorted(a.id for a in ai)
    world.score(rows[0], {c: 5 for c in crit_ids(rnd)})
    db.session.commit()
    r = m.post(f"/manage/judging/rounds/{rnd.id}/assignments/remove",
               data={"judge_id": judge.id, "application_id": [a.id for a in ai],
                     "csrf_token": csrf_from(m, "/manage/judging/")})
    assert r.status_code == 302
    db.session.expire_all()
    assert [a.id for a in db.session.scalars(db.select(Assignment))] == [rows[0].id]


def test_demo_seed_profiles_and_assigns_the_demo_round_once(app, db):
    from incubator import demo
    from incubator.applications import demo as applications_demo
    from incubator.competitions import demo as competitions_demo
    from incubator.judging import demo as judging_demo
    from incubator.judging import services
    from incubator.judging.models import Assignment

    demo.seed()  # seed-demo: the users, then each feature's demo, judging included
    comp = competitions_demo.seed()
    assert applications_demo.seed(comp) == 0
    db.session.commit()
    assert db.session.scalar(db.select(db.func.count(Assignment.id))) > 0
    assert judging_demo.seed() == {"profiles": 0, "assignments": 0, "scores": 0}
    rnd = comp.rounds[0]
    assert services.entries_short_of_judges(rnd) == []
    pairs = {(a.judge_id, a.application_id) for a in services.active_assignments(rnd)}
    assert not pairs & services.conflict_pairs(services.round_entries(rnd), [j for j, _ in pairs])


def test_rankings_page_shows_one_ranking_a_hundred_rows_at_a_time(app, db, world, make_user):
    """A round of 250 entries: the overall ranking over three pages, each track's on its own tab."""
    import re

    from incubator.judging import services

    comp = world.competition(judges_per_entry=1)
    rnd = comp.rounds[0]
    founder = make_user("founder", email="many@example.cn")
    judge = world.judge()
    c1, c2 = crit_ids(rnd)
    for i in range(250):
        entry = world.entry(comp, i % 2, founder=founder, project=f"排名项目{i:03d}")
        world.score(world.assign(rnd, judge, entry), {c1: i % 11, c2: (i * 7) % 11})
    db.session.commit()
    ranking = services.compute_ranking(rnd)
    m = client_for(app, make_user("manager", email="pm@example.cn"))
    base = f"/manage/judging/rounds/{rnd.id}/rankings"
    row = re.compile(r'data-entry="(\d+)" data-rank="(\d+)"')
    pages = [m.get(f"{base}?page={n}").get_data(as_text=True) for n in (1, 2, 3)]
    shown = [row.findall(p) for p in pages]
    assert [len(s) for s in shown] == [100, 100, 50]
    expected = [(str(r.entry_id), str(r.rank)) for r in ranking.overall.ranked]
    assert shown[0] + shown[1] + shown[2] == expected  # in rank order, none twice, none missing
    assert "1 / 3" in pages[0] and "page=2" in pages[0] and "3 / 3" in pages[2]
    track = comp.tracks[1]
    track_page = m.get(f"{base}?track={track.id}").get_data(as_text=True)
    assert f'id="track-{track.id}"' in track_page
    assert row.findall(track_page) == [(str(r.entry_id), str(r.rank)) for r in ranking.per_track[track.id].ranked[:100]]
    # out-of-range and malformed pages fall back to a real page; an unknown track to the overall ranking
    assert "3 / 3" in m.get(f"{base}?page=99").get_data(as_text=True)
    fallback = m.get(f"{base}?page=-1&track=abc").get_data(as_text=True)
    assert "1 / 3" in fallback and 'id="overall"' in fallback


def test_the_halls_screen_link_shows_the_revealed_leaderboard_without_a_login(app, db, world, make_user,
                                                                             monkeypatch):
    """A manager's session on a public display would put the management menu in front of the hall:
    the screen gets a signed link of its own that shows only the leaderboard, only what is revealed."""
    import re
    import time

    from incubator.judging import services

    comp, rnd, _ = _hand_example(world, db)
    m = client_for(app, make_user("manager", email="m@example.cn"))
    page = m.get(f"/manage/judging/rounds/{rnd.id}/leaderboard").get_data(as_text=True)
    link = re.search(r'id="screen-link".*?value="http://localhost(/screen/[^"]+)"', page, re.S).group(1)
    mpost(m, f"/manage/judging/rounds/{rnd.id}/reveal", {"reveal": "ranks"})

    hall = app.test_client()  # nobody logged in
    screen = hall.get(link)
    html = screen.get_data(as_text=True)
    assert screen.status_code == 200 and 'id="leaderboard"' in html
    assert "manager-menu" not in html and "/manage/" not in html and "csrf_token" not in html
    data = hall.get(link + "/data.json").get_json()
    assert [r["rank"] for r in data["rows"]] == [1, 1, 3] and all("score" not in r for r in data["rows"])
    mpost(m, f"/manage/judging/rounds/{rnd.id}/reveal", {"reveal": "nothing"})
    assert hall.get(link + "/data.json").get_json()["rows"] == []

    # An altered link, or one for another round, shows nothing; nor does one past its hours.
    token = link.rsplit("/", 1)[1]
    assert hall.get(link[:-2] + ("AA" if not link.endswith("AA") else "BB")).status_code == 404
    assert hall.get("/screen/" + services._screen_serializer().dumps([rnd.id + 1000, 0])).status_code == 404
    assert hall.get("/screen/" + services._screen_serializer().dumps(rnd.id)).status_code == 404  # before 0014
    monkeypatch.setattr(services, "SCREEN_LINK_HOURS", 0)
    time.sleep(1.1)
    assert hall.get(f"/screen/{token}/data.json").status_code == 404


def test_a_manager_withdraws_the_screen_links_and_screens_holding_one_stop(app, db, world, make_user):
    """A screen link that went further than the hall (a photo of the screen, a forwarded message)
    is withdrawn from the leaderboard page: every link given out so far stops, a new one works."""
    import re

    import sqlalchemy as sa

    from incubator.audit.models import AuditRecord

    comp, rnd, _ = _hand_example(world, db)
    other_round = world.competition().rounds[0]
    db.session.commit()
    m = client_for(app, make_user("manager", email="m@example.cn"))
    board = f"/manage/judging/rounds/{rnd.id}/leaderboard"

    def screen_link(round_id):
        page = m.get(f"/manage/judging/rounds/{round_id}/leaderboard").get_data(as_text=True)
        return re.search(r'id="screen-link".*?value="http://localhost(/screen/[^"]+)"', page, re.S).group(1)

    old, other = screen_link(rnd.id), screen_link(other_round.id)
    mpost(m, f"/manage/judging/rounds/{rnd.id}/reveal", {"reveal": "ranks"})
    hall = app.test_client()
    assert hall.get(old + "/data.json").status_code == 200

    # Only a manager, only by POST with the form's token.
    judge = client_for(app, world.judge())
    assert judge.post(f"/manage/judging/rounds/{rnd.id}/screen-links/revoke",
                      data={"csrf_token": csrf_from(judge, "/judging/")}).status_code == 403
    assert m.get(f"/manage/judging/rounds/{rnd.id}/screen-links/revoke").status_code == 405
    assert m.post(f"/manage/judging/rounds/{rnd.id}/screen-links/revoke").status_code == 400  # no CSRF token
    assert hall.get(old + "/data.json").status_code == 200

    r = mpost(m, f"/manage/judging/rounds/{rnd.id}/screen-links/revoke")
    assert r.status_code == 302 and r.headers["Location"].endswith(board)
    page = m.get(board).get_data(as_text=True)
    assert "此前发出的大屏链接已全部失效" in page  # the confirmation, in the default language
    assert hall.get(old).status_code == 404 and hall.get(old + "/data.json").status_code == 404
    new = screen_link(rnd.id)
    assert new != old
    assert hall.get(new).status_code == 200
    assert [row["rank"] for row in hall.get(new + "/data.json").get_json()["rows"]] == [1, 1, 3]
    assert hall.get(other + "/data.json").status_code == 200  # another round's links are not touched
    assert m.post(f"/manage/judging/rounds/{rnd.id + 1000}/screen-links/revoke",
                  data={"csrf_token": csrf_from(m, "/manage/judging/")}).status_code == 404
    assert db.session.scalar(sa.select(sa.func.count()).select_from(AuditRecord)
                             .where(AuditRecord.action == "judging.screen_links.revoke")) == 1
