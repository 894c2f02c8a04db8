"""Score aggregation, ranking, advancement and awards for a judging round.

Pure module: plain data in, plain data out (no Flask, no database).

Weighted total of one score sheet (0-100 scale)
-----------------------------------------------
``total = sum(w_i * v_i / max_i) / sum(w_i) * 100``.  Weights need only be
positive; their sum is irrelevant because we divide by it.

Aggregation per entry (``method``)
----------------------------------
* ``mean``          plain mean of the judges' totals.
* ``median``        median (mean of the two middle values for even counts).
* ``trimmed_mean``  去掉一个最高分和一个最低分: with at least five totals
  exactly one highest and one lowest are dropped, otherwise plain mean
  (with four or fewer judges dropping two would discard too much).
* ``zscore``        per-judge normalisation against lenient/harsh judges:
  each judge's totals are standardised with that judge's mean and
  (population) std over all entries they scored; a judge with a single
  score or zero std gives z = 0.  Each z is mapped back to the raw scale
  with the global mean and population std of all totals
  (``G + z * S``); the entry value is the mean of its mapped scores.

Every :class:`EntryReport` carries the raw mean, the aggregated value and
the z-score-normalised value side by side, so admins can see the effect of
the method.  ``disagreement`` flags entries where judges disagree: population
std of the totals > 15 points or range > 30 points (configurable).

Kept up to date
---------------
:class:`Tally` holds the reports of a round and takes sheets one batch at a time (added, replaced,
removed), recomputing only what a change reaches; :func:`aggregate_totals` is a Tally filled at
once. Its results are the same floats as the formulas above, whatever the order of the changes.

Ranking and tie-break (default order, configurable via ``tie_break``)
---------------------------------------------------------------------
Entries are sorted by a key tuple, all components descending:

1. ``aggregated``    aggregated value rounded to 2 decimals;
2. ``top_criterion`` mean raw value on the highest-weight criterion (equal
   weights: the first such criterion in rubric order), rounded to 2 decimals;
3. ``top_scores``    number of the entry's totals >= 90 (``TOP_SCORE``).

Entries still equal on the whole key share a rank; ranks are competition
ranks (1, 2, 2, 4).  Entries with zero scores are not ranked at all (they
appear in ``RankingResult.unscored``) and therefore never advance or win.

Advancement
-----------
:func:`top_n_per_track` advances every entry whose rank within its track is
``<= n``; :func:`top_percent_overall` advances every entry whose overall rank
is ``<= ceil(x% * number of ranked entries)``.  Because tied entries share
the better rank, **all entries tied at the cut advance** (the advancing set
may be larger than n / x%).

Awards
------
:func:`assign_awards` walks the levels 一等奖, 二等奖, 三等奖, 优秀奖 with
*cumulative* cut-offs: with counts (1, 2, 3, 5) an entry of rank r gets
一等奖 if r <= 1, 二等奖 if r <= 3, 三等奖 if r <= 6, 优秀奖 if r <= 11.  Ties at
a boundary share the better level (they all have the better rank), which
consumes slots of the next level; the total number of awards can therefore
exceed the sum of counts only by ties at the last cut.
"""

from __future__ import annotations

import enum
import math
import statistics
from collections.abc import Callable, Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from operator import itemgetter
from types import MappingProxyType
from typing import NamedTuple

__all__ = [
    "Criterion",
    "Score",
    "DisagreementThreshold",
    "EntryReport",
    "RankedEntry",
    "RankingResult",
    "AwardLevel",
    "METHODS",
    "DEFAULT_TIE_BREAK",
    "TOP_SCORE",
    "weighted_total",
    "top_criterion",
    "aggregate",
    "total_sheets",
    "aggregate_totals",
    "Tally",
    "rank_entries",
    "rank",
    "top_n_per_track",
    "top_percent_overall",
    "assign_awards",
]

METHODS = ("mean", "median", "trimmed_mean", "zscore")
TOP_SCORE = 90.0


@dataclass(frozen=True)
class Criterion:
    """One rubric line (评分项): positive weight, maximum achievable value."""

    id: Hashable
    weight: float
    max_score: float


@dataclass(frozen=True)
class Score:
    """One judge's score sheet for one entry: criterion id -> value."""

    entry_id: Hashable
    judge_id: Hashable
    values: Mapping[Hashable, float]


