"""A worker ranks the rounds being judged as it starts (gunicorn.conf.py -> services.warm_at_start):
its first ranking request then asks nothing of the score sheets."""
from __future__ import annotations

import gc
import logging
import runpy
from datetime import timedelta
from pathlib import Path
from types import SimpleNamespace

from tests.sql_statements import recorded_statements

ROOT = Path(__file__).resolve().parents[2]


def _scored_round(world, db, *, opens_days_ago=1, closes_in_days=6):
    from incubator.timeutils import utcnow

    comp = world.competition()
    rnd = comp.rounds[0]
    rnd.scoring_opens_at = utcnow() - timedelta(days=opens_days_ago)
    rnd.scoring_closes_at = utcnow() + timedelta(days=closes_in_days)
    c1, c2 = (c.id for c in rnd.criteria)
    j1, j2 = world.judge(), world.judge()
    for i in range(3):
        entry = world.entry(comp, i % 2)
        world.score(world.assign(rnd, j1, entry), {c1: 5 + i, c2: 6})
        world.score(world.assign(rnd, j2, entry), {c1: 7, c2: 4 + i})
    db.session.commit()
    return rnd


def test_the_rounds_warmed_are_those_being_judged_or_just_closed(app, db, world):
    from incubator.judging import services

    open_now = _scored_round(world, db)
    closed_last_week = _scored_round(world, db, opens_days_ago=20, closes_in_days=-7)
    closed_long_ago = _scored_round(world, db, opens_days_ago=60, closes_in_days=-30)
    not_open_yet = _scored_round(world, db, opens_days_ago=-2, closes_in_days=9)
    warmed = {r.id for r in services.rounds_to_warm()}
    assert open_now.id in warmed and closed_last_week.id in warmed
    assert closed_long_ago.id not in warmed and not_open_yet.id not in warmed


def test_after_warming_the_first_ranking_reads_no_score_sheet(app, db, world):
    from incubator.competitions.models import Round
    from incubator.judging import services

    round_id = _scored_round(world, db).id
    services.clear_ranking_caches()
    with recorded_statements(db) as cold:
        from_nothing = services.compute_ranking(db.session.get(Round, round_id))
    assert [s for s in cold if "scores" in s]  # without warming, the sheets are read
    services.clear_ranking_caches()
    db.session.remove()

    assert services.warm_rankings() >= 1
    db.session.remove()
    with recorded_statements(db) as statements:
        first = services.compute_ranking(db.session.get(Round, round_id))
    assert not [s for s in statements if "scores" in s]
    assert first.reports == from_nothing.reports and first.overall == from_nothing.overall


def test_the_gunicorn_hook_warms_each_worker_and_a_failure_does_not_stop_it(app, db, world, caplog):
    from incubator.judging import services

    round_id = _scored_round(world, db).id
    services.clear_ranking_caches()
    db.session.remove()
    hooks = runpy.run_path(str(ROOT / "gunicorn.conf.py"))
    app.config["WARM_RANKINGS"] = True
    hooks["post_worker_init"](SimpleNamespace(wsgi=app))
    assert any(key[0] == round_id for key in services._SHEETS_CACHE)

    services.clear_ranking_caches()
    app.config["WARM_RANKINGS"] = False  # (the testing configuration's default)
    hooks["post_worker_init"](SimpleNamespace(wsgi=app))
    assert not services._SHEETS_CACHE

    def broken(moment=None):
        raise RuntimeError("database not reachable")

    app.config["WARM_RANKINGS"] = True
    original, services.warm_rankings = services.warm_rankings, broken
    try:
        with caplog.at_level(logging.ERROR):
            hooks["post_worker_init"](SimpleNamespace(wsgi=app))  # logs, does not raise
    finally:
        services.warm_rankings = original
        app.config["WARM_RANKINGS"] = False
        gc.unfreeze()  # (the hook froze what this test process held, as a worker would its caches)
    assert "warming the rankings failed" in caplog.text


def test_a_round_that_cannot_be_ranked_does_not_keep_the_others_cold(app, db, world, caplog):
    import sqlalchemy as sa

    from incubator.judging import services
    from incubator.judging.models import Assignment, Score

    broken_id, good_id = _scored_round(world, db).id, _scored_round(world, db).id
    sheet_id = db.session.scalar(sa.select(Score.id).join(Assignment, Assignment.id == Score.assignment_id)
                                 .where(Assignment.round_id == broken_id).limit(1))
    db.session.execute(sa.update(Score.__table__).where(Score.__table__.c.id == sheet_id).values(total=None))
    db.session.commit()  # a submitted sheet without its total: the ranking refuses that round
    services.clear_ranking_caches()
    with caplog.at_level(logging.ERROR):
        assert services.warm_rankings() == 1
    assert f"round {broken_id} could not be ranked" in caplog.text
    assert any(key[0] == good_id for key in services._SHEETS_CACHE)



