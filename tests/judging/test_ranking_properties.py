"""Properties of incubator.judging.ranking on random rounds: the aggregation (a Tally, filled at once
or kept up to date batch by batch) equals the formulas of the module docstring written out plainly,
and rank() (sorted once, tracks taken from the overall order) equals rank_entries() run per track."""
from __future__ import annotations

import math
import statistics

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from incubator.judging.ranking import (METHODS, TOP_SCORE, Criterion, DisagreementThreshold, EntryReport, Score,
                                       Tally, aggregate, rank, rank_entries, weighted_total)

RUBRIC = [Criterion("a", 3.0, 10.0), Criterion("b", 5.0, 10.0), Criterion("c", 2.0, 5.0)]
# Half points make ties and equal totals common, which is where ranking goes wrong if anything does.
VALUE = {"a": st.integers(0, 20).map(lambda x: x / 2), "b": st.integers(0, 20).map(lambda x: x / 2),
         "c": st.integers(0, 10).map(lambda x: x / 2)}


@st.composite
def rounds(draw):
    n_entries = draw(st.integers(1, 12))
    n_judges = draw(st.integers(1, 6))
    entries = {f"e{i}": draw(st.sampled_from(["T1", "T2", "T3"])) for i in range(n_entries)}
    scores = []
    for e in entries:
        for j in draw(st.lists(st.integers(0, n_judges - 1), unique=True, max_size=n_judges)):
            scores.append(Score(e, f"j{j}", {c: draw(v) for c, v in VALUE.items()}))
    return entries, scores


def plain_mean(xs):
    return math.fsum(xs) / len(xs)


def plain_pstd(xs):
    if len(xs) < 2:
        return 0.0
    mu = plain_mean(xs)
    return math.sqrt(math.fsum((x - mu) ** 2 for x in xs) / len(xs))


def reference(entries, scores, method, limits=DisagreementThreshold()):
    """The module docstring's formulas, one entry at a time."""
    totals = {(s.entry_id, s.judge_id): weighted_total(RUBRIC, s.values) for s in scores}
    by_judge = {}
    for (e, j), t in totals.items():
        by_judge.setdefault(j, []).append(t)
    everyone = list(totals.values())
    g_mean, g_std = (plain_mean(everyone) if everyone else 0.0), plain_pstd(everyone)
    out = {}
    for e, track in entries.items():
        mine = [(j, t) for (e2, j), t in totals.items() if e2 == e]
        if not mine:
            out[e] = EntryReport(e, track, 0, (), None, None, None, None, None, False, None, 0)
            continue
        ts = [t for _, t in mine]
        mapped = []
        for j, t in mine:
            mu, sd = plain_mean(by_judge[j]), plain_pstd(by_judge[j])
            mapped.append(g_mean + ((t - mu) / sd if sd > 0 else 0.0) * g_std)
        agg = {"mean": plain_mean(ts), "median": float(statistics.median(ts)),
               "trimmed_mean": plain_mean(sorted(ts)[1:-1]) if len(ts) >= 5 else plain_mean(ts),
               "zscore": plain_mean(mapped)}[method]
        rng, sd = max(ts) - min(ts), plain_pstd(ts)
        top = [s.values["b"] for s in scores if s.entry_id == e]  # b has the highest weight
        out[e] = EntryReport(e, track, len(ts), tuple(ts), plain_mean(ts), agg, plain_mean(mapped), rng, sd,
                             sd > limits.std or rng > limits.range, plain_mean(top),
                             sum(1 for t in ts if t >= TOP_SCORE))
    return out


@settings(max_examples=150, deadline=None)
@given(rounds(), st.sampled_from(METHODS))
def test_aggregate_equals_the_formulas_written_out(round_, method):
    entries, scores = round_
    assert aggregate(RUBRIC, entries, scores, method=method) == reference(entries, scores, method)


@settings(max_examples=150, deadline=None)
@given(rounds(), st.sampled_from(METHODS))
def test_rank_equals_rank_entries_overall_and_per_track(round_, method):
    entries, scores = round_
    reports = aggregate(RUBRIC, entries, scores, method=method)
    overall, per_track = rank(reports)
    assert overall == rank_entries(reports.values())
    tracks = {}
    for r in reports.values():
        tracks.setdefault(r.track, []).append(r)
    assert per_track == {t: rank_entries(rs) for t, rs in tracks.items()}
    assert list(per_track) == list(tracks)


@st.composite
def edits(draw):
    """A round, then a sequence of batches of sheet changes: (sheet key, None) removes the sheet,
    (sheet key, (entry, judge, values)) adds or replaces it."""
    entries, _ = draw(rounds())
    n_judges = draw(st.integers(1, 6))
    batches = []
    for _ in range(draw(st.integers(1, 8))):
        batch = {}
        for _ in range(draw(st.integers(0, 6))):
            key = draw(st.integers(0, 15))
            if draw(st.booleans()) and draw(st.booleans()):
                batch[key] = None
            else:
                batch[key] = (draw(st.sampled_from(sorted(entries))), f"j{draw(st.integers(0, n_judges - 1))}",
                              {c: draw(v) for c, v in VALUE.items()})
        batches.append(batch)
    return entries, batches


def _sorted_totals(reports):
    return {e: r._replace(totals=tuple(sorted(r.totals))) for e, r in reports.items()}


@settings(max_examples=200, deadline=None)
@given(edits(), st.sampled_from(METHODS))
def test_tally_kept_up_to_date_equals_the_formulas_on_what_it_holds(round_, method):
    """Sheets added, replaced and removed batch by batch (as a live final changes them): after every
    batch the Tally's reports equal the plain formulas on the sheets held then, float for float
    (each entry's totals compared as a multiset: an edited sheet moves to the end). A batch that
    would give one judge two sheets of one entry is refused whole and changes nothing."""
    entries, batches = round_
    tally = Tally(entries, method)
    held: dict = {}
    for batch in batches:
        after = dict(held)
        for key, sheet in batch.items():
            if sheet is None:
                after.pop(key, None)
            else:
                after[key] = sheet
        pairs = [(e, j) for e, j, _ in after.values()]
        removed = [k for k, s in batch.items() if s is None]
        added = [(k, s[0], s[1], weighted_total(RUBRIC, s[2]), float(s[2]["b"])) for k, s in batch.items()
                 if s is not None]
        if len(set(pairs)) < len(pairs):
            before = tally.reports()
            with pytest.raises(ValueError, match="twice"):
                tally.apply(removed, added)
            assert tally.reports() == before
            continue
        tally.apply(removed, added)
        held = after
        scores = [Score(e, j, vs) for e, j, vs in held.values()]
        assert _sorted_totals(tally.reports()) == _sorted_totals(reference(entries, scores, method))
        assert len(tally) == len(held)