@dataclass(frozen=True)
class DisagreementThreshold:
    """Flag an entry when std > ``std`` or range > ``range`` (points, 0-100)."""

    std: float = 15.0
    range: float = 30.0


class EntryReport(NamedTuple):
    """Aggregated view of one entry.  Values are on the 0-100 scale.  (A named tuple, immutable as a
    frozen dataclass and built five times faster: a round makes one per entry on every ranking.)

    ``aggregated`` is the value of the chosen method; ``raw_mean`` and
    ``normalized`` (z-score mapping) are always filled for comparison.
    For an entry with no scores every value is None and ``n_scores`` is 0.
    """

    entry_id: Hashable
    track: Hashable
    n_scores: int
    totals: tuple[float, ...]
    raw_mean: float | None
    aggregated: float | None
    normalized: float | None
    spread_range: float | None
    spread_std: float | None
    disagreement: bool
    top_criterion_mean: float | None
    top_scores: int


class RankedEntry(NamedTuple):
    entry_id: Hashable
    track: Hashable
    rank: int
    key: tuple[float, ...]
    report: EntryReport


@dataclass(frozen=True)
class RankingResult:
    """Ranked entries (best first) plus the entries that have no score."""

    ranked: tuple[RankedEntry, ...]
    unscored: tuple[Hashable, ...] = ()

    def rank_of(self, entry_id: Hashable) -> int | None:
        for r in self.ranked:
            if r.entry_id == entry_id:
                return r.rank
        return None


class AwardLevel(enum.Enum):
    """Award levels of the final, best first (definition order matters)."""

    FIRST = "一等奖"
    SECOND = "二等奖"
    THIRD = "三等奖"
    HONORABLE = "优秀奖"


# --------------------------------------------------------------------------
# Totals and aggregation
# --------------------------------------------------------------------------
def _validate_rubric(rubric: Sequence[Criterion]) -> None:
    if not rubric:
        raise ValueError("rubric has no criteria")
    for c in rubric:
        if not c.weight > 0:
            raise ValueError(f"criterion {c.id!r}: weight must be positive")
        if not c.max_score > 0:
            raise ValueError(f"criterion {c.id!r}: max_score must be positive")


def weighted_total(rubric: Sequence[Criterion], values: Mapping[Hashable, float]) -> float:
    """Weighted total on the 0-100 scale; every criterion must be scored."""
    _validate_rubric(rubric)
    return _total(_lines(rubric), sum(c.weight for c in rubric), values)


def _lines(rubric: Sequence[Criterion]) -> list[tuple[Hashable, float, float]]:
    return [(c.id, c.weight, c.max_score) for c in rubric]


def _total(lines: Sequence[tuple[Hashable, float, float]], weight_sum: float, values: Mapping[Hashable, float]) -> float:
    """:func:`weighted_total` for an already validated rubric as (id, weight, max) lines (hot loop)."""
    acc = 0.0
    for cid, weight, max_score in lines:
        try:
            v = float(values[cid])
        except KeyError:
            raise ValueError(f"missing value for criterion {cid!r}") from None
        if not 0 <= v <= max_score:
            raise ValueError(f"value {v} for criterion {cid!r} outside [0, {max_score}]")
        acc += weight * v / max_score
    # Rounded to 9 decimals: the float arithmetic's noise is not a difference. An exact 90 came out
    # as 89.99999999999999 (weights 7 and 3, values 8.7 and 9.7) and was not a top score; full marks
    # as 100.00000000000003 (weights 0.19 and 0.81), which the scores table refuses (total <= 100).
    return min(round(acc / weight_sum * 100.0, 9), 100.0)


def _pstd(xs: Sequence[float]) -> float:
    """Population std in plain floats (statistics.pstdev is exact but ~10x slower)."""
    if len(xs) < 2:
        return 0.0
    mu = math.fsum(xs) / len(xs)
    return math.sqrt(math.fsum((x - mu) ** 2 for x in xs) / len(xs))


def _mean(xs: Sequence[float]) -> float:
    """statistics.fmean of a non-empty list (the same fsum / n) without its per-call overhead."""
    return math.fsum(xs) / len(xs)


def top_criterion(rubric: Sequence[Criterion]) -> Criterion:
    """Highest weight; ``max`` returns the first maximal one in rubric order."""
    return max(rubric, key=lambda c: c.weight)


