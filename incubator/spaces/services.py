"""Every change to spaces, requests and leases. Services check, write, audit, notify; they flush,
the request (or the job runner) commits.

Overlap guarantee: every service that creates or extends an ACTIVE lease first looks for a
clashing lease (for a clear message) and then writes inside a SAVEPOINT. On PostgreSQL the
exclusion constraint `leases_no_overlap` rejects a concurrent clash the check could not see;
the IntegrityError is turned into LeaseConflict naming the clashing lease. On SQLite every
transaction of the app is BEGIN IMMEDIATE (incubator/__init__.py), so check-then-insert runs
with the write lock held and cannot race.

Admission: `admit_team(manager, team, note)` is THE function that admits a team to the incubator;
judging calls it too (with source="judging" and award_level_rank).
"""
from __future__ import annotations

import calendar
import logging
import uuid
from collections.abc import Iterable, Mapping, Sequence
from datetime import date, timedelta

from flask import url_for
from flask_babel import lazy_gettext as _l
from sqlalchemy.exc import IntegrityError

from ..accounts.models import User, UserRole
from ..applications.models import Team
from ..audit.services import record
from ..enums import Role
from ..errors import Conflict, DomainError
from ..extensions import db
from ..notifications.services import both_languages, notify, queue_mail
from ..timeutils import local_today, utcnow
from . import suggest as suggest_mod
from .models import (CANCEL_CODE_LABELS, CANCEL_CODES, REMINDER_DAYS, SPACE_TYPES, Admission, Building, Floor,
                     Lease, LeaseReminder, Space, SpaceOutage, SpaceRequest, Zone)

log = logging.getLogger(__name__)


# --- errors that can be raised outside a request (jobs, tests, CLI) ---------------------------

class SpacesError(DomainError):
    """DomainError whose lazy message is rendered only when shown (no request needed to raise it)."""

    def __init__(self, message, *, field: str | None = None):
        Exception.__init__(self, "spaces domain error")
        self.message = message
        self.field = field


class LeaseConflict(SpacesError, Conflict):
    status_code = 409

    def __init__(self, clash: Lease | None, message=None):
        if message is None:
            if clash is not None:
                message = _l("Space %(code)s is already leased to %(team)s from %(start)s to %(end)s (lease #%(id)s).",
                             code=clash.space.code, team=clash.team.name if clash.team else "?",
                             start=clash.start_date.isoformat(), end=clash.last_day.isoformat(), id=clash.id)
            else:
                message = _l("Another manager has just leased one of these spaces for an overlapping period. "
                             "Reload the page and choose again.")
        super().__init__(message)
        self.clash = clash


# --- dates ------------------------------------------------------------------------------------

# A request or a new lease starts at most this far ahead, and lasts at most as long as a request may
# (the CHECK on space_requests.duration_months); a renewal adds at most the same term. Dates far
# beyond these are typing mistakes (9999-12-01), and date arithmetic on them would leave the calendar.
MAX_MONTHS_AHEAD = 24
MAX_TERM_MONTHS = 36


def add_months(day: date, months: int) -> date:
    """The same day `months` later (the month's last day if it is shorter). Total: a result beyond
    the calendar (year 1 … 9999) is clamped to date.min/date.max, so stored dates never make it raise."""
    month0 = day.month - 1 + months
    year, month = day.year + month0 // 12, month0 % 12 + 1
    if year > date.max.year:
        return date.max
    if year < date.min.year:
        return date.min
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def latest_start(today: date | None = None) -> date:
    return add_months(today or local_today(), MAX_MONTHS_AHEAD)


def _check_period(start: date, end: date) -> None:
    if start is None or end is None or end <= start:
        raise SpacesError(_l("The end of a lease must be after its start."), field="end_date")


def _check_start_in_horizon(start: date, field: str = "start_date") -> None:
    last = latest_start()
    if start > last:
        raise SpacesError(_l("The start date can be at most %(months)s months from today (%(date)s at the latest).",
                             months=MAX_MONTHS_AHEAD, date=last.isoformat()), field=field)


def _check_term(start: date, end: date, field: str = "end_date") -> None:
    last = add_months(start, MAX_TERM_MONTHS)
    if end > last:
        raise SpacesError(_l("This period can last at most %(months)s months: its end date can be %(date)s "
                             "at the latest.", months=MAX_TERM_MONTHS, date=last.isoformat()), field=field)


# --- people -----------------------------------------------------------------------------------

def managers() -> list[User]:
    return list(db.session.scalars(
        db.select(User).join(UserRole).where(UserRole.role == Role.MANAGER, User.active.is_(True)).order_by(User.id)
    ))


def _tell_team(team: Team, kind: str, text_zh: str, text_en: str, link: str | None = None) -> None:
    """In-app notice and a mail to the team's founder, in their language."""
    user = team.created_by
    if user is None:
        return
    notify(user, kind, text_zh, text_en, link)
    locale = user.locale or "zh_CN"
    queue_mail(user.email, "spaces_notice", _l("Your space at Qingchuangcheng"), locale=locale, user=user,
               text=text_zh if locale.startswith("zh") else text_en, link=link)


def _team_link(team: Team) -> str | None:
    try:
        return url_for("spaces.my_spaces", _external=False)
    except RuntimeError:  # no request (job): a relative path still works in the notice
        return "/spaces/mine"


def _lease_text(leases: Sequence[Lease]) -> tuple[str, str]:
    codes = "、".join(sorted(lease.space.code for lease in leases))
    first = leases[0]
    return (f"{codes}（{first.start_date.isoformat()} 至 {first.last_day.isoformat()}）",
            f"{', '.join(sorted(lease.space.code for lease in leases))} "
            f"({first.start_date.isoformat()} to {first.last_day.isoformat()})")


# --- admission --------------------------------------------------------------------------------

def admission_of(team: Team) -> Admission | None:
    return db.session.scalar(db.select(Admission).where(Admission.team_id == team.id))


