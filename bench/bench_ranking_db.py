"""Ranking of a big round on PostgreSQL: 5,000 entries x 3 judges x 6 criteria.

    PYTHONPATH=. .venv/bin/python bench/bench_ranking_db.py [--entries 5000 --repeat 7]

Builds a fresh database from the migrations, bulk-inserts the round (entries over 6 tracks, 500
judges, every score submitted), then times, in one process on a warm connection pool:

* the ranking service `services.compute_ranking(round)` -- the data versions, the entries' columns
  and the submitted score sheets plus the pure aggregation and ranking; "cold" is the first ranking
  after a score was saved (one score row is updated and committed before the clock starts, which
  changes the judging data version: the sheets are read and ranked again, the entries come from
  their cache), "after an application edit" follows a founder's edit of one application's description
  (the entries are read again, the kept sheets stay), "nothing cached" empties the process caches
  first (a worker's first ranking of the round, or its first ranking request), "new worker warmed"
  empties them and runs the start-up warm-up untimed (gunicorn.conf.py), "cached" is a request when
  nothing changed since the last one (e.g. leaderboard polls);
* the whole ranking requests through the Flask test client as a logged-in manager: the JSON
  leaderboard (reveal = scores) and the rankings CSV export (a row per entry), and the HTML rankings
  page (one ranking, 100 rows a page: the overall ranking's first page, a later page of a track).

Each figure is the median of --repeat runs after one warm-up; a fresh session per run (no identity
map reuse). Target: the ranking request <= 200 ms.
"""
from __future__ import annotations

import argparse
import gc
import json
import random
import statistics
import sys
import time
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.harness import fresh_pg_database  # noqa: E402


