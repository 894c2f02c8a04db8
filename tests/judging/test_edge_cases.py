"""Judging at its edges: states a manager or a judge reaches by ordinary steps in another order (a
judges-per-entry lowered after manual assignments, a conflict arising after assignment, a rubric not
set up yet, weights changed after scoring, a window closed before a reopen) and bad numbers typed
or posted. Each answers with a page or a clear refusal, never a 500, and nothing saved is lost."""
from __future__ import annotations

import csv
import io
import re
from datetime import timedelta

from tests.judging.pages import client_for, jpost, mpost


def test_more_manual_judges_than_judges_per_entry_keeps_them_and_auto_assigns_the_rest(app, db, world, make_user):
    from incubator.judging import services
    from incubator.judging.models import Assignment

    comp = world.competition(judges_per_entry=1)
    rnd = comp.rounds[0]
    full, empty = world.entry(comp), world.entry(comp)
    j1, j2 = world.judge(), world.judge()
    world.assign(rnd, j1, full)
    world.assign(rnd, j2, full)  # two by hand, then the manager lowered judges per entry to 1
    manager = make_user("manager", email="m@example.cn")
    db.session.commit()
    c = client_for(app, manager)
    page = c.get(f"/manage/judging/rounds/{rnd.id}/auto")
    assert page.status_code == 200 and 'id="apply-auto"' in page.get_data(as_text=True)
    assert mpost(c, f"/manage/judging/rounds/{rnd.id}/auto/apply").status_code == 302
    db.session.expire_all()
    pairs = {(a.judge_id, a.application_id) for a in services.active_assignments(rnd)}
    assert {(j1.id, full.id), (j2.id, full.id)} <= pairs
    assert sum(1 for _, e in pairs if e == empty.id) == 1
    assert db.session.scalar(db.select(db.func.count(Assignment.id))) == 3


def test_a_judges_new_organisation_withdraws_the_assignment_it_conflicts_with(app, db, world, make_user):
    from incubator.judging import services
    from incubator.notifications.models import Notice

    comp = world.competition(judges_per_entry=1)
    rnd = comp.rounds[0]
    entry = world.entry(comp, school="浙江大学")
    judge, other = world.judge(""), world.judge("")
    manager = make_user("manager", email="m@example.cn")
    a = world.assign(rnd, judge, entry)
    db.session.commit()
    services.save_profile(judge, "浙江 大学", [])  # now a member's school: an automatic conflict
    db.session.commit()
    db.session.refresh(a)
    assert not a.active and a.recusal_text == "利益冲突"
    assert [app.id for app, _n in services.entries_short_of_judges(rnd)] == [entry.id]
    assert services.unsubmitted_judges(rnd) == {}
    preview = services.preview_auto_assign(rnd)
    assert [(j.id, e.id) for j, e in preview.new_pairs] == [(other.id, entry.id)]
    notice = db.session.scalars(db.select(Notice).where(Notice.user_id == manager.id)).one()
    assert "利益冲突" in notice.text_zh and "conflict of interest" in notice.text_en
    page = client_for(app, manager).get(f"/manage/judging/rounds/{rnd.id}/assignments")
    assert "利益冲突" in page.get_data(as_text=True)


def test_a_team_members_new_school_withdraws_the_assignment_it_conflicts_with(app, db, world):
    from incubator.applications.services import save_team
    from incubator.judging import services

    comp = world.competition(judges_per_entry=1)
    rnd = comp.rounds[0]
    entry = world.entry(comp, school="嘉兴学院")
    judge = world.judge("浙江大学")
    a = world.assign(rnd, judge, entry)
    db.session.commit()
    founder = entry.team.created_by
    comp.closes_at = comp.closes_at + timedelta(days=30)  # the application can still be edited
    rows = [{"name": m.name, "school_or_employer": "浙江大学"} for m in entry.team.members]
    save_team(founder, entry, None, rows)
    db.session.commit()
    db.session.refresh(a)
    assert not a.active
    assert [app.id for app, _n in services.entries_short_of_judges(rnd)] == [entry.id]