def admit_team(manager, team: Team, note: str = "", *, award_level_rank: int | None = None,
               source: str = "manager") -> Admission:
    """Admit `team` to the incubator (入驻). Managers call it from the admissions page; judging calls it
    when results are published (source="judging", award_level_rank=1 for first prize …).

    Admitting an admitted team again updates the award level and note (and the waiting requests'
    award level), so judging can run after a direct admission."""
    if award_level_rank is not None and award_level_rank < 1:
        raise SpacesError(_l("The award level must be 1 or more."))
    admission = admission_of(team)
    before = None
    if admission is None:
        admission = Admission(team_id=team.id, admitted_by_id=getattr(manager, "id", None), source=source,
                              award_level_rank=award_level_rank, note=(note or "")[:500])
        db.session.add(admission)
        action = "spaces.team_admitted"
    else:
        before = {"award_level_rank": admission.award_level_rank, "note": admission.note, "source": admission.source}
        if award_level_rank is not None:
            admission.award_level_rank = award_level_rank
        if note:
            admission.note = note[:500]
        admission.source = source
        action = "spaces.admission_updated"
    if admission.award_level_rank is not None:
        db.session.execute(db.update(SpaceRequest)
                           .where(SpaceRequest.team_id == team.id, SpaceRequest.status == "waiting")
                           .values(award_level_rank=admission.award_level_rank))
    db.session.flush()
    record(manager, action, team, before=before,
           after={"award_level_rank": admission.award_level_rank, "note": admission.note, "source": source})
    if before is None:
        _tell_team(team, "spaces_admitted", f"团队「{team.name}」已获准入驻青创城，现在可以申请工位。",
                   f"Team “{team.name}” has been admitted to Qingchuangcheng; you can now ask for space.",
                   _team_link(team))
    return admission


# --- the building -----------------------------------------------------------------------------

def _check_building_name(name: str, building_id: int | None = None) -> str:
    name = (name or "").strip()
    if not name:
        raise DomainError(_l("Give the building a name."), field="name")
    if db.session.scalar(db.select(Building.id).where(Building.name == name, Building.id != (building_id or 0))):
        raise Conflict(_l("A building with this name exists already."), field="name")
    return name


def create_building(manager, name: str, address: str) -> Building:
    building = Building(name=_check_building_name(name), address=(address or "").strip())
    db.session.add(building)
    record(manager, "spaces.building_created", building)
    return building


def update_building(manager, building: Building, name: str, address: str) -> Building:
    name, address = _check_building_name(name, building.id), (address or "").strip()
    before = {"name": building.name, "address": building.address}
    building.name, building.address = name, address
    record(manager, "spaces.building_updated", building, before=before, after={"name": name, "address": address})
    return building


def delete_building(manager, building: Building) -> None:
    """Only an empty building goes: its floors hold spaces and the history of their leases."""
    if building.floors:
        raise Conflict(_l("This building still has floors: delete them first."))
    record(manager, "spaces.building_deleted", ("buildings", building.id, building.name))
    db.session.delete(building)


def _check_floor_number(building_id: int, number: int, floor_id: int | None = None) -> None:
    if db.session.scalar(db.select(Floor.id).where(Floor.building_id == building_id, Floor.number == number,
                                                   Floor.id != (floor_id or 0))):
        raise Conflict(_l("This floor exists already."), field="number")


def create_floor(manager, building_id: int, number: int, name: str, plan_width: float, plan_height: float) -> Floor:
    _check_floor_number(building_id, number)
    floor = Floor(building_id=building_id, number=number, name=(name or "").strip() or f"{number}F",
                  plan_width=plan_width, plan_height=plan_height)
    db.session.add(floor)
    record(manager, "spaces.floor_created", floor)
    return floor


def update_floor(manager, floor: Floor, number: int, name: str, plan_width: float, plan_height: float) -> Floor:
    """Number, name and plan size. The plan must still hold every space drawn on it."""
    _check_floor_number(floor.building_id, number, floor.id)
    right, bottom = db.session.execute(db.select(db.func.max(Space.x + Space.w), db.func.max(Space.y + Space.h))
                                       .where(Space.floor_id == floor.id)).one()
    if right is not None and (plan_width < right or plan_height < bottom):
        needed = {"w": format(right, "g"), "h": format(bottom, "g")}
        raise DomainError(_l("The plan must hold the spaces drawn on it: at least %(w)s wide and %(h)s high.",
                             **needed), field="plan_width")
    before = {"number": floor.number, "name": floor.name, "plan_width": floor.plan_width,
              "plan_height": floor.plan_height}
    floor.number, floor.name = number, (name or "").strip() or f"{number}F"
    floor.plan_width, floor.plan_height = plan_width, plan_height
    db.session.flush()
    touch_plans(floor_ids=[floor.id])
    record(manager, "spaces.floor_updated", floor, before=before,
           after={"number": floor.number, "name": floor.name, "plan_width": plan_width, "plan_height": plan_height})
    return floor


def delete_floor(manager, floor: Floor) -> str | None:
    """A floor whose spaces were never leased goes, with its zones and spaces. Returns the storage key
    of its plan image, for the caller to remove once the deletion is committed."""
    leased = db.session.scalar(db.select(db.func.count(Lease.id)).join(Space, Space.id == Lease.space_id)
                               .where(Space.floor_id == floor.id))
    if leased:
        raise Conflict(_l("Spaces on this floor have leases (current or past), which must stay on record: "
                          "the floor cannot be deleted."))
    key = floor.background_key
    record(manager, "spaces.floor_deleted", ("floors", floor.id, floor.audit_label))
    db.session.execute(db.delete(Space).where(Space.floor_id == floor.id))  # (outages go with them)
    db.session.delete(floor)  # and its zones
    db.session.flush()
    return key


def free_spaces_query(start: date, end: date, *, floor_id: int | None = None, exclude_lease_ids: Iterable[int] = ()):
    """Spaces with no active lease and no outage overlapping [start, end)."""
    exclude = list(exclude_lease_ids)
    lease_clash = (db.select(Lease.id).where(Lease.space_id == Space.id, Lease.status == "active",
                                             Lease.start_date < end, Lease.end_date > start))
    if exclude:
        lease_clash = lease_clash.where(Lease.id.not_in(exclude))
    outage = db.select(SpaceOutage.id).where(SpaceOutage.space_id == Space.id, SpaceOutage.start_date < end,
                                             db.or_(SpaceOutage.end_date.is_(None), SpaceOutage.end_date > start))
    q = db.select(Space).where(~lease_clash.exists(), ~outage.exists())
    if floor_id is not None:
        q = q.where(Space.floor_id == floor_id)
    return q.order_by(Space.code)


