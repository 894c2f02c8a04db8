"""Spaces pages: building set-up and layout import/export, floor plans, waitlist, allocation, lease
actions, the founders' own spaces and the occupancy dashboard. Views parse, load, check access,
call a service and commit once."""
from __future__ import annotations

import io
import threading
from collections import OrderedDict
from datetime import date, timedelta

from flask import Blueprint, Response, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from markupsafe import Markup

from ..accounts.forms import ConfirmForm
from ..accounts.permissions import founder_required, manager_required, roles_required
from ..enums import Role
from ..applications.models import Team
from ..compression import gzip_large_responses
from ..errors import DomainError
from ..extensions import db
from ..actions import commit_or_refuse, refuse, save_form
from ..pagecache import cached_page, current_versions, read_only
from ..spreadsheets import csv_response, xlsx_response
from ..timeutils import local_today
from ..urls import record_id
from . import floorplan, layout_csv, occupancy, services
from .forms import (AdmitForm, AllocateForm, BackgroundForm, BuildingForm, CancelForm, DateChangeForm, FloorForm, LayoutUploadForm,
                    MoveForm, OutageEndForm, OutageForm, PriorityForm, SpaceRequestForm, type_choices)
from .models import (AWARD_LEVEL_LABELS, SPACE_TYPE_LABELS, SPACE_TYPES, Admission, Building, Floor, Lease, Space,
                     SpaceOutage, SpaceRequest, Zone)

bp = Blueprint("spaces", __name__, url_prefix="/spaces")
bp.after_request(gzip_large_responses)  # the floor plans are hundreds of KiB of markup

MAX_LAYOUT_BYTES = 5 * 1024 * 1024

LAYOUT_MESSAGES = {
    "not_utf8": _l("The file is not UTF-8 text. Save it as “CSV UTF-8” or upload the XLSX file."),
    "empty_file": _l("The file is empty."),
    "no_rows": _l("The file has a header but no spaces."),
    "missing_columns": _l("Missing columns: %(columns)s."),
    "unknown_columns": _l("Unknown columns: %(columns)s."),
    "duplicate_column": _l("The column %(column)s appears twice."),
    "too_many_cells": _l("Expected %(expected)s cells, found %(found)s."),
    "required": _l("The column %(column)s is required."),
    "code_invalid": _l("“%(value)s” is not a space code like 3F-A-012."),
    "code_mismatch": _l("The code %(code)s should start with %(expected_prefix)s (its floor and zone)."),
    "code_duplicate": _l("The code %(code)s already appears on line %(first_line)s."),
    "floor_invalid": _l("“%(value)s” is not a floor number."),
    "zone_invalid": _l("“%(value)s” is not a zone (1 to 3 letters)."),
    "type_invalid": _l("“%(value)s” is not a type (desk_hot, desk_fixed or office)."),
    "capacity_not_integer": _l("The capacity “%(value)s” is not a whole number."),
    "desk_capacity_not_one": _l("A desk seats exactly one person, not %(value)s."),
    "capacity_too_small": _l("The capacity must be at least 1, not %(value)s."),
    "number_invalid": _l("%(column)s: “%(value)s” is not a number."),
    "number_negative": _l("%(column)s: %(value)s cannot be negative."),
    "size_not_positive": _l("%(column)s: %(value)s must be more than 0."),
    "number_too_large": _l("%(column)s: %(value)s is too large (at most %(max)s)."),
    "outside_plan": _l("The space %(code)s reaches beyond the floor plan (%(width)s × %(height)s): enlarge the "
                       "plan first or move the space."),
    "feature_unknown": _l("Unknown feature “%(value)s” (window, power or monitor)."),
    "overlap": _l("The space %(code)s overlaps %(other_code)s (line %(other_line)s)."),
    "overlap_existing": _l("The space %(code)s overlaps the existing space %(other_code)s."),
    "floor_other": _l("This row is for floor %(value)s, but you are importing floor %(expected)s."),
    "code_on_other_floor": _l("The code %(code)s already belongs to a space on another floor of this building "
                              "(%(floor)s)."),
    "xlsx_unreadable": _l("The Excel file could not be read."),
}


def layout_message(error) -> str:
    template = LAYOUT_MESSAGES.get(error.key)
    if template is None:
        return error.key
    text = str(template)
    return text % error.params if error.params else text


def _flash_error(exc: DomainError) -> None:
    flash(str(exc.message), "danger")


def _parse_date(value: str | None, default: date) -> date:
    try:
        return date.fromisoformat(value) if value else default
    except ValueError:
        return default


def _int_arg(name: str) -> int | None:
    try:
        value = int(request.args.get(name, ""))
    except ValueError:
        return None
    return value if 0 < value < 2**31 else None


def _get_or_404(model, ident):
    obj = db.session.get(model, ident)
    if obj is None:
        abort(404)
    return obj


