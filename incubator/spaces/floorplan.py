"""Server-drawn SVG floor plan and the state of a space on a date.

Pure module: plain data in, a string out.  No Flask, no database.

The SVG works under a strict CSP: no script, no ``style`` attribute, no
``<style>`` element.  Colours are ``fill``/``stroke`` presentation attributes
(allowed by CSP, overridable from static CSS through the ``fp-*`` classes).
Each space is an ``<a>`` (link to its history page) holding a ``<title>``
(the browser's hover/long-press tooltip), a ``<rect>`` and its code as text.
The ``viewBox`` is computed from the spaces, and with a background image from
the plan's own frame: the image is drawn at ``(0, 0)`` with the floor's plan
width and height, the spaces over it in the same plan coordinates, so a plan
whose spaces stop short of the image's edges still lines up with it.
``width="100%"`` with no fixed height lets the plan scale to a phone screen.
Every piece of text and every attribute value is XML-escaped (team names may
contain ``<&"'``), and every number is written from ``float()`` so nothing
else can reach the markup.

States (``STATES``): ``free``, ``leased``, ``reserved``, ``ending_soon``,
``out_of_service``.  :func:`state_for` decides them, see its docstring.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Callable, Hashable, Iterable, Mapping
from dataclasses import dataclass
from typing import NamedTuple
from urllib.parse import quote

__all__ = [
    "STATES",
    "STATE_FILLS",
    "DEFAULT_LABELS",
    "PlanFloor",
    "PlanSpace",
    "SpaceState",
    "LeaseRow",
    "OutOfServiceRow",
    "state_for",
    "render_floor_svg",
]

STATES = ("free", "leased", "reserved", "ending_soon", "out_of_service")

#: Presentation-attribute colours (colour-blind-friendly Okabe-Ito based).
STATE_FILLS = {
    "free": "#9fd8a4",
    "leased": "#8fb8de",
    "reserved": "#f3d27a",
    "ending_soon": "#e69f5c",
    "out_of_service": "#b8b8b8",
}
HIGHLIGHT_STROKE = "#c2185b"

#: Default labels (Chinese).  Pass ``labels`` to override any of them, e.g.
#: with ``{k: str(_(...)) for ...}`` from the Flask layer for English.
DEFAULT_LABELS = {
    "free": "空闲",
    "leased": "已租用",
    "reserved": "已预订",
    "ending_soon": "30天内到期",
    "out_of_service": "暂停使用",
    "mine": "我的工位",
    "legend": "图例",
    "desk_hot": "流动工位",
    "desk_fixed": "固定工位",
    "office": "独立办公室",
    "seats": "座位",
    "holder": "租用团队",
    "period": "租期",
    "until": "至",
    "floor_plan": "平面图",
}

SOON_DAYS = 30


class LeaseRow(NamedTuple):
    """A lease as plain data; ``end`` is exclusive (half-open [start, end)).

    ``status``: ``active``, ``ended`` or ``cancelled``.  ``end=None`` means
    open-ended.  ``space_id=None`` means "the space being asked about", so a
    plain 4-tuple ``(start, end, status, team_name)`` works.
    """

    start: dt.date
    end: dt.date | None
    status: str
    team_name: str
    space_id: Hashable | None = None


class OutOfServiceRow(NamedTuple):
    """Out-of-service period [start, end); ``end=None`` means until further notice."""

    start: dt.date
    end: dt.date | None
    space_id: Hashable | None = None


@dataclass(frozen=True)
class SpaceState:
    state: str  # one of STATES
    holder: str | None = None  # team name of the lease that decided the state
    start: dt.date | None = None
    end: dt.date | None = None  # exclusive


@dataclass(frozen=True)
class PlanFloor:
    id: Hashable
    name: str
    #: The plan's size in plan units (the floor's plan_width/plan_height): the background image
    #: covers exactly [0, width] × [0, height], the frame the spaces' coordinates are given in.
    width: float | None = None
    height: float | None = None


@dataclass(frozen=True)
class PlanSpace:
    id: Hashable
    code: str
    type: str  # desk_hot | desk_fixed | office
    capacity: int
    x: float
    y: float
    w: float
    h: float


def _covers(start, end, day) -> bool:
    return start <= day and (end is None or day < end)


def state_for(
    space_id: Hashable,
    on_date: dt.date,
    leases: Iterable[tuple],
    out_of_service_periods: Iterable[tuple] = (),
    today: dt.date | None = None,
    *,
    soon_days: int = SOON_DAYS,
    upcoming: bool = False,
) -> SpaceState:
    """State of one space on ``on_date``.

    Rules, first match wins:

    1. ``out_of_service`` if an out-of-service period covers the date.
    2. Only ``active`` leases count (``ended`` and ``cancelled`` are ignored).
       If one covers the date (``start <= on_date < end``):

       * ``reserved`` if it starts after ``today`` (booked, team not moved in
         yet; ``today`` defaults to ``on_date``, so a plan drawn for a future
         date shows the leases that will have started by then as leased);
       * ``ending_soon`` if it ends within ``soon_days`` of the date
         (``end - on_date <= 30 days``; the end is exclusive);
       * ``leased`` otherwise.
    3. With ``upcoming=True``: ``reserved`` if an ``active`` lease starts
       after the date (the earliest one; the space is booked ahead).
    4. ``free``.

    With back-to-back leases [a, b) and [b, c), the date ``b`` belongs to the
    second one only.  Rows whose ``space_id`` is set and differs from
    ``space_id`` are ignored, so the caller may pass all leases of a floor.
    """
    today = on_date if today is None else today
    for row in out_of_service_periods:
        row = OutOfServiceRow(*row)
        if row.space_id is not None and row.space_id != space_id:
            continue
        if _covers(row.start, row.end, on_date):
            return SpaceState("out_of_service", None, row.start, row.end)
    covering, later = [], []
    for row in leases:
        row = LeaseRow(*row)
        if row.space_id is not None and row.space_id != space_id:
            continue
        if row.status != "active":
            continue
        if _covers(row.start, row.end, on_date):
            covering.append(row)
        elif row.start > on_date:
            later.append(row)
    if not covering:
        if upcoming and later:
            nxt = min(later, key=lambda r: (r.start, r.team_name))
            return SpaceState("reserved", nxt.team_name, nxt.start, nxt.end)
        return SpaceState("free")
    # Overlapping active leases are excluded by the database; be deterministic anyway.
    lease = min(covering, key=lambda r: (r.start, r.team_name))
    if lease.start > today:
        state = "reserved"
    elif lease.end is not None and (lease.end - on_date).days <= soon_days:
        state = "ending_soon"
    else:
        state = "leased"
    return SpaceState(state, lease.team_name, lease.start, lease.end)


# ----------------------------------------------------------------------------
# SVG
# ----------------------------------------------------------------------------
_XML_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def _esc(text) -> str:
    """Escape for text and attribute values alike.

    Characters XML 1.0 cannot carry at all (control characters, lone
    surrogates) become U+FFFD; tab/CR/LF become character references so they
    survive attribute-value normalisation and CRLF folding unchanged.
    """
    text = _XML_ILLEGAL.sub("\ufffd", str(text))
    return (text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
            .replace('"', "&quot;").replace("'", "&#39;")
            .replace("\t", "&#9;").replace("\n", "&#10;").replace("\r", "&#13;"))


def _num(value) -> str:
    v = float(value)
    if v != v or v in (float("inf"), float("-inf")):
        raise ValueError("coordinates must be finite numbers")
    r = round(v, 3)
    return str(int(r)) if r == int(r) else repr(r)


def _plan_size(floor: PlanFloor) -> tuple[float | None, float | None]:
    """The floor's plan width and height when both are given and positive, else (None, None)."""
    if floor.width is None or floor.height is None:
        return None, None
    width, height = float(floor.width), float(floor.height)
    if not (math.isfinite(width) and math.isfinite(height)) or width <= 0 or height <= 0:
        return None, None
    return width, height