def free_spaces(start: date, end: date, *, floor_id: int | None = None) -> list[Space]:
    return list(db.session.scalars(free_spaces_query(start, end, floor_id=floor_id)))


def suggest(seats: int, space_type: str, start: date, end: date, *, preferred_zone_id: int | None = None,
            floor_id: int | None = None) -> suggest_mod.Suggestion:
    """Pick free spaces for the period with the pure suggestion algorithm (one query)."""
    rows = db.session.execute(
        free_spaces_query(start, end, floor_id=floor_id).with_only_columns(
            Space.id, Space.code, Space.zone_id, Space.type, Space.capacity, Space.x, Space.y, Space.w, Space.h,
            Space.features).where(Space.type == space_type)
    ).all()
    candidates = [suggest_mod.Candidate(r.id, r.code, r.zone_id, r.type, r.capacity, r.x, r.y, r.w, r.h,
                                        frozenset(r.features or ())) for r in rows]
    return suggest_mod.suggest_spaces(candidates, seats, space_type, preferred_zone_id)


def set_floor_background(manager, floor: Floor, key: str | None) -> Floor:
    before = {"background_key": floor.background_key}
    floor.background_key = key
    db.session.flush()
    touch_plans(floor_ids=[floor.id])
    record(manager, "spaces.floor_background", floor, before=before, after={"background_key": key})
    return floor


def put_out_of_service(manager, space: Space, start: date, end: date | None, reason: str = "") -> SpaceOutage:
    _check_start_in_horizon(start)
    if end is not None:
        _check_period(start, end)
        _check_term(start, end)
    clash = _first_clash([space.id], start, end or date.max)
    if clash is not None:
        raise LeaseConflict(clash)
    outage = SpaceOutage(space_id=space.id, start_date=start, end_date=end, reason=(reason or "")[:200],
                         created_by_id=getattr(manager, "id", None))
    db.session.add(outage)
    db.session.flush()
    touch_plans([space.id])
    record(manager, "spaces.out_of_service", space, after={"start": str(start), "end": str(end), "reason": reason})
    return outage


def _outage_snapshot(outage: SpaceOutage) -> dict:
    return {"outage": outage.id, "start": str(outage.start_date), "end": str(outage.end_date),
            "reason": outage.reason}


def end_outage(manager, outage: SpaceOutage, on_date: date | None = None) -> SpaceOutage | None:
    """The space is back in service from `on_date` (default today): the outage ends that day, or, if
    it had not begun by then, is called off altogether (returns None). Recorded on the space, as
    putting it out of service is; the managers hear which waiting teams now fit."""
    on_date = on_date or local_today()
    if outage.end_date is not None and outage.end_date <= on_date:
        raise SpacesError(_l("This space is already back in service by then."), field="on_date")
    space = outage.space
    before = _outage_snapshot(outage)
    if on_date <= outage.start_date:
        db.session.delete(outage)
        after = {**before, "called_off": True}
        outage = None
    else:
        outage.end_date = on_date
        after = _outage_snapshot(outage)
    db.session.flush()
    touch_plans([space.id])
    record(manager, "spaces.back_in_service", space, before=before, after=after)
    spaces_freed([space.id])
    return outage


# --- requests and the waitlist ----------------------------------------------------------------

def waitlist_order():
    """Manager override first (smaller first), then award level (first prize first, none last), then
    request time, then id: a total order, the same on both backends."""
    return (SpaceRequest.override_priority.is_(None), SpaceRequest.override_priority,
            SpaceRequest.award_level_rank.is_(None), SpaceRequest.award_level_rank,
            SpaceRequest.requested_at, SpaceRequest.id)


def waitlist() -> list[SpaceRequest]:
    return list(db.session.scalars(
        db.select(SpaceRequest).where(SpaceRequest.status == "waiting")
        .options(db.joinedload(SpaceRequest.team), db.joinedload(SpaceRequest.preferred_zone))
        .order_by(*waitlist_order())
    ))


def waitlist_positions() -> dict[int, int]:
    """request id → place in the queue (1 = next)."""
    ids = db.session.scalars(db.select(SpaceRequest.id).where(SpaceRequest.status == "waiting")
                             .order_by(*waitlist_order())).all()
    return {rid: n for n, rid in enumerate(ids, start=1)}


def create_request(user, team: Team, *, seats: int, space_type: str, start_date: date, duration_months: int,
                   preferred_zone_id: int | None = None, note: str = "") -> SpaceRequest:
    admission = admission_of(team)
    if admission is None:
        raise SpacesError(_l("Only teams admitted to the incubator can ask for space."))
    if space_type not in SPACE_TYPES:
        raise SpacesError(_l("Choose a type of space."), field="space_type")
    if not (1 <= int(seats) <= 200):
        raise SpacesError(_l("Seats must be between 1 and 200."), field="seats")
    if not (1 <= int(duration_months) <= 36):
        raise SpacesError(_l("The duration must be between 1 and 36 months."), field="duration_months")
    if start_date < local_today():
        raise SpacesError(_l("The start date cannot be in the past."), field="start_date")
    _check_start_in_horizon(start_date)
    if preferred_zone_id is not None and db.session.get(Zone, preferred_zone_id) is None:
        raise SpacesError(_l("Unknown zone."), field="preferred_zone_id")
    req = SpaceRequest(team_id=team.id, seats=int(seats), space_type=space_type, start_date=start_date,
                       duration_months=int(duration_months), preferred_zone_id=preferred_zone_id,
                       note=(note or "")[:500], award_level_rank=admission.award_level_rank,
                       created_by_id=getattr(user, "id", None), requested_at=utcnow())
    db.session.add(req)
    db.session.flush()
    record(user, "spaces.request_created", req, after={"seats": req.seats, "type": space_type,
                                                      "start": str(start_date), "months": req.duration_months})
    for manager in managers():
        notify(manager, "spaces_request", f"团队「{team.name}」申请 {req.seats} 个座位（{space_type}）。",
               f"Team “{team.name}” asks for {req.seats} seats ({space_type}).", "/spaces/waitlist")
    return req


