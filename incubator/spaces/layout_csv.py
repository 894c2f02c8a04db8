"""Parse and validate a floor-layout import (CSV text or XLSX rows); export it back.

Pure module: plain data in, plain data out.  No Flask, no database.

Format
------
Header (line 1): ``code,floor,zone,type,capacity,x,y,width,height,features``.
Column names are matched case-insensitively after trimming, in any order;
trailing empty header cells (Excel) are ignored.  Blank rows are skipped.

* ``code`` -- ``<floor>F-<zone>-<nnn>``, e.g. ``3F-A-012``: regular
  expression :data:`CODE_RE` (``^\\d{1,3}F-[A-Z]{1,3}-\\d{3}$``) after
  trimming and upper-casing, and it must agree with the ``floor`` and ``zone``
  columns (``3F-A-...`` on floor 3, zone A), so a typo cannot put a desk on
  the wrong floor.  Unique in the file.
* ``floor`` -- integer 0..999; ``3`` and ``3F`` are both accepted.
* ``zone`` -- 1 to 3 letters A-Z (upper-cased).
* ``type`` -- ``desk_hot``, ``desk_fixed`` or ``office``.
* ``capacity`` -- integer; desks must be 1 (empty means 1 for a desk),
  offices >= 1 (required).
* ``x``, ``y`` -- numbers >= 0; ``width``, ``height`` -- numbers > 0 (plan
  units, e.g. cm); each at most :data:`MAX_COORDINATE`, so a typo such as
  ``1e308`` cannot reach the plan's arithmetic.  Integral values are kept as
  ``int``.
* ``features`` -- ``window``, ``power``, ``monitor`` separated by ``;`` or
  ``|``; may be empty; stored in that canonical order without duplicates.
* No two spaces on the same floor may overlap (a positive-area
  intersection; sharing an edge is fine).

Errors
------
Every problem found is reported as :class:`LayoutError` ``(line, key,
params)``; ``line`` is the 1-based physical line of the file where the row
starts (header = 1; for XLSX the sheet row).  ``key`` is a message key for
the Flask layer to translate (:data:`ERROR_KEYS` lists them all with their
params).  All or nothing: any error -> ``rows == ()``; the rows that passed
their own checks are still given in ``checked_rows`` (and every code of the
file in ``codes``), so a caller can check them against the database in the
same round and report every problem at once.
"""

from __future__ import annotations

import csv
import io
import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple

__all__ = [
    "COLUMNS",
    "CODE_RE",
    "FEATURES",
    "SPACE_TYPES",
    "ERROR_KEYS",
    "LayoutRow",
    "LayoutError",
    "LayoutResult",
    "parse_layout",
    "export_rows",
]

COLUMNS = ("code", "floor", "zone", "type", "capacity", "x", "y", "width", "height", "features")
CODE_RE = re.compile(r"^(\d{1,3})F-([A-Z]{1,3})-(\d{3})$")
ZONE_RE = re.compile(r"^[A-Z]{1,3}$")
FLOOR_RE = re.compile(r"^(\d{1,3})F?$")
FEATURES = ("window", "power", "monitor")
SPACE_TYPES = ("desk_hot", "desk_fixed", "office")
DESK_TYPES = ("desk_hot", "desk_fixed")
#: The largest x, y, width or height (plan units: 100 000 cm is a kilometre).
MAX_COORDINATE = 100_000

#: key -> params it carries (for writing the translations).
ERROR_KEYS = {
    "not_utf8": (),
    "empty_file": (),
    "no_rows": (),
    "missing_columns": ("columns",),
    "unknown_columns": ("columns",),
    "duplicate_column": ("column",),
    "too_many_cells": ("expected", "found"),
    "required": ("column",),
    "code_invalid": ("value",),
    "code_mismatch": ("code", "expected_prefix"),
    "code_duplicate": ("code", "first_line"),
    "floor_invalid": ("value",),
    "zone_invalid": ("value",),
    "type_invalid": ("value",),
    "capacity_not_integer": ("value",),
    "desk_capacity_not_one": ("value",),
    "capacity_too_small": ("value",),
    "number_invalid": ("column", "value"),
    "number_negative": ("column", "value"),
    "size_not_positive": ("column", "value"),
    "number_too_large": ("column", "value", "max"),
    "feature_unknown": ("value",),
    "overlap": ("code", "other_code", "other_line"),
}


@dataclass(frozen=True)
class LayoutRow:
    code: str
    floor: int
    zone: str
    type: str
    capacity: int
    x: int | float
    y: int | float
    width: int | float
    height: int | float
    features: tuple[str, ...] = ()
    line: int = field(default=0, compare=False)


