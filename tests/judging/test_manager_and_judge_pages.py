"""The judging pages no other test drives end to end: the automatic assignment's preview (who gets
what, loads, expertise match) and its apply, manual assignment by selection and removal, reminders
on demand, the judge's profile and conflicts, the scoring form's rubric, and each aggregation
method through the service against hand-computed values."""
from __future__ import annotations

import math
import re

import pytest

from tests.conftest import csrf_from
from tests.judging.pages import client_for, jpost, mpost


def test_the_preview_shows_who_gets_what_the_loads_and_the_expertise_match(app, db, world, make_user):
    comp = world.competition(judges_per_entry=1)
    rnd = comp.rounds[0]
    ai = [world.entry(comp, 0) for _ in range(2)]
    bio = [world.entry(comp, 1) for _ in range(2)]
    j_ai = world.judge(tracks=[comp.tracks[0]])
    j_bio = world.judge(tracks=[comp.tracks[1]])
    manager = make_user("manager", email="m@example.cn")
    db.session.commit()
    page = client_for(app, manager).get(f"/manage/judging/rounds/{rnd.id}/auto").get_data(as_text=True)
    summary = re.sub(r"<[^>]+>", "", re.search(r'id="preview-summary">(.*?)</p>', page, re.S).group(1))
    assert re.search(r"4\s*·.*100%.*0", summary), summary  # 4 new, every one in the judge's track, spread 0
    rows = {m.group(1): (m.group(2), m.group(3)) for m in re.finditer(
        r"<tr><td>([^<]+)</td><td>(\d+)</td><td class=\"small\">([^<]*)</td></tr>", page)}
    assert rows[j_ai.name][0] == "2" and set(rows[j_ai.name][1].split()) == {f"#{e.id}" for e in ai}
    assert rows[j_bio.name][0] == "2" and set(rows[j_bio.name][1].split()) == {f"#{e.id}" for e in bio}


def test_apply_refuses_an_assignment_that_changed_since_its_preview(app, db, world, make_user):
    from incubator.judging import services

    comp = world.competition(judges_per_entry=1)
    rnd = comp.rounds[0]
    world.entry(comp)
    world.judge()
    world.judge()
    manager = make_user("manager", email="m@example.cn")
    db.session.commit()
    c = client_for(app, manager)
    page = c.get(f"/manage/judging/rounds/{rnd.id}/auto").get_data(as_text=True)
    seen = re.search(r'name="preview" value="([0-9a-f]+)"', page).group(1)
    world.entry(comp)  # a late entry joins the round before the manager clicks
    db.session.commit()
    r = mpost(c, f"/manage/judging/rounds/{rnd.id}/auto/apply", {"preview": seen})
    assert r.status_code == 302 and r.headers["Location"].endswith(f"/rounds/{rnd.id}/auto")
    assert "预览" in c.get(r.headers["Location"]).get_data(as_text=True)
    assert services.active_assignments(rnd) == []
    page = c.get(f"/manage/judging/rounds/{rnd.id}/auto").get_data(as_text=True)
    fresh = re.search(r'name="preview" value="([0-9a-f]+)"', page).group(1)
    r = mpost(c, f"/manage/judging/rounds/{rnd.id}/auto/apply", {"preview": fresh})
    assert r.headers["Location"].endswith(f"/rounds/{rnd.id}/assignments")
    assert len(services.active_assignments(rnd)) == 2


def test_manual_assignment_by_selection_and_removal_of_one(app, db, world, make_user):
    from incubator.judging import services
    from incubator.judging.models import Assignment

    comp = world.competition(judges_per_entry=2)
    rnd = comp.rounds[0]
    e1, e2, e3 = (world.entry(comp) for _ in range(3))
    judge = world.judge()
    manager = make_user("manager", email="m@example.cn")
    db.session.commit()
    c = client_for(app, manager)
    r = mpost(c, f"/manage/judging/rounds/{rnd.id}/assignments/add",
              {"judge_id": judge.id, "application_id": [e1.id, e3.id]})
    assert r.status_code == 302
    rows = {a.application_id: a for a in services.active_assignments(rnd)}
    assert set(rows) == {e1.id, e3.id}
    world.score(rows[e3.id], {c.id: 8 for c in rnd.criteria})
    db.session.commit()
    assert mpost(c, f"/manage/judging/assignments/{rows[e1.id].id}/remove").status_code == 302
    refused = mpost(c, f"/manage/judging/assignments/{rows[e3.id].id}/remove")
    assert refused.status_code == 302
    assert "已提交" in c.get(refused.headers["Location"]).get_data(as_text=True)
    db.session.expire_all()
    assert [a.application_id for a in db.session.scalars(db.select(Assignment))] == [e3.id]
    assert e2.id not in {a.application_id for a in services.active_assignments(rnd)}


def test_reminders_on_demand_reach_only_judges_with_scores_to_submit(app, db, world, make_user, smtp):
    from incubator.notifications.models import OutboxMessage

    comp = world.competition(judges_per_entry=1)
    rnd = comp.rounds[0]
    done, late = world.judge(), world.judge()
    world.score(world.assign(rnd, done, world.entry(comp)), {c.id: 7 for c in rnd.criteria})
    world.assign(rnd, late, world.entry(comp))
    manager = make_user("manager", email="m@example.cn")
    db.session.commit()
    c = client_for(app, manager)
    r = mpost(c, f"/manage/judging/rounds/{rnd.id}/remind")
    assert r.status_code == 302
    assert "1" in re.sub(r"<[^>]+>", "", c.get(r.headers["Location"]).get_data(as_text=True)).split("已向")[1][:6]
    mails = db.session.scalars(db.select(OutboxMessage).where(OutboxMessage.template == "judging_reminder")).all()
    assert [m.recipient for m in mails] == [late.email]


