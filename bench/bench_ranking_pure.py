"""Benchmark for incubator.judging.ranking (pure aggregation + ranking).

    PYTHONPATH=. python bench/bench_ranking_pure.py [--entries 5000 --judges-per-entry 3 --criteria 6]

Generates a round: entries over 6 tracks, a pool of judges (entries * k / 30,
i.e. ~30 sheets per judge, with a per-judge leniency offset so the z-score
method has something to correct), 6 criteria with weights 1-5 and max 10
or 20.  For each method it times ``aggregate`` + ``rank`` (overall and per
track) + both advancement rules + awards, best of --repeat runs.
"""

from __future__ import annotations

import argparse
import random
import time

from incubator.judging.ranking import (
    METHODS,
    AwardLevel,
    Criterion,
    Score,
    aggregate,
    assign_awards,
    rank,
    top_n_per_track,
    top_percent_overall,
)


def make_round(n_entries: int, k: int, n_criteria: int, seed: int):
    rnd = random.Random(seed)
    rubric = [Criterion(f"c{i}", rnd.randint(1, 5), rnd.choice([10, 20])) for i in range(n_criteria)]
    entries = {f"E{i}": f"T{i % 6}" for i in range(n_entries)}
    n_judges = max(k, n_entries * k // 30)
    leniency = {f"J{j}": rnd.uniform(-0.15, 0.15) for j in range(n_judges)}
    judges = list(leniency)
    scores = []
    for e in entries:
        quality = rnd.uniform(0.3, 0.95)
        for j in rnd.sample(judges, k):
            vals = {}
            for c in rubric:
                frac = min(1.0, max(0.0, quality + leniency[j] + rnd.gauss(0, 0.08)))
                vals[c.id] = round(frac * c.max_score, 1)
            scores.append(Score(e, j, vals))
    return rubric, entries, scores


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--entries", type=int, default=5000)
    ap.add_argument("--judges-per-entry", type=int, default=3)
    ap.add_argument("--criteria", type=int, default=6)
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--repeat", type=int, default=3)
    a = ap.parse_args()
    rubric, entries, scores = make_round(a.entries, a.judges_per_entry, a.criteria, a.seed)
    print(f"round: {len(entries)} entries, {len(scores)} score sheets, {len(rubric)} criteria, seed={a.seed}")
    counts = {AwardLevel.FIRST: 5, AwardLevel.SECOND: 10, AwardLevel.THIRD: 20, AwardLevel.HONORABLE: 50}
    for method in METHODS:
        best_agg = best_total = float("inf")
        for _ in range(a.repeat):
            t0 = time.perf_counter()
            reports = aggregate(rubric, entries, scores, method=method)
            t1 = time.perf_counter()
            overall, per_track = rank(reports)
            top_n_per_track(per_track, 10)
            top_percent_overall(overall, 10)
            awards = assign_awards(overall, counts)
            t2 = time.perf_counter()
            best_agg = min(best_agg, t1 - t0)
            best_total = min(best_total, t2 - t0)
        flagged = sum(r.disagreement for r in reports.values())
        print(f"{method:<13} aggregate {best_agg * 1000:7.1f} ms | aggregate+rank+advance+awards "
              f"{best_total * 1000:7.1f} ms | disagreement flags {flagged} | awards {len(awards)}")


if __name__ == "__main__":
    main()
