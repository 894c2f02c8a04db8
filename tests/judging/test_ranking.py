"""Hand-computed examples for incubator.judging.ranking."""

from __future__ import annotations

import math

import pytest

from incubator.judging.ranking import (
    AwardLevel,
    Criterion,
    DisagreementThreshold,
    Score,
    aggregate,
    assign_awards,
    rank,
    rank_entries,
    top_n_per_track,
    top_percent_overall,
    weighted_total,
)

# One criterion out of 100: a sheet's total equals its value, which keeps
# the hand computations readable.
PLAIN = [Criterion("overall", 1, 100)]


def sheets(table: dict[str, list[float]], rubric=PLAIN) -> list[Score]:
    """{entry: [total by judge 0, judge 1, ...]} -> Score list (plain rubric)."""
    return [
        Score(e, f"j{i}", {rubric[0].id: v}) for e, vals in table.items() for i, v in enumerate(vals)
    ]


def run(table, method="mean", tracks=None, **kw):
    entries = {e: (tracks or {}).get(e, "T") for e in table}
    return aggregate(PLAIN, entries, sheets(table), method=method, **kw)


# --------------------------------------------------------------------------
# Totals
# --------------------------------------------------------------------------
def test_weighted_total_uses_weights_and_max_scores():
    rubric = [Criterion("idea", 3, 10), Criterion("team", 1, 5)]
    # (3 * 8/10 + 1 * 5/5) / 4 * 100 = 85
    assert weighted_total(rubric, {"idea": 8, "team": 5}) == pytest.approx(85.0)


def test_weighted_total_independent_of_weight_sum():
    a = [Criterion("idea", 3, 10), Criterion("team", 1, 5)]
    b = [Criterion("idea", 30, 10), Criterion("team", 10, 5)]
    vals = {"idea": 7, "team": 2}
    assert weighted_total(a, vals) == pytest.approx(weighted_total(b, vals))


def test_weighted_total_rejects_missing_or_out_of_range_values():
    rubric = [Criterion("idea", 1, 10), Criterion("team", 1, 10)]
    with pytest.raises(ValueError, match="missing"):
        weighted_total(rubric, {"idea": 5})
    with pytest.raises(ValueError, match="outside"):
        weighted_total(rubric, {"idea": 11, "team": 0})


def test_aggregate_rejects_duplicate_sheet_and_unknown_method():
    dup = [Score("a", "j0", {"overall": 50}), Score("a", "j0", {"overall": 60})]
    with pytest.raises(ValueError, match="twice"):
        aggregate(PLAIN, {"a": "T"}, dup)
    with pytest.raises(ValueError, match="unknown method"):
        aggregate(PLAIN, {"a": "T"}, [], method="max")


# --------------------------------------------------------------------------
# Methods
# --------------------------------------------------------------------------
def test_mean_method_averages_totals():
    r = run({"a": [70, 80, 90]}, "mean")["a"]
    assert r.aggregated == pytest.approx(80.0) and r.raw_mean == pytest.approx(80.0)
    assert r.n_scores == 3


def test_median_method_even_count_averages_middle_two():
    r = run({"a": [70, 80, 100, 60]}, "median")["a"]
    assert r.aggregated == pytest.approx(75.0)
    assert r.raw_mean == pytest.approx(77.5)


def test_trimmed_mean_with_four_scores_is_plain_mean():
    r = run({"a": [60, 70, 80, 100]}, "trimmed_mean")["a"]
    assert r.aggregated == pytest.approx(77.5)


def test_trimmed_mean_with_five_scores_drops_one_highest_and_one_lowest():
    r = run({"a": [50, 70, 80, 90, 100]}, "trimmed_mean")["a"]
    assert r.aggregated == pytest.approx(80.0)
    assert r.raw_mean == pytest.approx(78.0)


def test_trimmed_mean_with_repeated_extremes_drops_exactly_one_each():
    r = run({"a": [100, 100, 80, 70, 60, 60]}, "trimmed_mean")["a"]
    assert r.aggregated == pytest.approx((100 + 80 + 70 + 60) / 4)


