"""Automatic judge assignment for one judging round, as a min-cost flow.

Pure module: plain data in, plain data out.  No Flask, no database.  The
integrator loads entries / judges / conflicts / manual assignments from the
database, calls :func:`assign_judges`, and writes ``result.assignments`` back.

What is optimised (lexicographically, in this order)
----------------------------------------------------
1. **Hard constraints.**  Every entry gets exactly ``k`` judges (manual ones
   included), no judge twice on one entry, no conflicted pair, manual
   assignments kept, optional per-judge capacity caps respected.  If this is
   impossible the result is ``feasible=False`` with an exact explanation and
   *no* assignments -- never a silent partial result.
2. **Balance.**  With ``T = k * len(entries)`` the ideal is that every judge
   carries ``floor(T/m)`` or ``ceil(T/m)`` entries.  In general we compute
   the tightest load window ``[L*, H*]``:

   * ``H*`` is the smallest ``H`` such that a feasible assignment exists in
     which every judge has ``load <= max(H, manual_load)`` (and ``<= cap``);
   * ``L*`` is the largest ``L`` such that a feasible assignment exists in
     which every judge has ``load >= min(L, cap)``.

   A judge whose *manual* load already exceeds ``H*`` simply gets no new
   entries, and a judge whose cap is below ``L*`` is filled to its cap; these
   are the only judges that may sit outside the window (they are reported in
   ``result.window_exceptions``).  By the linking property of flows (the
   feasible judge-load vectors form an integral base polyhedron, and a box
   intersects it iff its lower and upper halves do separately, Fujishige
   Thm 3.8) both bounds are attained *simultaneously*, so ``[L*, H*]`` is the
   unique tightest window.  Without manual overload and caps this means
   ``max load - min load <= 1`` whenever any assignment achieves that.
3. **Cost.**  Among assignments inside that window, minimum total cost, where
   the cost of a pair depends on (judge, entry track) -- by default
   ``CostWeights.match`` if the track is in the judge's expertise, otherwise
   ``CostWeights.mismatch``.  The result is *optimal*, not greedy.

Why the formulation is aggregated (HotCRP autoassigner idea, made exact)
------------------------------------------------------------------------
A dense flow has one arc per (judge, entry) pair: 4.95 M arcs at 10 000
entries x 500 judges, ~6.4 s in OR-Tools.  But costs only depend on (judge,
track), so entries of one track are interchangeable except for the sparse
conflicts.  We therefore solve

* a **relaxation** on tracks x judges (a few thousand arcs): track ``t``
  supplies the remaining slots of its entries, arc ``t -> j`` has capacity
  "number of entries of ``t`` that judge ``j`` may still take" and cost
  ``cost(j, t)``; judge arcs carry the load window.  Every real assignment
  induces a flow here, so its optimum is a **lower bound** on the real cost
  (and its window is at least as tight as the real one);
* a **disaggregation** per track: turn the per-(track, judge) quotas into
  concrete pairs with a column-wise round-robin (no duplicates by
  construction when quotas are small), then repair conflicted/duplicate
  pairs with cost-neutral exchanges ``(j,e),(j2,e2) -> (j,e2),(j2,e)`` inside
  the same track.  Exchanges keep every judge's per-track count, so the cost
  equals the lower bound: **the result is provably optimal** and its window
  provably tightest.
* If no single exchange works, a breadth-first augmenting path inside the
  track is tried (exact for realising the quotas).  If the quotas are not
  realisable at all (only with dense conflicts, e.g. tiny instances), we
  fall back to the **exact dense min-cost flow** with the same
  lexicographic window search.  ``result.method`` says which path was used.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
from ortools.graph.python import max_flow, min_cost_flow

__all__ = [
    "Entry",
    "Judge",
    "Assignment",
    "CostWeights",
    "EntryShortfall",
    "Infeasibility",
    "AssignmentResult",
    "InfeasibleAssignment",
    "assign_judges",
    "solve_dense_min_cost",
]


# --------------------------------------------------------------------------
# Plain data types
# --------------------------------------------------------------------------
@dataclass(frozen=True)
class Entry:
    """A competition entry (参赛项目) in one round; ``track`` is its 赛道."""

    id: Hashable
    track: Hashable


@dataclass(frozen=True)
class Judge:
    """A judge (评委) with the set of tracks they are expert in."""

    id: Hashable
    expertise: frozenset = field(default_factory=frozenset)


@dataclass(frozen=True, order=True)
class Assignment:
    """One (judge, entry) pair."""

    judge_id: Hashable
    entry_id: Hashable


@dataclass(frozen=True)
class CostWeights:
    """Integer cost of one pair; lower is preferred.

    Integers because the flow solver is exact on integers.  The defaults make
    the objective "number of pairs outside the judge's expertise".
    """

    match: int = 0
    mismatch: int = 1


@dataclass(frozen=True)
class EntryShortfall:
    """An entry that cannot get ``needed`` judges: only ``eligible`` exist.

    ``eligible`` counts its manual judges plus every judge who is neither
    conflicted with it nor already full (capacity reached by manual load).
    """

    entry_id: Hashable
    eligible: int
    needed: int


@dataclass(frozen=True)
class Infeasibility:
    """Why no assignment exists.

    ``shortfalls`` lists every entry with fewer eligible judges than needed
    (sorted by entry order of the input).  When it is empty the obstruction
    is collective (capacity caps): ``deficient_entries`` together need
    ``required_slots`` new judge slots but their eligible judges can provide
    only ``available_slots``.
    """

    reason: str
    shortfalls: tuple[EntryShortfall, ...] = ()
    deficient_entries: tuple[Hashable, ...] = ()
    required_slots: int = 0
    available_slots: int = 0


class InfeasibleAssignment(Exception):
    """Raised by :meth:`AssignmentResult.raise_if_infeasible`."""

    def __init__(self, infeasibility: Infeasibility):
        super().__init__(infeasibility.reason)
        self.infeasibility = infeasibility


@dataclass
class AssignmentResult:
    """Outcome of :func:`assign_judges`.

    ``assignments`` holds only the *new* pairs (manual ones are excluded and
    must stay as they are).  ``loads``, ``total_cost`` and
    ``expertise_match_rate`` cover all pairs, manual included.
    ``lower_bound`` is a proven lower bound on ``new_cost`` (the aggregated
    relaxation); ``optimal`` is true when ``new_cost`` is proven minimal.
    """

    feasible: bool
    assignments: tuple[Assignment, ...] = ()
    loads: dict[Hashable, int] = field(default_factory=dict)
    total_cost: int = 0
    new_cost: int = 0
    expertise_match_rate: float = 0.0
    balance_window: tuple[int, int] | None = None
    window_exceptions: tuple[Hashable, ...] = ()
    lower_bound: int | None = None
    optimal: bool = False
    method: str = ""
    infeasibility: Infeasibility | None = None

    @property
    def load_spread(self) -> int:
        """max load - min load over all judges (0 if no judges)."""
        return (max(self.loads.values()) - min(self.loads.values())) if self.loads else 0

    def raise_if_infeasible(self) -> "AssignmentResult":
        if not self.feasible:
            assert self.infeasibility is not None
            raise InfeasibleAssignment(self.infeasibility)
        return self


# --------------------------------------------------------------------------
# Internal problem representation (indices, numpy arrays)
# --------------------------------------------------------------------------
_BIG = 1 << 40  # "no cap"


@dataclass
class _Problem:
    n: int  # entries
    m: int  # judges
    k: int
    entry_track: np.ndarray  # (n,) track index
    n_tracks: int
    need: np.ndarray  # (n,) remaining judges needed per entry (k - manual)
    manual_load: np.ndarray  # (m,)
    cap: np.ndarray  # (m,) total-load cap, _BIG if none
    cost_tj: np.ndarray  # (n_tracks, m) int cost
    forbidden: set[int]  # keys j * n + e: conflicts and manual pairs
    forbidden_j: np.ndarray  # parallel arrays of forbidden pairs
    forbidden_e: np.ndarray

    @property
    def room(self) -> np.ndarray:
        """How many *new* entries each judge can still take."""
        return np.minimum(self.cap - self.manual_load, self.n)

    def upper_for(self, h: int) -> np.ndarray:
        """New-load upper bounds for window top ``h`` (see module docstring)."""
        total = np.minimum(np.maximum(h, self.manual_load), self.cap)
        return np.minimum(total - self.manual_load, self.n)

    def lower_for(self, low: int) -> np.ndarray:
        """New-load lower bounds for window bottom ``low``."""
        return np.maximum(0, np.minimum(low, self.cap) - self.manual_load)


class _Model:
    """A flow model that can be solved for given per-judge new-load bounds."""

    def solve(self, lower: np.ndarray, upper: np.ndarray, with_cost: bool):  # pragma: no cover
        raise NotImplementedError


def _run_mcf(tails, heads, caps, costs, supplies: np.ndarray):
    smcf = min_cost_flow.SimpleMinCostFlow()
    arcs = smcf.add_arcs_with_capacity_and_unit_cost(
        tails.astype(np.int32), heads.astype(np.int32), caps.astype(np.int64), costs.astype(np.int64)
    )
    smcf.set_nodes_supplies(np.arange(len(supplies), dtype=np.int32), supplies.astype(np.int64))
    status = smcf.solve()
    if status != smcf.OPTIMAL:
        return None, None
    return smcf.optimal_cost(), smcf.flows(arcs)


class _AggregatedModel(_Model):
    """Relaxation on tracks x judges (see module docstring)."""

    def __init__(self, p: _Problem):
        self.p = p
        active = p.need > 0
        demand = np.bincount(p.entry_track, weights=p.need, minlength=p.n_tracks).astype(np.int64)
        n_active_t = np.bincount(p.entry_track[active], minlength=p.n_tracks).astype(np.int64)
        # pairs a judge may not take, counted per (track, judge), active entries only
        if len(p.forbidden_e):
            fe_active = active[p.forbidden_e]
            blocked = np.zeros((p.n_tracks, p.m), dtype=np.int64)
            np.add.at(blocked, (p.entry_track[p.forbidden_e[fe_active]], p.forbidden_j[fe_active]), 1)
        else:
            blocked = np.zeros((p.n_tracks, p.m), dtype=np.int64)
        cap_tj = n_active_t[:, None] - blocked
        self.demand = demand
        self.cap_tj = cap_tj
        t_idx, j_idx = np.nonzero(cap_tj > 0)
        self.arc_t, self.arc_j = t_idx, j_idx
        self.arc_cap = cap_tj[t_idx, j_idx]
        self.arc_cost = p.cost_tj[t_idx, j_idx]
        self.n_nodes = p.n_tracks + p.m + 1

    def solve(self, lower, upper, with_cost):
        p = self.p
        T, m = p.n_tracks, p.m
        sink = T + m
        total = int(self.demand.sum())
        if np.any(lower > upper) or int(lower.sum()) > total:
            return None, None
        tails = np.concatenate([self.arc_t, T + np.arange(m)])
        heads = np.concatenate([T + self.arc_j, np.full(m, sink)])
        caps = np.concatenate([self.arc_cap, upper - lower])
        costs = np.concatenate([self.arc_cost if with_cost else np.zeros_like(self.arc_cost), np.zeros(m, np.int64)])
        supplies = np.concatenate([self.demand, -lower, [-(total - int(lower.sum()))]])
        cost, flows = _run_mcf(tails, heads, caps, costs, supplies)
        if cost is None:
            return None, None
        quota = np.zeros((T, m), dtype=np.int64)
        quota[self.arc_t, self.arc_j] = flows[: len(self.arc_t)]
        return cost, quota

    def min_cut_explanation(self) -> Infeasibility:
        """Hall-type obstruction from a max flow on the relaxation."""
        p = self.p
        T, m = p.n_tracks, p.m
        src, sink = T + m, T + m + 1
        mf = max_flow.SimpleMaxFlow()
        tails = np.concatenate([np.full(T, src), self.arc_t, T + np.arange(m)])
        heads = np.concatenate([np.arange(T), T + self.arc_j, np.full(m, sink)])
        caps = np.concatenate([self.demand, self.arc_cap, p.room])
        mf.add_arcs_with_capacity(tails.astype(np.int32), heads.astype(np.int32), caps.astype(np.int64))
        mf.solve(src, sink)
        source_side = set(mf.get_source_side_min_cut())
        tracks = [t for t in range(T) if t in source_side]
        required = int(self.demand[tracks].sum())
        flow_in = int(mf.optimal_flow()) - int(self.demand[[t for t in range(T) if t not in source_side]].sum())
        in_cut = np.isin(p.entry_track, tracks) & (p.need > 0)
        entries = tuple(int(e) for e in np.nonzero(in_cut)[0])
        return Infeasibility(
            reason=(
                f"capacity: {len(entries)} entries need {required} more judge slots "
                f"but their eligible judges can provide at most {flow_in}"
            ),
            deficient_entries=entries,  # indices, mapped to ids by caller
            required_slots=required,
            available_slots=flow_in,
        )


class _DenseModel(_Model):
    """Exact min-cost flow with one arc per allowed (entry, judge) pair."""

    def __init__(self, p: _Problem):
        self.p = p
        act = np.nonzero(p.need > 0)[0]
        allowed = np.ones((len(act), p.m), dtype=bool)
        pos = np.full(p.n, -1)
        pos[act] = np.arange(len(act))
        if len(p.forbidden_e):
            sel = pos[p.forbidden_e] >= 0
            allowed[pos[p.forbidden_e[sel]], p.forbidden_j[sel]] = False
        ai, aj = np.nonzero(allowed)
        self.act = act
        self.arc_e = act[ai]
        self.arc_j = aj
        self.arc_cost = p.cost_tj[p.entry_track[self.arc_e], aj]

    def _graph(self, lower, upper, with_cost):
        p = self.p
        n_act, m = len(self.act), p.m
        pos = np.full(p.n, -1)
        pos[self.act] = np.arange(n_act)
        sink = n_act + m
        total = int(p.need.sum())
        tails = np.concatenate([pos[self.arc_e], n_act + np.arange(m)])
        heads = np.concatenate([n_act + self.arc_j, np.full(m, sink)])
        caps = np.concatenate([np.ones(len(self.arc_e), np.int64), upper - lower])
        costs = np.concatenate(
            [self.arc_cost if with_cost else np.zeros(len(self.arc_e), np.int64), np.zeros(m, np.int64)]
        )
        supplies = np.concatenate([p.need[self.act], -lower, [-(total - int(lower.sum()))]])
        return tails, heads, caps, costs, supplies

    def solve(self, lower, upper, with_cost):
        if np.any(lower > upper) or int(lower.sum()) > int(self.p.need.sum()):
            return None, None
        cost, flows = _run_mcf(*self._graph(lower, upper, with_cost))
        if cost is None:
            return None, None
        used = flows[: len(self.arc_e)] > 0
        return cost, (self.arc_e[used], self.arc_j[used])

    def min_cut_explanation(self) -> Infeasibility:
        p = self.p
        n_act, m = len(self.act), p.m
        src, sink = n_act + m, n_act + m + 1
        pos = np.full(p.n, -1)
        pos[self.act] = np.arange(n_act)
        mf = max_flow.SimpleMaxFlow()
        tails = np.concatenate([np.full(n_act, src), pos[self.arc_e], n_act + np.arange(m)])
        heads = np.concatenate([np.arange(n_act), n_act + self.arc_j, np.full(m, sink)])
        caps = np.concatenate([p.need[self.act], np.ones(len(self.arc_e), np.int64), p.room])
        mf.add_arcs_with_capacity(tails.astype(np.int32), heads.astype(np.int32), caps.astype(np.int64))
        mf.solve(src, sink)
        source_side = set(mf.get_source_side_min_cut())
        ents = [int(self.act[i]) for i in range(n_act) if i in source_side]
        required = int(p.need[ents].sum())
        outside = int(p.need[self.act].sum()) - required
        available = int(mf.optimal_flow()) - outside
        return Infeasibility(
            reason=(
                f"capacity: {len(ents)} entries need {required} more judge slots "
                f"but their eligible judges can provide at most {available}"
            ),
            deficient_entries=tuple(ents),
            required_slots=required,
            available_slots=available,
        )


# --------------------------------------------------------------------------
# Window search (lexicographic: tightest window first, then cost)
# --------------------------------------------------------------------------
def _min_feasible(lo: int, hi: int, guess: int, ok: Callable[[int], bool]) -> int:
    """Smallest x in [lo, hi] with ok(x), ok monotone increasing; hi must be ok.

    Probes ``guess`` and ``guess - 1`` first: in the common balanced case the
    answer is found with two solves instead of a full bisection.
    """
    guess = min(max(guess, lo), hi)
    if ok(guess):
        if guess == lo or not ok(guess - 1):
            return guess
        hi = guess - 1
    else:
        lo = guess + 1
    while lo < hi:
        mid = (lo + hi) // 2
        if ok(mid):
            hi = mid
        else:
            lo = mid + 1
    return hi


def _max_feasible(lo: int, hi: int, guess: int, ok: Callable[[int], bool]) -> int:
    """Largest x in [lo, hi] with ok(x), ok monotone decreasing; lo must be ok."""
    return -_min_feasible(-hi, -lo, -guess, lambda x: ok(-x))


def _window_solve(p: _Problem, model: _Model):
    """Return (L*, H*, cost, solution) or None if even the unbounded problem is infeasible."""
    zeros = np.zeros(p.m, dtype=np.int64)
    room = p.room.astype(np.int64)
    if model.solve(zeros, room, with_cost=False)[0] is None:
        return None
    total_load = p.k * p.n
    h_guess = -(-total_load // max(p.m, 1))
    l_guess = total_load // max(p.m, 1)
    h_star = _min_feasible(
        0, p.n, h_guess, lambda h: model.solve(zeros, p.upper_for(h), with_cost=False)[0] is not None
    )
    l_star = _max_feasible(
        0, p.n, l_guess, lambda low: model.solve(p.lower_for(low), room, with_cost=False)[0] is not None
    )
    l_star = min(l_star, h_star)
    upper = p.upper_for(h_star)
    # Linking property guarantees feasibility; the loop is a defensive guard.
    while True:
        lower = np.minimum(p.lower_for(l_star), upper)
        cost, sol = model.solve(lower, upper, with_cost=True)
        if cost is not None:
            return l_star, h_star, cost, sol
        l_star -= 1  # pragma: no cover


# --------------------------------------------------------------------------
# Disaggregation of per-(track, judge) quotas into concrete pairs
# --------------------------------------------------------------------------
def _disaggregate(p: _Problem, quota: np.ndarray, rng: random.Random) -> list[list[int]] | None:
    """Concrete judges per entry realising ``quota`` exactly, or None.

    Round-robin by columns: entries sorted by remaining need (descending) are
    laid out layer by layer (layer l = entries needing >= l judges) and each
    judge takes a consecutive run of ``quota`` slots.  A run shorter than a
    layer never hits the same entry twice, so duplicates are rare; they and
    conflicted pairs are repaired by same-track exchanges, which preserve
    every judge's per-track count and hence the cost.
    """
    n = p.n
    forbidden = p.forbidden
    judges_of: list[list[int]] = [[] for _ in range(n)]
    order_all = np.argsort(-p.need, kind="stable")
    track_sorted = p.entry_track[order_all]
    for t in range(p.n_tracks):
        ents = order_all[(track_sorted == t)]
        ents = ents[p.need[ents] > 0]
        if len(ents) == 0:
            continue
        needs = p.need[ents]
        seq: list[int] = []
        for layer in range(1, int(needs.max()) + 1):
            seq.extend(ents[needs >= layer].tolist())
        q = quota[t]
        js = np.nonzero(q > 0)[0]
        js = js[np.argsort(-q[js], kind="stable")]
        slot_judge = np.repeat(js, q[js]).tolist()
        if len(slot_judge) != len(seq):  # pragma: no cover - quotas sum to demand
            return None
        placed_j: list[int] = []
        placed_e: list[int] = []
        bad: list[tuple[int, int]] = []
        for j, e in zip(slot_judge, seq):
            lst = judges_of[e]
            if j in lst or (j * n + e) in forbidden:
                bad.append((j, e))
            else:
                lst.append(j)
                placed_j.append(j)
                placed_e.append(e)
        hard = [(j, e) for j, e in bad if not _repair(j, e, placed_j, placed_e, judges_of, forbidden, n, rng)]
        if hard:
            deficit: dict[int, int] = {}
            for _, e in hard:
                deficit[e] = deficit.get(e, 0) + 1
            track_entries = ents.tolist()
            for j, _ in hard:
                if not _augment(j, deficit, track_entries, judges_of, forbidden, n):
                    return None  # quotas of this track are not realisable
    return judges_of


def _augment(j: int, deficit: dict[int, int], track_entries: list[int], judges_of, forbidden, n) -> bool:
    """Place one more slot of judge ``j`` via a shortest augmenting path.

    Breadth-first search in the residual graph of the track's b-matching:
    judge --(new, allowed pair)--> entry --(existing pair)--> judge ...,
    ending at an entry that still lacks judges.  Per-track judge counts do
    not change, so the cost stays equal to the lower bound.  If no path
    exists from ``j`` the quotas are infeasible (a vertex without an
    augmenting path never gains one later), and the caller falls back to the
    exact dense flow.  Worst case O(judges x entries) per call, but it only
    runs for the rare slots that a single exchange could not fix.
    """
    parent_of_judge: dict[int, tuple[int, int] | None] = {j: None}  # judge -> (entry, previous judge)
    seen_entries: set[int] = set()
    queue = [j]
    for x in queue:
        for e in track_entries:
            if e in seen_entries or x in judges_of[e] or (x * n + e) in forbidden:
                continue
            seen_entries.add(e)
            if deficit.get(e, 0) > 0:
                deficit[e] -= 1
                # unwind: x takes e; each previous judge moves to the entry it freed
                cur_judge, cur_entry = x, e
                while True:
                    judges_of[cur_entry].append(cur_judge)
                    step = parent_of_judge[cur_judge]
                    if step is None:
                        return True
                    freed_entry, prev_judge = step
                    judges_of[freed_entry].remove(cur_judge)
                    cur_judge, cur_entry = prev_judge, freed_entry
            for y in judges_of[e]:
                if y not in parent_of_judge:
                    parent_of_judge[y] = (e, x)
                    queue.append(y)
    return False


def _repair(j, e, placed_j, placed_e, judges_of, forbidden, n, rng) -> bool:
    """Give entry ``e`` a judge and judge ``j`` an entry via one exchange.

    Finds a placed pair (j2, e2) of the same track with (j2 -> e) and
    (j -> e2) both allowed and new; then (j2, e2) becomes (j2, e) and (j, e2)
    is added.  Random probes first (conflicts are sparse), then a full scan.
    """
    size = len(placed_j)
    if size == 0:
        return False
    on_e = judges_of[e]

    def try_at(i: int) -> bool:
        j2, e2 = placed_j[i], placed_e[i]
        if j2 == j or e2 == e or j2 in on_e or j in judges_of[e2]:
            return False
        if (j2 * n + e) in forbidden or (j * n + e2) in forbidden:
            return False
        judges_of[e2].remove(j2)
        judges_of[e2].append(j)
        on_e.append(j2)
        placed_e[i] = e  # (j2, e)
        placed_j.append(j)
        placed_e.append(e2)
        return True

    for _ in range(64):
        if try_at(rng.randrange(size)):
            return True
    return any(try_at(i) for i in range(size))


# --------------------------------------------------------------------------
# Public entry points
# --------------------------------------------------------------------------
def _build_problem(entries, judges, k, conflicts, manual, capacity, weights, cost):
    if k < 0:
        raise ValueError("judges_per_entry must be >= 0")
    e_index: dict[Hashable, int] = {}
    for i, en in enumerate(entries):
        if en.id in e_index:
            raise ValueError(f"duplicate entry id {en.id!r}")
        e_index[en.id] = i
    j_index: dict[Hashable, int] = {}
    for i, ju in enumerate(judges):
        if ju.id in j_index:
            raise ValueError(f"duplicate judge id {ju.id!r}")
        j_index[ju.id] = i
    n, m = len(entries), len(judges)
    tracks: dict[Hashable, int] = {}
    entry_track = np.fromiter((tracks.setdefault(en.track, len(tracks)) for en in entries), np.int64, n)
    track_list = list(tracks)
    cost_fn = cost or (lambda judge, track: weights.match if track in judge.expertise else weights.mismatch)
    cost_tj = np.array(
        [[int(cost_fn(ju, tr)) for ju in judges] for tr in track_list], dtype=np.int64
    ).reshape(len(track_list), m)

    manual_set: set[tuple[int, int]] = set()
    for jid, eid in manual:
        if jid not in j_index or eid not in e_index:
            raise ValueError(f"manual assignment ({jid!r}, {eid!r}) names an unknown judge or entry")
        manual_set.add((j_index[jid], e_index[eid]))
    conflict_keys: set[int] = set()
    for jid, eid in conflicts:
        ji, ei = j_index.get(jid), e_index.get(eid)
        if ji is None or ei is None:
            continue  # conflicts on people/entries outside this round are irrelevant
        if (ji, ei) in manual_set:
            raise ValueError(f"manual assignment ({jid!r}, {eid!r}) is also a declared conflict")
        conflict_keys.add(ji * n + ei)
    manual_load = np.zeros(m, dtype=np.int64)
    manual_per_entry = np.zeros(n, dtype=np.int64)
    for ji, ei in manual_set:
        manual_load[ji] += 1
        manual_per_entry[ei] += 1
    cap = np.full(m, _BIG, dtype=np.int64)
    if capacity is not None:
        if isinstance(capacity, Mapping):
            for jid, c in capacity.items():
                if jid in j_index and c is not None:
                    cap[j_index[jid]] = int(c)
        else:
            cap[:] = int(capacity)
    bad_cap = np.nonzero(manual_load > cap)[0]
    if len(bad_cap):
        ji = int(bad_cap[0])
        raise ValueError(f"judge {judges[ji].id!r} has more manual assignments than their capacity {int(cap[ji])}")
    forb = np.fromiter(conflict_keys, np.int64, len(conflict_keys))
    man = np.array([ji * n + ei for ji, ei in manual_set], dtype=np.int64)
    all_forb = np.concatenate([forb, man])
    forbidden = conflict_keys | {int(x) for x in man}
    p = _Problem(
        n=n,
        m=m,
        k=k,
        entry_track=entry_track,
        n_tracks=len(track_list),
        # An entry that already has k judges or more by hand (k lowered since, or added on purpose)
        # needs none; its judges' loads still count.
        need=np.maximum(k - manual_per_entry, 0),
        manual_load=manual_load,
        cap=cap,
        cost_tj=cost_tj,
        forbidden=forbidden,
        forbidden_j=all_forb // max(n, 1),
        forbidden_e=all_forb % max(n, 1),
    )
    return p, manual_set, forb


def _entry_shortfalls(p: _Problem, conflict_keys: np.ndarray, entries) -> list[EntryShortfall]:
    """Entries with fewer eligible judges than k (exact per-entry check)."""
    has_room = p.room > 0
    n_room = int(has_room.sum())
    blocked = np.zeros(p.n, dtype=np.int64)  # forbidden pairs with judges that have room
    fj, fe = p.forbidden_j, p.forbidden_e
    sel = has_room[fj]
    np.add.at(blocked, fe[sel], 1)
    eligible_new = n_room - blocked
    out = []
    for e in np.nonzero(eligible_new < p.need)[0]:
        e = int(e)
        out.append(EntryShortfall(entries[e].id, int(p.k - p.need[e] + eligible_new[e]), p.k))
    return out


def _finish(p, entries, judges, manual_set, judges_of, new_cost, lower_bound, window, method):
    n = p.n
    pairs = []
    load = p.manual_load.copy()
    for e in range(n):
        for j in judges_of[e]:
            pairs.append(Assignment(judges[j].id, entries[e].id))
            load[j] += 1
    manual_cost = sum(int(p.cost_tj[p.entry_track[e], j]) for j, e in manual_set)
    all_pairs = [(j, e) for e in range(n) for j in judges_of[e]] + list(manual_set)
    matches = sum(1 for j, e in all_pairs if entries[e].track in judges[j].expertise)
    lo, hi = window
    exceptions = tuple(
        judges[j].id for j in range(p.m) if load[j] < lo or load[j] > hi
    )
    return AssignmentResult(
        feasible=True,
        assignments=tuple(pairs),
        loads={judges[j].id: int(load[j]) for j in range(p.m)},
        total_cost=int(new_cost) + manual_cost,
        new_cost=int(new_cost),
        expertise_match_rate=(matches / len(all_pairs)) if all_pairs else 1.0,
        balance_window=(int(lo), int(hi)),
        window_exceptions=exceptions,
        lower_bound=int(lower_bound),
        optimal=True,
        method=method,
    )


def assign_judges(
    entries: Sequence[Entry],
    judges: Sequence[Judge],
    judges_per_entry: int,
    conflicts: Iterable[tuple[Hashable, Hashable]] = (),
    manual: Iterable[tuple[Hashable, Hashable]] = (),
    capacity: int | Mapping[Hashable, int | None] | None = None,
    weights: CostWeights = CostWeights(),
    cost: Callable[[Judge, Hashable], int] | None = None,
    *,
    seed: int = 0,
    force_exact: bool = False,
    max_dense_pairs: int = 30_000_000,
) -> AssignmentResult:
    """Assign ``judges_per_entry`` judges to every entry (see module docstring).

    ``conflicts`` and ``manual`` are ``(judge_id, entry_id)`` pairs.
    ``capacity`` caps a judge's *total* load (manual included): one int for
    everybody, or a mapping judge_id -> cap (missing/None = no cap).
    ``cost(judge, track)`` overrides ``weights`` (must return an int).
    ``seed`` makes exchange repair deterministic; ``force_exact`` skips the
    aggregated path (used by tests and the dense baseline).
    ``max_dense_pairs`` bounds the exact fallback (one arc per allowed pair,
    ~1 GB of solver memory at 30 M); beyond it a RuntimeError is raised
    rather than returning a non-optimal assignment.  With sparse conflicts
    (the normal case) the fallback is never reached.

    Raises ValueError for malformed input (unknown ids in manual pairs,
    duplicate ids, a manual pair that is also a conflict, manual load above
    cap).  An entry with k or more manual judges keeps them all and gets no
    more.  Infeasibility is *not* an exception: check ``result.feasible`` or
    call ``raise_if_infeasible()``.
    """
    entries = list(entries)
    judges = list(judges)
    p, manual_set, conflict_keys = _build_problem(
        entries, judges, judges_per_entry, conflicts, manual, capacity, weights, cost
    )
    shortfalls = _entry_shortfalls(p, conflict_keys, entries)
    if shortfalls:
        return AssignmentResult(
            feasible=False,
            method="precheck",
            infeasibility=Infeasibility(
                reason=f"{len(shortfalls)} entries have fewer eligible (non-conflicted) judges than k={p.k}",
                shortfalls=tuple(shortfalls),
            ),
        )
    if p.n == 0 or p.m == 0:
        return _finish(p, entries, judges, manual_set, [[] for _ in range(p.n)], 0, 0, (0, 0), "trivial")

    def infeasible(model, method: str) -> AssignmentResult:
        info = model.min_cut_explanation()
        info = Infeasibility(
            reason=info.reason,
            deficient_entries=tuple(entries[e].id for e in info.deficient_entries),
            required_slots=info.required_slots,
            available_slots=info.available_slots,
        )
        return AssignmentResult(feasible=False, method=method, infeasibility=info)

    if not force_exact:
        agg = _AggregatedModel(p)
        sol = _window_solve(p, agg)
        if sol is None:
            return infeasible(agg, "aggregated")  # relaxation infeasible => real problem infeasible
        l_star, h_star, cost_lb, quota = sol
        judges_of = _disaggregate(p, quota, random.Random(seed))
        if judges_of is not None:
            return _finish(
                p, entries, judges, manual_set, judges_of, cost_lb, cost_lb, (l_star, h_star), "aggregated"
            )
    n_pairs = int((p.need > 0).sum()) * p.m
    if n_pairs > max_dense_pairs:
        raise RuntimeError(
            f"aggregated solution could not be realised and the exact dense fallback would need "
            f"{n_pairs} arcs (> max_dense_pairs={max_dense_pairs}); refusing to return a non-optimal result"
        )
    dense = _DenseModel(p)
    sol = _window_solve(p, dense)
    if sol is None:
        return infeasible(dense, "dense-exact")
    l_star, h_star, cost_val, (pe, pj) = sol
    judges_of = [[] for _ in range(p.n)]
    for e, j in zip(pe.tolist(), pj.tolist()):
        judges_of[e].append(j)
    return _finish(p, entries, judges, manual_set, judges_of, cost_val, cost_val, (l_star, h_star), "dense-exact")


def solve_dense_min_cost(
    entries: Sequence[Entry],
    judges: Sequence[Judge],
    judges_per_entry: int,
    conflicts: Iterable[tuple[Hashable, Hashable]],
    window: tuple[int, int],
    weights: CostWeights = CostWeights(),
) -> int | None:
    """Baseline: one dense OR-Tools min-cost flow with a fixed load window.

    Every judge's load is forced into ``window`` (no manual pairs, no caps).
    Returns the optimal cost or None if infeasible.  Used by the benchmark to
    cross-check the aggregated solver on the same instance.
    """
    p, _, _ = _build_problem(list(entries), list(judges), judges_per_entry, conflicts, (), None, weights, None)
    dense = _DenseModel(p)
    lo, hi = window
    cost, _ = dense.solve(p.lower_for(lo), p.upper_for(hi), with_cost=True)
    return cost