def set_priority(manager, req: SpaceRequest, priority: int | None, reason: str) -> SpaceRequest:
    if req.status != "waiting":
        raise SpacesError(_l("Only waiting requests can be reordered."))
    reason = (reason or "").strip()
    if priority is not None and not reason:
        raise SpacesError(_l("Give a reason for changing the order."), field="reason")
    before = {"override_priority": req.override_priority, "override_reason": req.override_reason}
    req.override_priority = priority
    req.override_reason = reason[:300] if priority is not None else ""
    db.session.flush()
    record(manager, "spaces.request_priority", req, before=before,
           after={"override_priority": priority, "override_reason": req.override_reason})
    _tell_team(req.team, "spaces_request", "你的工位申请在候补队列中的顺序已被管理员调整。",
               "A manager changed the place of your space request in the waiting list.", _team_link(req.team))
    return req


def cancel_request(user, req: SpaceRequest) -> SpaceRequest:
    if req.status != "waiting":
        raise SpacesError(_l("This request is no longer waiting."))
    req.status = "cancelled"
    req.decided_at = utcnow()
    db.session.flush()
    record(user, "spaces.request_cancelled", req, before={"status": "waiting"}, after={"status": "cancelled"})
    _tell_team(req.team, "spaces_request", "工位申请已取消。", "The space request was cancelled.", _team_link(req.team))
    return req


def request_period(req: SpaceRequest, today: date | None = None) -> tuple[date, date]:
    start = max(req.start_date, today or local_today())
    return start, add_months(start, req.duration_months)


# --- leases -----------------------------------------------------------------------------------

def touch_plans(space_ids: Iterable[int] = (), floor_ids: Iterable[int] = ()) -> None:
    """Invalidate the cached floor plans of these spaces/floors (same transaction as the change)."""
    space_ids, floor_ids = list(space_ids), list(floor_ids)
    cond = []
    if space_ids:
        cond.append(Floor.id.in_(db.select(Space.floor_id).where(Space.id.in_(space_ids)).scalar_subquery()))
    if floor_ids:
        cond.append(Floor.id.in_(floor_ids))
    if cond:
        db.session.execute(db.update(Floor).where(db.or_(*cond)).values(plan_version=Floor.plan_version + 1)
                           .execution_options(synchronize_session=False))


def _first_clash(space_ids: Iterable[int], start: date, end: date, *, exclude: Iterable[int] = ()) -> Lease | None:
    q = (db.select(Lease).where(Lease.space_id.in_(list(space_ids)), Lease.status == "active",
                                Lease.start_date < end, Lease.end_date > start)
         .options(db.joinedload(Lease.space), db.joinedload(Lease.team))
         .order_by(Lease.start_date, Lease.id).limit(1))
    exclude = list(exclude)
    if exclude:
        q = q.where(Lease.id.not_in(exclude))
    return db.session.scalar(q)


def _first_outage(space_ids: Iterable[int], start: date, end: date) -> SpaceOutage | None:
    return db.session.scalar(
        db.select(SpaceOutage).where(SpaceOutage.space_id.in_(list(space_ids)), SpaceOutage.start_date < end,
                                     db.or_(SpaceOutage.end_date.is_(None), SpaceOutage.end_date > start))
        .options(db.joinedload(SpaceOutage.space)).limit(1))


def _write(fn, space_ids, start, end, exclude=()):
    """Run `fn` (which adds/changes leases and flushes) in a SAVEPOINT; a clash reported by the
    database becomes LeaseConflict naming the lease it clashed with."""
    if space_ids and db.session.get_bind().dialect.name == "postgresql":
        # Lease writes for the same spaces one transaction at a time, in id order. Two inserts that
        # clash under the exclusion constraint would otherwise each wait for the other's outcome, and
        # PostgreSQL would end one as a deadlock (an error page) instead of this clear conflict.
        # NO KEY UPDATE: the foreign-key checks of other rows pointing at these spaces are not held up.
        db.session.execute(db.select(Space.id).where(Space.id.in_(sorted(set(space_ids)))).order_by(Space.id)
                           .with_for_update(key_share=True))  # FOR NO KEY UPDATE
    try:
        with db.session.begin_nested():
            return fn()
    except IntegrityError as exc:
        if "leases_no_overlap" not in str(exc.orig) and "23P01" not in str(getattr(exc.orig, "sqlstate", "")):
            raise
        raise LeaseConflict(_first_clash(space_ids, start, end, exclude=exclude)) from None


def _lease_snapshot(lease: Lease) -> dict:
    return {"space": lease.space.code if lease.space else lease.space_id, "team_id": lease.team_id,
            "start": str(lease.start_date), "end": str(lease.end_date), "status": lease.status}