def test_a_round_without_criteria_refuses_scores_and_still_shows_its_pages(app, db, world, make_user):
    from incubator.judging.models import Score

    comp = world.competition(criteria=[("唯一", 1, 10, "1")])
    rnd = comp.rounds[0]
    judge = world.judge()
    a = world.assign(rnd, judge, world.entry(comp))
    for crit in list(rnd.criteria):
        db.session.delete(crit)
    manager = make_user("manager", email="m@example.cn")
    db.session.commit()
    jc = client_for(app, judge)
    r = jpost(jc, f"/judging/assignments/{a.id}", {"version": 0, "action": "submit"})
    assert r.status_code == 409 and "评分细则" in r.get_data(as_text=True)
    assert db.session.scalar(db.select(db.func.count(Score.id))) == 0
    m = client_for(app, manager)
    for path in ("rankings", "advancement", "export/rankings.csv", "export/scores.xlsx", "leaderboard.json", "leaderboard", ""):
        assert m.get(f"/manage/judging/rounds/{rnd.id}/{path}".rstrip("/")).status_code == 200, path


def test_a_weight_change_after_scoring_retotals_what_the_exports_show(app, db, world, make_user):
    from incubator.competitions.services import update_criterion
    from incubator.judging import services

    comp = world.competition(judges_per_entry=1)
    rnd = comp.rounds[0]
    entry, judge = world.entry(comp), world.judge()
    c1, c2 = rnd.criteria
    score = world.score(world.assign(rnd, judge, entry), {c1.id: 10, c2.id: 0})
    manager = make_user("manager", email="m@example.cn")
    db.session.commit()
    before = score.total
    update_criterion(manager, c1, weight=c2.weight * 9)  # c1 now weighs 9 of 10
    db.session.commit()
    db.session.refresh(score)
    assert score.total != before and round(score.total, 6) == 90.0
    assert round(services.compute_ranking(rnd).reports[entry.id].aggregated, 6) == 90.0
    rows = list(csv.reader(io.StringIO(client_for(app, manager).get(
        f"/manage/judging/rounds/{rnd.id}/export/scores.csv").get_data(as_text=True).lstrip("\ufeff"))))
    assert "90.0" in rows[1]


def test_a_score_cannot_be_reopened_once_the_window_closed(app, db, world, make_user):
    from incubator.judging.models import Score
    from incubator.timeutils import utcnow

    comp = world.competition(judges_per_entry=1)
    rnd = comp.rounds[0]
    c1, c2 = rnd.criteria
    score = world.score(world.assign(rnd, world.judge(), world.entry(comp)), {c1.id: 9, c2.id: 9})
    rnd.scoring_closes_at = utcnow() - timedelta(hours=1)
    manager = make_user("manager", email="m@example.cn")
    db.session.commit()
    c = client_for(app, manager)
    r = mpost(c, f"/manage/judging/scores/{score.id}/reopen")
    assert r.status_code == 302
    assert "评分窗口已关闭" in c.get(r.headers["Location"]).get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Score, score.id).status == "submitted"


def test_a_stale_tab_is_refused_again_when_it_saves_the_same_form_twice(app, db, world):
    from incubator.judging.models import Score

    comp = world.competition()
    rnd = comp.rounds[0]
    judge = world.judge()
    a = world.assign(rnd, judge, world.entry(comp))
    db.session.commit()
    c = client_for(app, judge)
    c1, c2 = [x.id for x in rnd.criteria]
    url = f"/judging/assignments/{a.id}"
    assert jpost(c, url, {"version": 0, "action": "draft", f"c{c1}": "9", f"c{c2}": "9"}).status_code == 302
    stale = jpost(c, url, {"version": 0, "action": "draft", f"c{c1}": "1", f"c{c2}": "1"})
    assert stale.status_code == 409
    shown = re.search(r'name="version" value="(\d+)"', stale.get_data(as_text=True)).group(1)
    assert shown == "0"  # the form keeps the version it was built from
    again = jpost(c, url, {"version": shown, "action": "draft", f"c{c1}": "1", f"c{c2}": "1"})
    assert again.status_code == 409
    db.session.expire_all()
    assert db.session.scalars(db.select(Score)).one().values == {str(c1): 9.0, str(c2): 9.0}


