"""Tests for incubator.spaces.suggest."""

from __future__ import annotations

import random

from hypothesis import given, settings
from hypothesis import strategies as st

from incubator.spaces.suggest import Candidate, suggest_spaces


def grid(zone, cols, rows, *, type_="desk_hot", x0=0, y0=0, step=100, size=100, skip=(), prefix="3F",
         start_id=0):
    """A block of desks on a regular grid; ``skip`` = (col, row) cells left out."""
    out = []
    n = 0
    for r in range(rows):
        for c in range(cols):
            if (c, r) in skip:
                continue
            n += 1
            out.append(Candidate(f"{zone}{start_id + n}", f"{prefix}-{zone}-{start_id + n:03d}", zone,
                                 type_, 1, x0 + c * step, y0 + r * step, size, size))
    return out


def office(id_, zone, capacity, x, y, w=300, h=300):
    return Candidate(id_, f"3F-{zone}-{int(id_[1:]):03d}", zone, "office", capacity, x, y, w, h)


def test_suggest_desks_cover_seats_in_preferred_zone():
    spaces = grid("A", 5, 4) + grid("B", 5, 4, x0=1000)
    result = suggest_spaces(spaces, 6, "desk_hot", preferred_zone="B")
    assert result.ok and bool(result)
    assert result.zone_ids == ("B",)
    assert len(result.spaces) == 6 and result.seats_covered == 6
    assert all(s.zone_id == "B" for s in result.spaces)
    assert result.split_across_zones is False and result.notes == ()
    assert result.components == 1


def test_suggest_adjacent_block_beats_scattered_desks():
    # Zone A: a compact 2x3 block of free desks in one corner and scattered free desks far apart.
    block = grid("A", 3, 2)
    scattered = [Candidate(f"S{i}", f"3F-A-{100 + i:03d}", "A", "desk_hot", 1, 2000 + i * 700,
                           1500 + (i % 2) * 900, 100, 100) for i in range(6)]
    result = suggest_spaces(scattered + block, 6, "desk_hot")
    assert sorted(result.space_ids) == sorted(s.id for s in block)
    assert result.components == 1