def test_zscore_corrects_lenient_and_harsh_judge():
    # lenient L: A=90, B=80 (mean 85, std 5); harsh H: A=50, C=70 (mean 60, std 10)
    scores = [
        Score("A", "L", {"overall": 90}),
        Score("B", "L", {"overall": 80}),
        Score("A", "H", {"overall": 50}),
        Score("C", "H", {"overall": 70}),
    ]
    reports = aggregate(PLAIN, {"A": "T", "B": "T", "C": "T"}, scores, method="zscore")
    g_mean, g_std = 72.5, math.sqrt(875 / 4)  # global mean / population std of 90, 80, 50, 70
    assert reports["A"].aggregated == pytest.approx(g_mean)  # z = +1 and -1
    assert reports["B"].aggregated == pytest.approx(g_mean - g_std)
    assert reports["C"].aggregated == pytest.approx(g_mean + g_std)
    # raw means tell the opposite story: B 80 > A 70 = C 70
    assert reports["B"].raw_mean == pytest.approx(80) and reports["C"].raw_mean == pytest.approx(70)
    overall = rank_entries(reports.values())
    assert [r.entry_id for r in overall.ranked] == ["C", "A", "B"]


def test_zscore_single_score_judge_maps_to_global_mean():
    scores = [
        Score("A", "L", {"overall": 90}),
        Score("B", "L", {"overall": 80}),
        Score("C", "once", {"overall": 100}),
        Score("D", "flat", {"overall": 60}),
        Score("E", "flat", {"overall": 60}),
    ]
    entries = {e: "T" for e in "ABCDE"}
    reports = aggregate(PLAIN, entries, scores, method="zscore")
    g_mean = (90 + 80 + 100 + 60 + 60) / 5
    for e in "CDE":  # single score, zero std -> z = 0
        assert reports[e].aggregated == pytest.approx(g_mean)
    assert reports["A"].aggregated > g_mean > reports["B"].aggregated


def test_report_shows_raw_aggregated_and_normalized_side_by_side():
    reports = run({"a": [50, 70, 80, 90, 100], "b": [60, 60, 60, 60, 60]}, "trimmed_mean")
    a = reports["a"]
    assert (a.raw_mean, a.aggregated) == (pytest.approx(78.0), pytest.approx(80.0))
    assert a.normalized is not None
    assert a.spread_range == pytest.approx(50.0)
    assert a.spread_std == pytest.approx(math.sqrt(sum((x - 78) ** 2 for x in [50, 70, 80, 90, 100]) / 5))


# --------------------------------------------------------------------------
# Disagreement
# --------------------------------------------------------------------------
def test_disagreement_flag_on_large_range_or_std():
    reports = run({"wide": [50, 90], "close": [60, 85]})
    assert reports["wide"].disagreement  # range 40 > 30, std 20 > 15
    assert not reports["close"].disagreement  # range 25, std 12.5


def test_disagreement_threshold_is_configurable():
    reports = run({"close": [60, 85]}, disagreement=DisagreementThreshold(std=10, range=100))
    assert reports["close"].disagreement  # std 12.5 > 10


# --------------------------------------------------------------------------
# Ranking and tie-break
# --------------------------------------------------------------------------
def test_ranking_ties_share_rank_competition_style():
    reports = run({"a": [90], "b": [80], "c": [80], "d": [70]})
    overall = rank_entries(reports.values())
    assert [(r.entry_id, r.rank) for r in overall.ranked] == [("a", 1), ("b", 2), ("c", 2), ("d", 4)]


def test_ranking_rounds_aggregated_to_two_decimals_before_comparing():
    reports = run({"a": [80.001], "b": [80.004]})
    overall = rank_entries(reports.values(), tie_break=("aggregated",))
    assert [r.rank for r in overall.ranked] == [1, 1]


def test_tie_break_by_highest_weight_criterion_first_in_rubric_order():
    rubric = [Criterion("A", 2, 10), Criterion("B", 1, 10), Criterion("C", 2, 10)]
    scores = [Score("X", "j", {"A": 10, "B": 4, "C": 6}), Score("Y", "j", {"A": 6, "B": 4, "C": 10})]
    reports = aggregate(rubric, {"X": "T", "Y": "T"}, scores, method="mean")
    assert reports["X"].aggregated == pytest.approx(reports["Y"].aggregated) == pytest.approx(72.0)
    assert [(r.entry_id, r.rank) for r in rank_entries(reports.values()).ranked] == [("X", 1), ("Y", 2)]
    # the same weights in another rubric order make C the deciding criterion
    reversed_rubric = list(reversed(rubric))
    reports = aggregate(reversed_rubric, {"X": "T", "Y": "T"}, scores, method="mean")
    assert [(r.entry_id, r.rank) for r in rank_entries(reports.values()).ranked] == [("Y", 1), ("X", 2)]


