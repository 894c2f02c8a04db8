"""The judging rules at their edges, from a review of the rules against what the platform promises:
exact ties in floats, top scores of exactly 90, deactivated judges, withdrawn entries, reminders
after a window is extended or a score reopened, and a final whose advancement was confirmed too.
Each test failed on the code before its fix."""
from __future__ import annotations

from datetime import timedelta

from incubator.judging import ranking as R


# --- exactly tied entries share a rank (the ranking key drops float noise before rounding) -----

def test_exactly_tied_entries_share_a_rank_pure():
    """Two entries with the same per-criterion values (only swapped between the two judges): the same
    exact mean 58.125, the same top-criterion mean, the same number of top scores. They must share
    rank 1 (ties share a rank); rounding the floats' noise to 2 decimals split them into 58.13 and 58.12."""
    rubric = [R.Criterion("innov", 45, 10), R.Criterion("market", 55, 10)]
    scores = [
        R.Score("A", "j1", {"innov": 7.0, "market": 5.5}), R.Score("A", "j2", {"innov": 6.0, "market": 5.0}),
        R.Score("B", "j1", {"innov": 6.0, "market": 5.5}), R.Score("B", "j2", {"innov": 7.0, "market": 5.0}),
    ]
    reports = R.aggregate(rubric, {"A": "t", "B": "t"}, scores, method="mean")
    overall, per_track = R.rank(reports)
    assert [r.rank for r in overall.ranked] == [1, 1], [(r.entry_id, r.key) for r in overall.ranked]
    # and so both are at the cut of "top 1 per track" (all entries tied at the cut advance)
    assert sorted(R.top_n_per_track(per_track, 1)) == ["A", "B"]


def _two_entries_two_judges(world, db, criteria, sheets_a, sheets_b):
    """A one-round competition (top 1 per track advances) of two entries in one track, each scored
    by the same two judges: sheets_a and sheets_b hold each judge's (criterion 1, criterion 2)."""
    comp = world.competition(criteria=criteria, advancement=("top_n_per_track", 1))
    rnd = comp.rounds[0]
    c1, c2 = [c.id for c in rnd.criteria]
    a, b = world.entry(comp), world.entry(comp)
    judges = world.judge(), world.judge()
    for entry, sheets in ((a, sheets_a), (b, sheets_b)):
        for judge, (v1, v2) in zip(judges, sheets):
            world.score(world.assign(rnd, judge, entry), {c1: v1, c2: v2})
    db.session.commit()
    return rnd, a, b


def test_exactly_tied_entries_both_advance_through_the_service(app, db, world):
    from incubator.judging import services

    rnd, a, b = _two_entries_two_judges(world, db, [("创新", 45, 10, "0.5"), ("市场", 55, 10, "0.5")],
                                        ((7.0, 5.5), (6.0, 5.0)), ((6.0, 5.5), (7.0, 5.0)))
    ranking = services.compute_ranking(rnd)
    assert {r.entry_id: r.rank for r in ranking.overall.ranked} == {a.id: 1, b.id: 1}
    assert services.advancement_proposal(rnd, ranking) == {a.id, b.id}


# --- deactivated judges are not reminded -----------------------------------------------------

def _round_closing_in(world, hours):
    from incubator.timeutils import utcnow

    comp = world.competition(judges_per_entry=1)
    rnd = comp.rounds[0]
    rnd.scoring_closes_at = utcnow() + timedelta(hours=hours)
    return comp, rnd


def test_the_48h_job_does_not_remind_a_deactivated_judge(app, db, world):
    from incubator.judging.jobs import send_deadline_reminders
    from incubator.notifications.models import OutboxMessage

    comp, rnd = _round_closing_in(world, 30)
    gone = world.judge()
    world.assign(rnd, gone, world.entry(comp))
    gone.active = False  # the account is deactivated after being assigned
    db.session.commit()
    send_deadline_reminders()
    db.session.commit()
    assert db.session.scalars(db.select(OutboxMessage.recipient)).all() == []


def test_reminders_on_demand_skip_a_deactivated_judge(app, db, world, make_user):
    from incubator.judging import services
    from incubator.notifications.models import OutboxMessage

    comp, rnd = _round_closing_in(world, 24 * 5)
    gone = world.judge()
    world.assign(rnd, gone, world.entry(comp))
    gone.active = False
    db.session.commit()
    assert services.remind_judges(make_user("manager", email="m@example.cn"), rnd) == 0
    db.session.commit()
    assert db.session.scalars(db.select(OutboxMessage.recipient)).all() == []