def aggregate(
    rubric: Sequence[Criterion],
    entries: Mapping[Hashable, Hashable] | Iterable[tuple[Hashable, Hashable]],
    scores: Iterable[Score],
    method: str = "trimmed_mean",
    disagreement: DisagreementThreshold = DisagreementThreshold(),
) -> dict[Hashable, EntryReport]:
    """Per-entry reports (see module docstring).

    ``entries`` maps entry id -> track (or is an iterable of such pairs);
    entries without any score get an all-None report with ``n_scores=0``.
    Raises ValueError on unknown method, unknown entry, duplicate
    (entry, judge) sheets or invalid values.
    """
    sheets = total_sheets(rubric, ((s.entry_id, s.judge_id, s.values) for s in scores))
    return aggregate_totals(entries, sheets, method, disagreement)


def total_sheets(
    rubric: Sequence[Criterion], rows: Iterable[tuple[Hashable, Hashable, Mapping[Hashable, float]]]
) -> list[tuple[Hashable, Hashable, float, float]]:
    """(entry, judge, values) -> (entry, judge, weighted total, value on the top criterion), the
    sheets :func:`aggregate_totals` takes; raises ValueError on a missing or out-of-bounds value.
    No sheets need no rubric (a round whose rubric is not set up yet ranks nobody)."""
    rows = list(rows)
    if not rows:
        return []
    _validate_rubric(rubric)
    top_id = top_criterion(rubric).id
    weight_sum = float(sum(c.weight for c in rubric))
    lines = _lines(rubric)
    return [(e, j, _total(lines, weight_sum, values), float(values[top_id])) for e, j, values in rows]


def aggregate_totals(
    entries: Mapping[Hashable, Hashable] | Iterable[tuple[Hashable, Hashable]],
    sheets: Iterable[tuple[Hashable, Hashable, float, float]],
    method: str = "trimmed_mean",
    disagreement: DisagreementThreshold = DisagreementThreshold(),
) -> dict[Hashable, EntryReport]:
    """:func:`aggregate` of sheets already totalled by :func:`total_sheets`: (entry id, judge id,
    weighted total, raw value on the top criterion) each."""
    tally = Tally(entries, method, disagreement)
    tally.apply(added=((i, e, j, t, tv) for i, (e, j, t, tv) in enumerate(sheets)))
    return tally.reports()


