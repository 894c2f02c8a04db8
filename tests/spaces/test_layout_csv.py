"""Tests for incubator.spaces.layout_csv: validation with line numbers, BOM, XLSX rows, round trip."""

from __future__ import annotations

import csv
import io

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from incubator.spaces.layout_csv import (
    COLUMNS,
    ERROR_KEYS,
    LayoutError,
    LayoutRow,
    export_rows,
    parse_layout,
)

HEADER = ",".join(COLUMNS)
GOOD = [
    "3F-A-001,3,A,desk_hot,1,0,0,100,100,window;power",
    "3F-A-002,3,A,desk_fixed,1,100,0,100,100,",
    "3F-B-001,3,B,office,6,0,200,400,300,window|monitor",
    "4F-A-001,4,A,desk_hot,,0,0,100,100,",  # same place as 3F-A-001 but another floor
]


def csv_text(*lines: str) -> str:
    return "\n".join((HEADER,) + lines) + "\n"


def keys(result):
    return [(e.line, e.key) for e in result.errors]


def test_parse_good_file_returns_typed_rows():
    result = parse_layout(csv_text(*GOOD))
    assert result.ok and result.errors == ()
    assert [r.code for r in result.rows] == ["3F-A-001", "3F-A-002", "3F-B-001", "4F-A-001"]
    first = result.rows[0]
    assert first == LayoutRow("3F-A-001", 3, "A", "desk_hot", 1, 0, 0, 100, 100, ("window", "power"))
    assert first.line == 2
    assert result.rows[2].features == ("window", "monitor")
    assert result.rows[3].capacity == 1  # empty capacity means 1 for a desk


def test_parse_bom_in_bytes_and_text_is_ignored():
    text = csv_text(*GOOD)
    for data in ("\ufeff" + text, ("\ufeff" + text).encode("utf-8"), text.encode("utf-8")):
        result = parse_layout(data)
        assert result.ok, result.errors
        assert len(result.rows) == 4


def test_parse_crlf_and_case_and_column_order_accepted():
    cols = list(COLUMNS)[::-1]
    lines = [",".join(c.upper() for c in cols)]
    for g in GOOD:
        lines.append(",".join(g.split(",")[::-1]))
    result = parse_layout("\r\n".join(lines) + "\r\n")
    assert result.ok, result.errors
    assert [r.code for r in result.rows] == [g.split(",")[0] for g in GOOD]


@pytest.mark.parametrize(
    "row, key, params",
    [
        ("3F-A-009,3,A,desk_hot,abc,0,500,100,100,", "capacity_not_integer", {"value": "abc"}),
        ("3F-A-009,3,A,desk_hot,1.5,0,500,100,100,", "capacity_not_integer", {"value": "1.5"}),
        ("3F-A-009,3,A,desk_hot,2,0,500,100,100,", "desk_capacity_not_one", {"value": "2"}),
        ("3F-A-009,3,A,office,0,0,500,100,100,", "capacity_too_small", {"value": "0"}),
        ("3F-A-009,3,A,office,,0,500,100,100,", "required", {"column": "capacity"}),
        ("3F-A-009,3,A,sofa,1,0,500,100,100,", "type_invalid", {"value": "sofa"}),
        ("A-009,3,A,desk_hot,1,0,500,100,100,", "code_invalid", {"value": "A-009"}),
        ("3F-A-9,3,A,desk_hot,1,0,500,100,100,", "code_invalid", {"value": "3F-A-9"}),
        ("5F-A-009,3,A,desk_hot,1,0,500,100,100,", "code_mismatch",
         {"code": "5F-A-009", "expected_prefix": "3F-A-"}),
        ("3F-A-009,three,A,desk_hot,1,0,500,100,100,", "floor_invalid", {"value": "three"}),
        ("3F-A-009,3,A1,desk_hot,1,0,500,100,100,", "zone_invalid", {"value": "A1"}),
        ("3F-A-009,3,A,desk_hot,1,-5,500,100,100,", "number_negative", {"column": "x", "value": "-5"}),
        ("3F-A-009,3,A,desk_hot,1,0,1e,100,100,", "number_invalid", {"column": "y", "value": "1e"}),
        ("3F-A-009,3,A,desk_hot,1,0,500,nan,100,", "number_invalid", {"column": "width", "value": "nan"}),
        ("3F-A-009,3,A,desk_hot,1,0,500,100,0,", "size_not_positive", {"column": "height", "value": "0"}),
        ("3F-A-009,3,A,desk_hot,1,0,500,100,100,wifi", "feature_unknown", {"value": "wifi"}),
        ("3F-A-009,,A,desk_hot,1,0,500,100,100,", "required", {"column": "floor"}),
        ("3F-A-009,3,A,desk_hot,1,0,500,100,100,,extra", "too_many_cells", {"expected": 10, "found": 11}),
        ("3F-A-001,3,A,desk_hot,1,0,500,100,100,", "code_duplicate", {"code": "3F-A-001", "first_line": 2}),
        ("3F-A-009,3,A,desk_hot,1,50,50,100,100,", "overlap",
         {"code": "3F-A-009", "other_code": "3F-A-001", "other_line": 2}),
    ],
)
def test_parse_bad_row_reports_line_key_params_and_no_rows(row, key, params):
    # The bad row is line 4: header, two good rows, then it, then a good row.
    result = parse_layout(csv_text(GOOD[0], GOOD[1], row, GOOD[2]))
    assert result.rows == ()
    assert LayoutError(4, key, params) in result.errors, result.errors
    assert all(e.line == 4 for e in result.errors), result.errors
    assert key in ERROR_KEYS and set(params) == set(ERROR_KEYS[key])