# --- an entry that withdrew is no score to submit ---------------------------------------------

def test_a_judge_whose_only_pending_entry_withdrew_is_not_reminded(app, db, world):
    from incubator.applications import services as app_services
    from incubator.judging import services
    from incubator.judging.jobs import send_deadline_reminders
    from incubator.notifications.models import OutboxMessage

    comp, rnd = _round_closing_in(world, 30)
    judge = world.judge()
    e = world.entry(comp)
    world.assign(rnd, judge, e)
    db.session.commit()
    app_services.withdraw(e.team.created_by, e, "退赛")
    db.session.commit()
    assert services.judge_queue(judge) == []  # nothing left to score on the judge's side
    send_deadline_reminders()
    db.session.commit()
    assert db.session.scalars(db.select(OutboxMessage.recipient)
                              .where(OutboxMessage.template == "judging_reminder")).all() == []


# --- a moved close, or a reopened score, is reminded again ------------------------------------

def test_after_the_window_is_extended_the_judge_is_reminded_48h_before_the_new_close(app, db, world, make_user):
    from incubator.competitions import services as comp_services
    from incubator.judging import services
    from incubator.notifications.models import OutboxMessage
    from incubator.timeutils import utcnow

    comp, rnd = _round_closing_in(world, 30)
    judge = world.judge()
    world.assign(rnd, judge, world.entry(comp))
    db.session.commit()
    assert sum(services.remind_judges(None, r, automatic=True) for r in services.reminder_due_rounds()) == 1
    db.session.commit()
    # The organisers extend scoring by a week; the judge still has not submitted.
    comp_services.update_round(make_user("manager", email="m@example.cn"), rnd,
                               scoring_closes_at=rnd.scoring_closes_at + timedelta(days=7))
    db.session.commit()
    later = utcnow() + timedelta(days=7)  # 30 h before the new close
    due = services.reminder_due_rounds(later)
    assert [r.id for r in due] == [rnd.id]
    services.remind_judges(None, rnd, automatic=True)
    db.session.commit()
    n = db.session.scalar(db.select(db.func.count(OutboxMessage.id)).where(OutboxMessage.template == "judging_reminder"))
    assert n == 2, "no reminder before the window's actual (extended) close"


# --- a deactivated judge does not cover an entry ----------------------------------------------

def test_an_entry_whose_only_judge_is_deactivated_is_short_of_judges(app, db, world):
    from incubator.judging import services

    comp = world.competition(judges_per_entry=1)
    rnd = comp.rounds[0]
    e = world.entry(comp)
    gone, other = world.judge(), world.judge()
    world.assign(rnd, gone, e)
    gone.active = False
    db.session.commit()
    # automatic assignment knows the entry still needs a judge ...
    assert [(j.id, a.id) for j, a in services.preview_auto_assign(rnd).new_pairs] == [(other.id, e.id)]
    # ... the dashboard says it is not short
    assert [(a.id, n) for a, n in services.entries_short_of_judges(rnd)] == [(e.id, 0)]


# --- a prize winner of the final is not published as eliminated -------------------------------

def test_a_final_prize_winner_is_not_told_it_was_eliminated(app, db, world, make_user):
    from incubator.judging import services

    comp = world.competition(judges_per_entry=1)  # one round: the final
    rnd = comp.rounds[0]
    judge = world.judge()
    entries = [world.entry(comp) for _ in range(3)]
    for e, v in zip(entries, (9, 7, 5)):
        world.score(world.assign(rnd, judge, e), {c.id: v for c in rnd.criteria})
    manager = make_user("manager", email="m@example.cn")
    db.session.commit()
    # The advancement page is offered for the final too (its rule: top 1 per track).
    services.confirm_advancement(manager, rnd, services.advancement_proposal(rnd))
    services.confirm_awards(manager, rnd, {entries[0].id: "first", entries[1].id: "second", entries[2].id: None},
                            set())
    services.publish_results(manager, rnd)
    db.session.commit()
    db.session.expire_all()
    assert db.session.get(type(entries[1]), entries[1].id).status != "eliminated", \
        "the 二等奖 winner's status (and mail) says eliminated"


# --- a sheet of exactly 90 is a top score (its total drops float noise) ------------------------