class Tally:
    """The reports of :func:`aggregate_totals`, kept up to date as sheets come, change and go one
    at a time (a live final: every new score changes one sheet of one entry).

    Sheets are named by a key of the caller's (an assignment id). After any sequence of
    :meth:`apply`, :meth:`reports` equals ``aggregate_totals`` of the sheets held (each entry's
    totals in the order its sheets were last added), at the cost of recomputing only the changed
    sheets' entries, the entries of judges whose mean or std moved, and, when the global scale of
    the z-score mapping moved, one multiply-add per sheet. The arithmetic is the same, operation
    for operation, so the floats are equal, not merely close."""

    def __init__(
        self,
        entries: Mapping[Hashable, Hashable] | Iterable[tuple[Hashable, Hashable]],
        method: str = "trimmed_mean",
        disagreement: DisagreementThreshold = DisagreementThreshold(),
    ) -> None:
        if method not in METHODS:
            raise ValueError(f"unknown method {method!r}; expected one of {METHODS}")
        self.method = method
        self._limits = (disagreement.std, disagreement.range)
        self._track = dict(entries.items() if isinstance(entries, Mapping) else entries)
        self._sheets: dict[Hashable, tuple[Hashable, Hashable]] = {}  # key -> (entry, judge)
        self._pairs: dict[tuple[Hashable, Hashable], Hashable] = {}  # (entry, judge) -> key
        self._of_entry: dict[Hashable, dict] = {e: {} for e in self._track}  # entry -> {key: (judge, total, top)}
        self._of_judge: dict[Hashable, dict] = {}  # judge -> {key: total}
        self._judge_stats: dict[Hashable, tuple[float, float]] = {}  # judge -> (mean, std)
        self._own: dict[Hashable, tuple] = {}  # entry -> (n, totals, raw mean, aggregated unless zscore, range, std, flag, top mean, top scores)
        self._z: dict[Hashable, list[float]] = {}  # entry -> z of each of its sheets
        self._normalized: dict[Hashable, float] = {}
        self._scale: tuple[float, float] | None = None  # global mean and std of all totals
        self._reports: dict[Hashable, EntryReport] = {}
        self._dirty_entries: set[Hashable] = set(self._track)
        self._dirty_judges: set[Hashable] = set()

    def __len__(self) -> int:
        return len(self._sheets)

    @property
    def entries(self) -> Mapping[Hashable, Hashable]:
        """Entry id -> track, as given (read only)."""
        return MappingProxyType(self._track)

    def apply(
        self,
        removed: Iterable[Hashable] = (),
        added: Iterable[tuple[Hashable, Hashable, Hashable, float, float]] = (),
    ) -> None:
        """Drop the sheets under ``removed`` (keys not held are ignored) and add ``added`` as
        (key, entry, judge, total, top) each; a key already held is replaced. Raises ValueError, and
        changes nothing, on a sheet for an unknown entry or a second sheet of one judge for one entry."""
        added = list(added)
        sheets, pairs = self._sheets, self._pairs
        leaving = {k for k in removed if k in sheets}
        if sheets:
            leaving.update(a[0] for a in added if a[0] in sheets)
        keys = [a[0] for a in added]
        new_pairs = [(a[1], a[2]) for a in added]
        # The whole batch checked at once (a round's first fill is 15,000 sheets); on a problem,
        # sheet by sheet, for the message of the first one.
        if (len(set(new_pairs)) != len(new_pairs) or len(set(keys)) != len(keys)
                or not all(p[0] in self._track for p in new_pairs)
                or (pairs and any((h := pairs.get(p)) is not None and h not in leaving for p in new_pairs))):
            self._refuse(added, leaving)
        of_entry, of_judge = self._of_entry, self._of_judge
        for k in leaving:
            e, j = sheets.pop(k)
            del pairs[(e, j)]
            del of_entry[e][k]
            judge_totals = of_judge[j]
            del judge_totals[k]
            if not judge_totals:
                del of_judge[j]
            self._dirty_entries.add(e)
            self._dirty_judges.add(j)
        for k, e, j, t, tv in added:
            of_entry[e][k] = (j, t, tv)
            judge_totals = of_judge.get(j)
            if judge_totals is None:
                of_judge[j] = {k: t}
            else:
                judge_totals[k] = t
        sheets.update(zip(keys, new_pairs))
        pairs.update(zip(new_pairs, keys))
        self._dirty_entries.update([p[0] for p in new_pairs])
        self._dirty_judges.update([p[1] for p in new_pairs])

    def _refuse(self, added: list, leaving: set) -> None:
        """Raise the ValueError :meth:`apply` refuses its first bad sheet with."""
        claimed: set[Hashable] = set()
        for k, e, j, _, _ in added:
            if e not in self._track:
                raise ValueError(f"score for unknown entry {e!r}")
            holder = self._pairs.get((e, j))
            if (e, j) in claimed or (holder is not None and holder not in leaving) or k in claimed:
                raise ValueError(f"judge {j!r} scored entry {e!r} twice")
            claimed.add((e, j))
            claimed.add(k)
        raise AssertionError("apply found a problem _refuse did not")  # pragma: no cover

    def reports(self) -> dict[Hashable, EntryReport]:
        """Entry id -> report, in the order of the entries given; a new dict each call."""
        if self._dirty_entries or self._dirty_judges:
            self._update()
        return dict(self._reports)

    def _update(self) -> None:
        fsum, sqrt = math.fsum, math.sqrt
        sheets = self._sheets
        # Judges whose sheets changed: a moved mean or std changes the z of every sheet they gave.
        restandardise = set(self._dirty_entries)
        for j in self._dirty_judges:
            before = self._judge_stats.pop(j, None)
            judge_totals = self._of_judge.get(j)
            if judge_totals:
                ts = list(judge_totals.values())
                stats = self._judge_stats[j] = (_mean(ts), _pstd(ts))
                # (A judge new to the tally: every sheet of theirs is new, its entry already dirty.)
                if before is not None and stats != before:
                    restandardise.update(sheets[k][0] for k in judge_totals)
        all_totals = [t for judge_totals in self._of_judge.values() for t in judge_totals.values()]
        scale = (_mean(all_totals) if all_totals else 0.0, _pstd(all_totals))
        renormalise = self._track if scale != self._scale else restandardise
        self._scale = scale
        g_mean, g_std = scale

        # One pass over the entries to report again (all of them when the global scale moved): an
        # entry whose sheets changed gets its own figures again, one whose sheets' z moved its z
        # again (dirty entries are among those, and those among the entries reported), then its
        # report: the mean of its sheets mapped back to the raw scale (G + z * S) beside the rest.
        std_limit, range_limit = self._limits
        method = self.method
        dirty, judge_stats, of_entry = self._dirty_entries, self._judge_stats, self._of_entry
        own, z_of, reports, track_of = self._own, self._z, self._reports, self._track
        for e in renormalise if renormalise is track_of else [e for e in track_of if e in renormalise]:
            if e in restandardise:
                rows = of_entry[e].values()
                if e in dirty:
                    n = len(rows)
                    if n:
                        totals = [r[1] for r in rows]
                        raw_mean = fsum(totals) / n
                        if method == "mean":
                            agg = raw_mean
                        elif method == "median":
                            agg = float(statistics.median(totals))
                        elif method == "trimmed_mean":
                            agg = _mean(sorted(totals)[1:-1]) if n >= 5 else raw_mean
                        else:
                            agg = None  # the normalised value, below
                        rng = max(totals) - min(totals)
                        sd = sqrt(fsum([(x - raw_mean) ** 2 for x in totals]) / n) if n > 1 else 0.0
                        own[e] = (n, tuple(totals), raw_mean, agg, rng, sd, sd > std_limit or rng > range_limit,
                                  fsum([r[2] for r in rows]) / n, len([t for t in totals if t >= TOP_SCORE]))
                    else:
                        own.pop(e, None)
                zs = []
                for j, t, _ in rows:
                    mu, sd = judge_stats[j]
                    zs.append((t - mu) / sd if sd > 0 else 0.0)
                z_of[e] = zs
            mine = own.get(e)
            if mine is None:
                reports[e] = EntryReport(e, track_of[e], 0, (), None, None, None, None, None, False, None, 0)
                continue
            n, totals, raw_mean, agg, rng, sd, flag, top_mean, top_scores = mine
            normalized = fsum([g_mean + z * g_std for z in z_of[e]]) / n
            reports[e] = EntryReport(e, track_of[e], n, totals, raw_mean, normalized if agg is None else agg,
                                     normalized, rng, sd, flag, top_mean, top_scores)
        self._dirty_entries = set()
        self._dirty_judges = set()