def build(db, n_entries: int, k: int, n_criteria: int, seed: int = 1):
    import sqlalchemy as sa

    from incubator.accounts.services import create_user
    from incubator.applications.models import Application, Team
    from incubator.competitions.models import Competition, Criterion, Round, Track
    from incubator.enums import Role
    from incubator.judging import ranking
    from incubator.judging.models import Assignment, RoundState, Score
    from incubator.timeutils import utcnow

    rng = random.Random(seed)
    now = utcnow()
    manager = create_user("bench.manager@example.cn", "基准经理", "Bench-2026-pass", roles=[Role.MANAGER])
    comp = Competition(name_zh="基准大赛", status="published", opens_at=now - timedelta(days=60),
                       closes_at=now - timedelta(days=30))
    db.session.add(comp)
    for i in range(6):
        comp.tracks.append(Track(name_zh=f"赛道{i}", position=i))
    rnd = Round(name_zh="初赛", position=0, judges_per_entry=k, aggregation="trimmed_mean",
                scoring_opens_at=now - timedelta(days=10), scoring_closes_at=now + timedelta(days=10))
    for j in range(n_criteria):
        rnd.criteria.append(Criterion(name_zh=f"评分项{j}", weight=Decimal(rng.randint(1, 5)),
                                      max_score=Decimal(10), step=Decimal("0.5"), position=j))
    comp.rounds.append(rnd)
    db.session.flush()
    db.session.add(RoundState(round_id=rnd.id, reveal="scores"))
    crit_ids = [str(c.id) for c in rnd.criteria]
    rubric = [ranking.Criterion(str(c.id), float(c.weight), float(c.max_score)) for c in rnd.criteria]
    track_ids = [t.id for t in comp.tracks]
    n_judges = max(k, n_entries * k // 30)
    conn = db.session.connection()
    conn.execute(sa.insert(db.metadata.tables["users"]), [
        {"email": f"judge{i}@bench.cn", "name": f"评委{i}", "password_hash": "x", "locale": "zh_CN", "active": True,
         "created_at": now} for i in range(n_judges)])
    judge_ids = [r[0] for r in conn.execute(sa.text("SELECT id FROM users WHERE email LIKE '%@bench.cn' ORDER BY id"))]
    conn.execute(sa.insert(Team.__table__), [{"name": f"团队{i}", "created_by_id": manager.id, "created_at": now}
                                             for i in range(n_entries)])
    team_ids = [r[0] for r in conn.execute(sa.text("SELECT id FROM teams ORDER BY id"))]
    conn.execute(sa.insert(Application.__table__), [
        {"competition_id": comp.id, "team_id": t, "track_id": rng.choice(track_ids), "project_name": f"项目{i}",
         "status": "submitted", "submitted_at": now, "version": 1, "one_line_pitch": "", "description": "",
         "company_name": "", "last_step": "review", "created_at": now, "updated_at": now}
        for i, t in enumerate(team_ids)])
    app_ids = [r[0] for r in conn.execute(sa.text("SELECT id FROM applications ORDER BY id"))]
    rows = []
    for i, app_id in enumerate(app_ids):
        for j in rng.sample(range(n_judges), k):
            rows.append({"round_id": rnd.id, "application_id": app_id, "judge_id": judge_ids[j], "source": "auto",
                         "created_at": now})
    conn.execute(sa.insert(Assignment.__table__), rows)
    assignment_ids = [r[0] for r in conn.execute(sa.text("SELECT id FROM assignments ORDER BY id"))]
    lenience = {j: rng.uniform(-1.5, 1.5) for j in judge_ids}
    scores = []
    for aid, row in zip(assignment_ids, rows):
        values = {c: min(10.0, max(0.0, round((rng.uniform(3, 9.5) + lenience[row["judge_id"]]) * 2) / 2))
                  for c in crit_ids}
        total = ranking.weighted_total(rubric, values)  # as the platform stores it
        scores.append({"assignment_id": aid, "values": values, "total": total, "status": "submitted", "version": 1,
                       "submitted_at": now, "updated_at": now, "comment_to_organizers": "", "feedback_to_team": ""})
    conn.execute(sa.insert(Score.__table__), scores)
    db.session.commit()
    return rnd.id, len(app_ids), len(scores)


def move_one_score(db, round_id: int) -> None:
    """A judge saved a score: one criterion of one random sheet moves by a step and its total with
    it, as the platform writes them (services.save_score), committed before the clock starts; the
    trigger changes the judging data version."""
    import sqlalchemy as sa

    from incubator.competitions.models import Round
    from incubator.judging import ranking, services

    rubric = services.rubric_of(db.session.get(Round, round_id))
    score_id, values = db.session.execute(sa.text(
        "SELECT id, values FROM scores ORDER BY random() LIMIT 1")).one()
    first = min(values)
    values[first] = values[first] + 0.5 if values[first] <= 9.5 else 0.0
    db.session.execute(sa.text("UPDATE scores SET values = CAST(:v AS json), total = :t, version = version + 1, "
                               "updated_at = now() WHERE id = :id"),
                       {"v": json.dumps(values), "t": ranking.weighted_total(rubric, values), "id": score_id})
    db.session.commit()


def analyze(db) -> None:
    """Planner statistics for the bulk-loaded tables, which autovacuum would gather within a minute
    of such a load: without them PostgreSQL joins 15,000 assignments to their scores by 15,000
    index lookups (45 ms) instead of a hash join (13 ms)."""
    import sqlalchemy as sa

    db.session.commit()
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(sa.text("ANALYZE"))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--entries", type=int, default=5000)
    parser.add_argument("--judges-per-entry", type=int, default=3)
    parser.add_argument("--criteria", type=int, default=6)
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()

    from flask_migrate import upgrade

    from incubator import create_app
    from incubator.extensions import db

    url = fresh_pg_database("incubator_bench_ranking")
    app = create_app("testing", {"SQLALCHEMY_DATABASE_URI": url, "RATELIMIT_STORAGE_URI": "memory://",
                                 "WTF_CSRF_ENABLED": False,
                                 "GC_FREEZE_RANKINGS": True})  # as in production (config.py)
    with app.app_context():
        upgrade()
        t0 = time.perf_counter()
        round_id, n_entries, n_scores = build(db, args.entries, args.judges_per_entry, args.criteria)
        analyze(db)
        # What a gunicorn worker does once the app is loaded (wsgi.py).
        gc.collect()
        gc.freeze()
        print(f"built {n_entries} entries, {n_scores} submitted scores, {args.criteria} criteria "
              f"in {time.perf_counter() - t0:.1f} s")

    import sqlalchemy as sa

    from incubator.competitions.models import Round, Track
    from incubator.judging import services

    def timed(fn) -> list[float]:
        before = getattr(fn, "before", None)
        out = []
        for i in range(args.repeat + 1):
            with app.app_context():
                if before:
                    before()
                t = time.perf_counter()
                fn()
                dt = (time.perf_counter() - t) * 1000
                db.session.remove()
            if i:  # first run warms caches
                out.append(dt)
        return out

    def after(before, fn):
        """`fn`, each run timed after `before` ran untimed."""
        def run():
            fn()
        run.before = before
        return run

    def new_score():
        """A judge saved a score ("cold"): see move_one_score."""
        move_one_score(db, round_id)

    def application_edited():
        """A founder edited an application of the round (its description): the applications data
        version moves, who is ranked and in which track does not."""
        db.session.execute(sa.text(
            "UPDATE applications SET description = description || '。', updated_at = now() "
            "WHERE id = (SELECT id FROM applications ORDER BY random() LIMIT 1)"))
        db.session.commit()

    def nothing_cached():
        """Nothing cached in the process at all (a worker's first ranking of the round)."""
        services.clear_ranking_caches()
        if "pagecache" in app.extensions:  # the cached HTML pages (incubator/pagecache)
            app.extensions["pagecache"][0].clear()

    def new_worker():
        """A worker that has just started: nothing cached, then the start-up warm-up (gunicorn.conf.py)."""
        nothing_cached()
        services.warm_rankings()
        db.session.remove()

    def service():
        rnd = db.session.get(Round, round_id)
        result = services.compute_ranking(rnd)
        assert len(result.overall.ranked) == n_entries

    client = app.test_client()
    r = client.post("/login", data={"email": "bench.manager@example.cn", "password": "Bench-2026-pass"})
    assert r.status_code == 302, r.status_code

    def get(path, check):
        def run():
            resp = client.get(path)
            assert resp.status_code == 200, resp.status_code
            resp.get_data()  # the whole body, also when the response is streamed
            check(resp)
        return run

    base = f"/manage/judging/rounds/{round_id}"
    with app.app_context():
        track_id = db.session.scalar(sa.select(Round.competition_id).where(Round.id == round_id))
        track_id = db.session.scalar(sa.select(Track.id).where(Track.competition_id == track_id).order_by(Track.position))
    cases = [
        ("service compute_ranking(), nothing cached", after(nothing_cached, service)),
        ("service compute_ranking(), cold", after(new_score, service)),
        ("service, after an application edit", after(application_edited, service)),
        ("GET leaderboard.json, cold", after(new_score, get(base + "/leaderboard.json",
                                                           lambda r: len(r.get_json()["rows"]) == n_entries))),
        ("GET export/rankings.csv, cold", after(new_score, get(base + "/export/rankings.csv", lambda r: None))),
        ("GET leaderboard.json, nothing cached", after(nothing_cached, get(
            base + "/leaderboard.json", lambda r: len(r.get_json()["rows"]) == n_entries))),
        ("GET rankings page 1, nothing cached", after(nothing_cached, get(base + "/rankings", lambda r: None))),
        ("GET export/rankings.csv, nothing cached", after(nothing_cached, get(base + "/export/rankings.csv",
                                                                             lambda r: None))),
        ("GET leaderboard.json, new worker warmed", after(new_worker, get(
            base + "/leaderboard.json", lambda r: len(r.get_json()["rows"]) == n_entries))),
        ("GET rankings page 1, new worker warmed", after(new_worker, get(base + "/rankings", lambda r: None))),
        ("GET rankings page 1 (HTML, 100 rows), cold", after(new_score, get(base + "/rankings", lambda r: None))),
        ("service compute_ranking(), cached", service),
        ("GET leaderboard.json, cached", get(base + "/leaderboard.json",
                                                     lambda r: len(r.get_json()["rows"]) == n_entries)),
        ("GET export/rankings.csv, cached", get(base + "/export/rankings.csv", lambda r: None)),
        ("GET rankings page 1 (HTML, 100 rows), cached", get(base + "/rankings", lambda r: None)),
        ("GET rankings page 8 of a track, cached", get(base + "/rankings?page=8&track=" + str(track_id),
                                                        lambda r: None)),
    ]
    print(f"{'what':<40} {'median':>9} {'min':>9} {'max':>9}   (ms, {args.repeat} runs)")
    for label, fn in cases:
        times = timed(fn)
        print(f"{label:<40} {statistics.median(times):9.1f} {min(times):9.1f} {max(times):9.1f}")


if __name__ == "__main__":
    main()