def _href_for(href, space: PlanSpace) -> str:
    if callable(href):
        return str(href(space))
    return str(href).format(id=quote(str(space.id), safe=""), code=quote(space.code, safe=""))


def _title_text(space: PlanSpace, st: SpaceState, labels: Mapping[str, str]) -> str:
    parts = [space.code, labels.get(space.type, space.type)]
    if space.type == "office":
        parts.append(f"{space.capacity} {labels['seats']}")
    parts.append(labels.get(st.state, st.state))
    if st.holder:
        parts.append(f"{labels['holder']}: {st.holder}")
    if st.start is not None:
        if st.end is not None:
            last = st.end - dt.timedelta(days=1)  # shown inclusive: people read "至" as inclusive
            parts.append(f"{labels['period']}: {st.start.isoformat()} {labels['until']} {last.isoformat()}")
        else:
            parts.append(f"{labels['period']}: {st.start.isoformat()} {labels['until']} …")
    return " · ".join(parts)


def render_floor_svg(
    floor: PlanFloor,
    spaces: Iterable[PlanSpace],
    states: Mapping[Hashable, SpaceState],
    highlight_ids: Iterable[Hashable] = (),
    labels: Mapping[str, str] | None = None,
    background_href: str | None = None,
    *,
    href: str | Callable[[PlanSpace], str] = "#space-{code}",
) -> str:
    """The floor plan as an SVG string (embed it inline in the page).

    ``states``: ``space id -> SpaceState`` (missing means free).
    ``highlight_ids``: spaces drawn with a highlight ring (e.g. the founder's).
    ``labels``: translated labels, merged over :data:`DEFAULT_LABELS`.
    ``background_href``: optional image URL drawn under the spaces at the
    floor's plan size (``floor.width`` × ``floor.height`` from the origin, the
    frame the spaces' coordinates are in); the view then shows the whole plan.
    Without a plan size it falls back to the spaces' bounding box.
    ``href``: link to a space's history page -- a callable ``space -> url`` or
    a format string with ``{id}`` and ``{code}`` (URL-quoted).
    """
    lab = dict(DEFAULT_LABELS)
    if labels:
        lab.update({k: str(v) for k, v in labels.items()})
    spaces = sorted(spaces, key=lambda s: (s.code, repr(s.id)))
    highlight = set(highlight_ids)

    if spaces:
        x0 = min(float(s.x) for s in spaces)
        y0 = min(float(s.y) for s in spaces)
        x1 = max(float(s.x) + float(s.w) for s in spaces)
        y1 = max(float(s.y) + float(s.h) for s in spaces)
    else:
        x0, y0, x1, y1 = 0.0, 0.0, 1000.0, 600.0
    image = None  # (x, y, width, height) of the background, in plan coordinates
    if background_href:
        plan_w, plan_h = _plan_size(floor)
        if plan_w is not None:
            # The image is the plan: it spans the floor's plan size from the origin, and the view
            # shows all of it (and any space drawn beyond it, which the services do not allow).
            image = (0.0, 0.0, plan_w, plan_h)
            if spaces:
                x0, y0, x1, y1 = min(x0, 0.0), min(y0, 0.0), max(x1, plan_w), max(y1, plan_h)
            else:
                x0, y0, x1, y1 = 0.0, 0.0, plan_w, plan_h
    pw, ph = max(x1 - x0, 1.0), max(y1 - y0, 1.0)
    if background_href and image is None:
        image = (x0, y0, pw, ph)
    margin = max(pw, ph) * 0.02
    font = max(pw, ph) / 45  # ~9 px for a 2 000-unit floor on a 390 px phone
    ring = max(font / 4, 0.5)

    # Legend: one row of swatches under the plan (wraps into rows of 3).
    legend_items = [(s, lab[s], STATE_FILLS[s]) for s in STATES]
    legend_items.append(("mine", lab["mine"], None))
    per_row = 3
    col_w = pw / per_row
    row_h = font * 1.8
    legend_top = y1 + margin + font * 0.5
    legend_rows = (len(legend_items) + per_row - 1) // per_row
    vb_x, vb_y = x0 - margin, y0 - margin
    vb_w = pw + 2 * margin
    vb_h = (legend_top + font * 1.5 + legend_rows * row_h + margin) - vb_y

    out: list[str] = []
    w = out.append
    title_id = f"fp-title-{_esc(floor.id)}"
    w(f'<svg xmlns="http://www.w3.org/2000/svg" class="floorplan" width="100%" '
      f'viewBox="{_num(vb_x)} {_num(vb_y)} {_num(vb_w)} {_num(vb_h)}" '
      f'preserveAspectRatio="xMidYMin meet" role="img" aria-labelledby="{title_id}" '
      f'font-family="sans-serif">')
    w(f'<title id="{title_id}">{_esc(floor.name)} · {_esc(lab["floor_plan"])}</title>')
    if image is not None:
        ix, iy, iw, ih = image
        w(f'<image class="fp-background" href="{_esc(background_href)}" x="{_num(ix)}" y="{_num(iy)}" '
          f'width="{_num(iw)}" height="{_num(ih)}" preserveAspectRatio="none"/>')
    # Per-space markup is most of the page (thousands of spaces): everything the spaces share is
    # said once on the group and inherited (SVG presentation attributes inherit); each space keeps
    # only its link, tooltip, state classes, geometry, fill and code. The stroke stays on the rect
    # (on the group it would also outline the codes' text).
    sizes = [min(font, float(s.h) * 0.4, float(s.w) / max(len(s.code), 1) * 1.6) for s in spaces]
    common = _num(max(set(sizes), key=sizes.count)) if sizes else _num(font)
    w(f'<g class="fp-spaces" stroke-width="{_num(ring / 3)}" fill="#222" font-size="{common}" '
      f'text-anchor="middle" dominant-baseline="central">')
    for s, size in zip(spaces, sizes):
        st = states.get(s.id) or SpaceState("free")
        state = st.state if st.state in STATE_FILLS else "free"
        mine = s.id in highlight
        x, y, sw_, sh_ = float(s.x), float(s.y), float(s.w), float(s.h)
        w(f'<a class="fp-space fp-{state}{" fp-mine" if mine else ""}" href="{_esc(_href_for(href, s))}" '
          f'data-space-id="{_esc(s.id)}"><title>{_esc(_title_text(s, st, lab))}</title>'
          f'<rect class="fp-rect fp-{state}" x="{_num(x)}" y="{_num(y)}" width="{_num(sw_)}" height="{_num(sh_)}" '
          f'fill="{STATE_FILLS[state]}" stroke="#555"/>')
        if mine:
            inset = ring / 2
            w(f'<rect class="fp-highlight" x="{_num(x + inset)}" y="{_num(y + inset)}" '
              f'width="{_num(max(sw_ - 2 * inset, 0.01))}" height="{_num(max(sh_ - 2 * inset, 0.01))}" '
              f'fill="none" stroke="{HIGHLIGHT_STROKE}" stroke-width="{_num(ring)}"/>')
        size = _num(size)
        own_size = "" if size == common else f' font-size="{size}"'
        w(f'<text x="{_num(x + sw_ / 2)}" y="{_num(y + sh_ / 2)}"{own_size}>{_esc(s.code)}</text></a>')
    w("</g>")

    w(f'<g class="fp-legend" font-size="{_num(font)}">')
    w(f'<text class="fp-legend-title" x="{_num(x0)}" y="{_num(legend_top + font)}" '
      f'font-weight="bold" fill="#222222">{_esc(lab["legend"])}</text>')
    sw = font
    for n, (key, text, fill) in enumerate(legend_items):
        lx = x0 + (n % per_row) * col_w
        ly = legend_top + font * 1.5 + (n // per_row) * row_h
        if fill is None:
            w(f'<rect class="fp-legend-swatch fp-legend-mine" x="{_num(lx + ring / 2)}" '
              f'y="{_num(ly + ring / 2)}" width="{_num(sw - ring)}" height="{_num(sw - ring)}" '
              f'fill="none" stroke="{HIGHLIGHT_STROKE}" stroke-width="{_num(ring)}"/>')
        else:
            w(f'<rect class="fp-legend-swatch fp-{key}" x="{_num(lx)}" y="{_num(ly)}" '
              f'width="{_num(sw)}" height="{_num(sw)}" fill="{fill}" stroke="#555555" '
              f'stroke-width="{_num(ring / 3)}"/>')
        w(f'<text class="fp-legend-label" x="{_num(lx + sw * 1.4)}" y="{_num(ly + sw / 2)}" '
          f'dominant-baseline="central" fill="#222222">{_esc(text)}</text>')
    w("</g>")
    w("</svg>")
    return "".join(out)
