"""Tests for incubator.spaces.floorplan: state_for and the SVG renderer."""

from __future__ import annotations

import datetime as dt
import re
import xml.etree.ElementTree as ET

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from incubator.spaces.floorplan import (
    DEFAULT_LABELS,
    STATES,
    LeaseRow,
    OutOfServiceRow,
    PlanFloor,
    PlanSpace,
    SpaceState,
    render_floor_svg,
    state_for,
)

SVG = "{http://www.w3.org/2000/svg}"
D = dt.date


# --------------------------------------------------------------------------
# state_for
# --------------------------------------------------------------------------
def test_state_for_back_to_back_half_open_leases():
    leases = [(D(2026, 1, 1), D(2026, 4, 1), "active", "甲团队"),
              (D(2026, 4, 1), D(2026, 12, 1), "active", "乙团队")]
    today = D(2026, 1, 1)
    on_last_day = state_for(1, D(2026, 3, 31), leases, today=today)
    assert on_last_day.holder == "甲团队" and on_last_day.state == "ending_soon"
    on_boundary = state_for(1, D(2026, 4, 1), leases, today=D(2026, 4, 1))
    assert on_boundary == SpaceState("leased", "乙团队", D(2026, 4, 1), D(2026, 12, 1))
    assert state_for(1, D(2026, 12, 1), leases, today=today).state == "free"
    assert state_for(1, D(2025, 12, 31), leases, today=today).state == "free"


def test_state_for_ending_soon_boundary_30_days():
    leases = [(D(2026, 1, 1), D(2026, 6, 1), "active", "T")]
    assert state_for(1, D(2026, 5, 2), leases, today=D(2026, 1, 1)).state == "ending_soon"  # 30 days
    assert state_for(1, D(2026, 5, 1), leases, today=D(2026, 1, 1)).state == "leased"  # 31 days


def test_state_for_ignores_cancelled_and_ended_leases():
    leases = [(D(2026, 1, 1), D(2027, 1, 1), "cancelled", "已取消团队"),
              (D(2025, 1, 1), D(2027, 1, 1), "ended", "已结束团队")]
    assert state_for(1, D(2026, 3, 1), leases, today=D(2026, 3, 1)) == SpaceState("free")
    leases.append((D(2026, 2, 1), D(2026, 9, 1), "active", "在租团队"))
    assert state_for(1, D(2026, 3, 1), leases, today=D(2026, 3, 1)).holder == "在租团队"


def test_state_for_reserved_when_lease_starts_after_today():
    leases = [LeaseRow(D(2026, 5, 1), D(2027, 5, 1), "active", "T")]
    assert state_for(1, D(2026, 6, 1), leases, today=D(2026, 3, 1)).state == "reserved"
    assert state_for(1, D(2026, 6, 1), leases, today=D(2026, 5, 1)).state == "leased"
    assert state_for(1, D(2026, 6, 1), leases).state == "leased"  # today defaults to the date


def test_state_for_out_of_service_wins_and_open_ended():
    leases = [(D(2026, 1, 1), None, "active", "T")]
    oos = [OutOfServiceRow(D(2026, 3, 1), D(2026, 3, 10)), (D(2026, 8, 1), None)]
    assert state_for(1, D(2026, 3, 5), leases, oos).state == "out_of_service"
    assert state_for(1, D(2026, 3, 10), leases, oos).state == "leased"  # open-ended lease never ends soon
    assert state_for(1, D(2030, 1, 1), leases, oos).state == "out_of_service"


def test_state_for_filters_rows_of_other_spaces():
    leases = [LeaseRow(D(2026, 1, 1), D(2027, 1, 1), "active", "别人", space_id=2),
              LeaseRow(D(2026, 1, 1), D(2027, 1, 1), "active", "自己", space_id=1)]
    oos = [OutOfServiceRow(D(2026, 1, 1), None, space_id=2)]
    assert state_for(1, D(2026, 6, 1), leases, oos).holder == "自己"
    assert state_for(2, D(2026, 6, 1), leases, oos).state == "out_of_service"
    assert state_for(3, D(2026, 6, 1), leases, oos).state == "free"


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 100), st.integers(1, 60),
                          st.sampled_from(["active", "ended", "cancelled"])), max_size=6),
       st.integers(-5, 170))
def test_state_for_matches_definition(raw, offset):
    base = D(2026, 1, 1)
    leases = [(base + dt.timedelta(s), base + dt.timedelta(s + n), status, f"t{i}")
              for i, (s, n, status) in enumerate(raw)]
    day = base + dt.timedelta(offset)
    result = state_for(1, day, leases, today=day)
    covering = [lease for lease in leases if lease[2] == "active" and lease[0] <= day < lease[1]]
    if not covering:
        assert result == SpaceState("free")
    else:
        assert (result.start, result.end, result.holder) in {(c[0], c[1], c[3]) for c in covering}
        assert result.state == ("ending_soon" if (result.end - day).days <= 30 else "leased")