# --------------------------------------------------------------------------
# Ranking
# --------------------------------------------------------------------------
TieBreakKey = Callable[[EntryReport], float]

def two_decimals(x: float) -> float:
    """`x` to 2 decimals as shown, the float arithmetic's noise dropped first: an exact 58.125 that
    came out as 58.12500000000001 for one entry and 58.12499999999999 for another would otherwise
    show, and rank, as 58.13 against 58.12. Rankings compare, and pages and exports show, this."""
    return round(round(x, 9), 2)


TIE_BREAK_KEYS: dict[str, TieBreakKey] = {
    "aggregated": lambda r: two_decimals(r.aggregated),
    "top_criterion": lambda r: two_decimals(r.top_criterion_mean),
    "top_scores": lambda r: float(r.top_scores),
}
DEFAULT_TIE_BREAK: tuple[str, ...] = ("aggregated", "top_criterion", "top_scores")


def _key_function(tie_break: Sequence[str | TieBreakKey]) -> Callable[[EntryReport], tuple[float, ...]]:
    if tuple(tie_break) == DEFAULT_TIE_BREAK:  # the same key as the general case, in one call
        # (two_decimals inlined: 5,000 entries per ranking)
        return lambda r: (round(round(r.aggregated, 9), 2), round(round(r.top_criterion_mean, 9), 2),
                          float(r.top_scores))
    keys = [TIE_BREAK_KEYS[k] if isinstance(k, str) else k for k in tie_break]
    return lambda r: tuple(f(r) for f in keys)


def _ranked(keyed_best_first: Iterable[tuple[tuple[float, ...], EntryReport]]) -> tuple[RankedEntry, ...]:
    """Competition ranks (1, 2, 2, 4) along an already sorted list."""
    ranked: list[RankedEntry] = []
    previous_key, rank_no = None, 0
    for pos, (key, r) in enumerate(keyed_best_first, start=1):
        if key != previous_key:
            rank_no, previous_key = pos, key
        ranked.append(RankedEntry(r.entry_id, r.track, rank_no, key, r))
    return tuple(ranked)