def allocate(manager, team: Team, space_ids: Sequence[int], start: date, end: date, *,
             request: SpaceRequest | None = None) -> list[Lease]:
    """Lease the given spaces to `team` for [start, end), all or none."""
    _check_period(start, end)
    _check_start_in_horizon(start)
    _check_term(start, end)
    space_ids = sorted({int(s) for s in space_ids})
    if not space_ids:
        raise SpacesError(_l("Choose at least one space."), field="space_ids")
    if admission_of(team) is None:
        raise SpacesError(_l("Only teams admitted to the incubator can be given space."))
    spaces = list(db.session.scalars(db.select(Space).where(Space.id.in_(space_ids))))
    if len(spaces) != len(space_ids):
        raise SpacesError(_l("One of the chosen spaces does not exist."), field="space_ids")
    outage = _first_outage(space_ids, start, end)
    if outage is not None:
        raise SpacesError(_l("Space %(code)s is out of service during this period.", code=outage.space.code))
    clash = _first_clash(space_ids, start, end)
    if clash is not None:
        raise LeaseConflict(clash)
    group = str(uuid.uuid4())

    def write():
        rows = [Lease(space_id=s.id, team_id=team.id, start_date=start, end_date=end, status="active", group_id=group,
                      request_id=request.id if request else None, created_by_id=getattr(manager, "id", None))
                for s in spaces]
        db.session.add_all(rows)
        db.session.flush()
        return rows

    leases = _write(write, space_ids, start, end)
    touch_plans(space_ids)
    for lease in leases:
        record(manager, "spaces.lease_allocated", lease, after=_lease_snapshot(lease))
    if request is not None:
        request.status = "allocated"
        request.decided_at = utcnow()
        request.lease_group = group
        record(manager, "spaces.request_allocated", request, before={"status": "waiting"},
               after={"status": "allocated", "group": group})
    zh, en = _lease_text(leases)
    _tell_team(team, "spaces_lease", f"已为团队「{team.name}」分配空间：{zh}。",
               f"Team “{team.name}” has been given: {en}.", _team_link(team))
    return leases


def _active(lease: Lease) -> None:
    if lease.status != "active":
        raise SpacesError(_l("Only active leases can be changed."))


def renew(manager, lease: Lease, new_end: date) -> Lease:
    """Extend the lease to `new_end` (exclusive)."""
    _active(lease)
    if new_end <= lease.end_date:
        raise SpacesError(_l("A renewal must end after the current end date."), field="end_date")
    _check_term(lease.end_date, new_end)
    before = _lease_snapshot(lease)
    outage = _first_outage([lease.space_id], lease.end_date, new_end)
    if outage is not None:
        raise SpacesError(_l("Space %(code)s is out of service during this period.", code=outage.space.code))
    clash = _first_clash([lease.space_id], lease.start_date, new_end, exclude=[lease.id])
    if clash is not None:
        raise LeaseConflict(clash)

    def write():
        lease.end_date = new_end
        db.session.flush()
        return lease

    _write(write, [lease.space_id], lease.start_date, new_end, exclude=[lease.id])
    touch_plans([lease.space_id])
    record(manager, "spaces.lease_renewed", lease, before=before, after=_lease_snapshot(lease))
    zh, en = _lease_text([lease])
    _tell_team(lease.team, "spaces_lease", f"租期已续至 {lease.last_day.isoformat()}：{zh}。",
               f"Your lease was renewed until {lease.last_day.isoformat()}: {en}.", _team_link(lease.team))
    return lease


def shorten(manager, lease: Lease, new_end: date, *, action: str = "spaces.lease_shortened") -> Lease:
    _active(lease)
    if not (lease.start_date < new_end < lease.end_date):
        raise SpacesError(_l("The new end date must be after the start and before the current end."), field="end_date")
    before = _lease_snapshot(lease)
    lease.end_date = new_end
    if new_end <= local_today():
        lease.status = "ended"
        lease.ended_at = utcnow()
    db.session.flush()
    touch_plans([lease.space_id])
    record(manager, action, lease, before=before, after=_lease_snapshot(lease))
    zh, en = _lease_text([lease])
    _tell_team(lease.team, "spaces_lease", f"租期已调整为提前结束：{zh}。",
               f"Your lease now ends earlier: {en}.", _team_link(lease.team))
    spaces_freed([lease.space_id])
    return lease


def end_early(manager, lease: Lease, on_date: date | None = None) -> Lease:
    """The team leaves on `on_date` (the first day without the space; default today)."""
    on_date = on_date or local_today()
    if on_date <= lease.start_date:
        return cancel(manager, lease, code="ended_before_start")
    return shorten(manager, lease, on_date, action="spaces.lease_ended_early")


def cancel(manager, lease: Lease, reason: str = "", *, code: str | None = None) -> Lease:
    """Cancel the lease: with a manager's `reason` (free text, required), or with one of
    CANCEL_CODES when the platform itself cancels it (stored as a code, named when shown)."""
    _active(lease)
    if code is not None and code not in CANCEL_CODES:
        raise ValueError(f"unknown cancellation code {code!r}")
    reason = (reason or "").strip()
    if code is None and not reason:
        raise SpacesError(_l("Give a reason for cancelling."), field="reason")
    before = _lease_snapshot(lease)
    _mark_cancelled(lease, reason, code)
    db.session.flush()
    touch_plans([lease.space_id])
    record(manager, "spaces.lease_cancelled", lease, before=before,
           after={**_lease_snapshot(lease), "reason": reason, **({"reason_code": code} if code else {})})
    zh, en = _lease_text([lease])
    reason_zh, reason_en = both_languages(CANCEL_CODE_LABELS[code]) if code else (reason, reason)
    _tell_team(lease.team, "spaces_lease", f"租约已取消：{zh}。原因：{reason_zh}",
               f"Your lease was cancelled: {en}. Reason: {reason_en}", _team_link(lease.team))
    spaces_freed([lease.space_id])
    return lease


def _mark_cancelled(lease: Lease, reason: str, code: str | None) -> None:
    lease.status = "cancelled"
    lease.cancel_reason = reason[:300]
    lease.cancel_code = code
    lease.ended_at = utcnow()


def _parse_space_reference(text: str) -> tuple[str | None, str]:
    """What a person typed for a space: its code ("3F-A-012", any case), or, where codes repeat
    across buildings, the building's name, a space and the code ("二号楼 3F-A-012")."""
    parts = (text or "").strip().rsplit(None, 1)
    if len(parts) == 2:
        return parts[0].strip(), parts[1].upper()
    return None, parts[0].upper() if parts else ""


def spaces_by_code(references: Iterable[str]) -> dict[str, list[tuple[int, int, str]]]:
    """Code typed → the spaces (id, building id, building name) that have it in any building (a code
    is unique per building only), in one query; resolve_space_code picks the one meant."""
    codes = {_parse_space_reference(r)[1] for r in references}
    q = (db.select(Space.code, Space.id, Space.building_id, Building.name)
         .join(Building, Building.id == Space.building_id).where(Space.code.in_(codes)))
    found: dict[str, list[tuple[int, int, str]]] = {}
    for code, space_id, b_id, b_name in db.session.execute(q):
        found.setdefault(code, []).append((space_id, b_id, b_name))
    for candidates in found.values():
        candidates.sort(key=lambda c: (c[2], c[1]))  # by building name, the same on every backend
    return found