def test_deactivated_judges_get_no_assignments(app, db, world, make_user):
    from incubator.judging import services

    comp = world.competition(judges_per_entry=1)
    rnd = comp.rounds[0]
    entries = [world.entry(comp) for _ in range(4)]
    active, gone = world.judge(), world.judge()
    gone.active = False
    manager = make_user("manager", email="m@example.cn")
    db.session.commit()
    assert {j.id for j in services.preview_auto_assign(rnd).loads} == {active.id}
    c = client_for(app, manager)
    assert f'value="{gone.id}"' not in c.get(f"/manage/judging/rounds/{rnd.id}/assignments").get_data(as_text=True)
    r = mpost(c, f"/manage/judging/rounds/{rnd.id}/assignments/add",
              {"judge_id": gone.id, "application_id": entries[0].id})
    assert r.status_code == 302 and not services.active_assignments(rnd)


def test_the_new_assignment_mail_links_the_whole_address(app, db, world):
    from incubator.judging import services
    from incubator.notifications.models import OutboxMessage

    comp = world.competition(judges_per_entry=1)
    services.assign_manual(None, comp.rounds[0], world.judge(), [world.entry(comp)])
    db.session.commit()
    body = db.session.scalars(db.select(OutboxMessage)).one().body_text
    assert re.search(r"^https?://[^/\s]+/judging/$", body, re.M), body


def _final_of_three(world):
    """A one-round competition (so its round is the final) with three entries scored 90, 70, 50."""
    comp = world.competition(judges_per_entry=1)
    rnd = comp.rounds[0]
    judge = world.judge()
    entries = [world.entry(comp) for _ in range(3)]
    for e, v in zip(entries, (9, 7, 5)):
        world.score(world.assign(rnd, judge, e), {c.id: v for c in rnd.criteria})
    return rnd, entries


def test_publishing_a_final_tells_every_team_its_result(app, db, world, make_user):
    from incubator.judging import services
    from incubator.notifications.models import Notice

    rnd, entries = _final_of_three(world)
    manager = make_user("manager", email="m@example.cn")
    db.session.commit()
    services.confirm_awards(manager, rnd, {entries[0].id: "first", entries[1].id: None, entries[2].id: None}, set())
    services.publish_results(manager, rnd)
    db.session.commit()
    for e in entries:
        texts = [n.text_zh for n in db.session.scalars(db.select(Notice).where(
            Notice.user_id == e.team.created_by_id, Notice.kind == "judging_result"))]
        assert len(texts) == 1, e.id
    won = db.session.scalars(db.select(Notice).where(Notice.user_id == entries[0].team.created_by_id,
                                                     Notice.kind == "judging_result")).one()
    assert "一等奖" in won.text_zh and "First prize" in won.text_en
    founder = client_for(app, entries[0].team.created_by)
    page = founder.get(won.link).get_data(as_text=True)
    assert re.search(r'id="award">一等奖<', page)  # the notice leads to the published result


def test_the_award_proposal_follows_the_counts_asked_for_after_decisions_were_confirmed(app, db, world, make_user):
    rnd, entries = _final_of_three(world)
    manager = make_user("manager", email="m@example.cn")
    db.session.commit()
    c = client_for(app, manager)
    assert mpost(c, f"/manage/judging/rounds/{rnd.id}/advancement", {"advance": [entries[0].id]}).status_code == 302
    page = c.get(f"/manage/judging/rounds/{rnd.id}/awards?count_first=2&count_second=0&count_third=0"
                 "&count_honorable=0").get_data(as_text=True)
    assert len(re.findall(r'<option value="first" selected', page)) == 2


def test_bad_numbers_typed_or_posted_get_a_page_not_an_error(app, db, world, make_user):
    comp = world.competition()
    rnd = comp.rounds[0]
    entry, judge = world.entry(comp), world.judge()
    manager = make_user("manager", email="m@example.cn")
    db.session.commit()
    m = client_for(app, manager)
    huge = "99999999999999999999"
    assert m.get(f"/manage/judging/rounds/{rnd.id}/rankings?page=²").status_code == 200
    assert m.get(f"/manage/judging/rounds/{huge}").status_code == 404
    assert m.get(f"/manage/judging/rounds/{2**31}").status_code == 404
    base = f"/manage/judging/rounds/{rnd.id}/assignments"
    assert mpost(m, f"{base}/add", {"judge_id": judge.id, "track_id": "²"}).status_code == 302
    assert mpost(m, f"{base}/remove", {"judge_id": judge.id, "track_id": "²"}).status_code == 302
    assert mpost(m, f"{base}/remove", {"judge_id": judge.id, "application_id": huge}).status_code == 400
    assert mpost(m, f"{base}/add", {"judge_id": huge}).status_code == 400
    j = client_for(app, judge)
    r = jpost(j, "/judging/profile/conflicts", {"application_id": "²"})
    assert r.status_code == 302 and "例如 12" in j.get(r.headers["Location"]).get_data(as_text=True)
    assert jpost(j, "/judging/profile/conflicts", {"application_id": huge}).status_code == 302
    assert j.get(f"/judging/rounds/{huge}/my-scores.csv").status_code == 404
    assert entry.id  # nothing above touched the entry


