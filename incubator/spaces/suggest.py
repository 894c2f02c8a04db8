"""Suggest which free spaces to give a team: enough seats, one zone, side by side.

Pure module: plain data in, plain data out.  No Flask, no database.  The
caller passes the spaces that are FREE for the whole requested period (it
knows the leases and out-of-service periods); this module never checks dates.

What is chosen, in this order of importance
-------------------------------------------
1. **Enough seats of the wanted type.**  A desk (``desk_hot``/``desk_fixed``)
   counts 1 seat, an office its ``capacity``.  If all candidates of that type
   together hold fewer seats than wanted, the result is falsy with
   ``reason="not_enough_seats"`` and ``params={"free": .., "wanted": ..}``.
2. **One zone if any zone can hold the team.**  The preferred zone wins when
   it can hold the team on its own; otherwise the best of the zones that can
   (note ``"preferred_zone_too_small"`` is added when a preferred zone was
   given but could not be used).
3. **Least waste** (offices only): the smallest surplus of seats, so a team
   of 3 gets a 4-seat office before an 8-seat one, and one office that fits
   beats two offices.
4. **Side by side.**  Fewest adjacency components (see below), then the
   smallest dispersion (sum of distances of the chosen centres to their
   centroid), then the smallest bounding box, then codes -- so the result
   is fully deterministic (input order does not matter).

If no single zone can hold the team, the team is split over the **fewest
zones** (``split_across_zones=True``, note ``"split_across_zones"``): the
preferred zone first if it can be one of a minimal set, then the zones with
the most free seats (ties by zone id).  Each zone except the last gives all
it has; the last one gives a compact cluster for the remainder.

How a compact cluster is found in a zone
----------------------------------------
*Adjacency graph.*  Two rectangles are adjacent when the gap between them
(Chebyshev distance between the rectangles, 0 if they touch or overlap) is
at most ``gap``.  The default gap is half the median short side of the
zone's candidates, so it works whether the plan is in centimetres or grid
units.  The graph is built with a uniform grid whose cell is the largest
rectangle side plus the gap: two adjacent rectangles then have their centres
in the same or a neighbouring cell, so each space is only compared with the
9 cells around it -- no O(n^2) over all pairs.

*Growth from a seed.*  From a seed space we grow a Prim-like region: a heap
ordered by distance to the seed's centre, expanded only through adjacency
edges, so the region stays connected and round.  If the connected component
runs out before the seats are covered, the nearest remaining space (by
distance to the seed) is added -- counted as a new component -- and growth
continues from it.  For offices, members that are not needed any more are
then dropped (largest surplus first), so the cover is minimal.

*Seeds.*  A small zone (<= ``exhaustive_seed_limit`` candidates) tries every
space as a seed.  A larger one tries the four extreme corners (min/max of
x+y and x-y: growing from a corner leaves the rest of the zone contiguous)
plus ``max_seeds`` spaces evenly spread in (y, x, code) order.  Each seed
gives one cluster; the best by the order above wins.  Growth costs
O(k log k) per seed for k chosen spaces, plus O(n) for the zone's n
candidates the first time a component runs out; a suggestion of 50 seats
among 2 000 spaces takes 1-15 ms (see docs/benchmarks-spaces-pure.md).

Trade-off: adjacency components come before dispersion, so a connected
line of desks beats a tighter square split by aisles wider than ``gap``
(people sitting side by side matters more than the bounding box).

Offices: if one office in the zone fits (capacity >= seats), the best-fitting
single office (smallest capacity, then code) is that zone's answer.
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Hashable, Iterable, Sequence
from dataclasses import dataclass, field

__all__ = [
    "DESK_TYPES",
    "SPACE_TYPES",
    "Candidate",
    "Suggestion",
    "suggest_spaces",
]

DESK_TYPES = frozenset({"desk_hot", "desk_fixed"})
SPACE_TYPES = frozenset({"desk_hot", "desk_fixed", "office"})


@dataclass(frozen=True)
class Candidate:
    """A space that is free for the whole requested period."""

    id: Hashable
    code: str
    zone_id: Hashable
    type: str  # desk_hot | desk_fixed | office
    capacity: int
    x: float
    y: float
    w: float
    h: float
    features: frozenset[str] = frozenset()

    @property
    def seats(self) -> int:
        return 1 if self.type in DESK_TYPES else max(int(self.capacity), 0)


@dataclass(frozen=True)
class Suggestion:
    """The answer.  Falsy when nothing can be suggested (see ``reason``).

    ``reason`` is a message key for the caller to translate: ``None`` when a
    suggestion was made, ``"not_enough_seats"`` (params ``free``, ``wanted``)
    or ``"invalid_request"`` (params ``detail``).  ``notes`` are extra keys
    for a successful suggestion: ``"preferred_zone_too_small"``,
    ``"split_across_zones"``.
    """

    spaces: tuple[Candidate, ...]
    seats_wanted: int
    seats_covered: int
    seats_free: int
    zone_ids: tuple = ()
    split_across_zones: bool = False
    components: int = 0  # adjacency components among the chosen spaces (per zone, summed)
    reason: str | None = None
    params: dict = field(default_factory=dict)
    notes: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        return self.reason is None

    @property
    def space_ids(self) -> tuple:
        return tuple(s.id for s in self.spaces)

    def __bool__(self) -> bool:
        return self.ok


# ----------------------------------------------------------------------------
# Zone-level machinery
# ----------------------------------------------------------------------------
class _Zone:
    """Candidates of one zone with their adjacency graph (built on a grid)."""

    def __init__(self, zone_id, spaces: list[Candidate], gap: float | None):
        self.zone_id = zone_id
        # Canonical order: makes every tie-break independent of input order.
        self.spaces = sorted(spaces, key=lambda s: (s.code, repr(s.id)))
        self.seats = [s.seats for s in self.spaces]
        self.total = sum(self.seats)
        self.cx = [s.x + s.w / 2 for s in self.spaces]
        self.cy = [s.y + s.h / 2 for s in self.spaces]
        if gap is None:
            shorts = sorted(min(s.w, s.h) for s in self.spaces)
            gap = shorts[len(shorts) // 2] / 2 if shorts else 0.0
        self.gap = gap
        self._adj: list[list[int]] | None = None

    @property
    def adj(self) -> list[list[int]]:
        if self._adj is None:
            self._adj = self._build_adjacency()
        return self._adj

    def _build_adjacency(self) -> list[list[int]]:
        sp, gap = self.spaces, self.gap
        n = len(sp)
        adj: list[list[int]] = [[] for _ in range(n)]
        if n < 2:
            return adj
        cell = max(max(s.w, s.h) for s in sp) + gap
        if cell <= 0:
            cell = 1.0
        grid: dict[tuple[int, int], list[int]] = {}
        keys = []
        for i in range(n):
            k = (math.floor(self.cx[i] / cell), math.floor(self.cy[i] / cell))
            keys.append(k)
            grid.setdefault(k, []).append(i)
        xa = [s.x for s in sp]
        ya = [s.y for s in sp]
        xb = [s.x + s.w for s in sp]
        yb = [s.y + s.h for s in sp]
        for i in range(n):
            gx, gy = keys[i]
            ax0, ay0, ax1, ay1 = xa[i] - gap, ya[i] - gap, xb[i] + gap, yb[i] + gap
            adj_i = adj[i]
            for dx in (-1, 0, 1):
                for dy in (-1, 0, 1):
                    for j in grid.get((gx + dx, gy + dy), ()):
                        # Gap between the rectangles <= gap on both axes (touching counts).
                        if j > i and xa[j] <= ax1 and ax0 <= xb[j] and ya[j] <= ay1 and ay0 <= yb[j]:
                            adj_i.append(j)
                            adj[j].append(i)
        for lst in adj:
            lst.sort()
        return adj

    # -- seeds --------------------------------------------------------------
    def seeds(self, max_seeds: int, exhaustive_limit: int) -> list[int]:
        n = len(self.spaces)
        if n <= exhaustive_limit:
            return list(range(n))
        idx = range(n)
        chosen = [
            min(idx, key=lambda i: (self.cx[i] + self.cy[i], i)),
            max(idx, key=lambda i: (self.cx[i] + self.cy[i], -i)),
            min(idx, key=lambda i: (self.cx[i] - self.cy[i], i)),
            max(idx, key=lambda i: (self.cx[i] - self.cy[i], -i)),
        ]
        order = sorted(idx, key=lambda i: (self.cy[i], self.cx[i], i))
        for t in range(max_seeds):
            chosen.append(order[(t * n) // max_seeds])
        return list(dict.fromkeys(chosen))

    # -- growth ---------------------------------------------------------------
    def grow(self, seed: int, need: int) -> list[int]:
        cx, cy, seats, adj = self.cx, self.cy, self.seats, self.adj
        sx, sy = cx[seed], cy[seed]

        def d(i: int) -> float:
            return math.hypot(cx[i] - sx, cy[i] - sy)

        chosen: list[int] = []
        covered = 0
        heap: list[tuple[float, int]] = [(0.0, seed)]
        queued = {seed}
        by_distance: list[tuple[float, int]] | None = None
        while covered < need:
            if not heap:
                # Component exhausted: jump to the nearest space not yet taken.
                if by_distance is None:
                    by_distance = [(math.hypot(x - sx, y - sy), i) for i, (x, y) in enumerate(zip(cx, cy))]
                    heapq.heapify(by_distance)
                while by_distance[0][1] in queued:
                    heapq.heappop(by_distance)
                dist, nxt = heapq.heappop(by_distance)
                queued.add(nxt)
                heap.append((dist, nxt))
            _, i = heapq.heappop(heap)
            chosen.append(i)
            covered += seats[i]
            for j in adj[i]:
                if j not in queued:
                    queued.add(j)
                    heapq.heappush(heap, (d(j), j))
        return self._trim(chosen, need)

    def _trim(self, chosen: list[int], need: int) -> list[int]:
        covered = sum(self.seats[i] for i in chosen)
        if covered == need:
            return chosen
        # Offices: drop members whose seats are not needed, biggest first.
        for i in sorted(chosen, key=lambda i: (-self.seats[i], -i)):
            if covered - self.seats[i] >= need:
                chosen = [c for c in chosen if c != i]
                covered -= self.seats[i]
        return chosen

    # -- scoring --------------------------------------------------------------
    def components(self, members: Sequence[int]) -> int:
        inside = set(members)
        seen: set[int] = set()
        comps = 0
        for m in members:
            if m in seen:
                continue
            comps += 1
            stack = [m]
            seen.add(m)
            while stack:
                i = stack.pop()
                for j in self.adj[i]:
                    if j in inside and j not in seen:
                        seen.add(j)
                        stack.append(j)
        return comps

    def score(self, members: Sequence[int], need: int) -> tuple:
        cx, cy = self.cx, self.cy
        k = len(members)
        mx = sum(cx[i] for i in members) / k
        my = sum(cy[i] for i in members) / k
        dispersion = sum(math.hypot(cx[i] - mx, cy[i] - my) for i in members)
        sp = self.spaces
        x0 = min(sp[i].x for i in members)
        y0 = min(sp[i].y for i in members)
        x1 = max(sp[i].x + sp[i].w for i in members)
        y1 = max(sp[i].y + sp[i].h for i in members)
        waste = sum(self.seats[i] for i in members) - need
        codes = tuple(sorted(sp[i].code for i in members))
        return (waste, self.components(members), round(dispersion, 9),
                round((x1 - x0) * (y1 - y0), 9), codes)

    def best_cluster(self, need: int, max_seeds: int, exhaustive_limit: int) -> tuple[tuple, list[int]]:
        """Best (score, member indices) covering ``need`` seats; need <= total."""
        if need >= self.total:
            members = list(range(len(self.spaces)))
            return self.score(members, need), members
        fitting = [i for i, s in enumerate(self.seats) if s >= need]
        if fitting:  # offices: one room that fits beats any combination
            i = min(fitting, key=lambda i: (self.seats[i], i))
            return self.score([i], need), [i]
        best: tuple[tuple, list[int]] | None = None
        for seed in self.seeds(max_seeds, exhaustive_limit):
            members = self.grow(seed, need)
            sc = self.score(members, need)
            if best is None or sc < best[0]:
                best = (sc, members)
        assert best is not None
        return best


def _zone_sort_key(zone_id) -> tuple:
    if isinstance(zone_id, int):
        return (0, zone_id, "")
    if isinstance(zone_id, str):
        return (1, 0, zone_id)
    return (2, 0, repr(zone_id))


# ----------------------------------------------------------------------------
# Public entry point
# ----------------------------------------------------------------------------
def suggest_spaces(
    spaces: Iterable[Candidate],
    seats: int,
    space_type: str,
    preferred_zone: Hashable | None = None,
    *,
    required_features: Iterable[str] = (),
    gap: float | None = None,
    max_seeds: int = 12,
    exhaustive_seed_limit: int = 64,
) -> Suggestion:
    """Choose free spaces of ``space_type`` covering ``seats`` seats.

    ``spaces`` are the candidates free for the requested period (other types
    are ignored, so the caller may pass all free spaces).
    ``required_features``: only spaces having all of them are considered.
    ``gap``: adjacency threshold in plan units (default: half the median
    short side of the zone's candidates).  See the module docstring.
    """
    if space_type not in SPACE_TYPES:
        return Suggestion((), seats, 0, 0, reason="invalid_request",
                          params={"detail": "space_type"})
    if not isinstance(seats, int) or seats < 1:
        return Suggestion((), seats, 0, 0, reason="invalid_request", params={"detail": "seats"})
    need_features = frozenset(required_features)
    pool = [s for s in spaces
            if s.type == space_type and s.seats > 0 and need_features <= s.features]
    by_zone: dict = {}
    for s in pool:
        by_zone.setdefault(s.zone_id, []).append(s)
    zones = {z: _Zone(z, lst, gap) for z, lst in by_zone.items()}
    free = sum(z.total for z in zones.values())
    if free < seats:
        return Suggestion((), seats, 0, free, reason="not_enough_seats",
                          params={"free": free, "wanted": seats})

    notes: list[str] = []
    hosting = [z for z in zones.values() if z.total >= seats]
    if hosting:
        pref = zones.get(preferred_zone) if preferred_zone is not None else None
        if pref is not None and pref.total >= seats:
            score, members = pref.best_cluster(seats, max_seeds, exhaustive_seed_limit)
            zone = pref
        else:
            if preferred_zone is not None:
                notes.append("preferred_zone_too_small")
            best = None
            for z in sorted(hosting, key=lambda z: _zone_sort_key(z.zone_id)):
                sc, members = z.best_cluster(seats, max_seeds, exhaustive_seed_limit)
                if best is None or sc < best[0]:
                    best = (sc, members, z)
            score, members, zone = best
        chosen = tuple(sorted((zone.spaces[i] for i in members), key=lambda s: s.code))
        return Suggestion(chosen, seats, sum(s.seats for s in chosen), free,
                          zone_ids=(zone.zone_id,), components=score[1], notes=tuple(notes))

    # Split over the fewest zones.
    if preferred_zone is not None:
        notes.append("preferred_zone_too_small")
    notes.append("split_across_zones")
    ordered = sorted(zones.values(), key=lambda z: (-z.total, _zone_sort_key(z.zone_id)))
    k, acc = 0, 0
    while acc < seats:
        acc += ordered[k].total
        k += 1
    pref = zones.get(preferred_zone) if preferred_zone is not None else None
    if pref is not None:
        others = [z for z in ordered if z is not pref][: k - 1]
        if pref.total + sum(z.total for z in others) >= seats:
            ordered = [pref] + [z for z in ordered if z is not pref]
    parts: list[tuple[_Zone, list[int]]] = []
    remaining = seats
    for z in ordered:
        if remaining <= 0:
            break
        _, members = z.best_cluster(min(remaining, z.total), max_seeds, exhaustive_seed_limit)
        parts.append((z, members))
        remaining -= sum(z.seats[i] for i in members)
    # Offices: whole zones taken early may leave a surplus the last zone also covered;
    # drop what is not needed, biggest first (this never empties a zone: the count is minimal).
    covered = seats - remaining
    for z, members in parts:
        for i in sorted(members, key=lambda i: (-z.seats[i], -i)):
            if covered - z.seats[i] >= seats:
                members.remove(i)
                covered -= z.seats[i]
    parts = [(z, m) for z, m in parts if m]
    picked = sorted((z.spaces[i] for z, m in parts for i in m), key=lambda s: s.code)
    return Suggestion(tuple(picked), seats, covered, free,
                      zone_ids=tuple(z.zone_id for z, _ in parts), split_across_zones=True,
                      components=sum(z.components(m) for z, m in parts), notes=tuple(notes))
