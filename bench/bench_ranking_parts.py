"""Where a ranking's time goes: each step of services.compute_ranking timed on its own.

    PYTHONPATH=. .venv/bin/python bench/bench_ranking_parts.py [--runs 8]

Builds the round of bench_ranking_db (5,000 entries x 3 judges x 6 criteria, PostgreSQL) in the
database incubator_bench_ranking_parts, then, the garbage collector off as in the service, times:

* from nothing (a worker's first ranking of the round): all sheets read with their hashes, a Tally built;
* after a new score (one criterion of one random sheet moved by a step and committed): the bucket
  sums alone, then RoundSheets.sync (the sums again, the changed bucket read and applied),
  the Tally's reports and the ranking.

Medians after two warm-up runs.
"""
from __future__ import annotations

import argparse
import gc
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.bench_ranking_db import analyze, build, move_one_score  # noqa: E402
from bench.harness import fresh_pg_database  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=8)
    args = parser.parse_args()

    from flask_migrate import upgrade

    from incubator import create_app
    from incubator.competitions.models import Round
    from incubator.extensions import db
    from incubator.judging import ranking, services, sheets
    from incubator.pagecache import read_versions

    url = fresh_pg_database("incubator_bench_ranking_parts")
    app = create_app("testing", {"SQLALCHEMY_DATABASE_URI": url, "RATELIMIT_STORAGE_URI": "memory://"})
    with app.app_context():
        upgrade()
        round_id, _, _ = build(db, 5000, 3, 6)
        analyze(db)
    times: dict[str, list[float]] = {}

    def timed(label, fn):
        t = time.perf_counter()
        out = fn()
        times.setdefault(label, []).append((time.perf_counter() - t) * 1000)
        return out

    kept = None
    for _ in range(args.runs + 2):
        with app.test_request_context():
            rnd = db.session.get(Round, round_id)
            gc.disable()
            timed("data versions", lambda: read_versions(services.RANKING_SCOPES))
            rows = timed("from nothing: entry rows", lambda: services.entry_rows(rnd))
            tracks = {a.id: a.track_id or 0 for a in rows.values()}
            rubric = timed("from nothing: rubric", lambda: services.rubric_of(rnd))
            top_id = str(ranking.top_criterion(rubric).id)
            all_rows, _ = timed("from nothing: read all sheets and their bucket sums",
                                lambda: sheets.read_sheets(rnd.id, top_id))
            tally = ranking.Tally(tracks, rnd.aggregation)
            timed("from nothing: Tally built", lambda: (tally.apply(added=all_rows), tally.reports()))
            if kept is None:
                kept = sheets.RoundSheets(rubric, tracks, rnd.aggregation)
                kept.sync(rnd.id)
                kept.tally.reports()
            gc.enable()
            move_one_score(db, round_id)
            gc.disable()
            timed("new score: bucket sums (also in sync)", lambda: sheets.bucket_sums(rnd.id))
            timed("new score: sync", lambda: kept.sync(rnd.id))
            reports = timed("new score: Tally reports", kept.tally.reports)
            timed("ranking overall and per track", lambda: ranking.rank(reports))
            gc.enable()
            db.session.remove()
    for label, values in times.items():
        print(f"{label:<40} {statistics.median(values[2:]):8.1f} ms")


if __name__ == "__main__":
    main()