def test_full_marks_on_a_rubric_of_fractional_weights_is_saved_as_100(app, db, world):
    """Weights need not sum to 100: with 0.19 and 0.81, full marks totalled 100.00000000000003 in
    floats, which the scores table refuses (total <= 100), and the judge got a 500. The total is
    clamped to 100 where it is computed, so what is stored is what the rankings use."""
    from incubator.judging import ranking
    from incubator.judging.models import Score

    comp = world.competition(judges_per_entry=1, criteria=[("创新", "0.19", 10, "1"), ("市场", "0.81", 10, "1")])
    rnd = comp.rounds[0]
    a = world.assign(rnd, world.judge(), world.entry(comp))
    db.session.commit()
    c = client_for(app, a.judge)
    r = jpost(c, f"/judging/assignments/{a.id}", {**{f"c{cr.id}": "10" for cr in rnd.criteria}, "version": "0",
                                                   "action": "submit"})
    assert r.status_code == 302, r.status_code
    db.session.expire_all()
    assert db.session.scalar(db.select(Score.total).where(Score.assignment_id == a.id)) == 100
    rubric = [ranking.Criterion("a", 0.19, 10), ranking.Criterion("b", 0.81, 10)]
    assert ranking.weighted_total(rubric, {"a": 10, "b": 10}) == 100.0
    assert ranking.weighted_total(rubric, {"a": 10, "b": 9}) < 100.0


def test_a_judge_on_the_entrys_team_is_in_conflict_with_it(app, db, world, make_user):
    """One account may hold both roles (a founder invited to judge keeps the founder role). Whatever
    its profile's organisation, such a judge is never assigned their own team's entry, automatically
    or by hand, and an assignment made before cannot be opened, scored or its deck downloaded."""
    from incubator.judging import services
    from incubator.judging.models import Assignment

    comp = world.competition(judges_per_entry=1)
    rnd = comp.rounds[0]
    both = make_user("founder", "judge", email="both@example.cn")
    services.save_profile(both, "", [])
    own = world.entry(comp, founder=both)
    other_entry = world.entry(comp)
    other_judge = world.judge()
    manager = make_user("manager", email="m@example.cn")
    db.session.commit()

    assert services.is_conflicted(both.id, own) and not services.is_conflicted(both.id, other_entry)
    assert services.conflict_pairs([own, other_entry], [both.id, other_judge.id]) == {(both.id, own.id)}
    assert services.assign_manual(manager, rnd, both, [own])["conflicted"] == 1
    services.apply_auto_assign(manager, rnd)
    db.session.commit()
    pairs = set(db.session.execute(db.select(Assignment.judge_id, Assignment.application_id)
                                   .where(Assignment.round_id == rnd.id)).all())
    assert (both.id, own.id) not in pairs and (other_judge.id, own.id) in pairs

    # An assignment from before this rule: hidden from the judge, refused on submit.
    a = world.assign(rnd, both, own)
    db.session.commit()
    c = client_for(app, both)
    assert own.project_name not in c.get("/judging/").get_data(as_text=True)
    assert c.get(f"/judging/assignments/{a.id}").status_code == 404
    r = jpost(c, f"/judging/assignments/{a.id}", {**{f"c{cr.id}": "5" for cr in rnd.criteria}, "version": "0",
                                                   "action": "submit"})
    assert r.status_code == 404
    assert not services.can_view_deck(both, own)