def test_a_total_of_exactly_90_counts_as_a_top_score_pure():
    """Weights 7 and 3, values 8.7 and 9.7: 7*8.7 + 3*9.7 = 90 exactly (the page shows 90.00), but
    the float arithmetic gave 89.99999999999999 and `t >= TOP_SCORE` missed it, so the third tie-break
    (number of top scores) was wrong: A (totals 90 and 70) and B (80 and 80) are equal on the mean and
    on the top criterion, A has one top score and must rank above B."""
    rubric = [R.Criterion("a", 7, 10), R.Criterion("b", 3, 10)]
    scores = [R.Score("A", "j1", {"a": 8.7, "b": 9.7}), R.Score("A", "j2", {"a": 6.1, "b": 9.1}),
              R.Score("B", "j1", {"a": 7.4, "b": 9.4}), R.Score("B", "j2", {"a": 7.4, "b": 9.4})]
    reports = R.aggregate(rubric, {"A": "t", "B": "t"}, scores, method="mean")
    assert reports["A"].top_scores == 1
    overall, _ = R.rank(reports)
    assert [(r.entry_id, r.rank) for r in overall.ranked] == [("A", 1), ("B", 2)]
    assert R.weighted_total(rubric, {"a": 8.7, "b": 9.7}) >= R.TOP_SCORE  # the root cause


def test_uniform_nines_on_a_decimal_weight_rubric_are_a_top_score():
    """Weights 0.45 / 0.55 (allowed: weights need only be positive), 9 of 10 on every criterion."""
    rubric = [R.Criterion("a", 0.45, 10), R.Criterion("b", 0.55, 10)]
    assert R.weighted_total(rubric, {"a": 9, "b": 9}) >= R.TOP_SCORE


def test_the_tie_break_on_top_scores_through_the_service(app, db, world):
    from incubator.judging import services

    rnd, a, b = _two_entries_two_judges(world, db, [("创新", 7, 10, "0.1"), ("市场", 3, 10, "0.1")],
                                        ((8.7, 9.7), (6.1, 9.1)), ((7.4, 9.4), (7.4, 9.4)))
    ranking = services.compute_ranking(rnd)
    assert {r.entry_id: r.rank for r in ranking.overall.ranked} == {a.id: 1, b.id: 2}


def test_a_score_reopened_after_the_reminder_is_reminded_again_before_the_close(app, db, world, make_user):
    """The judge was reminded, then submitted everything; the organisers reopen one score 20 h before
    the close. The 48-hour job reminds that judge again (it reminded once per round, forever)."""
    from incubator.judging import services
    from incubator.judging.models import Score
    from incubator.notifications.models import OutboxMessage

    comp, rnd = _round_closing_in(world, 40)
    judge = world.judge()
    a = world.assign(rnd, judge, world.entry(comp))
    db.session.commit()
    assert services.remind_judges(None, rnd, automatic=True) == 1
    db.session.commit()
    world.score(a, {c.id: 5 for c in rnd.criteria})
    db.session.commit()
    services.reopen_score(make_user("manager", email="m@example.cn"), db.session.scalars(db.select(Score)).one())
    db.session.commit()
    assert services.unsubmitted_judges(rnd) == {judge.id: 1}
    services.remind_judges(None, rnd, automatic=True)
    db.session.commit()
    n = db.session.scalar(db.select(db.func.count(OutboxMessage.id)).where(OutboxMessage.template == "judging_reminder"))
    assert n == 2


def test_managers_are_told_when_an_entry_in_judging_is_withdrawn(app, db, world, make_user):
    """Once per round whose results are not published, with a link to the round; not for an entry
    no judge is assigned to, nor for a round already published."""
    from incubator.applications import services as app_services
    from incubator.judging import services
    from incubator.notifications.models import Notice
    from incubator.timeutils import utcnow

    manager = make_user("manager", email="m@example.cn")
    comp = world.competition(rounds=2)
    first, second = comp.rounds
    e, lone = world.entry(comp, project="智慧农业"), world.entry(comp)
    for judge in (world.judge(), world.judge()):
        world.assign(first, judge, e)
    world.assign(second, world.judge(), e)
    services.round_state(second).results_published_at = utcnow()
    db.session.commit()
    app_services.withdraw(e.team.created_by, e, "退赛")
    app_services.withdraw(lone.team.created_by, lone, "")
    db.session.commit()
    notices = db.session.scalars(db.select(Notice).where(Notice.user_id == manager.id,
                                                         Notice.kind == "judging_entry_withdrawn")).all()
    assert [(n.link, n.text_zh) for n in notices] == [
        (f"/manage/judging/rounds/{first.id}", f"参赛项目「智慧农业」已撤回申请，退出「{first.name_zh}」的评审")]
    assert "智慧农业" in notices[0].text_en