class LayoutError(NamedTuple):
    line: int
    key: str
    params: dict


@dataclass(frozen=True)
class LayoutResult:
    rows: tuple[LayoutRow, ...]
    errors: tuple[LayoutError, ...]
    #: Rows valid on their own (all of them when ``ok``), and every code the file names.
    checked_rows: tuple[LayoutRow, ...] = ()
    codes: frozenset[str] = frozenset()

    @property
    def ok(self) -> bool:
        return not self.errors


# ----------------------------------------------------------------------------
# Reading
# ----------------------------------------------------------------------------
def _cell(value: Any) -> str:
    """XLSX cell values -> text as a person would have typed it in CSV."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _records(data) -> tuple[list[tuple[int, list[str]]], list[LayoutError]]:
    """(line number, cells) for every physical record, header included."""
    if isinstance(data, (bytes, bytearray)):
        try:
            data = bytes(data).decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            line = bytes(data)[: exc.start].count(b"\n") + 1
            return [], [LayoutError(line, "not_utf8", {})]
    if isinstance(data, str):
        text = data[1:] if data.startswith("\ufeff") else data
        reader = csv.reader(io.StringIO(text, newline=""))
        out = []
        start = 1
        for cells in reader:
            out.append((start, [c.strip() for c in cells]))
            start = reader.line_num + 1
        return out, []
    out = []
    for n, cells in enumerate(data, start=1):
        out.append((n, [_cell(c).strip() for c in (cells or ())]))
    if out and out[0][1] and out[0][1][0].startswith("\ufeff"):
        out[0][1][0] = out[0][1][0][1:]
    return out, []


def _number(raw: str) -> int | float | None:
    try:
        v = float(raw)
    except ValueError:
        return None
    if not math.isfinite(v):
        return None
    return int(v) if v.is_integer() else v


def _integer(raw: str) -> int | None:
    v = _number(raw)
    if v is None or not isinstance(v, int) or not re.fullmatch(r"[+-]?\d+(\.0*)?", raw):
        return None
    return v


def parse_layout(data: str | bytes | Iterable[Sequence[Any]]) -> LayoutResult:
    """Parse CSV text/bytes or XLSX rows (lists of cell values, header first)."""
    records, errors = _records(data)
    if errors:
        return LayoutResult((), tuple(errors))
    records = [(n, cells) for n, cells in records if any(cells)]
    if not records:
        return LayoutResult((), (LayoutError(1, "empty_file", {}),))
    header_line, header = records[0]
    while header and header[-1] == "":
        header.pop()
    names = [h.lower() for h in header]
    errs: list[LayoutError] = []
    seen = set()
    for name in names:
        if name in seen:
            errs.append(LayoutError(header_line, "duplicate_column", {"column": name}))
        seen.add(name)
    missing = [c for c in COLUMNS if c not in seen]
    unknown = [c for c in names if c not in COLUMNS]
    if missing:
        errs.append(LayoutError(header_line, "missing_columns", {"columns": ", ".join(missing)}))
    if unknown:
        errs.append(LayoutError(header_line, "unknown_columns", {"columns": ", ".join(unknown)}))
    if errs:
        return LayoutResult((), tuple(errs))
    index = {name: i for i, name in enumerate(names)}
    body = records[1:]
    if not body:
        return LayoutResult((), (LayoutError(header_line, "no_rows", {}),))

    rows: list[LayoutRow] = []
    checked: list[LayoutRow] = []
    first_line_of_code: dict[str, int] = {}
    for line, cells in body:
        row_errs: list[LayoutError] = []

        def err(key, **params):
            row_errs.append(LayoutError(line, key, params))

        extra = [c for c in cells[len(names):] if c != ""]
        if extra:
            err("too_many_cells", expected=len(names), found=len(names) + len(extra))
        get = {c: (cells[index[c]] if index[c] < len(cells) else "") for c in COLUMNS}

        for c in ("code", "floor", "zone", "type", "x", "y", "width", "height"):
            if get[c] == "":
                err("required", column=c)

        floor = None
        if get["floor"]:
            m = FLOOR_RE.fullmatch(get["floor"].upper())
            if m:
                floor = int(m.group(1))
            else:
                err("floor_invalid", value=get["floor"])
        zone = get["zone"].upper()
        if get["zone"] and not ZONE_RE.fullmatch(zone):
            err("zone_invalid", value=get["zone"])
            zone = None
        code = get["code"].upper()
        if get["code"]:
            m = CODE_RE.fullmatch(code)
            if not m:
                err("code_invalid", value=get["code"])
            elif floor is not None and zone:
                prefix = f"{floor}F-{zone}-"
                if int(m.group(1)) != floor or m.group(2) != zone:
                    err("code_mismatch", code=code, expected_prefix=prefix)
            if code in first_line_of_code:
                err("code_duplicate", code=code, first_line=first_line_of_code[code])
            else:
                first_line_of_code[code] = line

        stype = get["type"].lower()
        if get["type"] and stype not in SPACE_TYPES:
            err("type_invalid", value=get["type"])

        capacity = None
        raw_cap = get["capacity"]
        if raw_cap == "":
            if stype in DESK_TYPES:
                capacity = 1
            elif stype == "office":
                err("required", column="capacity")
        else:
            capacity = _integer(raw_cap)
            if capacity is None:
                err("capacity_not_integer", value=raw_cap)
            elif stype in DESK_TYPES and capacity != 1:
                err("desk_capacity_not_one", value=raw_cap)
            elif capacity < 1:
                err("capacity_too_small", value=raw_cap)

        nums: dict[str, int | float] = {}
        for c in ("x", "y", "width", "height"):
            raw = get[c]
            if raw == "":
                continue
            v = _number(raw)
            if v is None:
                err("number_invalid", column=c, value=raw)
            elif c in ("x", "y") and v < 0:
                err("number_negative", column=c, value=raw)
            elif c in ("width", "height") and v <= 0:
                err("size_not_positive", column=c, value=raw)
            elif v > MAX_COORDINATE:
                err("number_too_large", column=c, value=raw, max=MAX_COORDINATE)
            else:
                nums[c] = v

        feats = set()
        for part in re.split(r"[;|]", get["features"]):
            part = part.strip().lower()
            if not part:
                continue
            if part not in FEATURES:
                err("feature_unknown", value=part)
            feats.add(part)

        if row_errs:
            errors.extend(row_errs)
            # Keep geometry for the overlap check when it is valid on its own.
            if floor is not None and len(nums) == 4:
                rows.append(LayoutRow(code, floor, zone or "", stype, 0, nums["x"], nums["y"],
                                      nums["width"], nums["height"], (), line))
            continue
        row = LayoutRow(code, floor, zone, stype, capacity, nums["x"], nums["y"],
                        nums["width"], nums["height"],
                        tuple(f for f in FEATURES if f in feats), line)
        rows.append(row)
        checked.append(row)

    overlaps = _overlaps(rows)
    errors.extend(overlaps)
    codes = frozenset(first_line_of_code)
    if errors:
        overlapping = {e.line for e in overlaps}
        return LayoutResult((), tuple(sorted(errors, key=lambda e: e.line)),
                            tuple(r for r in checked if r.line not in overlapping), codes)
    return LayoutResult(tuple(rows), (), tuple(rows), codes)


def _overlaps(rows: list[LayoutRow]) -> list[LayoutError]:
    """Sweep along x per floor; report the first overlap of each row on its later line."""
    out: list[LayoutError] = []
    by_floor: dict[int, list[LayoutRow]] = {}
    for r in rows:
        by_floor.setdefault(r.floor, []).append(r)
    reported: set[int] = set()
    for floor_rows in by_floor.values():
        floor_rows.sort(key=lambda r: (r.x, r.line))
        active: list[LayoutRow] = []
        for r in floor_rows:
            active = [a for a in active if a.x + a.width > r.x]
            for a in active:
                if a.y < r.y + r.height and r.y < a.y + a.height:
                    first, later = (a, r) if a.line < r.line else (r, a)
                    if later.line not in reported:
                        reported.add(later.line)
                        out.append(LayoutError(later.line, "overlap", {
                            "code": later.code, "other_code": first.code,
                            "other_line": first.line}))
            active.append(r)
    return out


# ----------------------------------------------------------------------------
# Export
# ----------------------------------------------------------------------------
def export_rows(spaces: Iterable[Any]) -> list[list]:
    """Header + one row per space, the import format (``parse_layout`` reads it back).

    ``spaces``: objects with the attributes of :class:`LayoutRow` (``features``
    any iterable of names).  Rows are sorted by code's floor, zone, number.
    """
    def key(s):
        return (int(s.floor), str(s.zone), str(s.code))

    out: list[list] = [list(COLUMNS)]
    for s in sorted(spaces, key=key):
        feats = set(s.features or ())
        out.append([
            s.code, int(s.floor), s.zone, s.type, int(s.capacity),
            s.x, s.y, s.width, s.height,
            ";".join(f for f in FEATURES if f in feats),
        ])
    return out
