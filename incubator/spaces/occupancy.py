"""Occupancy figures: seats leased on a day over seats that exist, per building, floor and zone.
A few grouped queries whatever the size of the building."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from ..extensions import db
from .models import Building, Floor, Lease, Space, Zone
from .services import add_months


@dataclass
class Rate:
    key: tuple
    label: str
    seats: int
    leased: int

    @property
    def percent(self) -> float:
        return round(100.0 * self.leased / self.seats, 1) if self.seats else 0.0


def _seat_expr():
    return db.case((Space.type == "office", Space.capacity), else_=1)


def rates_on(day: date) -> dict[str, list[Rate]]:
    """{'building': [...], 'floor': [...], 'zone': [...]} for `day` (2 queries)."""
    seats = _seat_expr()
    rows = db.session.execute(
        db.select(Building.id, Building.name, Floor.id, Floor.number, Floor.name, Zone.id, Zone.code,
                  db.func.sum(seats)).select_from(Space)
        .join(Zone, Space.zone_id == Zone.id).join(Floor, Space.floor_id == Floor.id)
        .join(Building, Floor.building_id == Building.id)
        .group_by(Building.id, Building.name, Floor.id, Floor.number, Floor.name, Zone.id, Zone.code)
        .order_by(Building.name, Floor.number, Zone.code)).all()
    leased = dict(db.session.execute(
        db.select(Space.zone_id, db.func.sum(seats)).select_from(Lease).join(Space, Lease.space_id == Space.id)
        .where(Lease.status.in_(("active", "ended")), Lease.start_date <= day, Lease.end_date > day)
        .group_by(Space.zone_id)).all())
    out: dict[str, dict] = {"building": {}, "floor": {}, "zone": {}}
    for b_id, b_name, f_id, f_num, f_name, z_id, z_code, total in rows:
        used = int(leased.get(z_id, 0) or 0)
        for level, key, label in (("building", (b_id,), b_name), ("floor", (b_id, f_id), f"{b_name} {f_name or f'{f_num}F'}"),
                                  ("zone", (b_id, f_id, z_id), f"{b_name} {f_name or f'{f_num}F'} {z_code}")):
            rate = out[level].setdefault(key, Rate(key, label, 0, 0))
            rate.seats += int(total or 0)
            rate.leased += used
    return {level: list(values.values()) for level, values in out.items()}


def _scope(query, scope: tuple[str, int] | None):
    if scope is None:
        return query
    level, ident = scope
    if level == "zone":
        return query.where(Space.zone_id == ident)
    if level == "floor":
        return query.where(Space.floor_id == ident)
    return query.where(Space.floor_id.in_(db.select(Floor.id).where(Floor.building_id == ident)))


def monthly_rates(today: date, months: int = 12, scope: tuple[str, int] | None = None) -> list[tuple[date, float]]:
    """Occupancy on the first day of each of the last `months` months and today, for the whole
    park or one ('building'|'floor'|'zone', id) scope (2 queries)."""
    first = date(today.year, today.month, 1)
    days = [add_months(first, -n) for n in range(months - 1, -1, -1)]
    if days[-1] != today:
        days.append(today)
    seats = _seat_expr()
    total = db.session.scalar(_scope(db.select(db.func.sum(seats)).select_from(Space), scope)) or 0
    rows = db.session.execute(_scope(
        db.select(Lease.start_date, Lease.end_date, seats).join(Space, Lease.space_id == Space.id)
        .where(Lease.status.in_(("active", "ended")), Lease.start_date <= days[-1], Lease.end_date > days[0]),
        scope)).all()
    out = []
    for day in days:
        used = sum(s for start, end, s in rows if start <= day < end)
        out.append((day, round(100.0 * used / total, 1) if total else 0.0))
    return out


def bar_chart_svg(points: list[tuple[str, float]], *, title: str) -> str:
    """A small SVG bar chart (0–100 %): attributes only, no style or script, so CSP allows it."""
    from markupsafe import escape

    width, height, pad = 24 * max(len(points), 1) + 40, 160, 20
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" class="occupancy-chart" width="100%" viewBox="0 0 {width} {height + 40}" '
           f'role="img" aria-label="{escape(title)}" font-family="sans-serif" font-size="9">',
           f'<line x1="30" y1="{pad}" x2="30" y2="{height}" stroke="#888888"/>',
           f'<line x1="30" y1="{height}" x2="{width}" y2="{height}" stroke="#888888"/>']
    for pct in (0, 50, 100):
        y = height - (height - pad) * pct / 100
        out.append(f'<text x="26" y="{y:.1f}" text-anchor="end" dominant-baseline="central" fill="#444444">{pct}%</text>')
    for i, (label, pct) in enumerate(points):
        bar_h = (height - pad) * max(min(pct, 100), 0) / 100
        x = 36 + i * 24
        out.append(f'<rect class="bar" x="{x}" y="{height - bar_h:.1f}" width="18" height="{bar_h:.1f}" fill="#2f6f9f">'
                   f'<title>{escape(label)}: {pct}%</title></rect>')
        out.append(f'<text x="{x + 9}" y="{height + 12}" text-anchor="end" transform="rotate(-45 {x + 9} {height + 12})" '
                   f'fill="#444444">{escape(label)}</text>')
    out.append("</svg>")
    return "".join(out)