def test_a_conflict_declared_after_submitting_keeps_the_score_for_the_organisers_to_decide(app, db, world,
                                                                                           make_user):
    """Recusal refuses a submitted score ("ask the organisers to reopen it first"); declaring a
    conflict on the entry (or changing one's organisation to its school) took the submitted score
    out of the ranking all the same, even after scoring closed. It now stays and counts, and the
    managers are told once, to reopen it and remove the judge or keep it."""
    from datetime import timedelta

    import sqlalchemy as sa

    from incubator.judging import services
    from incubator.judging.models import Assignment
    from incubator.notifications.models import Notice
    from incubator.timeutils import utcnow

    comp = world.competition(judges_per_entry=2)
    rnd = comp.rounds[0]
    e1, e2 = world.entry(comp), world.entry(comp, school="浙江大学")
    j1, j2 = world.judge(), world.judge()
    manager = make_user("manager", email="m@example.cn")
    for j, (v1, v2) in ((j1, (10, 2)), (j2, (6, 6))):
        world.score(world.assign(rnd, j, e1), {c.id: v1 for c in rnd.criteria})
        world.score(world.assign(rnd, j, e2), {c.id: v2 for c in rnd.criteria})
    draft = world.score(world.assign(rnd, j1, world.entry(comp)), {c.id: 3 for c in rnd.criteria}, status="draft")
    rnd.scoring_opens_at = utcnow() - timedelta(days=10)
    rnd.scoring_closes_at = utcnow() - timedelta(days=1)  # scoring is over
    db.session.commit()
    assert services.compute_ranking(rnd).reports[e2.id].n_scores == 2
    c = client_for(app, j1)
    a = db.session.scalar(sa.select(Assignment).where(Assignment.judge_id == j1.id, Assignment.application_id == e2.id))
    jpost(c, f"/judging/assignments/{a.id}/recuse", {"reason": "不想要这个分数"})  # refused (flashed)
    db.session.expire_all()
    assert db.session.get(Assignment, a.id).recused_at is None

    assert jpost(c, "/judging/profile/conflicts", {"application_id": str(e2.id), "reason": "x"}).status_code == 302
    assert jpost(c, "/judging/profile", {"organization": "浙江大学"}).status_code in (200, 302)
    db.session.expire_all()
    assert services.compute_ranking(rnd).reports[e2.id].n_scores == 2
    assert db.session.get(Assignment, a.id).recused_at is None
    assert e2.project_name not in c.get("/judging/").get_data(as_text=True)  # the judge no longer sees it
    told = db.session.scalars(sa.select(Notice).where(Notice.user_id == manager.id,
                                                      Notice.kind == "judging_conflict_submitted")).all()
    assert len(told) == 1 and f"#{e2.id}" in told[0].text_zh  # once, though the conflict was found twice

    # A draft on a conflicted entry is still withdrawn at once, as before.
    services.declare_conflict(j1, application=db.session.get(type(e2), draft.assignment.application_id))
    db.session.commit()
    assert db.session.get(Assignment, draft.assignment_id).recused_at is not None


def test_a_team_that_withdraws_after_the_decisions_leaves_the_competition(app, db, world, make_user):
    """Decisions confirmed (E advances), then the team withdraws (allowed while its status is still
    'submitted'): publishing turned it back into 'advanced' and told it so, and it stayed an entry of
    the next round, assigned, ranked and in its judge's queue. It now keeps its withdrawal."""
    from incubator.applications import services as app_services
    from incubator.judging import services
    from incubator.notifications.models import Notice

    comp = world.competition(rounds=2, judges_per_entry=1)
    r1, r2 = comp.rounds
    founder = make_user("founder", email="f@example.cn")
    e = world.entry(comp, founder=founder)
    other = world.entry(comp)
    judge = world.judge()
    manager = make_user("manager", email="m@example.cn")
    for entry, v in ((e, 9), (other, 5)):
        world.score(world.assign(r1, judge, entry), {c.id: v for c in r1.criteria})
    db.session.commit()
    services.confirm_advancement(manager, r1, {e.id, other.id})
    db.session.commit()
    assert {a.id for a in services.round_entries(r2)} == {e.id, other.id}
    world.assign(r2, judge, e)
    world.assign(r2, judge, other)
    db.session.commit()

    app_services.withdraw(founder, e, "我们退赛")
    db.session.commit()
    assert [a.id for a in services.round_entries(r2)] == [other.id]
    assert services.publish_results(manager, r1) == 1
    db.session.commit()
    db.session.refresh(e)
    assert e.status == "withdrawn" and db.session.get(type(other), other.id).status == "advanced"
    told = db.session.scalars(db.select(Notice.kind).where(Notice.user_id == founder.id)).all()
    assert "judging_result" not in told and told.count("application_status") == 1  # the withdrawal's own
    queue = client_for(app, judge).get("/judging/").get_data(as_text=True)
    assert other.project_name in queue and e.project_name not in queue
    assert services.unsubmitted_judges(r2) == {judge.id: 1}  # reminded of the other entry only
    assert [r.entry_id for r in services.compute_ranking(r2).overall.ranked] == [] and \
        e.id not in services.compute_ranking(r2).reports


