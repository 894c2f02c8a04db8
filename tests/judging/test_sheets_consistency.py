"""Kept sheets and stored totals stay right whatever happens around them: a criterion moved, a save
made outside a request after a rubric change, and writes that land while a sync reads."""
from __future__ import annotations

import pytest

# Weights 1, 2, 3 (max 10): the values (5.5, 10, 9.5) total 90.0 summed in the order a, b, c and
# 89.99999999999999 in the order b, c, a (ranking._total adds criterion by criterion).
RUBRIC = [("a", 1, 10, "0.5"), ("b", 2, 10, "0.5"), ("c", 3, 10, "0.5")]


def _ranking(db, services, rnd):
    db.session.expire_all()
    return services.compute_ranking(db.session.get(type(rnd), rnd.id))


def _submit_by_hand(engine, assignment_id, c1, c2):
    """Another request's submit (its own connection, committed): a sheet of 100."""
    import sqlalchemy as sa

    from incubator.judging.models import Score
    from incubator.timeutils import utcnow

    now = utcnow()
    with engine.begin() as conn:
        conn.execute(sa.insert(Score.__table__).values(
            assignment_id=assignment_id, values={str(c1): 10.0, str(c2): 10.0}, total=100.0, status="submitted",
            version=1, submitted_at=now, updated_at=now, comment_to_organizers="", feedback_to_team=""))


def _reopen_by_hand(engine, assignment_id):
    """The organisers reopen that sheet (committed)."""
    import sqlalchemy as sa

    with engine.begin() as conn:
        conn.execute(sa.text("UPDATE scores SET status = 'draft', submitted_at = NULL, version = 2 "
                             "WHERE assignment_id = :a"), {"a": assignment_id})


def test_identical_sheets_rank_alike_after_a_criterion_is_moved(app, db, world, make_user):
    """A total sums its criteria in rubric order, and the float keeps the order in its last bit
    (90.0 against 89.99999999999999 here, a top score or not). Moving a criterion re-totals every
    sheet in the new order, so a sheet submitted before the move and an identical one after it
    keep equal totals and share a rank."""
    from incubator.competitions import services as comp_services
    from incubator.judging import services

    comp = world.competition(criteria=RUBRIC)
    rnd = comp.rounds[0]
    a, b, c = rnd.criteria
    e1, e2 = world.entry(comp, 0), world.entry(comp, 0)
    j1, j2 = world.judge(), world.judge()
    world.score(world.assign(rnd, j1, e1), {a.id: 5.5, b.id: 10, c.id: 9.5})
    db.session.commit()
    comp_services.move(make_user("manager", email="m@example.cn"), a, list(rnd.criteria), "down")
    comp_services.move(make_user("manager", email="m2@example.cn"), a, list(rnd.criteria), "down")
    db.session.commit()
    db.session.expire_all()
    assert [x.name_zh for x in db.session.get(type(rnd), rnd.id).criteria] == ["b", "c", "a"]
    world.score(world.assign(rnd, j2, e2), {a.id: 5.5, b.id: 10, c.id: 9.5})  # as save_score totals it now
    db.session.commit()
    r = _ranking(db, services, rnd)
    assert r.reports[e1.id].totals == r.reports[e2.id].totals
    assert r.overall.rank_of(e1.id) == r.overall.rank_of(e2.id)

def test_orm_save_score_after_a_rubric_change_in_the_same_app_context_is_not_refused(app, db, world, make_user):
    """save_score with an Assignment (ScoringTarget.of), in an app context that outlives a request
    (a script, a job): after a rubric change in that context the next save reads the rubric and
    its version afresh, is not refused, and is totalled with the new weights."""
    from incubator.competitions.services import update_criterion
    from incubator.judging import services

    comp = world.competition()
    rnd = comp.rounds[0]
    c1, c2 = (c.id for c in rnd.criteria)
    j1, j2 = world.judge(), world.judge()
    a1 = world.assign(rnd, j1, world.entry(comp))
    a2 = world.assign(rnd, j2, world.entry(comp))
    db.session.commit()
    services.save_score(j1, a1, values={str(c1): 8, str(c2): 6}, version=0, submit=True)
    db.session.commit()
    update_criterion(make_user("manager", email="m@example.cn"), rnd.criteria[0], weight=30)
    db.session.commit()
    services.save_score(j2, a2, values={str(c1): 8, str(c2): 6}, version=0, submit=True)
    db.session.commit()
    db.session.expire_all()
    assert db.session.get(type(a2), a2.id).score.total == pytest.approx((30 * 0.8 + 40 * 0.6) / 70 * 100)