def resolve_space_code(reference: str, found: Mapping[str, list[tuple[int, int, str]]], *,
                       building_id: int | None = None, field: str = "space_ids") -> int:
    """The id of the space a person means by `reference` (see _parse_space_reference): the space of
    that code in the building named with it, else in `building_id` (the building in question), else
    the only one anywhere. A code several other buildings use is refused with the buildings named."""
    building_name, code = _parse_space_reference(reference)
    candidates = found.get(code, [])
    if building_name is not None:
        named = [c for c in candidates if c[2] == building_name]
        if not named:
            raise SpacesError(_l("There is no space %(code)s in a building named %(building)s.", code=code,
                                 building=building_name), field=field)
        return named[0][0]
    if not candidates:
        raise SpacesError(_l("There is no space with the code %(code)s.", code=code), field=field)
    here = [c for c in candidates if c[1] == building_id]
    if here:
        return here[0][0]
    if len(candidates) == 1:
        return candidates[0][0]
    names = "、".join(c[2] for c in candidates)
    example = candidates[0][2] + " " + code
    raise SpacesError(_l("The code %(code)s is used in several buildings (%(buildings)s): type the building's "
                         "name before it, e.g. “%(example)s”.", code=code, buildings=names, example=example),
                      field=field)


def move_team(manager, team: Team, new_codes: Mapping[int, str], on_date: date | None = None) -> list[Lease]:
    """Move leases of `team` to other spaces, each to the one named for it: `new_codes` maps a lease
    id to the code of its new space (the pairing is explicit, never by position in two lists).
    A code is looked up in the building of the lease it is typed for, or qualified with the name of
    another building ("二号楼 3F-A-012"); a code of several other buildings is refused as ambiguous."""
    if not new_codes:
        raise SpacesError(_l("Choose one new space for each lease to move."), field="space_ids")
    lease_ids = [int(i) for i in new_codes]
    leases = {lease.id: lease for lease in db.session.scalars(
        db.select(Lease).where(Lease.id.in_(lease_ids), Lease.team_id == team.id)
        .options(db.joinedload(Lease.space)))}
    if len(leases) != len(lease_ids):
        raise SpacesError(_l("Choose the leases of this team to move."))
    references = {int(i): c or "" for i, c in new_codes.items()}
    found = spaces_by_code(references.values())
    unknown = sorted({code for _building, code in map(_parse_space_reference, references.values())
                      if code not in found})
    if unknown:
        raise SpacesError(_l("There is no space with the code %(code)s.", code="、".join(unknown)), field="space_ids")
    pairs = [(leases[i], resolve_space_code(references[i], found, building_id=leases[i].space.building_id))
             for i in lease_ids]
    return move(manager, pairs, on_date)


def move(manager, pairs: Sequence[tuple[Lease, int]], on_date: date | None = None) -> list[Lease]:
    """Move each lease of `pairs` to the space id paired with it, from `on_date`: each old lease
    ends on that day (or is cancelled if it had not started) and a new lease on the new space runs to
    the old end. The new spaces may be ones these leases leave that day (a swap or a rotation of the
    team's desks). All or nothing: a clash on any pair undoes every pair."""
    pairs = [(lease, int(space_id)) for lease, space_id in pairs]
    leases = [lease for lease, _ in pairs]
    new_space_ids = [space_id for _, space_id in pairs]
    if not pairs:
        raise SpacesError(_l("Choose one new space for each lease to move."), field="space_ids")
    if len(set(new_space_ids)) != len(new_space_ids):
        raise SpacesError(_l("Choose a different new space for each lease."), field="space_ids")
    if len({lease.id for lease in leases}) != len(leases):
        raise SpacesError(_l("Choose one new space for each lease to move."), field="space_ids")
    team_ids = {lease.team_id for lease in leases}
    if len(team_ids) != 1:
        raise SpacesError(_l("Only the leases of one team can be moved together."))
    on_date = on_date or local_today()
    for lease in leases:
        _active(lease)
        if on_date >= lease.end_date:
            raise SpacesError(_l("The move date must be before the end of every lease."), field="on_date")
    spaces = {s.id: s for s in db.session.scalars(db.select(Space).where(Space.id.in_(new_space_ids)))}
    if len(spaces) != len(new_space_ids):
        raise SpacesError(_l("One of the chosen spaces does not exist."), field="space_ids")
    old_ids = [lease.id for lease in leases]
    group = str(uuid.uuid4())
    befores = [_lease_snapshot(lease) for lease in leases]
    # What the clash error names, if the database rather than our check detects it.
    probe = {"space_ids": [p[1] for p in pairs], "start": on_date, "end": max(lease.end_date for lease in leases)}

    def write():
        # Every moving lease first gives up its space from `on_date`, then each new lease is checked
        # and written: the spaces these same leases free that day are free for the others, so a swap
        # (D1 ↔ D2) or a rotation of the team's desks works, while anyone else's lease or an outage
        # on a new space still refuses the whole move.
        periods = [(old, space_id, max(on_date, old.start_date), old.end_date) for old, space_id in pairs]
        for old, _space_id, _start, _end in periods:
            if on_date <= old.start_date:
                _mark_cancelled(old, "", "moved")
            else:
                old.end_date = on_date
        db.session.flush()
        created = []
        for old, space_id, start, end in periods:
            outage = _first_outage([space_id], start, end)
            if outage is not None:
                raise SpacesError(_l("Space %(code)s is out of service during this period.", code=outage.space.code))
            clash = _first_clash([space_id], start, end)
            if clash is not None:
                raise LeaseConflict(clash)
            new = Lease(space_id=space_id, team_id=old.team_id, start_date=start, end_date=end, status="active",
                        group_id=group, request_id=old.request_id, created_by_id=getattr(manager, "id", None))
            db.session.add(new)
            db.session.flush()
            old.moved_to_id = new.id
            created.append(new)
        db.session.flush()
        return created

    try:
        created = _write(write, probe["space_ids"], probe["start"], probe["end"], exclude=old_ids)
    except DomainError:
        # The SAVEPOINT was rolled back: reload the old leases as the database has them again.
        for lease in leases:
            db.session.refresh(lease)
        raise
    touch_plans([lease.space_id for lease in leases] + [lease.space_id for lease in created])
    for old, before, new in zip(leases, befores, created):
        record(manager, "spaces.lease_moved", old, before=before,
               after={**_lease_snapshot(old), "moved_to": new.id, "new": _lease_snapshot(new)})
    zh, en = _lease_text(created)
    team = created[0].team
    _tell_team(team, "spaces_lease", f"团队「{team.name}」已调整至新空间：{zh}。",
               f"Team “{team.name}” moves to: {en}.", _team_link(team))
    spaces_freed([lease.space_id for lease in leases])
    return created