def test_undoing_an_automatic_assignment_keeps_the_recusals_made_in_it(app, db, world, make_user):
    """A judge recused from an entry of the last automatic assignment. Undoing that batch deleted the
    recusal with the rest, and the next automatic assignment gave the entry back to the same judge.
    The recusal now stays (out of the batch), as it does through a bulk removal."""
    from incubator.judging import services
    from incubator.judging.models import Assignment

    comp = world.competition(judges_per_entry=1)
    rnd = comp.rounds[0]
    entry, second = world.entry(comp), world.entry(comp)
    judge = world.judge()
    manager = make_user("manager", email="m@example.cn")
    db.session.commit()
    services.apply_auto_assign(manager, rnd)
    db.session.commit()
    a = db.session.scalar(db.select(Assignment).where(Assignment.round_id == rnd.id,
                                                      Assignment.application_id == entry.id))
    assert a.judge_id == judge.id
    assert jpost(client_for(app, judge), f"/judging/assignments/{a.id}/recuse",
                 {"reason": "我认识这个团队"}).status_code == 302
    db.session.expire_all()
    assert not services.preview_auto_assign(rnd).feasible  # the only judge recused: nobody for the entry

    c = client_for(app, manager)
    assert mpost(c, f"/manage/judging/rounds/{rnd.id}/auto/undo").status_code == 302
    db.session.expire_all()
    rows = db.session.scalars(db.select(Assignment).where(Assignment.round_id == rnd.id)).all()
    assert [(r.application_id, r.recused_at is not None, r.batch_id) for r in rows] == [(entry.id, True, None)]
    assert services.last_batch(rnd) is None  # nothing left to undo
    preview = services.preview_auto_assign(rnd)
    assert not preview.feasible and not any(e.id == entry.id for _, e in preview.new_pairs)

    assert services.unassign_bulk(manager, rnd, judge, {entry.id, second.id}) == {"removed": 0, "kept_submitted": 0}
    db.session.commit()
    assert db.session.get(Assignment, a.id).recused_at is not None


def test_an_automatic_conflict_row_does_not_outlive_the_organisation_it_came_from(app, db, world, make_user):
    """Automatic conflict rows are a record for managers; the checks recompute organisation matches.
    They read every row's entry all the same, so a judge who corrected their organisation stayed
    barred from the entries matched before, with no way to remove the row. Only declared rows count
    now, and the next automatic assignment drops the stale record."""
    from incubator.judging import services
    from incubator.judging.models import Assignment, JudgeConflict

    comp = world.competition(judges_per_entry=1)
    rnd = comp.rounds[0]
    entry = world.entry(comp, school="浙江大学")
    judge = world.judge(organization="浙江大学")
    manager = make_user("manager", email="m@example.cn")
    db.session.commit()
    assert not services.preview_auto_assign(rnd).feasible  # the only judge is in conflict
    services.record_automatic_conflicts(manager, rnd)
    db.session.commit()
    assert db.session.scalar(db.select(JudgeConflict.application_id).where(JudgeConflict.source == "automatic")) == entry.id

    services.save_profile(judge, "阿里巴巴", [])  # the judge's organisation, corrected
    db.session.commit()
    assert not services.is_conflicted(judge.id, entry)
    assert services.conflict_pairs([entry], [judge.id]) == set()
    services.apply_auto_assign(manager, rnd)
    db.session.commit()
    a = db.session.scalar(db.select(Assignment).where(Assignment.application_id == entry.id))
    assert a.judge_id == judge.id
    assert client_for(app, judge).get(f"/judging/assignments/{a.id}").status_code == 200
    assert db.session.scalars(db.select(JudgeConflict).where(JudgeConflict.source == "automatic")).all() == []

    # A declared conflict on the entry still counts, whatever the organisations.
    services.declare_conflict(judge, application=entry, reason="前同事")
    db.session.commit()
    assert services.is_conflicted(judge.id, entry)