# --------------------------------------------------------------------------
# SVG
# --------------------------------------------------------------------------
HOSTILE = "<script>alert('x')</script> & \"Team\""


def plan():
    spaces = [PlanSpace(i, f"3F-A-{i:03d}", "desk_hot" if i < 4 else "office", 1 if i < 4 else 6,
                        (i % 3) * 120, (i // 3) * 120, 100, 100) for i in range(1, 7)]
    states = {
        1: SpaceState("leased", HOSTILE, D(2026, 1, 1), D(2026, 7, 1)),
        2: SpaceState("reserved", "乙", D(2026, 9, 1), D(2027, 1, 1)),
        3: SpaceState("ending_soon", "丙", D(2026, 1, 1), D(2026, 3, 1)),
        4: SpaceState("out_of_service", None, D(2026, 1, 1), None),
        # 5 missing -> free; 6 explicit free
        6: SpaceState("free"),
    }
    return PlanFloor(3, "3F <东区>"), spaces, states


def render(**kw):
    floor, spaces, states = plan()
    return render_floor_svg(floor, spaces, states, **kw)


def anchors(root):
    return root.findall(f"./{SVG}g[@class='fp-spaces']/{SVG}a")


def test_svg_well_formed_one_link_rect_title_per_space_with_state_class():
    root = ET.fromstring(render(href="/spaces/{id}/history"))
    assert root.tag == f"{SVG}svg" and root.get("width") == "100%"
    links = anchors(root)
    assert len(links) == 6
    expected = {"1": "leased", "2": "reserved", "3": "ending_soon", "4": "out_of_service",
                "5": "free", "6": "free"}
    for a in links:
        sid = a.get("data-space-id")
        assert a.get("href") == f"/spaces/{sid}/history"
        rects = a.findall(f"{SVG}rect[@class]")
        main = [r for r in rects if "fp-rect" in r.get("class")]
        assert len(main) == 1
        assert f"fp-{expected[sid]}" in main[0].get("class").split()
        assert list(a)[0].tag == f"{SVG}title"  # first child: the tooltip


def test_svg_titles_carry_code_type_state_holder_and_inclusive_dates():
    root = ET.fromstring(render())
    titles = {a.get("data-space-id"): a.find(f"{SVG}title").text for a in anchors(root)}
    assert titles["1"].startswith("3F-A-001 · 流动工位 · 已租用")
    assert HOSTILE in titles["1"]  # the parsed text is the original, so it was escaped in the markup
    assert "2026-01-01 至 2026-06-30" in titles["1"]  # end is exclusive, shown inclusive
    assert "6 座位" in titles["5"] and "空闲" in titles["5"]


def test_svg_escapes_hostile_text_everywhere():
    floor, spaces, states = plan()
    svg = render_floor_svg(PlanFloor('"><script>', HOSTILE), spaces, states,
                           labels={"leased": "<b>leased</b>"},
                           background_href='/plan.png?a=1&b="2"',
                           href=lambda s: f"/s/{s.id}?x=<&>")
    assert "<script" not in svg and "<b>" not in svg
    root = ET.fromstring(svg)
    assert root.find(f"{SVG}image").get("href") == '/plan.png?a=1&b="2"'
    assert root.find(f"{SVG}title").text.startswith(HOSTILE)


def test_svg_has_no_script_style_or_event_handlers():
    svg = render(background_href="/bg.png")
    for el in ET.fromstring(svg).iter():
        assert el.tag not in (f"{SVG}script", f"{SVG}style", f"{SVG}foreignObject")
        assert "style" not in el.attrib
        assert not any(name.lower().startswith("on") for name in el.attrib)


def test_svg_legend_has_every_state_and_mine_with_given_labels():
    labels = {"free": "Free", "leased": "Leased", "reserved": "Reserved", "ending_soon": "Ending soon",
              "out_of_service": "Out of service", "mine": "My desks", "legend": "Legend"}
    root = ET.fromstring(render(labels=labels))
    legend = root.find(f"{SVG}g[@class='fp-legend']")
    texts = [t.text for t in legend.iter(f"{SVG}text")]
    assert texts == ["Legend", "Free", "Leased", "Reserved", "Ending soon", "Out of service", "My desks"]
    default = ET.fromstring(render()).find(f"{SVG}g[@class='fp-legend']")
    assert [t.text for t in default.iter(f"{SVG}text")][1:] == [DEFAULT_LABELS[s] for s in STATES] + ["我的工位"]


def test_svg_highlight_ring_only_on_highlighted_spaces():
    root = ET.fromstring(render(highlight_ids=[2, 5, 999]))
    for a in anchors(root):
        ring = a.findall(f"{SVG}rect[@class='fp-highlight']")
        mine = a.get("data-space-id") in {"2", "5"}
        assert len(ring) == (1 if mine else 0)
        assert ("fp-mine" in a.get("class").split()) == mine


def test_svg_viewbox_contains_all_spaces():
    root = ET.fromstring(render())
    x, y, w, h = map(float, root.get("viewBox").split())
    for r in root.iter(f"{SVG}rect"):
        rx, ry = float(r.get("x")), float(r.get("y"))
        assert x <= rx and rx + float(r.get("width")) <= x + w
        assert y <= ry and ry + float(r.get("height")) <= y + h


def test_svg_background_is_drawn_at_the_plan_size_under_spaces_in_the_same_coordinates():
    """The image is the whole plan (its size, from the origin); spaces that stop short of its edges
    stay where they are on it instead of the image being stretched over them."""
    floor, spaces, states = plan()  # spaces from (120, 0) to (460, 220)
    root = ET.fromstring(render_floor_svg(PlanFloor(3, "3F", 2000, 1200), spaces, states, background_href="/bg.png"))
    image = root.find(f"{SVG}image")
    assert [float(image.get(k)) for k in ("x", "y", "width", "height")] == [0, 0, 2000, 1200]
    x, y, w, h = map(float, root.get("viewBox").split())
    assert x <= 0 and y <= 0 and x + w >= 2000 and y + h >= 1200  # the whole image is in view
    legend = root.find(f"{SVG}g[@class='fp-legend']/{SVG}text")
    assert float(legend.get("y")) > 1200  # under the plan, not over the image
    rects = {a.get("data-space-id"): a.find(f"{SVG}rect") for a in anchors(root)}
    assert [float(rects["1"].get(k)) for k in ("x", "y", "width", "height")] == [120, 0, 100, 100]
    # An empty floor with an image shows the image; without an image the view stays on the spaces.
    empty = ET.fromstring(render_floor_svg(PlanFloor(3, "3F", 800, 500), [], {}, background_href="/bg.png"))
    assert [float(empty.find(f"{SVG}image").get(k)) for k in ("width", "height")] == [800, 500]
    bare = ET.fromstring(render_floor_svg(PlanFloor(3, "3F", 2000, 1200), spaces, states))
    assert bare.find(f"{SVG}image") is None and float(bare.get("viewBox").split()[2]) < 2000


def test_svg_empty_floor_still_valid():
    root = ET.fromstring(render_floor_svg(PlanFloor(1, "1F"), [], {}))
    assert anchors(root) == []
    assert root.find(f"{SVG}g[@class='fp-legend']") is not None


def test_svg_rejects_non_finite_coordinates():
    with pytest.raises(ValueError):
        render_floor_svg(PlanFloor(1, "1F"), [PlanSpace(1, "1F-A-001", "desk_hot", 1, float("nan"), 0, 1, 1)], {})


@settings(max_examples=100, deadline=None)
@given(st.text(max_size=30), st.text(max_size=30))
def test_svg_any_team_and_floor_name_gives_well_formed_xml(team, name):
    svg = render_floor_svg(PlanFloor(1, name), [PlanSpace(1, "1F-A-001", "desk_hot", 1, 0, 0, 10, 10)],
                           {1: SpaceState("leased", team, D(2026, 1, 1), D(2026, 2, 1))},
                           href=lambda s: "/s?team=" + team)
    root = ET.fromstring(svg)
    # Characters XML cannot carry at all become U+FFFD; everything else survives exactly.
    expected = re.sub("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]", "\ufffd", team)
    link = anchors(root)[0]
    if team:
        assert f"租用团队: {expected} · " in link.find(f"{SVG}title").text
    assert link.get("href") == "/s?team=" + expected


def test_state_for_upcoming_shows_the_next_lease_as_reserved():
    leases = [LeaseRow(D(2026, 9, 1), D(2027, 1, 1), "active", "后来"),
              LeaseRow(D(2026, 6, 1), D(2026, 8, 1), "active", "先到"),
              LeaseRow(D(2026, 4, 1), D(2026, 5, 1), "cancelled", "已取消")]
    assert state_for(1, D(2026, 3, 1), leases) == SpaceState("free")  # by default, as before
    assert state_for(1, D(2026, 3, 1), leases, upcoming=True) == SpaceState("reserved", "先到", D(2026, 6, 1),
                                                                            D(2026, 8, 1))
    assert state_for(1, D(2026, 6, 15), leases, today=D(2026, 6, 15), upcoming=True).holder == "先到"
    assert state_for(1, D(2026, 8, 1), leases, upcoming=True).holder == "后来"
    assert state_for(1, D(2027, 1, 1), leases, upcoming=True) == SpaceState("free")