def _keyed_best_first(reports: Iterable[EntryReport], key_of) -> list[tuple[tuple[float, ...], EntryReport]]:
    """The scored reports with their keys, best first; stable: input order among equals."""
    keyed = [(key_of(r), r) for r in reports if r.n_scores > 0]
    keyed.sort(key=itemgetter(0), reverse=True)
    return keyed


def rank_entries(
    reports: Iterable[EntryReport],
    tie_break: Sequence[str | TieBreakKey] = DEFAULT_TIE_BREAK,
) -> RankingResult:
    """Competition ranking (1, 2, 2, 4) of the scored entries, best first.

    ``tie_break`` is the ordered list of key names (see ``TIE_BREAK_KEYS``)
    or callables returning a number where higher is better.
    """
    reports = list(reports)
    keyed = _keyed_best_first(reports, _key_function(tie_break))
    return RankingResult(_ranked(keyed), tuple(r.entry_id for r in reports if r.n_scores == 0))


def rank(
    reports: Mapping[Hashable, EntryReport],
    tie_break: Sequence[str | TieBreakKey] = DEFAULT_TIE_BREAK,
) -> tuple[RankingResult, dict[Hashable, RankingResult]]:
    """Overall ranking and one ranking per track.

    Sorted once: a track's entries, taken in the overall order, are already in the order
    rank_entries would give them (the sort is stable, so equal keys keep the input order)."""
    keyed = _keyed_best_first(reports.values(), _key_function(tie_break))
    overall = RankingResult(_ranked(keyed), tuple(e for e, r in reports.items() if r.n_scores == 0))
    keyed_by_track: dict[Hashable, list] = {}
    unscored_by_track: dict[Hashable, list] = {}
    for r in reports.values():  # every track in first-seen order, as before
        keyed_by_track.setdefault(r.track, [])
        unscored_by_track.setdefault(r.track, [])
        if r.n_scores == 0:
            unscored_by_track[r.track].append(r.entry_id)
    for kr in keyed:
        keyed_by_track[kr[1].track].append(kr)
    return overall, {t: RankingResult(_ranked(kr), tuple(unscored_by_track[t])) for t, kr in keyed_by_track.items()}


# --------------------------------------------------------------------------
# Advancement and awards
# --------------------------------------------------------------------------
def top_n_per_track(per_track: Mapping[Hashable, RankingResult], n: int) -> list[Hashable]:
    """Entries ranked ``<= n`` in their track; ties at the cut all advance."""
    if n < 0:
        raise ValueError("n must be >= 0")
    return [r.entry_id for ranking in per_track.values() for r in ranking.ranked if r.rank <= n]


def top_percent_overall(overall: RankingResult, percent: float) -> list[Hashable]:
    """Entries ranked ``<= ceil(percent/100 * ranked count)``; ties at the cut all advance.

    Unscored entries are not counted in the base and never advance.
    """
    if not 0 <= percent <= 100:
        raise ValueError("percent must be within [0, 100]")
    # round() first so that e.g. 0.1 * 30 = 3.0000000000000004 does not become 4
    cut = math.ceil(round(percent / 100 * len(overall.ranked), 9))
    return [r.entry_id for r in overall.ranked if r.rank <= cut]


def assign_awards(
    overall: RankingResult, counts: Mapping[AwardLevel, int]
) -> dict[Hashable, AwardLevel]:
    """Award level per entry in rank order (cumulative cut-offs, ties get the better level).

    Levels missing from ``counts`` award nobody.  Entries beyond the last
    cut-off get no entry in the returned mapping.
    """
    cutoffs: list[tuple[int, AwardLevel]] = []
    cum = 0
    for level in AwardLevel:
        c = counts.get(level, 0)
        if c < 0:
            raise ValueError(f"negative count for {level.value}")
        cum += c
        if c > 0:
            cutoffs.append((cum, level))
    out: dict[Hashable, AwardLevel] = {}
    for r in overall.ranked:
        for cut, level in cutoffs:
            if r.rank <= cut:
                out[r.entry_id] = level
                break
    return out