def _plan_labels() -> dict:
    return {
        "free": _("Free"), "leased": _("Leased"), "reserved": _("Reserved"), "ending_soon": _("Ending within 30 days"),
        "out_of_service": _("Out of service"), "mine": _("My team's spaces"), "legend": _("Legend"),
        "desk_hot": _("Hot desk"), "desk_fixed": _("Fixed desk"), "office": _("Private office"), "seats": _("seats"),
        "holder": _("Team"), "period": _("Lease"), "until": _("to"), "floor_plan": _("Floor plan"),
    }


PLAN_CACHE_SIZE = 128


def _plan_cache() -> tuple[OrderedDict, threading.Lock]:
    # Per app (so a new app, e.g. in each test, never sees plans of a database it did not read).
    return current_app.extensions.setdefault("spaces_plan_cache", (OrderedDict(), threading.Lock()))


def floor_plan_svg(floor: Floor, on_date: date, *, highlight_team_ids=(), links: bool = True,
                   show_holders: bool = True) -> str:
    """The SVG of one floor on one date: from this process's cache when the floor's plan_version
    (bumped by every service that changes leases, outages or the layout) has not moved, else
    drawn in 3 queries whatever the number of spaces or leases."""
    # plan_version moves with what the spaces services change; the "spaces" data version (bumped by
    # database triggers, see incubator/pagecache) also with what they do not, such as a team renamed
    # elsewhere, whose name the plan shows.
    key = (floor.id, floor.plan_version, current_versions(("spaces",)), on_date, local_today(), str(get_locale()),
           frozenset(highlight_team_ids), links, show_holders, floor.background_key)
    cache, lock = _plan_cache()
    with lock:
        svg = cache.get(key)
        if svg is not None:
            cache.move_to_end(key)
            return svg
    svg = _draw_floor_plan(floor, on_date, highlight_team_ids=highlight_team_ids, links=links,
                           show_holders=show_holders)
    with lock:
        cache[key] = svg
        while len(cache) > PLAN_CACHE_SIZE:
            cache.popitem(last=False)
    return svg


def _draw_floor_plan(floor: Floor, on_date: date, *, highlight_team_ids=(), links: bool = True,
                     show_holders: bool = True) -> str:
    spaces = db.session.execute(
        db.select(Space.id, Space.code, Space.type, Space.capacity, Space.x, Space.y, Space.w, Space.h)
        .where(Space.floor_id == floor.id)).all()
    # The leases that hold the date and those still to come (a space booked ahead is drawn reserved).
    leases = db.session.execute(
        db.select(Lease.space_id, Lease.start_date, Lease.end_date, Lease.team_id, Team.name)
        .join(Space, Lease.space_id == Space.id).join(Team, Lease.team_id == Team.id)
        .where(Space.floor_id == floor.id, Lease.status == "active", Lease.end_date > on_date)).all()
    outages = db.session.execute(
        db.select(SpaceOutage.space_id, SpaceOutage.start_date, SpaceOutage.end_date)
        .join(Space, SpaceOutage.space_id == Space.id)
        .where(Space.floor_id == floor.id, SpaceOutage.start_date <= on_date,
               db.or_(SpaceOutage.end_date.is_(None), SpaceOutage.end_date > on_date))).all()
    today = local_today()
    highlight_team_ids = set(highlight_team_ids)
    states, highlight = {}, set()
    for space_id, start, end in outages:
        states[space_id] = floorplan.SpaceState("out_of_service", None, start, end)
    by_space: dict[int, list] = {}
    for space_id, start, end, team_id, team_name in leases:
        by_space.setdefault(space_id, []).append((start, end, "active", team_name, space_id, team_id))
    for space_id, rows in by_space.items():
        if space_id in states:  # out of service: the team holding it then still sees it as theirs
            if any(r[5] in highlight_team_ids and r[0] <= on_date for r in rows):
                highlight.add(space_id)
            continue
        state = floorplan.state_for(space_id, on_date, [r[:5] for r in rows], (), today, upcoming=True)
        # The lease that decided the state: the one drawn, highlighted and named.
        team_id = next((r[5] for r in rows if (r[0], r[1], r[3]) == (state.start, state.end, state.holder)), None)
        if team_id in highlight_team_ids:
            highlight.add(space_id)
        if not show_holders and team_id not in highlight_team_ids:
            state = floorplan.SpaceState(state.state, None, None, None)
        states[space_id] = state
    plan_spaces = [floorplan.PlanSpace(r.id, r.code, r.type, r.capacity, r.x, r.y, r.w, r.h) for r in spaces]
    background = url_for("spaces.floor_background", floor_id=floor.id) if floor.background_key else None
    href = (lambda s: url_for("spaces.space_detail", space_id=s.id)) if links else "#space-{code}"
    plan_floor = floorplan.PlanFloor(floor.id, floor.audit_label, floor.plan_width, floor.plan_height)
    return floorplan.render_floor_svg(plan_floor, plan_spaces, states,
                                      highlight, _plan_labels(), background, href=href)


# --- manager: building set-up ------------------------------------------------------------------