def test_suggest_prefers_connected_cluster_over_tighter_but_broken_one():
    # A line of 4 touching desks (dispersion 400) vs a 2x2 square with 30-unit aisles
    # (dispersion 4 * 65 * sqrt(2) = 368, smaller).  With gap=10 the square is 4 components,
    # so the line must win: adjacency comes before dispersion.
    line = [Candidate(f"L{i}", f"3F-A-{i + 1:03d}", "A", "desk_hot", 1, i * 100, 0, 100, 100)
            for i in range(4)]
    square = [Candidate(f"Q{i}", f"3F-A-{i + 11:03d}", "A", "desk_hot", 1,
                        5000 + (i % 2) * 130, 5000 + (i // 2) * 130, 100, 100) for i in range(4)]
    result = suggest_spaces(square + line, 4, "desk_hot", gap=10)
    assert set(result.space_ids) == {s.id for s in line}
    assert result.components == 1
    # With a gap that bridges the aisles the square is connected and more compact.
    result = suggest_spaces(square + line, 4, "desk_hot", gap=30)
    assert set(result.space_ids) == {s.id for s in square}


def test_suggest_preferred_zone_too_small_uses_another_whole_zone():
    spaces = grid("A", 2, 1) + grid("B", 4, 3, x0=1000) + grid("C", 2, 2, x0=3000)
    result = suggest_spaces(spaces, 5, "desk_hot", preferred_zone="A")
    assert result.zone_ids == ("B",)
    assert result.notes == ("preferred_zone_too_small",)
    assert not result.split_across_zones


def test_suggest_splits_over_fewest_zones_when_no_zone_fits():
    spaces = grid("A", 3, 1) + grid("B", 4, 1, x0=1000) + grid("C", 2, 1, x0=3000) + grid("D", 1, 1, x0=5000)
    result = suggest_spaces(spaces, 9, "desk_hot")
    assert result.ok and result.split_across_zones
    assert "split_across_zones" in result.notes
    assert result.seats_covered == 9 and len(result.spaces) == 9
    assert set(result.zone_ids) == {"A", "B", "C"}  # 4 + 3 + 2: three zones are needed
    # With the preferred zone C still three zones suffice, so C is used first.
    result = suggest_spaces(spaces, 8, "desk_hot", preferred_zone="C")
    assert result.zone_ids[0] == "C" and len(result.zone_ids) == 3


def test_suggest_preferred_zone_dropped_when_it_would_add_a_zone():
    spaces = grid("A", 5, 1) + grid("B", 5, 1, x0=1000) + grid("C", 1, 1, x0=3000)
    result = suggest_spaces(spaces, 10, "desk_hot", preferred_zone="C")
    assert set(result.zone_ids) == {"A", "B"}


def test_suggest_not_enough_seats_says_free_and_wanted():
    spaces = grid("A", 3, 1) + grid("B", 2, 1, type_="desk_fixed", x0=1000)
    result = suggest_spaces(spaces, 4, "desk_hot")
    assert not result
    assert result.spaces == () and result.reason == "not_enough_seats"
    assert result.params == {"free": 3, "wanted": 4}


def test_suggest_invalid_request():
    assert suggest_spaces([], 0, "desk_hot").reason == "invalid_request"
    assert suggest_spaces([], 1, "sofa").reason == "invalid_request"
    assert suggest_spaces([], 1, "office").reason == "not_enough_seats"


def test_suggest_office_best_fit_single_room():
    spaces = [office("O1", "A", 8, 0, 0), office("O2", "A", 4, 400, 0), office("O3", "A", 3, 800, 0),
              office("O4", "B", 4, 0, 0)]
    result = suggest_spaces(spaces, 4, "office", preferred_zone="A")
    assert result.space_ids == ("O2",)
    result = suggest_spaces(spaces, 5, "office")
    assert result.space_ids == ("O1",)
    assert result.seats_covered == 8


def test_suggest_offices_combined_with_least_waste():
    spaces = [office("O1", "A", 4, 0, 0), office("O2", "A", 3, 300, 0), office("O3", "A", 6, 600, 0),
              office("O4", "A", 2, 900, 0)]
    result = suggest_spaces(spaces, 9, "office")
    assert result.seats_covered == 9  # e.g. 6 + 3, not 6 + 4
    assert result.seats_covered >= 9 and len(result.spaces) == 2


def test_suggest_required_features_filter():
    spaces = grid("A", 4, 1)
    spaces[3] = Candidate(spaces[3].id, spaces[3].code, "A", "desk_hot", 1, 300, 0, 100, 100,
                          frozenset({"window"}))
    result = suggest_spaces(spaces, 1, "desk_hot", required_features={"window"})
    assert result.space_ids == (spaces[3].id,)


def test_suggest_input_order_does_not_matter():
    rng = random.Random(7)
    spaces = grid("A", 8, 6, skip={(1, 1), (4, 2), (5, 5)}) + grid("B", 6, 6, x0=2000)
    first = suggest_spaces(spaces, 12, "desk_hot")
    for _ in range(5):
        rng.shuffle(spaces)
        assert suggest_spaces(spaces, 12, "desk_hot") == first


@st.composite
def buildings(draw):
    zones = draw(st.lists(st.sampled_from("ABCDE"), min_size=1, max_size=4, unique=True))
    spaces = []
    n = 0
    for zi, z in enumerate(zones):
        for _ in range(draw(st.integers(0, 25))):
            n += 1
            type_ = draw(st.sampled_from(["desk_hot", "desk_fixed", "office"]))
            cap = 1 if type_ != "office" else draw(st.integers(1, 10))
            col, row = draw(st.integers(0, 9)), draw(st.integers(0, 9))
            spaces.append(Candidate(n, f"3F-{z}-{n:03d}", z, type_, cap, zi * 2000 + col * 110,
                                    row * 110, 100, 100))
    return spaces


@settings(max_examples=150, deadline=None)
@given(buildings(), st.integers(1, 40), st.sampled_from(["desk_hot", "desk_fixed", "office"]),
       st.sampled_from([None, "A", "B", "Z"]))
def test_suggest_properties(spaces, seats, space_type, preferred):
    result = suggest_spaces(spaces, seats, space_type, preferred_zone=preferred)
    typed = [s for s in spaces if s.type == space_type]
    free = sum(s.seats for s in typed)
    if free < seats:
        assert not result and result.params == {"free": free, "wanted": seats}
        return
    assert result.ok
    ids = [s.id for s in result.spaces]
    assert len(ids) == len(set(ids))
    assert set(ids) <= {s.id for s in typed}  # only candidates of the wanted type
    assert result.seats_covered == sum(s.seats for s in result.spaces) >= seats
    zone_totals = {}
    for s in typed:
        zone_totals[s.zone_id] = zone_totals.get(s.zone_id, 0) + s.seats
    if max(zone_totals.values()) >= seats:
        assert len({s.zone_id for s in result.spaces}) == 1 and not result.split_across_zones
        if preferred in zone_totals and zone_totals[preferred] >= seats:
            assert result.zone_ids == (preferred,)
    else:
        assert result.split_across_zones
        # Fewest zones: no smaller set of zones holds enough seats.
        k = len(result.zone_ids)
        best_k_minus_1 = sum(sorted(zone_totals.values(), reverse=True)[: k - 1])
        assert best_k_minus_1 < seats
    if space_type != "office":
        assert result.seats_covered == seats
    else:
        # Minimal: no chosen office can be dropped.
        assert all(result.seats_covered - s.seats < seats for s in result.spaces)
    assert suggest_spaces(list(reversed(spaces)), seats, space_type, preferred_zone=preferred) == result


def test_suggest_split_offices_drop_surplus_of_whole_zone():
    # No zone holds 37 seats: zone A gives everything (36), zone B adds 2 -> 38; the 1-seat
    # office in A is then not needed any more and must be dropped.
    caps_a = [9, 1, 3, 10, 8, 4, 1]
    spaces = [office(f"A{i + 1}", "A", c, i * 300, 0) for i, c in enumerate(caps_a)]
    spaces.append(office("B1", "B", 2, 0, 0))
    result = suggest_spaces(spaces, 37, "office")
    assert result.split_across_zones and set(result.zone_ids) == {"A", "B"}
    assert result.seats_covered == 37
    assert sorted(s.capacity for s in result.spaces) == [1, 2, 3, 4, 8, 9, 10]