# --- reading ----------------------------------------------------------------------------------

def space_history(space: Space) -> list[Lease]:
    return list(db.session.scalars(
        db.select(Lease).where(Lease.space_id == space.id).options(db.joinedload(Lease.team))
        .order_by(Lease.start_date.desc(), Lease.id.desc())))


def team_history(team: Team) -> list[Lease]:
    return list(db.session.scalars(
        db.select(Lease).where(Lease.team_id == team.id).options(db.joinedload(Lease.space).joinedload(Space.zone))
        .order_by(Lease.start_date.desc(), Lease.id.desc())))


def teams_of(user) -> list[Team]:
    return list(db.session.scalars(db.select(Team).where(Team.created_by_id == user.id).order_by(Team.id)))


def overlapping_active_pairs() -> int:
    """How many pairs of active leases of one space overlap (0 always; used by tests and checks)."""
    a, b = db.aliased(Lease), db.aliased(Lease)
    return db.session.scalar(
        db.select(db.func.count()).select_from(a).join(b, db.and_(a.space_id == b.space_id, a.id < b.id))
        .where(a.status == "active", b.status == "active", a.start_date < b.end_date, b.start_date < a.end_date)
    ) or 0


# --- jobs' work -------------------------------------------------------------------------------

def expire_leases(today: date | None = None) -> list[Lease]:
    """End every active lease whose end date has come; tell the teams. Returns the leases ended.
    (The caller follows with spaces_freed.) A team whose notice cannot be written is logged and the
    others are still told."""
    today = today or local_today()
    # Locked as read (PostgreSQL): a second run at the same time ("run now" while the nightly run is
    # going) skips the leases this one is ending, instead of ending them again and telling the team twice.
    leases = list(db.session.scalars(
        db.select(Lease).where(Lease.status == "active", Lease.end_date <= today)
        .options(db.joinedload(Lease.space), db.joinedload(Lease.team)).order_by(Lease.team_id, Lease.id)
        .with_for_update(of=Lease, skip_locked=True)))
    by_team: dict[int, list[Lease]] = {}
    for lease in leases:
        before = _lease_snapshot(lease)
        lease.status = "ended"
        lease.ended_at = utcnow()
        record(None, "spaces.lease_expired", lease, before=before, after=_lease_snapshot(lease))
        by_team.setdefault(lease.team_id, []).append(lease)
    for group in by_team.values():
        try:
            zh, en = _lease_text(group)
        except (ValueError, OverflowError):
            log.exception("expired leases %s: their notice cannot be written; the team is not told",
                          [lease.id for lease in group])
            continue
        team = group[0].team
        _tell_team(team, "spaces_lease", f"租期已结束：{zh}。", f"Your lease has ended: {en}.", _team_link(team))
    db.session.flush()
    touch_plans([lease.space_id for lease in leases])
    return leases


def send_end_reminders(today: date | None = None) -> int:
    """Remind teams 30 and 7 days before their leases end: once per (lease, threshold, end date),
    recorded in lease_reminders. A lease already within 7 days gets only the 7-day reminder."""
    today = today or local_today()
    horizon = today + timedelta(days=max(REMINDER_DAYS))
    leases = list(db.session.scalars(
        db.select(Lease).where(Lease.status == "active", Lease.end_date > today, Lease.end_date <= horizon)
        .options(db.joinedload(Lease.space), db.joinedload(Lease.team)).order_by(Lease.team_id, Lease.end_date, Lease.id)))
    sent_keys = set(db.session.execute(
        db.select(LeaseReminder.lease_id, LeaseReminder.days_before, LeaseReminder.end_date)
        .where(LeaseReminder.lease_id.in_([lease.id for lease in leases] or [0]))).all())
    groups: dict[tuple[int, date, int], list[Lease]] = {}
    for lease in leases:
        left = (lease.end_date - today).days
        threshold = min(d for d in REMINDER_DAYS if left <= d)
        if (lease.id, threshold, lease.end_date) in sent_keys:
            continue
        for d in REMINDER_DAYS:
            if d >= threshold and (lease.id, d, lease.end_date) not in sent_keys:
                db.session.add(LeaseReminder(lease_id=lease.id, days_before=d, end_date=lease.end_date))
        groups.setdefault((lease.team_id, lease.end_date, threshold), []).append(lease)
    for (_team_id, end, threshold), group in groups.items():
        zh, en = _lease_text(group)
        team = group[0].team
        _tell_team(team, "spaces_reminder", f"租期将于 {threshold} 天内结束：{zh}。如需续租请联系园区管理员。",
                   f"Your lease ends within {threshold} days: {en}. Contact the managers to renew.", _team_link(team))
        record(None, "spaces.lease_reminder", ("teams", team.id, team.name), after={"days": threshold, "end": str(end)})
    db.session.flush()
    return sum(len(g) for g in groups.values())