def test_a_ranking_from_nothing_leaves_the_garbage_collector_and_one_after_a_new_score_does_not(app, db, world):
    """GC_FREEZE_RANKINGS (on outside tests): the objects of a ranking built from nothing are no
    longer walked by the cyclic collector's generations; a ranking updated after a new score is
    left to it, like everything else the requests build."""
    from incubator.competitions.models import Round
    from incubator.judging import services

    def in_generations(obj) -> bool:
        return any(o is obj for o in gc.get_objects())

    rnd = _scored_round(world, db)
    round_id, c1 = rnd.id, rnd.criteria[0].id
    services.clear_ranking_caches()
    db.session.remove()
    assert not app.config["GC_FREEZE_RANKINGS"]  # (the testing configuration's default)
    left_alone = services.compute_ranking(db.session.get(Round, round_id))
    assert in_generations(left_alone.overall)

    services.clear_ranking_caches()
    db.session.remove()
    app.config["GC_FREEZE_RANKINGS"] = True
    try:
        frozen_before = gc.get_freeze_count()
        from_nothing = services.compute_ranking(db.session.get(Round, round_id))
        assert gc.get_freeze_count() > frozen_before
        assert not in_generations(from_nothing.overall)
        assert from_nothing.overall == left_alone.overall and from_nothing.reports == left_alone.reports

        # A judge's sheet is reopened and submitted with another value: the kept sheets are updated.
        from incubator.judging.models import Assignment, Score

        sheet = db.session.scalars(db.select(Score).join(Assignment).where(Assignment.round_id == round_id)
                                   .order_by(Score.id)).first()
        sheet.values = {**sheet.values, str(c1): 10.0}
        sheet.total = services.ranking_algo.weighted_total(services.rubric_of(sheet.assignment.round), sheet.values)
        db.session.commit()
        frozen = gc.get_freeze_count()
        after_score = services.compute_ranking(db.session.get(Round, round_id))
        assert gc.get_freeze_count() <= frozen  # nothing frozen; some frozen objects were freed (refcounts)
        assert in_generations(after_score.overall)
        assert after_score.overall != from_nothing.overall
    finally:
        app.config["GC_FREEZE_RANKINGS"] = False
        gc.unfreeze()  # (this test process's objects, frozen as a worker's would be)


def test_more_rounds_than_four_keep_their_sheets_and_each_is_frozen_once(app, db, world, monkeypatch):
    """The `judging` data version is one for all rounds: a score anywhere sends every round's next
    ranking to its kept sheets. With five rounds ranked in turn, the kept sheets (four, dropped in
    order of arrival) were rebuilt from nothing on every score, and each rebuild froze the request's
    objects. Now the kept sheets are used in turn (most recent last) and a round is frozen once."""
    from incubator.competitions.models import Round
    from incubator.judging import services

    frozen = []
    monkeypatch.setattr(services, "_out_of_collector", lambda: frozen.append(1))
    judge = world.judge()
    rounds, sheets = [], []
    for _ in range(5):
        comp = world.competition(judges_per_entry=1)
        rnd = comp.rounds[0]
        sheets.append(world.score(world.assign(rnd, judge, world.entry(comp)), {c.id: 5 for c in rnd.criteria}))
        rounds.append(rnd.id)
    db.session.commit()
    services.clear_ranking_caches()
    app.config["GC_FREEZE_RANKINGS"] = True
    try:
        for cycle in range(3):
            for rid in rounds:
                services.compute_ranking(db.session.get(Round, rid))
            sheets[0].comment_to_organizers = f"edit {cycle}"  # a score written: the judging version moves
            db.session.commit()
        with recorded_statements(db) as statements:
            services.compute_ranking(db.session.get(Round, rounds[1]))
        if db.engine.dialect.name == "postgresql":  # the bucket sums only: none of its sheets read again
            assert statements and not [s for s in statements if "hashtextextended" in s and "GROUP BY" not in s]
    finally:
        app.config["GC_FREEZE_RANKINGS"] = False
    assert len(frozen) == len(rounds)