@bp.get("/")
@manager_required
def manage():
    buildings = list(db.session.scalars(db.select(Building).options(db.selectinload(Building.floors))
                                         .order_by(Building.name)))
    counts = dict(db.session.execute(db.select(Space.floor_id, db.func.count()).group_by(Space.floor_id)).all())
    building_form = BuildingForm(prefix="b")
    floor_form = FloorForm(prefix="f")
    floor_form.building_id.choices = [(b.id, b.name) for b in buildings]
    return render_template("spaces/manage.html", buildings=buildings, counts=counts, building_form=building_form,
                           floor_form=floor_form)


def _setup_page(form, status: int, title: str, delete_url: str, delete_note: str, fields: list):
    return render_template("spaces/edit.html", form=form, title=title, delete_url=delete_url, delete_note=delete_note,
                           fields=fields, confirm=ConfirmForm()), status


@bp.post("/buildings")
@manager_required
def create_building():
    form = BuildingForm(prefix="b")
    if not form.validate_on_submit():
        flash(_("Give the building a name."), "danger")
        return redirect(url_for("spaces.manage"))
    return commit_or_refuse(lambda: services.create_building(current_user, form.name.data, form.address.data),
                            _("Building added."), url_for("spaces.manage"))


@bp.post("/floors")
@manager_required
def create_floor():
    form = FloorForm(prefix="f")
    form.building_id.choices = [(b.id, b.name) for b in db.session.scalars(db.select(Building))]
    if not form.validate_on_submit():
        flash(_("Check the floor: number, building and plan size are required."), "danger")
        return redirect(url_for("spaces.manage"))
    try:
        floor = services.create_floor(current_user, form.building_id.data, form.number.data, form.name.data,
                                      form.plan_width.data, form.plan_height.data)
    except DomainError as exc:
        return refuse(exc, url_for("spaces.manage"))
    db.session.commit()
    flash(_("Floor added. Import its layout next."), "success")
    return redirect(url_for("spaces.import_layout", floor_id=floor.id))


@bp.route("/buildings/<int:building_id>/edit", methods=["GET", "POST"])
@manager_required
def edit_building(building_id: int):
    building = _get_or_404(Building, building_id)
    form = BuildingForm(obj=building)
    saved, status = save_form(form, lambda: services.update_building(current_user, building, form.name.data,
                                                                      form.address.data),
                              _("Building saved."), url_for("spaces.manage"))
    return saved or _setup_page(form, status, _("Edit building"),
                                url_for("spaces.delete_building", building_id=building_id),
                                _("Only a building without floors can be deleted."), [form.name, form.address])


