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
    "aggregate",
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


@dataclass(frozen=True)
class EntryReport:
    """Aggregated view of one entry.  Values are on the 0-100 scale.

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


@dataclass(frozen=True)
class RankedEntry:
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
    return _total(rubric, sum(c.weight for c in rubric), values)


def _total(rubric: Sequence[Criterion], weight_sum: float, values: Mapping[Hashable, float]) -> float:
    """:func:`weighted_total` for an already validated rubric (hot loop)."""
    acc = 0.0
    for c in rubric:
        try:
            v = float(values[c.id])
        except KeyError:
            raise ValueError(f"missing value for criterion {c.id!r}") from None
        if not 0 <= v <= c.max_score:
            raise ValueError(f"value {v} for criterion {c.id!r} outside [0, {c.max_score}]")
        acc += c.weight * v / c.max_score
    return acc / weight_sum * 100.0


def _pstd(xs: Sequence[float]) -> float:
    """Population std in plain floats (statistics.pstdev is exact but ~10x slower)."""
    if len(xs) < 2:
        return 0.0
    mu = math.fsum(xs) / len(xs)
    return math.sqrt(math.fsum((x - mu) ** 2 for x in xs) / len(xs))


def _mean(xs: Sequence[float]) -> float:
    """statistics.fmean of a non-empty list (the same fsum / n) without its per-call overhead."""
    return math.fsum(xs) / len(xs)


def _trimmed_mean(xs: Sequence[float]) -> float:
    if len(xs) >= 5:
        s = sorted(xs)
        return _mean(s[1:-1])
    return _mean(xs)


def _top_criterion(rubric: Sequence[Criterion]) -> Criterion:
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
    if method not in METHODS:
        raise ValueError(f"unknown method {method!r}; expected one of {METHODS}")
    _validate_rubric(rubric)
    entry_track = dict(entries.items() if isinstance(entries, Mapping) else entries)
    top = _top_criterion(rubric)
    weight_sum = float(sum(c.weight for c in rubric))

    sheets: list[tuple[Hashable, Hashable, float, float]] = []  # entry, judge, total, top value
    seen: set[tuple[Hashable, Hashable]] = set()
    for s in scores:
        if s.entry_id not in entry_track:
            raise ValueError(f"score for unknown entry {s.entry_id!r}")
        if (s.entry_id, s.judge_id) in seen:
            raise ValueError(f"judge {s.judge_id!r} scored entry {s.entry_id!r} twice")
        seen.add((s.entry_id, s.judge_id))
        sheets.append((s.entry_id, s.judge_id, _total(rubric, weight_sum, s.values), float(s.values[top.id])))

    # z-score mapping: per-judge standardisation, mapped back to global scale
    by_judge: dict[Hashable, list[float]] = {}
    for _, j, t, _ in sheets:
        by_judge.setdefault(j, []).append(t)
    judge_stats = {j: (_mean(ts), _pstd(ts)) for j, ts in by_judge.items()}
    all_totals = [t for _, _, t, _ in sheets]
    g_mean = _mean(all_totals) if all_totals else 0.0
    g_std = _pstd(all_totals)

    per_entry: dict[Hashable, list[tuple[float, float, float]]] = {e: [] for e in entry_track}
    for e, j, t, tv in sheets:
        mu, sd = judge_stats[j]
        z = (t - mu) / sd if sd > 0 else 0.0
        per_entry[e].append((t, g_mean + z * g_std, tv))

    reports: dict[Hashable, EntryReport] = {}
    for e, track in entry_track.items():
        rows = per_entry[e]
        if not rows:
            reports[e] = EntryReport(e, track, 0, (), None, None, None, None, None, False, None, 0)
            continue
        totals = [r[0] for r in rows]
        mapped = [r[1] for r in rows]
        raw_mean = _mean(totals)
        normalized = _mean(mapped)
        if method == "mean":
            agg = raw_mean
        elif method == "median":
            agg = float(statistics.median(totals))
        elif method == "trimmed_mean":
            agg = _trimmed_mean(totals)
        else:
            agg = normalized
        rng = max(totals) - min(totals)
        sd = _pstd(totals)
        reports[e] = EntryReport(
            entry_id=e,
            track=track,
            n_scores=len(rows),
            totals=tuple(totals),
            raw_mean=raw_mean,
            aggregated=agg,
            normalized=normalized,
            spread_range=rng,
            spread_std=sd,
            disagreement=sd > disagreement.std or rng > disagreement.range,
            top_criterion_mean=_mean([r[2] for r in rows]),
            top_scores=sum(1 for t in totals if t >= TOP_SCORE),
        )
    return reports


# --------------------------------------------------------------------------
# Ranking
# --------------------------------------------------------------------------
TieBreakKey = Callable[[EntryReport], float]

TIE_BREAK_KEYS: dict[str, TieBreakKey] = {
    "aggregated": lambda r: round(r.aggregated, 2),
    "top_criterion": lambda r: round(r.top_criterion_mean, 2),
    "top_scores": lambda r: float(r.top_scores),
}
DEFAULT_TIE_BREAK: tuple[str, ...] = ("aggregated", "top_criterion", "top_scores")


def rank_entries(
    reports: Iterable[EntryReport],
    tie_break: Sequence[str | TieBreakKey] = DEFAULT_TIE_BREAK,
) -> RankingResult:
    """Competition ranking (1, 2, 2, 4) of the scored entries, best first.

    ``tie_break`` is the ordered list of key names (see ``TIE_BREAK_KEYS``)
    or callables returning a number where higher is better.
    """
    keys = [TIE_BREAK_KEYS[k] if isinstance(k, str) else k for k in tie_break]
    reports = list(reports)
    scored = [r for r in reports if r.n_scores > 0]
    unscored = tuple(r.entry_id for r in reports if r.n_scores == 0)
    keyed = [(tuple(f(r) for f in keys), r) for r in scored]
    keyed.sort(key=lambda kr: kr[0], reverse=True)  # stable: input order among equals
    ranked: list[RankedEntry] = []
    for pos, (key, r) in enumerate(keyed, start=1):
        rank_no = ranked[-1].rank if ranked and ranked[-1].key == key else pos
        ranked.append(RankedEntry(r.entry_id, r.track, rank_no, key, r))
    return RankingResult(tuple(ranked), unscored)


def rank(
    reports: Mapping[Hashable, EntryReport],
    tie_break: Sequence[str | TieBreakKey] = DEFAULT_TIE_BREAK,
) -> tuple[RankingResult, dict[Hashable, RankingResult]]:
    """Overall ranking and one ranking per track."""
    overall = rank_entries(reports.values(), tie_break)
    tracks: dict[Hashable, list[EntryReport]] = {}
    for r in reports.values():
        tracks.setdefault(r.track, []).append(r)
    return overall, {t: rank_entries(rs, tie_break) for t, rs in tracks.items()}


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
