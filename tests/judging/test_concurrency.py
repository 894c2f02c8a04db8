"""Two judges and two tabs of one judge submit at the same moment: no lost or duplicated score, and the
stale tab is told to reload. Rankings kept per process stay right while scores arrive."""
from __future__ import annotations

import threading

import pytest

from tests.conftest import csrf_from, login


@pytest.mark.postgres_only
def test_concurrent_submissions_lose_nothing_and_stale_tab_gets_conflict(app, db, world):
    from incubator.judging.models import Score

    comp = world.competition(judges_per_entry=2)
    rnd = comp.rounds[0]
    entry = world.entry(comp)
    judge_a, judge_b = world.judge(), world.judge()
    a_a = world.assign(rnd, judge_a, entry)
    a_b = world.assign(rnd, judge_b, entry)
    db.session.commit()
    c1, c2 = (c.id for c in rnd.criteria)

    tabs = []
    for judge, assignment, value in ((judge_a, a_a, "6"), (judge_a, a_a, "9"), (judge_b, a_b, "7")):
        c = app.test_client()
        login(c, judge)
        url = f"/judging/assignments/{assignment.id}"
        token = csrf_from(c, url)  # the page was opened at version 0 in every tab
        tabs.append((c, url, {"csrf_token": token, "version": "0", "action": "submit",
                              f"c{c1}": value, f"c{c2}": value}))

    barrier = threading.Barrier(len(tabs))
    results: list = [None] * len(tabs)

    def run(i):
        c, url, data = tabs[i]
        barrier.wait()
        r = c.post(url, data=data)
        results[i] = (r.status_code, r.get_data(as_text=True))

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(tabs))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)

    statuses = [r[0] for r in results]
    assert statuses[2] == 302  # the other judge is unaffected
    assert sorted(statuses[:2]) == [302, 409]
    loser = results[0] if statuses[0] == 409 else results[1]
    assert "重新加载" in loser[1] or "reload" in loser[1].lower(), loser[1][loser[1].find("<main"):][:1500]
    db.session.expire_all()
    scores = {s.assignment_id: s for s in db.session.scalars(db.select(Score))}
    assert set(scores) == {a_a.id, a_b.id}  # no duplicate, nothing lost
    winner_value = 6.0 if statuses[0] == 302 else 9.0
    assert scores[a_a.id].values == {str(c1): winner_value, str(c2): winner_value}
    assert scores[a_a.id].version == 1 and scores[a_b.id].values[str(c1)] == 7.0


@pytest.mark.postgres_only
def test_rankings_kept_up_to_date_while_scores_arrive_equal_a_ranking_from_nothing(app, db, world):
    """A live final: one connection commits scores one by one while two threads rank the round
    again and again from the kept sheets (judging/sheets.py, shared by the process under its lock).
    No ranking fails, and once the scores stop, the kept ranking equals one computed from nothing."""
    import sqlalchemy as sa

    from incubator.competitions.models import Round
    from incubator.judging import services
    from incubator.judging.models import Score
    from incubator.timeutils import utcnow

    comp = world.competition(judges_per_entry=2)
    rnd = comp.rounds[0]
    c1, c2 = (str(c.id) for c in rnd.criteria)
    assignments = []
    judges = [world.judge() for _ in range(3)]
    for i in range(12):
        entry = world.entry(comp, i % 2)
        assignments += [world.assign(rnd, judges[i % 3], entry), world.assign(rnd, judges[(i + 1) % 3], entry)]
    db.session.commit()
    round_id, ids = rnd.id, [a.id for a in assignments]
    services.clear_ranking_caches()

    done = threading.Event()
    failures: list = []
    rankings = [0, 0]

    def rank_again_and_again(slot):
        try:
            while not done.is_set():
                with app.test_request_context():
                    services.compute_ranking(db.session.get(Round, round_id))
                    rankings[slot] += 1
                    db.session.remove()
        except Exception as exc:  # a thread's exception would otherwise go unseen
            failures.append(repr(exc))

    readers = [threading.Thread(target=rank_again_and_again, args=(i,)) for i in range(2)]
    for t in readers:
        t.start()
    with app.app_context():
        rubric = services.rubric_of(db.session.get(Round, round_id))
        for n, assignment_id in enumerate(ids):
            now = utcnow()
            values = {c1: n % 11, c2: (3 * n) % 11}  # a complete sheet, with its total, as save_score writes it
            db.session.execute(sa.insert(Score.__table__).values(
                assignment_id=assignment_id, values=values, total=services.ranking_algo.weighted_total(rubric, values),
                status="submitted", version=1, submitted_at=now, updated_at=now, comment_to_organizers="",
                feedback_to_team=""))
            db.session.commit()
        db.session.remove()
    done.set()
    for t in readers:
        t.join(timeout=60)
    assert not failures and min(rankings) > 0

    with app.test_request_context():
        kept = services.compute_ranking(db.session.get(Round, round_id))
        services.clear_ranking_caches()
        fresh = services.compute_ranking(db.session.get(Round, round_id))
    def totals_as_sets(reports):  # an entry's totals come in the order its sheets arrived
        return {e: r._replace(totals=tuple(sorted(r.totals))) for e, r in reports.items()}

    assert sum(r.n_scores for r in fresh.reports.values()) == len(ids)
    assert totals_as_sets(kept.reports) == totals_as_sets(fresh.reports)
    assert [(r.entry_id, r.rank) for r in kept.overall.ranked] == [(r.entry_id, r.rank) for r in fresh.overall.ranked]


