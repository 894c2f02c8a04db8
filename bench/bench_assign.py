"""Benchmark for incubator.judging.assign.

Generates a random round, runs assign_judges, prints timings and quality.

    PYTHONPATH=. python bench/bench_assign.py --preset 10k --baseline
    PYTHONPATH=. python bench/bench_assign.py --preset 100k

Instance model: 6 tracks with a skewed entry spread (45/25/12/8/6/4 %), so
that expertise supply and demand do not match and the optimal cost is > 0;
each judge is expert in 1-3 uniformly chosen tracks; each (judge, entry)
pair is a conflict with probability --conflict-rate (sampled with numpy).
Input generation is not timed.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from incubator.judging.assign import Entry, Judge, assign_judges, solve_dense_min_cost

PRESETS = {
    "small": dict(entries=1000, judges=60, k=3),
    "10k": dict(entries=10_000, judges=500, k=3),
    "100k": dict(entries=100_000, judges=2_000, k=3),
}
TRACK_SHARE = [0.45, 0.25, 0.12, 0.08, 0.06, 0.04]


def make_instance(n: int, m: int, rate: float, seed: int):
    rng = np.random.default_rng(seed)
    tracks = [f"T{i}" for i in range(len(TRACK_SHARE))]
    entry_tracks = rng.choice(len(tracks), size=n, p=TRACK_SHARE)
    entries = [Entry(i, tracks[t]) for i, t in enumerate(entry_tracks.tolist())]
    judges = []
    for j in range(m):
        size = int(rng.integers(1, 4))
        judges.append(Judge(f"J{j}", frozenset(tracks[t] for t in rng.choice(len(tracks), size, replace=False))))
    n_conf = int(rng.binomial(n * m, rate))
    keys = np.unique(rng.integers(0, n * m, size=n_conf, dtype=np.int64))
    conflicts = {(f"J{k // n}", int(k % n)) for k in keys.tolist()}
    return entries, judges, conflicts


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--preset", choices=PRESETS)
    ap.add_argument("--entries", type=int, default=1000)
    ap.add_argument("--judges", type=int, default=60)
    ap.add_argument("--k", type=int, default=3)
    ap.add_argument("--conflict-rate", type=float, default=0.01)
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--baseline", action="store_true", help="also run the dense OR-Tools min-cost flow")
    a = ap.parse_args()
    if a.preset:
        for key, val in PRESETS[a.preset].items():
            setattr(a, key, val)
    t0 = time.perf_counter()
    entries, judges, conflicts = make_instance(a.entries, a.judges, a.conflict_rate, a.seed)
    t_gen = time.perf_counter() - t0
    print(f"instance: {a.entries} entries x {a.judges} judges, k={a.k}, "
          f"{len(conflicts)} conflicts ({a.conflict_rate:.2%}), seed={a.seed}  [generated in {t_gen:.2f}s, untimed]")

    import incubator.judging.assign as mod

    timings: dict[str, float] = {}
    orig_window = mod._window_solve
    orig_dis = mod._disaggregate

    def timed(name, fn):
        def wrapper(*args, **kw):
            s = time.perf_counter()
            try:
                return fn(*args, **kw)
            finally:
                timings[name] = timings.get(name, 0.0) + time.perf_counter() - s
        return wrapper

    mod._window_solve = timed("flow solves (window search + min cost)", orig_window)
    mod._disaggregate = timed("disaggregation + exchange repair", orig_dis)
    t0 = time.perf_counter()
    res = assign_judges(entries, judges, a.k, conflicts)
    total = time.perf_counter() - t0
    mod._window_solve, mod._disaggregate = orig_window, orig_dis
    solve = sum(timings.values())
    print(f"feasible={res.feasible} method={res.method} optimal={res.optimal}")
    print(f"build (index + graph) time : {total - solve:.3f} s")
    for name, val in timings.items():
        print(f"  {name:<38}: {val:.3f} s")
    print(f"solve time                 : {solve:.3f} s")
    print(f"TOTAL assign_judges        : {total:.3f} s")
    if not res.feasible:
        print("infeasible:", res.infeasibility)
        return
    gap = (res.new_cost - res.lower_bound) / res.lower_bound if res.lower_bound else 0.0
    loads = list(res.loads.values())
    print(f"cost={res.new_cost} lower_bound={res.lower_bound} gap={gap:.4%} "
          f"match_rate={res.expertise_match_rate:.4f}")
    print(f"loads min={min(loads)} max={max(loads)} window={res.balance_window} pairs={len(res.assignments)}")
    # independent sanity check of the hard constraints
    conf = conflicts
    seen = set()
    per_entry: dict = {}
    for asg in res.assignments:
        key = (asg.judge_id, asg.entry_id)
        assert key not in seen and key not in conf
        seen.add(key)
        per_entry[asg.entry_id] = per_entry.get(asg.entry_id, 0) + 1
    assert all(per_entry.get(e.id, 0) == a.k for e in entries)
    print("checked: exact k per entry, no duplicates, no conflicts")
    if a.baseline:
        t0 = time.perf_counter()
        base = solve_dense_min_cost(entries, judges, a.k, conflicts, res.balance_window)
        tb = time.perf_counter() - t0
        print(f"dense OR-Tools baseline (same window, build+solve): cost={base} time={tb:.3f} s "
              f"-> {'EQUAL' if base == res.new_cost else 'DIFFERENT'}")


if __name__ == "__main__":
    main()