def waitlist_heads_that_fit(today: date | None = None, limit: int = 5, *, space_types: Iterable[str] | None = None
                            ) -> list[tuple[SpaceRequest, suggest_mod.Suggestion]]:
    """The first waiting requests (in queue order) for which free spaces exist now; with
    `space_types`, only those heads asking for one of these types. A request whose dates cannot be
    worked with is logged and passed over, never stops the others."""
    types = set(space_types) if space_types is not None else None
    out = []
    for req in waitlist()[:limit]:
        if types is not None and req.space_type not in types:
            continue
        try:
            start, end = request_period(req, today)
        except (ValueError, OverflowError):
            log.exception("space request %s: its period (%s, %s months) cannot be worked out; skipped",
                          req.id, req.start_date, req.duration_months)
            continue
        suggestion = suggest(req.seats, req.space_type, start, end, preferred_zone_id=req.preferred_zone_id)
        if suggestion:
            out.append((req, suggestion))
    return out


def notify_waitlist_fits(today: date | None = None, *, space_types: Iterable[str] | None = None) -> int:
    fits = waitlist_heads_that_fit(today, space_types=space_types)
    if not fits:
        return 0
    names_zh = "、".join(f"{r.team.name}（{r.seats}座）" for r, _ in fits)
    names_en = ", ".join(f"{r.team.name} ({r.seats} seats)" for r, _ in fits)
    for manager in managers():
        notify(manager, "spaces_waitlist", f"有空间空出，以下候补团队现在可以安排：{names_zh}。",
               f"Spaces are free: these waiting teams now fit: {names_en}.", "/spaces/waitlist")
    return len(fits)


def spaces_freed(space_ids: Iterable[int] | None = None, today: date | None = None) -> int:
    """THE follow-up of every change that frees space — a lease expired, cancelled, shortened, ended
    early or moved away, an outage lifted, new spaces imported: tell the managers which teams at the
    head of the waiting list now fit. With `space_ids` (the freed spaces), only requests for their
    types are looked at. Returns how many waiting requests fit."""
    types = None
    if space_ids is not None:
        ids = list(space_ids)
        types = set(db.session.scalars(db.select(Space.type).where(Space.id.in_(ids or [0])).distinct()))
        if not types:
            return 0
    return notify_waitlist_fits(today, space_types=types)


__all__ = ["admit_team", "allocate", "renew", "shorten", "end_early", "cancel", "move", "create_request",
           "set_priority", "cancel_request", "waitlist", "waitlist_positions", "suggest", "free_spaces",
           "expire_leases", "send_end_reminders", "notify_waitlist_fits", "spaces_freed", "LeaseConflict",
           "SpacesError", "import_layout", "put_out_of_service", "end_outage", "set_floor_background", "touch_plans",
           "move_team", "spaces_by_code", "resolve_space_code"]


# --- layout import ----------------------------------------------------------------------------

def import_layout(manager, floor: Floor, result) -> tuple[list, int, int]:
    """Apply a parsed layout (layout_csv.LayoutResult) to `floor`: all rows or none.

    Returns (errors, created, updated). Errors beyond the pure validation (same format
    LayoutError(line, key, params)): a row for another floor, a code used on another floor of this
    building (codes are unique per building; other buildings' codes do not matter), a space
    reaching beyond the floor's plan, or one overlapping a space of this floor that the file leaves
    in place. Rows valid on their own are checked against the database even when other rows have
    errors, so every problem of the file is reported in one round. Codes already on this floor are
    updated in place, new ones created, and spaces absent from the file are kept (a layout import
    never deletes a space with history)."""
    from .layout_csv import LayoutError

    rows = result.rows if result.ok else result.checked_rows
    errors = list(result.errors)
    codes = sorted(result.codes) if result.codes else [r.code for r in rows]
    # A code is unique in its building: the same code in another building is another space.
    existing = {s.code: s for s in db.session.scalars(
        db.select(Space).where(Space.building_id == floor.building_id, Space.code.in_([r.code for r in rows]))
        .options(db.joinedload(Space.floor)))}
    for r in rows:
        if r.floor != floor.number:
            errors.append(LayoutError(r.line, "floor_other", {"value": r.floor, "expected": floor.number}))
        s = existing.get(r.code)
        if s is not None and s.floor_id != floor.id:
            errors.append(LayoutError(r.line, "code_on_other_floor", {"code": r.code, "floor": s.floor.label}))
        if r.x + r.width > floor.plan_width or r.y + r.height > floor.plan_height:
            errors.append(LayoutError(r.line, "outside_plan", {"code": r.code, "width": format(floor.plan_width, "g"),
                                                               "height": format(floor.plan_height, "g")}))
    # Spaces of this floor that the file leaves in place must not be overlapped by the new rows.
    kept = db.session.execute(db.select(Space.code, Space.x, Space.y, Space.w, Space.h)
                              .where(Space.floor_id == floor.id, Space.code.not_in(codes))).all() if rows else []
    for r in rows:
        for k in kept:
            if k.x < r.x + r.width and r.x < k.x + k.w and k.y < r.y + r.height and r.y < k.y + k.h:
                errors.append(LayoutError(r.line, "overlap_existing", {"code": r.code, "other_code": k.code}))
                break
    if errors:
        return sorted(errors, key=lambda e: e.line), 0, 0
    zones = {z.code: z for z in db.session.scalars(db.select(Zone).where(Zone.floor_id == floor.id))}
    created = updated = 0
    for r in rows:
        zone = zones.get(r.zone)
        if zone is None:
            zone = zones[r.zone] = Zone(floor_id=floor.id, code=r.zone, name="")
            db.session.add(zone)
            db.session.flush()
        values = dict(zone_id=zone.id, type=r.type, capacity=r.capacity, features=list(r.features),
                      x=float(r.x), y=float(r.y), w=float(r.width), h=float(r.height))
        s = existing.get(r.code)
        if s is None:
            db.session.add(Space(code=r.code, floor_id=floor.id, building_id=floor.building_id, **values))
            created += 1
        else:
            for k, v in values.items():
                setattr(s, k, v)
            updated += 1
    db.session.flush()
    touch_plans(floor_ids=[floor.id])
    record(manager, "spaces.layout_imported", floor, after={"created": created, "updated": updated, "rows": len(codes)})
    if created:
        spaces_freed()
    return [], created, updated
