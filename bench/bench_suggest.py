"""Benchmark for incubator.spaces.suggest and incubator.spaces.floorplan.

    PYTHONPATH=. python bench/bench_suggest.py [--floors 10 --zones 4 --per-zone 50 --leased 0.7 --seats 50]

Building: ``floors`` x ``zones`` x ``per-zone`` spaces (default 2 000).  Each
zone is a block of desk rows (10 desks of 160x80 per row, a 120-unit aisle
every two rows) plus a few offices along the far side; 70 % of the spaces are
leased at random, the rest are the candidates.  Times ``suggest_spaces`` for
``--seats`` hot desks (median and max of ``--runs`` runs) in four scenarios,
and ``render_floor_svg`` for one floor of ``--svg-spaces`` spaces.
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import statistics
import time
import xml.etree.ElementTree as ET

from incubator.spaces.floorplan import PlanFloor, PlanSpace, SpaceState, render_floor_svg
from incubator.spaces.suggest import Candidate, suggest_spaces

TYPES = ("desk_hot", "desk_fixed")


def zone_layout(floor: int, zone_index: int, n: int, rng: random.Random):
    """n spaces of one zone: desk rows, then offices (every 10th space an office)."""
    zone = chr(ord("A") + zone_index)
    ox = zone_index * 2000
    out = []
    desk_i = 0
    office_i = 0
    for k in range(1, n + 1):
        code = f"{floor}F-{zone}-{k:03d}"
        if k % 10 == 0:
            x, y = ox + office_i * 400, 1700
            out.append((code, zone, "office", rng.choice([4, 6, 8]), x, y, 380, 300))
            office_i += 1
        else:
            row, col = divmod(desk_i, 10)
            x = ox + col * 160
            y = row * 80 + (row // 2) * 120
            out.append((code, zone, rng.choice(TYPES), 1, x, y, 160, 80))
            desk_i += 1
    return out


def building(floors, zones, per_zone, leased, seed):
    rng = random.Random(seed)
    all_spaces = []
    sid = 0
    for f in range(1, floors + 1):
        for z in range(zones):
            for code, zone, type_, cap, x, y, w, h in zone_layout(f, z, per_zone, rng):
                sid += 1
                all_spaces.append((sid, f, code, f"{f}-{zone}", type_, cap, x, y, w, h))
    free = []
    for sid, f, code, zone_id, type_, cap, x, y, w, h in all_spaces:
        if rng.random() >= leased:
            feats = frozenset(ft for ft in ("window", "power", "monitor") if rng.random() < 0.4)
            free.append(Candidate(sid, code, zone_id, type_, cap, x, y, w, h, feats))
    return all_spaces, free


def timed(fn, runs):
    times, result = [], None
    for _ in range(runs):
        t0 = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), max(times), result


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--floors", type=int, default=10)
    ap.add_argument("--zones", type=int, default=4)
    ap.add_argument("--per-zone", type=int, default=50)
    ap.add_argument("--leased", type=float, default=0.7)
    ap.add_argument("--seats", type=int, default=50)
    ap.add_argument("--runs", type=int, default=20)
    ap.add_argument("--svg-spaces", type=int, default=200)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()

    all_spaces, free = building(args.floors, args.zones, args.per_zone, args.leased, args.seed)
    print(f"building: {len(all_spaces)} spaces, {len(free)} free candidates "
          f"({sum(1 for c in free if c.type == 'desk_hot')} hot desks)")

    scenarios = [
        (f"{args.seats} hot desks, preferred zone 1-A", free, dict(preferred_zone="1-A")),
        (f"{args.seats} hot desks, no preference", free, {}),
        ("8 hot desks, no preference (fits in one zone: every zone searched)", free,
         dict(seats=8)),
        (f"{args.seats} hot desks, 4 zones x 500 spaces, all desks free", None, {}),
    ]
    for label, pool, kw in scenarios:
        if pool is None:
            _, pool = building(1, 4, 500, 0.0, args.seed)
            pool = [Candidate(c.id, c.code, c.zone_id, "desk_hot", 1, c.x, c.y, c.w, c.h) for c in pool]
        seats = kw.pop("seats", args.seats)
        med, mx, res = timed(lambda: suggest_spaces(pool, seats, "desk_hot", **kw), args.runs)
        print(f"suggest  {label}: candidates {len(pool)}, median {med * 1000:.1f} ms, "
              f"max {mx * 1000:.1f} ms -> {len(res.spaces)} spaces, zones {len(res.zone_ids)}, "
              f"components {res.components}, split {res.split_across_zones}")

    # SVG for one floor of --svg-spaces spaces, 70 % leased with hostile-ish team names.
    rng = random.Random(args.seed)
    zones = max(1, args.svg_spaces // 50)
    plan = []
    for z in range(zones):
        for code, zone, type_, cap, x, y, w, h in zone_layout(1, z, args.svg_spaces // zones, rng):
            plan.append(PlanSpace(len(plan) + 1, code, type_, cap, x, y, w, h))
    today = dt.date(2026, 11, 26)
    states = {}
    for s in plan:
        r = rng.random()
        if r < args.leased:
            states[s.id] = SpaceState(rng.choice(["leased", "ending_soon", "reserved"]),
                                      f"团队<{s.id}> & \"Co\"", today, today + dt.timedelta(days=90))
        elif r < args.leased + 0.03:
            states[s.id] = SpaceState("out_of_service")
    mine = [s.id for s in plan[:5]]
    med, mx, svg = timed(lambda: render_floor_svg(PlanFloor(1, "1F"), plan, states, highlight_ids=mine,
                                                  href="/spaces/{id}/history"), args.runs)
    ET.fromstring(svg)
    print(f"svg      {len(plan)} spaces: median {med * 1000:.1f} ms, max {mx * 1000:.1f} ms, "
          f"{len(svg) / 1024:.0f} KiB")


if __name__ == "__main__":
    main()