def test_parse_errors_on_several_lines_all_reported_in_line_order():
    result = parse_layout(csv_text(
        GOOD[0],
        "3F-A-002,3,A,desk_hot,x,100,0,100,100,",
        "",  # blank line skipped but counted
        "3F-A-003,3,A,desk_hot,1,200,0,100,100,lamp",
    ))
    assert result.rows == ()
    assert keys(result) == [(3, "capacity_not_integer"), (5, "feature_unknown")]


def test_parse_touching_rectangles_do_not_overlap():
    result = parse_layout(csv_text(
        "3F-A-001,3,A,desk_hot,1,0,0,100,100,",
        "3F-A-002,3,A,desk_hot,1,100,0,100,100,",
        "3F-A-003,3,A,desk_hot,1,0,100,100,100,",
    ))
    assert result.ok, result.errors


def test_parse_overlap_reported_on_later_line_even_when_sorted_first():
    result = parse_layout(csv_text(
        "3F-A-001,3,A,desk_hot,1,500,0,100,100,",
        "3F-A-002,3,A,desk_hot,1,450,50,100,100,",
    ))
    assert result.errors == (LayoutError(3, "overlap", {
        "code": "3F-A-002", "other_code": "3F-A-001", "other_line": 2}),)


def test_parse_multiline_quoted_cell_keeps_physical_line_numbers():
    result = parse_layout(csv_text('3F-A-001,3,A,"desk\nhot",1,0,0,100,100,', "3F-A-002,3,A,desk_hot,x,200,0,1,1,"))
    assert keys(result) == [(2, "type_invalid"), (4, "capacity_not_integer")]


@pytest.mark.parametrize(
    "data, expected",
    [
        ("", [(1, "empty_file")]),
        ("\n\n", [(1, "empty_file")]),
        (HEADER + "\n", [(1, "no_rows")]),
        ("code,floor,zone,type\n3F-A-001,3,A,desk_hot\n", [(1, "missing_columns")]),
        (HEADER + ",colour\n", [(1, "unknown_columns")]),
        (HEADER + ",code\n", [(1, "duplicate_column")]),
        (b"code,floor\n\xff\xfe", [(2, "not_utf8")]),
    ],
)
def test_parse_file_level_problems(data, expected):
    result = parse_layout(data)
    assert result.rows == ()
    assert keys(result) == expected


def test_parse_missing_columns_lists_them():
    result = parse_layout("code,floor,zone,type,capacity,x,y\n")
    assert result.errors == (LayoutError(1, "missing_columns", {"columns": "width, height, features"}),)


def test_parse_xlsx_rows_with_numbers_and_none():
    rows = [
        list(COLUMNS) + [None, None],  # Excel often has trailing empty header cells
        ["3F-A-001", 3, "A", "desk_hot", 1, 0, 0, 120.0, 80, None],
        [None] * 10,
        ["3F-A-002", 3.0, "a", "office", 4.0, 120, 0, 240.5, 80, "power|window"],
    ]
    result = parse_layout(rows)
    assert result.ok, result.errors
    a, b = result.rows
    assert a == LayoutRow("3F-A-001", 3, "A", "desk_hot", 1, 0, 0, 120, 80, ())
    assert b == LayoutRow("3F-A-002", 3, "A", "office", 4, 120, 0, 240.5, 80, ("window", "power"))
    assert b.line == 4