@bp.post("/buildings/<int:building_id>/delete")
@manager_required
def delete_building(building_id: int):
    building = _get_or_404(Building, building_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    return commit_or_refuse(lambda: services.delete_building(current_user, building), _("Building deleted."),
                            url_for("spaces.manage"), url_for("spaces.edit_building", building_id=building_id))


@bp.route("/floors/<int:floor_id>/edit", methods=["GET", "POST"])
@manager_required
def edit_floor(floor_id: int):
    floor = _get_or_404(Floor, floor_id)
    form = FloorForm(obj=floor)
    del form.building_id  # a floor stays in its building
    saved, status = save_form(form, lambda: services.update_floor(
        current_user, floor, form.number.data, form.name.data, form.plan_width.data, form.plan_height.data),
        _("Floor saved."), url_for("spaces.manage"))
    return saved or _setup_page(form, status, _("Edit floor"), url_for("spaces.delete_floor", floor_id=floor_id),
                                _("Deleting a floor deletes its zones and spaces; a floor whose spaces were ever "
                                  "leased cannot be deleted."),
                                [form.number, form.name, form.plan_width, form.plan_height])


@bp.post("/floors/<int:floor_id>/delete")
@manager_required
def delete_floor(floor_id: int):
    from ..storage.client import get_storage

    floor = _get_or_404(Floor, floor_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    try:
        image_key = services.delete_floor(current_user, floor)
    except DomainError as exc:
        return refuse(exc, url_for("spaces.edit_floor", floor_id=floor_id))
    db.session.commit()
    if image_key:  # after the commit: a failed removal leaves an unused object, never a floor without its image
        try:
            get_storage().delete(image_key)
        except Exception:
            current_app.logger.warning("floor %s deleted; its plan image %s stays in storage", floor_id, image_key,
                                       exc_info=True)
    flash(_("Floor deleted."), "success")
    return redirect(url_for("spaces.manage"))


def _read_layout_upload(storage) -> object:
    data = storage.read(MAX_LAYOUT_BYTES + 1)
    if len(data) > MAX_LAYOUT_BYTES:
        abort(413)
    if data[:4] == b"PK\x03\x04":  # by content: an XLSX is a zip
        try:
            from openpyxl import load_workbook

            workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
            rows = [list(r) for r in workbook.worksheets[0].iter_rows(values_only=True)]
            workbook.close()
        except Exception:
            return layout_csv.LayoutResult((), (layout_csv.LayoutError(1, "xlsx_unreadable", {}),))
        return layout_csv.parse_layout(rows)
    return layout_csv.parse_layout(data)


@bp.route("/floors/<int:floor_id>/import", methods=["GET", "POST"])
@manager_required
def import_layout(floor_id: int):
    floor = _get_or_404(Floor, floor_id)
    form = LayoutUploadForm()
    errors = []
    status = 200
    if form.validate_on_submit():
        result = _read_layout_upload(form.file.data)
        errors, created, updated = services.import_layout(current_user, floor, result)
        if not errors:
            db.session.commit()
            flash(_("Layout imported: %(created)s new spaces, %(updated)s updated.", created=created, updated=updated),
                  "success")
            return redirect(url_for("spaces.floor_plan", floor_id=floor.id))
        db.session.rollback()
        status = 400
    elif request.method == "POST":
        status = 400
    messages = [(e.line, layout_message(e)) for e in errors]
    return render_template("spaces/import.html", floor=floor, form=form, errors=messages,
                           columns=layout_csv.COLUMNS), status


def _layout_rows(floor: Floor) -> list[list]:
    rows = db.session.execute(
        db.select(Space.code, Zone.code.label("zone"), Space.type, Space.capacity, Space.x, Space.y, Space.w, Space.h,
                  Space.features).join(Zone, Space.zone_id == Zone.id).where(Space.floor_id == floor.id)).all()

    class Row:
        def __init__(self, r):
            self.code, self.floor, self.zone, self.type, self.capacity = r.code, floor.number, r.zone, r.type, r.capacity
            self.x, self.y, self.width, self.height = (_n(r.x), _n(r.y), _n(r.w), _n(r.h))
            self.features = r.features or ()

    return layout_csv.export_rows([Row(r) for r in rows])


def _n(value: float):
    return int(value) if float(value).is_integer() else value


@bp.get("/floors/<int:floor_id>/layout.csv")
@manager_required
def export_layout_csv(floor_id: int):
    floor = _get_or_404(Floor, floor_id)
    return csv_response(f"layout-{floor.number}F.csv", _layout_rows(floor))


@bp.get("/floors/<int:floor_id>/layout.xlsx")
@manager_required
def export_layout_xlsx(floor_id: int):
    floor = _get_or_404(Floor, floor_id)
    return xlsx_response(f"layout-{floor.number}F.xlsx", _layout_rows(floor), sheet=f"{floor.number}F")


MAX_BACKGROUND_BYTES = 5 * 1024 * 1024
IMAGE_TYPES = ((b"\x89PNG\r\n\x1a\n", "image/png"), (b"\xff\xd8\xff", "image/jpeg"))


@bp.post("/floors/<int:floor_id>/background")
@manager_required
def upload_background(floor_id: int):
    """A plan image (PNG/JPEG, checked by content, at most 5 MB) kept in S3 and drawn under the spaces."""
    from ..storage.client import get_storage, new_key

    floor = _get_or_404(Floor, floor_id)
    form = BackgroundForm()
    if not form.validate_on_submit():
        flash(_("Choose a PNG or JPEG image."), "danger")
        return redirect(url_for("spaces.floor_plan", floor_id=floor.id)), 303
    data = form.image.data.read(MAX_BACKGROUND_BYTES + 1)
    content_type = next((t for magic, t in IMAGE_TYPES if data.startswith(magic)), None)
    if len(data) > MAX_BACKGROUND_BYTES or content_type is None:
        flash(_("The plan image must be a PNG or JPEG file of at most 5 MB."), "danger")
        return redirect(url_for("spaces.floor_plan", floor_id=floor.id)), 303
    key = new_key("floorplans", floor.id)
    try:
        get_storage().put_stream(key, io.BytesIO(data), content_type)
    except DomainError as exc:
        _flash_error(exc)
        return redirect(url_for("spaces.floor_plan", floor_id=floor.id)), 303
    services.set_floor_background(current_user, floor, key)
    db.session.commit()
    flash(_("The plan image was saved."), "success")
    return redirect(url_for("spaces.floor_plan", floor_id=floor.id))


@bp.get("/floors/<int:floor_id>/background")
@roles_required(Role.MANAGER, Role.FOUNDER)
def floor_background(floor_id: int):
    """The plan image, served through us (the CSP allows images from 'self' only). Managers, and
    founders whose team has a lease on this floor."""
    from ..storage.client import get_storage

    floor = _get_or_404(Floor, floor_id)
    if not current_user.has_role(Role.MANAGER):
        on_floor = db.session.scalar(
            db.select(Lease.id).join(Space, Lease.space_id == Space.id)
            .where(Space.floor_id == floor.id, Lease.status == "active", Lease.team_id.in_(_my_team_ids() or [0]))
            .limit(1))
        if on_floor is None:
            abort(404)
    if not floor.background_key:
        abort(404)
    try:
        data = get_storage().read_range(floor.background_key, 0, MAX_BACKGROUND_BYTES)
    except DomainError:
        abort(503)
    if not data:
        abort(404)
    content_type = next((t for magic, t in IMAGE_TYPES if data.startswith(magic)), "application/octet-stream")
    response = Response(data, mimetype=content_type)
    response.headers["Cache-Control"] = "private, max-age=3600"
    return response


@bp.get("/floors/<int:floor_id>/plan")
@read_only
@manager_required
def floor_plan(floor_id: int):
    # The same page for every manager until a lease, outage, team or the layout changes; sent
    # gzipped to browsers without compressing 600 KiB per request (see incubator/pagecache).
    return cached_page(("spaces",), lambda: _render_floor_plan(floor_id), gzip=True)


def _render_floor_plan(floor_id: int) -> str:
    floor = _get_or_404(Floor, floor_id)
    on_date = _parse_date(request.args.get("date"), local_today())
    svg = floor_plan_svg(floor, on_date)
    floors = list(db.session.scalars(db.select(Floor).where(Floor.building_id == floor.building_id).order_by(Floor.number)))
    return render_template("spaces/plan.html", floor=floor, floors=floors, on_date=on_date, svg=Markup(svg),
                           background_form=BackgroundForm())


@bp.route("/space/<int:space_id>", methods=["GET", "POST"])
@manager_required
def space_detail(space_id: int):
    space = _get_or_404(Space, space_id)
    form = OutageForm()
    if form.validate_on_submit():
        try:
            services.put_out_of_service(current_user, space, form.start_date.data, form.end_date.data, form.reason.data)
        except DomainError as exc:
            db.session.rollback()
            _flash_error(exc)
        else:
            db.session.commit()
            flash(_("The space is marked out of service for that period."), "success")
            return redirect(url_for("spaces.space_detail", space_id=space.id))
    history = services.space_history(space)
    outages = list(db.session.scalars(db.select(SpaceOutage).where(SpaceOutage.space_id == space.id)
                                      .order_by(SpaceOutage.start_date.desc())))
    today = local_today()
    end_form = OutageEndForm(prefix="lift", formdata=None, data={"on_date": today})
    return render_template("spaces/space.html", space=space, history=history, outages=outages, form=form,
                           end_form=end_form, today=today)


@bp.post("/outages/<int:outage_id>/end")
@manager_required
def end_outage(outage_id: int):
    """Put a space back in service: its outage ends on the chosen day (or is called off if it had
    not begun)."""
    outage = _get_or_404(SpaceOutage, outage_id)
    back = url_for("spaces.space_detail", space_id=outage.space_id)
    form = OutageEndForm(prefix="lift")
    if not form.validate_on_submit():
        flash(_("Check the date and try again."), "danger")
        return redirect(back)
    return commit_or_refuse(lambda: services.end_outage(current_user, outage, form.on_date.data),
                            _("The space is back in service from %(date)s.", date=form.on_date.data.isoformat()), back)


# --- manager: admission, waitlist, allocation, leases ---------------------------------------------

@bp.route("/admissions", methods=["GET", "POST"])
@manager_required
def admissions():
    form = AdmitForm()
    admitted_ids = db.select(Admission.team_id)
    form.team_id.choices = [(t.id, t.name) for t in db.session.scalars(
        db.select(Team).where(Team.id.not_in(admitted_ids), Team.name != "").order_by(Team.name))]
    form.award_level_rank.choices = [(0, _("No award"))] + [(k, str(v)) for k, v in AWARD_LEVEL_LABELS.items()]
    if form.validate_on_submit():
        team = _get_or_404(Team, form.team_id.data)
        services.admit_team(current_user, team, form.note.data or "", award_level_rank=form.award_level_rank.data or None)
        db.session.commit()
        flash(_("Team %(name)s admitted.", name=team.name), "success")
        return redirect(url_for("spaces.admissions"))
    rows = db.session.execute(db.select(Admission, Team).join(Team, Admission.team_id == Team.id)
                              .order_by(Admission.admitted_at.desc())).all()
    return render_template("spaces/admissions.html", form=form, rows=rows, award_labels=AWARD_LEVEL_LABELS)


@bp.get("/waitlist")
@manager_required
def waitlist():
    requests_ = services.waitlist()
    return render_template("spaces/waitlist.html", requests=requests_, form=PriorityForm())


@bp.post("/requests/<int:request_id>/priority")
@manager_required
def set_priority(request_id: int):
    req = _get_or_404(SpaceRequest, request_id)
    form = PriorityForm()
    if form.validate_on_submit():
        try:
            services.set_priority(current_user, req, form.priority.data, form.reason.data or "")
        except DomainError as exc:
            db.session.rollback()
            _flash_error(exc)
            return redirect(url_for("spaces.waitlist")), 303
        db.session.commit()
        flash(_("The order of the waiting list was changed."), "success")
    else:
        flash(_("Give a priority between 1 and 9999."), "danger")
    return redirect(url_for("spaces.waitlist"))


@bp.route("/allocate", methods=["GET", "POST"])
@manager_required
def allocate():
    req = db.session.get(SpaceRequest, _int_arg("request_id")) if _int_arg("request_id") else None
    if req is not None and req.status != "waiting":
        req = None
    form = AllocateForm()
    teams = list(db.session.scalars(db.select(Team).join(Admission, Admission.team_id == Team.id).order_by(Team.name)))
    form.team_id.choices = [(t.id, t.name) for t in teams]
    today = local_today()
    if req is not None:
        start, end = services.request_period(req, today)
        seats, space_type, zone_id = req.seats, req.space_type, req.preferred_zone_id
        if request.method == "GET":
            form.team_id.data = req.team_id
    else:
        start = _parse_date(request.args.get("start"), today)
        end = _parse_date(request.args.get("end"), services.add_months(start, 6))
        seats = _int_arg("seats") or 1
        space_type = request.args.get("type") if request.args.get("type") in SPACE_TYPES else "desk_fixed"
        zone_id = _int_arg("zone_id")
        if request.method == "GET" and _int_arg("team_id"):
            form.team_id.data = _int_arg("team_id")
    if request.method == "GET":
        form.start_date.data, form.end_date.data = start, end
    if form.validate_on_submit():
        team = _get_or_404(Team, form.team_id.data)
        space_ids = [i for i in map(record_id, request.form.getlist("space_ids")) if i is not None]
        try:
            leases = services.allocate(current_user, team, space_ids, form.start_date.data, form.end_date.data,
                                       request=req if req is not None and req.team_id == team.id else None)
        except DomainError as exc:
            db.session.rollback()
            _flash_error(exc)
            status = exc.status_code
        else:
            db.session.commit()
            flash(_("%(n)s spaces leased to %(team)s.", n=len(leases), team=team.name), "success")
            return redirect(url_for("spaces.team_detail", team_id=team.id))
        start, end = form.start_date.data, form.end_date.data
    else:
        status = 400 if request.method == "POST" else 200
    suggestion = None
    free = []
    if end > start:
        suggestion = services.suggest(seats, space_type, start, end, preferred_zone_id=zone_id)
        free = db.session.execute(
            services.free_spaces_query(start, end).with_only_columns(Space.id, Space.code, Space.type, Space.capacity,
                                                                     Zone.code.label("zone"),
                                                                     Building.name.label("building"))
            .join(Zone, Space.zone_id == Zone.id).join(Building, Space.building_id == Building.id)
            .where(Space.type == space_type)).all()
    chosen = set(suggestion.space_ids) if suggestion else set()
    if request.method == "POST":
        chosen = {i for i in map(record_id, request.form.getlist("space_ids")) if i is not None}
    # Codes repeat across buildings (each may have its 3F-A-001): with several, each space and zone
    # is shown with its building.
    several_buildings = (db.session.scalar(db.select(db.func.count()).select_from(Building)) or 0) > 1
    return render_template("spaces/allocate.html", form=form, req=req, suggestion=suggestion, free=free, chosen=chosen,
                           seats=seats, space_type=space_type, zone_id=zone_id, zones=_zone_choices(several_buildings),
                           start=start, end=end, type_labels=SPACE_TYPE_LABELS, space_types=SPACE_TYPES,
                           several_buildings=several_buildings), status


def _zone_choices(several_buildings: bool) -> list[tuple[int, str]]:
    """(zone id, "floor zone") for the zone pickers, the building first when there are several."""
    rows = db.session.execute(db.select(Zone.id, Zone.code, Floor.name, Building.name.label("building"))
                              .join(Floor, Zone.floor_id == Floor.id).join(Building, Floor.building_id == Building.id)
                              .order_by(Building.name, Floor.number, Zone.code)).all()
    return [(z.id, f"{z.building} {z.name} {z.code}" if several_buildings else f"{z.name} {z.code}") for z in rows]


LEASES_PER_PAGE = 100


@bp.get("/leases")
@manager_required
def leases():
    page = _int_arg("page") or 1
    q = (db.select(Lease).where(Lease.status == "active")
         .options(db.joinedload(Lease.space).joinedload(Space.zone), db.joinedload(Lease.team))
         .order_by(Lease.end_date, Lease.id))
    rows = list(db.session.scalars(q.limit(LEASES_PER_PAGE).offset((page - 1) * LEASES_PER_PAGE)))
    return render_template("spaces/leases.html", leases=rows, page=page, per_page=LEASES_PER_PAGE,
                           today=local_today(), confirm=ConfirmForm())


@bp.route("/leases/<int:lease_id>", methods=["GET"])
@manager_required
def lease_detail(lease_id: int):
    lease = _get_or_404(Lease, lease_id)
    return render_template("spaces/lease.html", lease=lease, renew_form=DateChangeForm(prefix="renew"),
                           shorten_form=DateChangeForm(prefix="shorten"), end_form=DateChangeForm(prefix="end"),
                           cancel_form=CancelForm(prefix="cancel"), today=local_today())


@bp.post("/leases/<int:lease_id>/<action>")
@manager_required
def lease_action(lease_id: int, action: str):
    lease = _get_or_404(Lease, lease_id)
    if action not in ("renew", "shorten", "end", "cancel"):
        abort(404)
    form = CancelForm(prefix="cancel") if action == "cancel" else DateChangeForm(prefix=action)
    if not form.validate_on_submit():
        flash(_("Check the date or reason and try again."), "danger")
        return redirect(url_for("spaces.lease_detail", lease_id=lease.id))
    change = {"renew": lambda: services.renew(current_user, lease, form.end_date.data),
              "shorten": lambda: services.shorten(current_user, lease, form.end_date.data),
              "end": lambda: services.end_early(current_user, lease, form.end_date.data),
              "cancel": lambda: services.cancel(current_user, lease, form.reason.data)}[action]
    return commit_or_refuse(change, _("The lease was updated."), url_for("spaces.lease_detail", lease_id=lease_id))


@bp.route("/teams/<int:team_id>", methods=["GET", "POST"])
@manager_required
def team_detail(team_id: int):
    team = _get_or_404(Team, team_id)
    form = MoveForm()
    if form.validate_on_submit():
        # One field per lease, named by its id: each lease goes where its own field says.
        new_codes = {}
        for name, value in request.form.items():
            if name.startswith("new_code-") and value.strip():
                lease_id = record_id(name.removeprefix("new_code-"))
                if lease_id is None:
                    abort(400)
                new_codes[lease_id] = value
        try:
            services.move_team(current_user, team, new_codes, form.on_date.data)
        except DomainError as exc:
            db.session.rollback()
            _flash_error(exc)
        else:
            db.session.commit()
            flash(_("The team was moved."), "success")
            return redirect(url_for("spaces.team_detail", team_id=team.id))
    history = services.team_history(team)
    admission = services.admission_of(team)
    requests_ = list(db.session.scalars(db.select(SpaceRequest).where(SpaceRequest.team_id == team.id)
                                        .order_by(SpaceRequest.requested_at.desc())))
    return render_template("spaces/team.html", team=team, history=history, admission=admission, requests=requests_,
                           form=form, positions=services.waitlist_positions())


# --- occupancy -------------------------------------------------------------------------------------

@bp.get("/occupancy")
@manager_required
def occupancy_dashboard():
    today = local_today()
    rates = occupancy.rates_on(today)
    scopes = {f"{level}-{r.key[-1]}": (level, r.key[-1], r.label) for level in ("building", "floor", "zone")
              for r in rates[level]}
    chosen = scopes.get(request.args.get("scope", ""))
    monthly = occupancy.monthly_rates(today, scope=(chosen[0], chosen[1]) if chosen else None)
    chart = occupancy.bar_chart_svg([(d.strftime("%Y-%m") if d.day == 1 else d.isoformat(), pct) for d, pct in monthly],
                                    title=_("Occupancy over time"))
    zone_chart = occupancy.bar_chart_svg([(r.label, r.percent) for r in rates["zone"]], title=_("Occupancy by zone"))
    residents = db.session.execute(
        db.select(Team.id, Team.name, db.func.count(Lease.id)).join(Lease, Lease.team_id == Team.id)
        .where(Lease.status == "active", Lease.start_date <= today, Lease.end_date > today)
        .group_by(Team.id, Team.name).order_by(Team.name)).all()
    ending = list(db.session.scalars(
        db.select(Lease).where(Lease.status == "active", Lease.end_date > today,
                               Lease.end_date <= today + timedelta(days=30))
        .options(db.joinedload(Lease.space), db.joinedload(Lease.team)).order_by(Lease.end_date, Lease.id).limit(200)))
    waiting = db.session.scalar(db.select(db.func.count()).select_from(SpaceRequest)
                                .where(SpaceRequest.status == "waiting")) or 0
    return render_template("spaces/occupancy.html", rates=rates, chart=Markup(chart), scopes=scopes,
                           scope=request.args.get("scope", "") if chosen else "", scope_label=chosen[2] if chosen else "", zone_chart=Markup(zone_chart),
                           residents=residents, ending=ending, waiting=waiting, today=today)


def _lease_export_rows() -> list[list]:
    rows = db.session.execute(
        db.select(Lease.id, Space.code, Team.name, Lease.start_date, Lease.end_date, Lease.status, Lease.group_id)
        .join(Space, Lease.space_id == Space.id).join(Team, Lease.team_id == Team.id)
        .order_by(Space.code, Lease.start_date)).all()
    header = [_("Lease"), _("Space"), _("Team"), _("Start"), _("Last day"), _("Status"), _("Group")]
    return [header] + [[r.id, r.code, r.name, r.start_date.isoformat(), (r.end_date - timedelta(days=1)).isoformat(),
                        r.status, r.group_id] for r in rows]


def _occupancy_export_rows() -> list[list]:
    today = local_today()
    rates = occupancy.rates_on(today)
    out = [[_("Level"), _("Place"), _("Seats"), _("Leased"), _("Occupancy %"), _("Date")]]
    for level, label in (("building", _("Building")), ("floor", _("Floor")), ("zone", _("Zone"))):
        out += [[label, r.label, r.seats, r.leased, r.percent, today.isoformat()] for r in rates[level]]
    return out


@bp.get("/export/<what>.<ext>")
@manager_required
def export(what: str, ext: str):
    if what not in ("leases", "occupancy") or ext not in ("csv", "xlsx"):
        abort(404)
    rows = _lease_export_rows() if what == "leases" else _occupancy_export_rows()
    if ext == "csv":
        return csv_response(f"{what}.csv", rows)
    return xlsx_response(f"{what}.xlsx", rows, sheet=what)


# --- founders ------------------------------------------------------------------------------------

def _my_team_ids() -> list[int]:
    return [t.id for t in services.teams_of(current_user)]


@bp.get("/mine")
@founder_required
def my_spaces():
    teams = services.teams_of(current_user)
    team_ids = [t.id for t in teams]
    admitted = set(db.session.scalars(db.select(Admission.team_id).where(Admission.team_id.in_(team_ids or [0]))))
    leases_ = list(db.session.scalars(
        db.select(Lease).where(Lease.team_id.in_(team_ids or [0]), Lease.status == "active")
        .options(db.joinedload(Lease.space).joinedload(Space.zone)).order_by(Lease.start_date, Lease.id)))
    requests_ = list(db.session.scalars(db.select(SpaceRequest).where(SpaceRequest.team_id.in_(team_ids or [0]))
                                        .options(db.joinedload(SpaceRequest.team))
                                        .order_by(SpaceRequest.requested_at.desc())))
    positions = services.waitlist_positions()
    on_date = _parse_date(request.args.get("date"), local_today())
    floor_ids = sorted({lease.space.floor_id for lease in leases_})
    plans = []
    for floor in db.session.scalars(db.select(Floor).where(Floor.id.in_(floor_ids or [0])).order_by(Floor.number)):
        plans.append((floor, Markup(floor_plan_svg(floor, on_date, highlight_team_ids=team_ids, links=False,
                                                   show_holders=False))))
    return render_template("spaces/mine.html", teams=teams, admitted=admitted, leases=leases_, requests=requests_,
                           positions=positions, plans=plans, on_date=on_date, confirm=ConfirmForm())


@bp.get("/mine/leases/<int:lease_id>")
@founder_required
def my_lease(lease_id: int):
    lease = db.session.get(Lease, lease_id)
    if lease is None or lease.team_id not in _my_team_ids():
        abort(404)
    return render_template("spaces/my_lease.html", lease=lease)


@bp.route("/mine/request", methods=["GET", "POST"])
@founder_required
def new_request():
    teams = services.teams_of(current_user)
    admitted_ids = set(db.session.scalars(db.select(Admission.team_id).where(
        Admission.team_id.in_([t.id for t in teams] or [0]))))
    form = SpaceRequestForm()
    form.team_id.choices = [(t.id, t.name) for t in teams if t.id in admitted_ids]
    form.space_type.choices = type_choices()
    several_buildings = (db.session.scalar(db.select(db.func.count()).select_from(Building)) or 0) > 1
    form.preferred_zone_id.choices = [(0, _("No preference"))] + _zone_choices(several_buildings)
    if not form.team_id.choices:
        flash(_("Only teams admitted to the incubator can ask for space."), "warning")
        return redirect(url_for("spaces.my_spaces"))
    if request.method == "GET" and form.start_date.data is None:
        form.start_date.data = local_today() + timedelta(days=7)
    status = 200
    if form.validate_on_submit():
        team = db.session.get(Team, form.team_id.data)
        if team is None or team.id not in admitted_ids:
            abort(404)
        try:
            services.create_request(current_user, team, seats=form.seats.data, space_type=form.space_type.data,
                                    start_date=form.start_date.data, duration_months=form.duration_months.data,
                                    preferred_zone_id=form.preferred_zone_id.data or None, note=form.note.data or "")
        except DomainError as exc:
            db.session.rollback()
            if exc.field and hasattr(form, exc.field):
                getattr(form, exc.field).errors.append(str(exc.message))
            else:
                _flash_error(exc)
            status = 400
        else:
            db.session.commit()
            flash(_("Your request is on the waiting list."), "success")
            return redirect(url_for("spaces.my_spaces"))
    elif request.method == "POST":
        status = 400
    return render_template("spaces/request.html", form=form), status


@bp.post("/mine/requests/<int:request_id>/cancel")
@founder_required
def cancel_my_request(request_id: int):
    req = db.session.get(SpaceRequest, request_id)
    if req is None or req.team_id not in _my_team_ids():
        abort(404)
    if not ConfirmForm().validate_on_submit():
        return redirect(url_for("spaces.my_spaces"))
    return commit_or_refuse(lambda: services.cancel_request(current_user, req), _("Request cancelled."),
                            url_for("spaces.my_spaces"))