@pytest.mark.postgres_only
def test_a_sheet_written_during_a_sync_with_nothing_held_is_removed_from_the_ranking_later(app, db, world, monkeypatch):
    """A sync that is not the first, nothing held yet (the round had no submitted sheet when last
    ranked), 64 or more buckets changed: every sheet is read. Another request's submit lands
    between the bucket sums and the sheets, in a bucket of its own; reopened later, the sheet
    leaves the ranking at the next sync, which then equals a ranking from nothing."""
    import sqlalchemy as sa

    from incubator.judging import services, sheets

    comp = world.competition()
    rnd = comp.rounds[0]
    c1, c2 = (c.id for c in rnd.criteria)
    entries = [world.entry(comp, i % 2) for i in range(10)]
    judges = [world.judge() for _ in range(8)]
    assignments = [world.assign(rnd, j, e) for j in judges[:7] for e in entries]  # 70 sheets, 70 buckets
    late = world.assign(rnd, judges[7], entries[0])  # its own bucket
    db.session.commit()
    assert len({a.id % sheets.BUCKETS for a in assignments} | {late.id % sheets.BUCKETS}) == 71
    late_id, round_id = late.id, rnd.id

    def ranking():
        db.session.expire_all()
        return services.compute_ranking(db.session.get(type(rnd), round_id))

    assert ranking().reports[entries[0].id].n_scores == 0  # first sync: nothing submitted, nothing held
    for a in assignments:
        world.score(a, {c1: 8, c2: 6})
    db.session.commit()

    engine = sa.create_engine(app.config["SQLALCHEMY_DATABASE_URI"])
    original = sheets.bucket_sums

    def sums_then_a_submit_lands(round_id):
        sums = original(round_id)
        monkeypatch.setattr(sheets, "bucket_sums", original)
        _submit_by_hand(engine, late_id, c1, c2)  # between the sums and the sheets
        return sums

    monkeypatch.setattr(sheets, "bucket_sums", sums_then_a_submit_lands)
    try:
        ranking()
        _reopen_by_hand(engine, late_id)
    finally:
        engine.dispose()
    db.session.commit()
    kept = ranking().reports[entries[0].id]
    services.clear_ranking_caches()
    fresh = ranking().reports[entries[0].id]
    assert fresh.n_scores == 7
    assert kept.n_scores == 7 and kept == fresh

@pytest.mark.postgres_only
def test_a_sheet_submitted_around_the_first_sync_and_then_reopened_leaves_the_ranking(app, db, world, monkeypatch):
    """Another request's submit lands just before the first sync reads the sheets, in an empty
    bucket: it is ranked, and once reopened it leaves the ranking at the next sync (the first sync
    holds each bucket with the sum of the hashes read with its sheets, in one statement)."""
    import sqlalchemy as sa

    from incubator.judging import services, sheets

    comp = world.competition()
    rnd = comp.rounds[0]
    c1, c2 = (c.id for c in rnd.criteria)
    e = world.entry(comp)
    j1, j2 = world.judge(), world.judge()
    world.score(world.assign(rnd, j1, e), {c1: 8, c2: 6})
    late = world.assign(rnd, j2, e)  # the next assignment id: another, empty bucket
    db.session.commit()
    late_id, round_id = late.id, rnd.id
    services.clear_ranking_caches()

    def ranking():
        db.session.expire_all()
        return services.compute_ranking(db.session.get(type(rnd), round_id))

    engine = sa.create_engine(app.config["SQLALCHEMY_DATABASE_URI"])
    original = sheets.read_sheets

    def a_submit_lands_then_read(*args, **kwargs):
        monkeypatch.setattr(sheets, "read_sheets", original)
        _submit_by_hand(engine, late_id, c1, c2)
        return original(*args, **kwargs)

    monkeypatch.setattr(sheets, "read_sheets", a_submit_lands_then_read)
    try:
        assert ranking().reports[e.id].n_scores == 2  # the late sheet was read with the others
        _reopen_by_hand(engine, late_id)
    finally:
        engine.dispose()
    db.session.commit()
    assert ranking().reports[e.id].n_scores == 1