def test_parse_xlsx_real_workbook_round_trip(tmp_path):
    openpyxl = pytest.importorskip("openpyxl")
    wb = openpyxl.Workbook()
    ws = wb.active
    for r in export_rows(parse_layout(csv_text(*GOOD)).rows):
        ws.append(r)
    path = tmp_path / "layout.xlsx"
    wb.save(path)
    loaded = openpyxl.load_workbook(path, read_only=True).active
    result = parse_layout(loaded.iter_rows(values_only=True))
    assert result.ok, result.errors
    assert result.rows == parse_layout(csv_text(*GOOD)).rows


# --------------------------------------------------------------------------
# Round trip (property)
# --------------------------------------------------------------------------
coord = st.one_of(st.integers(0, 5000), st.floats(0, 5000, allow_nan=False).map(lambda v: round(v, 2)))
size = st.one_of(st.integers(1, 400), st.floats(0.5, 400).map(lambda v: round(v, 2)))


@st.composite
def layouts(draw):
    """Spaces in a non-overlapping arrangement: each lives in its own 500x500 cell."""
    n = draw(st.integers(1, 25))
    rows, used = [], set()
    for i in range(n):
        floor = draw(st.integers(0, 30))
        zone = draw(st.sampled_from(["A", "B", "CD"]))
        cell = draw(st.integers(0, 99))
        if (floor, cell) in used:
            continue
        used.add((floor, cell))
        stype = draw(st.sampled_from(["desk_hot", "desk_fixed", "office"]))
        w = draw(st.one_of(st.integers(1, 400), st.floats(0.5, 400).map(lambda v: round(v, 2))))
        h = draw(st.integers(1, 400))
        x = (cell % 10) * 500 + draw(st.integers(0, 99))
        y = (cell // 10) * 500 + draw(st.floats(0, 99).map(lambda v: round(v, 1)))
        y = int(y) if float(y).is_integer() else y
        w = int(w) if float(w).is_integer() else w
        feats = tuple(f for f in ("window", "power", "monitor") if draw(st.booleans()))
        rows.append(LayoutRow(f"{floor}F-{zone}-{i:03d}", floor, zone, stype,
                              1 if stype != "office" else draw(st.integers(1, 20)),
                              x, y, w, h, feats))
    return rows


@settings(max_examples=60, deadline=None)
@given(layouts())
def test_export_then_parse_round_trips(rows):
    exported = export_rows(rows)
    assert exported[0] == list(COLUMNS)
    # As XLSX-like rows ...
    result = parse_layout(exported)
    assert result.ok, result.errors
    assert sorted(result.rows, key=lambda r: r.code) == sorted(rows, key=lambda r: r.code)
    # ... and through CSV text with a BOM, as a spreadsheet program would save it.
    buf = io.StringIO()
    csv.writer(buf).writerows(exported)
    result = parse_layout(("\ufeff" + buf.getvalue()).encode("utf-8"))
    assert result.ok, result.errors
    assert sorted(result.rows, key=lambda r: r.code) == sorted(rows, key=lambda r: r.code)


def test_parse_bounds_coordinates_and_keeps_the_rows_valid_on_their_own():
    result = parse_layout(csv_text(
        "3F-A-001,3,A,desk_hot,1,1e308,0,100,100,",        # line 2: x too large
        "3F-A-002,3,A,desk_hot,1,0,0,100,100000.5,",       # line 3: height too large
        "3F-A-003,3,A,desk_hot,1,99900,99900,100,100,",    # line 4: at the limit, fine
        "3F-A-004,3,A,sofa,1,500,500,100,100,"))           # line 5: bad type
    assert keys(result) == [(2, "number_too_large"), (3, "number_too_large"), (5, "type_invalid")]
    assert result.errors[0].params == {"column": "x", "value": "1e308", "max": 100000}
    assert result.rows == () and [r.code for r in result.checked_rows] == ["3F-A-003"]
    assert result.codes == {"3F-A-001", "3F-A-002", "3F-A-003", "3F-A-004"}
    good = parse_layout(csv_text(*GOOD))
    assert good.checked_rows == good.rows and len(good.rows) == 4