def test_tie_break_by_number_of_top_scores():
    reports = run({"Y": [80, 80], "X": [90, 70]})  # both mean 80, X has one total >= 90
    overall = rank_entries(reports.values())
    assert [(r.entry_id, r.rank) for r in overall.ranked] == [("X", 1), ("Y", 2)]


def test_tie_break_order_is_a_parameter():
    reports = run({"Y": [80, 80], "X": [90, 70]})
    overall = rank_entries(reports.values(), tie_break=("aggregated",))
    assert [r.rank for r in overall.ranked] == [1, 1]
    by_spread = rank_entries(reports.values(), tie_break=("aggregated", lambda r: -r.spread_std))
    assert [(r.entry_id, r.rank) for r in by_spread.ranked] == [("Y", 1), ("X", 2)]


def test_ranking_per_track_and_unscored_entries_excluded():
    reports = run({"a": [90], "b": [70], "c": [80]}, tracks={"a": "AI", "b": "AI", "c": "Food"})
    reports["z"] = aggregate(PLAIN, {"z": "AI"}, [])["z"]
    overall, per_track = rank(reports)
    assert [r.entry_id for r in overall.ranked] == ["a", "c", "b"]
    assert overall.unscored == ("z",)
    assert [(r.entry_id, r.rank) for r in per_track["AI"].ranked] == [("a", 1), ("b", 2)]
    assert per_track["AI"].unscored == ("z",)
    assert reports["z"].n_scores == 0 and reports["z"].aggregated is None


# --------------------------------------------------------------------------
# Advancement
# --------------------------------------------------------------------------
def test_top_n_per_track_all_tied_at_cut_advance():
    tracks = {"a": "AI", "b": "AI", "c": "AI", "d": "AI", "f": "Food", "g": "Food"}
    reports = run({"a": [90], "b": [80], "c": [80], "d": [70], "f": [60], "g": [50]}, tracks=tracks)
    _, per_track = rank(reports)
    assert sorted(top_n_per_track(per_track, 2)) == ["a", "b", "c", "f", "g"]
    assert sorted(top_n_per_track(per_track, 1)) == ["a", "f"]


def test_top_n_per_track_never_advances_unscored_entry():
    reports = run({"a": [90]})
    reports["z"] = aggregate(PLAIN, {"z": "T"}, [])["z"]
    _, per_track = rank(reports)
    assert top_n_per_track(per_track, 10) == ["a"]


def test_top_percent_overall_ties_at_cut_advance():
    vals = {f"e{i}": [100 - 5 * i] for i in range(10)}
    vals["e2"] = [95]  # ties with e1 at the 20 % cut (2 of 10)
    overall, _ = rank(run(vals))
    assert sorted(top_percent_overall(overall, 20)) == ["e0", "e1", "e2"]


def test_top_percent_overall_exact_fraction_and_rounding_up():
    overall, _ = rank(run({f"e{i}": [100 - i] for i in range(10)}))
    assert len(top_percent_overall(overall, 30)) == 3  # 0.3 * 10 must not become 4
    assert len(top_percent_overall(overall, 25)) == 3  # ceil(2.5)
    assert top_percent_overall(overall, 0) == []


# --------------------------------------------------------------------------
# Awards
# --------------------------------------------------------------------------
def test_awards_in_rank_order_with_boundary_tie_getting_better_level():
    overall, _ = rank(run({"a": [95], "b": [90], "c": [90], "d": [80], "e": [70], "f": [60]}))
    counts = {AwardLevel.FIRST: 1, AwardLevel.SECOND: 1, AwardLevel.THIRD: 2, AwardLevel.HONORABLE: 1}
    awards = assign_awards(overall, counts)
    assert awards == {
        "a": AwardLevel.FIRST,
        "b": AwardLevel.SECOND,  # b and c tie across the 二等奖/三等奖 boundary
        "c": AwardLevel.SECOND,
        "d": AwardLevel.THIRD,
        "e": AwardLevel.HONORABLE,
    }
    assert AwardLevel.FIRST.value == "一等奖"


def test_awards_tie_at_top_consumes_next_level_slots():
    overall, _ = rank(run({"a": [95], "b": [95], "c": [80]}))
    awards = assign_awards(overall, {AwardLevel.FIRST: 1, AwardLevel.SECOND: 1})
    assert awards == {"a": AwardLevel.FIRST, "b": AwardLevel.FIRST}