def test_a_judge_keeps_a_profile_and_declares_and_removes_conflicts_through_the_pages(app, db, world, make_user):
    from incubator.judging import services
    from incubator.judging.models import JudgeConflict

    comp = world.competition(judges_per_entry=1)
    rnd = comp.rounds[0]
    entry = world.entry(comp)
    judge, other = world.judge(), world.judge()
    a = world.assign(rnd, judge, entry)
    db.session.commit()
    c = client_for(app, judge)
    r = c.post("/judging/profile", data={"organization": "嘉兴学院", "track_id": [comp.tracks[1].id],
                                          "csrf_token": csrf_from(c, "/judging/profile")})
    assert r.status_code == 302
    prof = services.profile_of(judge)
    assert prof.organization == "嘉兴学院" and [t.id for t in prof.expertise] == [comp.tracks[1].id]
    r = jpost(c, "/judging/profile/conflicts", {"application_id": f"#{entry.id}", "reason": "亲属"})
    assert r.status_code == 302
    conflict = db.session.scalars(db.select(JudgeConflict).where(JudgeConflict.judge_id == judge.id)).one()
    db.session.refresh(a)
    assert conflict.application_id == entry.id and not a.active
    assert c.get(f"/judging/assignments/{a.id}").status_code == 404
    outsider = client_for(app, other)
    assert jpost(outsider, f"/judging/profile/conflicts/{conflict.id}/delete").status_code == 404
    assert jpost(c, f"/judging/profile/conflicts/{conflict.id}/delete").status_code == 302
    assert db.session.scalar(db.select(db.func.count(JudgeConflict.id))) == 0


def test_the_scoring_form_shows_each_criterions_description_bounds_and_step(app, db, world):
    comp = world.competition(criteria=[("创新", 60, 10, "0.5"), ("市场", 40, 5, "1")])
    rnd = comp.rounds[0]
    judge = world.judge()
    a = world.assign(rnd, judge, world.entry(comp))
    db.session.commit()
    page = client_for(app, judge).get(f"/judging/assignments/{a.id}").get_data(as_text=True)
    for crit, mx, step in zip(rnd.criteria, ("10.0", "5.0"), ("0.5", "1.0")):
        # The bounds and step are written beside the field (a text field with a decimal keypad: the
        # server checks them, in the judge's language; see test_judging_pages_review).
        label = re.search(rf'<label[^>]*for="c{crit.id}"[^>]*>(.*?)</label>', page, re.S).group(1)
        assert f"0–{mx}" in label and f" {step})" in label
        field = re.search(rf'<input[^>]*name="c{crit.id}"[^>]*>', page, re.S).group(0)
        assert 'inputmode="decimal"' in field
        assert f"{crit.name_zh}的说明" in page


# Five judges, one entry; with the two-criterion rubric (60/40, both out of 10) a sheet of v on
# both criteria totals 10 v.
FIVE = (9, 8, 6, 5, 1)  # totals 90, 80, 60, 50, 10


@pytest.mark.parametrize("method, expected", [
    ("mean", (90 + 80 + 60 + 50 + 10) / 5),  # 58
    ("median", 60.0),
    ("trimmed_mean", (80 + 60 + 50) / 3),  # 去掉一个最高分和一个最低分: 63.33
])
def test_each_method_through_the_service_and_the_rankings_page(app, db, world, make_user, method, expected):
    from incubator.judging import services

    comp = world.competition(judges_per_entry=5, aggregation=method)
    rnd = comp.rounds[0]
    entry = world.entry(comp)
    for v in FIVE:
        world.score(world.assign(rnd, world.judge(), entry), {c.id: v for c in rnd.criteria})
    manager = make_user("manager", email="m@example.cn")
    db.session.commit()
    report = services.compute_ranking(rnd).reports[entry.id]
    assert math.isclose(report.aggregated, expected) and math.isclose(report.raw_mean, 58.0)
    page = client_for(app, manager).get(f"/manage/judging/rounds/{rnd.id}/rankings").get_data(as_text=True)
    assert f"{expected:.2f}" in page
    assert {"mean": "平均", "median": "中位数", "trimmed_mean": "去掉"}[method] in page


def test_zscore_normalisation_through_the_service(app, db, world):
    """Judge A gives 80 and 60, judge B 70 and 50: each judge's z is +1 and -1; all four totals have
    mean 65 and population deviation sqrt(125); so the entries map back to 65 +- sqrt(125)."""
    from incubator.judging import services

    comp = world.competition(judges_per_entry=2, aggregation="zscore")
    rnd = comp.rounds[0]
    first, second = world.entry(comp), world.entry(comp)
    judge_a, judge_b = world.judge(), world.judge()
    for judge, (hi, lo) in ((judge_a, (8, 6)), (judge_b, (7, 5))):
        world.score(world.assign(rnd, judge, first), {c.id: hi for c in rnd.criteria})
        world.score(world.assign(rnd, judge, second), {c.id: lo for c in rnd.criteria})
    db.session.commit()
    reports = services.compute_ranking(rnd).reports
    assert math.isclose(reports[first.id].aggregated, 65 + math.sqrt(125))
    assert math.isclose(reports[second.id].aggregated, 65 - math.sqrt(125))
    assert math.isclose(reports[first.id].raw_mean, 75.0) and math.isclose(reports[second.id].raw_mean, 55.0)