@pytest.mark.postgres_only
def test_a_submit_racing_a_weight_change_never_keeps_a_total_of_the_old_rubric(app, db, world, make_user):
    """Rankings read each sheet's stored total (judging/sheets.py). A manager changes a weight (every
    sheet re-totalled in that transaction) while a judge submits with the rubric as it was: the
    submit waits for the change and is refused with a message to reload, instead of storing a
    total of the old weights that no re-totalling would ever fix."""
    import sqlalchemy as sa

    from incubator.competitions.services import update_criterion
    from incubator.enums import Role
    from incubator.judging import services
    from incubator.judging.models import Score

    comp = world.competition()
    rnd = comp.rounds[0]
    judge = world.judge()
    assignment = world.assign(rnd, judge, world.entry(comp))
    manager = make_user(Role.MANAGER)
    db.session.commit()
    c1, c2 = (c.id for c in rnd.criteria)
    assignment_id, round_id = assignment.id, rnd.id
    c = app.test_client()
    login(c, judge)
    url = f"/judging/assignments/{assignment_id}"
    data = {"csrf_token": csrf_from(c, url), "version": "0", "action": "submit", f"c{c1}": "9", f"c{c2}": "5"}

    update_criterion(manager, rnd.criteria[0], weight=20)  # 60/40 -> 20/40, not committed yet
    db.session.flush()
    result: list = []
    judge_post = threading.Thread(target=lambda: result.append(c.post(url, data=data)))
    judge_post.start()
    engine = sa.create_engine(app.config["SQLALCHEMY_DATABASE_URI"])
    try:
        for _ in range(400):  # until the submit waits for the change, or is done (20 s at most)
            with engine.connect() as conn:
                waiting = conn.execute(sa.text("SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                                               "AND datname = current_database()")).scalar()
            if waiting or not judge_post.is_alive():
                break
            threading.Event().wait(0.05)
    finally:
        engine.dispose()
    db.session.commit()
    judge_post.join(timeout=30)

    db.session.expire_all()
    score = db.session.scalar(sa.select(Score).where(Score.assignment_id == assignment_id))
    if score is not None:  # (had the submit come first, the change would have re-totalled it)
        rubric = services.rubric_of(db.session.get(type(rnd), round_id))
        assert score.total == services.ranking_algo.weighted_total(rubric, score.values)
    (response,) = result
    assert response.status_code == 409 and score is None
    page = response.get_data(as_text=True)
    assert "评分标准" in page and 'value="9"' in page  # told why, and the judge's figures are still there
    retry = c.post(url, data={**data, "csrf_token": csrf_from(c, url)})
    assert retry.status_code == 302
    db.session.expire_all()
    score = db.session.scalar(sa.select(Score).where(Score.assignment_id == assignment_id))
    assert score.total == pytest.approx((20 * 0.9 + 40 * 0.5) / 60 * 100)
