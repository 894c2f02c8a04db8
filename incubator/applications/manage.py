"""The managers' list of applications: filters, counts, bulk status change, CSV and XLSX export.

The list runs a fixed number of queries whatever the number of rows: the page's rows come with
their competition, track and team joined, and the team members in one extra SELECT ... IN."""
from __future__ import annotations

from dataclasses import dataclass

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from ..accounts.permissions import manager_required
from ..competitions.models import Competition, Track
from ..errors import DomainError
from ..extensions import db
from ..pagecache import cached_page, read_only
from ..spreadsheets import csv_response, xlsx_response
from ..timeutils import to_local
from . import services
from .forms import BulkStatusForm
from .models import APPLICATION_STATUSES, STATUS_LABELS, Application, Team, TeamMember
from .views import bp

PER_PAGE = 50
SORTS = {
    "updated": (Application.updated_at.desc(), Application.id.desc()),
    "submitted": (Application.submitted_at.desc(), Application.id.desc()),
    "project": (Application.project_name.asc(), Application.id.asc()),
    "team": (Team.name.asc(), Application.id.asc()),
    "status": (Application.status.asc(), Application.id.asc()),
    "id": (Application.id.asc(),),
}


@dataclass
class Filters:
    competition_id: int | None = None
    track_id: int | None = None
    status: str | None = None
    q: str = ""
    sort: str = "updated"
    page: int = 1

    @classmethod
    def from_args(cls, args) -> Filters:
        def as_int(name):
            try:
                value = int(args.get(name, ""))
            except ValueError:
                return None
            return value if 0 < value < 2**31 else None

        status = args.get("status") or None
        sort = args.get("sort") or "updated"
        return cls(
            competition_id=as_int("competition_id"), track_id=as_int("track_id"),
            status=status if status in APPLICATION_STATUSES else None,
            q=(args.get("q") or "").strip()[:100], sort=sort if sort in SORTS else "updated",
            page=as_int("page") or 1,
        )

    def args(self, **changes) -> dict:
        values = {"competition_id": self.competition_id, "track_id": self.track_id, "status": self.status,
                  "q": self.q or None, "sort": self.sort if self.sort != "updated" else None, "page": None}
        values.update(changes)
        return {k: v for k, v in values.items() if v not in (None, "")}


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _conditions(f: Filters, *, with_track_status: bool = True) -> list:
    conds = []
    if f.competition_id:
        conds.append(Application.competition_id == f.competition_id)
    if with_track_status and f.track_id:
        conds.append(Application.track_id == f.track_id)
    if with_track_status and f.status:
        conds.append(Application.status == f.status)
    if f.q:
        pattern = f"%{_escape_like(f.q)}%"
        conds.append(db.or_(Application.project_name.ilike(pattern, escape="\\"),
                            Team.name.ilike(pattern, escape="\\")))
    return conds


def filtered_select(f: Filters):
    return (
        db.select(Application).join(Application.team).where(*_conditions(f))
        .options(db.contains_eager(Application.team).selectinload(Team.members),
                 db.joinedload(Application.track), db.joinedload(Application.competition))
        .order_by(*SORTS[f.sort])
    )


def counts(f: Filters) -> dict[tuple[int | None, str], int]:
    """Applications per (track, status) under the current competition and keyword filters."""
    stmt = db.select(Application.track_id, Application.status, db.func.count(Application.id))
    if f.q:  # the keyword also searches team names; without one the join only costs time
        stmt = stmt.join(Application.team)
    stmt = stmt.where(*_conditions(f, with_track_status=False)).group_by(Application.track_id, Application.status)
    return {(track_id, status): n for track_id, status, n in db.session.execute(stmt)}


@dataclass(frozen=True, slots=True)
class ListRow:
    """What one row of the list shows: plain values, no ORM object (loading 50 applications with
    their team, members, track and competition cost more than rendering them)."""
    id: int
    project_name: str
    status: str
    track_id: int | None
    submitted_at: object
    team_name: str
    lead_name: str | None  # None: the team has no lead


def list_rows(f: Filters) -> list[ListRow]:
    """The page's rows in two queries whatever their number: the rows, then their teams' leads
    (the lead is the first member marked lead by position, as Team.lead picks it)."""
    stmt = (
        db.select(Application.id, Application.project_name, Application.status, Application.track_id,
                  Application.submitted_at, Team.id, Team.name)
        .join(Application.team).where(*_conditions(f)).order_by(*SORTS[f.sort])
        .limit(PER_PAGE).offset((f.page - 1) * PER_PAGE)
    )
    found = db.session.execute(stmt).all()
    if not found:
        return []
    leads: dict[int, str] = {}
    lead_stmt = (db.select(TeamMember.team_id, TeamMember.name)
                 .where(TeamMember.team_id.in_({r[5] for r in found}), TeamMember.is_lead.is_(True))
                 .order_by(TeamMember.team_id, TeamMember.position, TeamMember.id))
    for team_id, name in db.session.execute(lead_stmt):
        leads.setdefault(team_id, name)
    return [ListRow(app_id, project, status, track_id, submitted, team_name, leads.get(team_id))
            for app_id, project, status, track_id, submitted, team_id, team_name in found]


@bp.get("/manage/applications")
@read_only
@manager_required
def manage_list():
    # The same page for every manager until an application, team, track or competition changes;
    # gzipped for browsers that ask (the keyword it echoes never shares a compression context
    # with the CSRF token: see incubator/pagecache).
    return cached_page(("applications",), _render_list, gzip=True)


def _render_list() -> str:
    f = Filters.from_args(request.args)
    grid = counts(f)
    # The total is the grid's cells under the track and status filters: one query fewer.
    total = sum(n for (track_id, status), n in grid.items()
                if (not f.track_id or track_id == f.track_id) and (not f.status or status == f.status))
    pages = max(1, -(-total // PER_PAGE))
    f.page = min(f.page, pages)
    rows = list_rows(f)
    competitions = db.session.scalars(db.select(Competition).order_by(Competition.created_at.desc())).all()
    track_stmt = db.select(Track).order_by(Track.competition_id, Track.position)
    if f.competition_id:
        track_stmt = track_stmt.where(Track.competition_id == f.competition_id)
    tracks = db.session.scalars(track_stmt).all()
    statuses = [s for s in APPLICATION_STATUSES if any(k[1] == s for k in grid)]
    return render_template(
        "applications/manage_list.html", rows=rows, filters=f, total=total, pages=pages, grid=grid,
        competitions=competitions, tracks=tracks, statuses=statuses, all_statuses=APPLICATION_STATUSES,
        bulk_form=BulkStatusForm(), sorts=list(SORTS), **_page_helpers(f, tracks),
    )


def _page_helpers(f: Filters, tracks: list[Track]) -> dict:
    """What the list template would otherwise work out once per row: each label translated once
    per request (plain strings, not lazy ones that call gettext at every use), the track names in
    the request's language, and URLs built from one url_for prefix each (the row links, and the
    page links whose `page` argument always comes last in Filters.args)."""
    detail = url_for(".manage_detail", application_id=0)
    list_url = url_for(".manage_list", **f.args())
    return {
        "status_labels": {s: str(label) for s, label in STATUS_LABELS.items()},
        "sort_labels": {"updated": _("Last change"), "submitted": _("Submitted"), "project": _("Project"),
                        "team": _("Team"), "status": _("Status"), "id": _("ID")},
        "track_names": {t.id: t.name for t in tracks},
        "track_name": _track_name,
        "detail_prefix": detail[:-1],  # ".../applications/0" without the 0
        "page_prefix": list_url + ("&" if "?" in list_url else "?") + "page=",
        "local_minute": local_minute,
    }


def _track_name(track_id: int) -> str:
    """A row's track outside the listed ones (not expected: an application's track belongs to its
    competition); usually from the session's identity map, without a query."""
    track = db.session.get(Track, track_id)
    return track.name if track else "—"


def local_minute(value) -> str:
    """Beijing time as "yyyy-MM-dd HH:mm": the same text as the `local_dt` filter's default pattern
    in every language (digits and separators only), without Babel's per-call pattern machinery."""
    return to_local(value).strftime("%Y-%m-%d %H:%M") if value else ""


@bp.post("/manage/applications/bulk-status")
@manager_required
def bulk_status():
    form = BulkStatusForm()
    back = request.form.get("back") or ""
    from ..urls import safe_next

    back = safe_next(back, url_for(".manage_list"))
    if not form.validate_on_submit():
        if "csrf_token" in form.errors:
            abort(400)
        flash(_("Choose a valid status."), "danger")
        return redirect(back)
    ids = []
    for raw in request.form.getlist("ids"):
        try:
            ids.append(int(raw))
        except ValueError:
            continue
    ids = ids[:1000]
    if not ids:
        flash(_("Select at least one application."), "warning")
        return redirect(back)
    apps = db.session.scalars(
        db.select(Application).where(Application.id.in_(ids))
        .options(db.joinedload(Application.team), db.joinedload(Application.competition))
    ).unique().all()
    try:
        changed, skipped = services.bulk_change_status(current_user._get_current_object(), apps,
                                                       form.to_status.data, form.note.data or "")
    except DomainError as exc:
        db.session.rollback()
        flash(str(exc.message), "danger")
        return redirect(back)
    db.session.commit()
    flash(_("%(changed)d applications changed, %(skipped)d skipped (drafts, withdrawn, or already in that status).",
            changed=changed, skipped=skipped), "success")
    return redirect(back)


# --- export -------------------------------------------------------------------------------------

def export_columns() -> list[str]:
    return [_("ID"), _("Competition"), _("Track"), _("Project name"), _("Team name"), _("Team lead"),
            _("Lead contact"), _("Members"), _("Stage"), _("Status"), _("Version"), _("Submitted at (Beijing time)"),
            _("Company name"), _("Unified social credit code"), _("Funding sought (10,000 yuan)"),
            _("Desks wanted"), _("One-line pitch")]


def export_row(app: Application) -> list:
    lead = app.team.lead
    submitted = to_local(app.submitted_at).strftime("%Y-%m-%d %H:%M") if app.submitted_at else ""
    return [app.id, app.competition.name, app.track.name if app.track else "", app.project_name, app.team.name,
            lead.name if lead else "", lead.contact if lead else "", len(app.team.members),
            str(app.stage_label), str(app.status_label), app.version, submitted, app.company_name,
            app.credit_code or "", app.funding_sought if app.funding_sought is not None else "",
            app.desks_wanted if app.desks_wanted is not None else "", app.one_line_pitch]


def _export_rows(f: Filters):
    stmt = filtered_select(f).execution_options(yield_per=200)
    for app in db.session.scalars(stmt):
        yield export_row(app)


def _filename(ext: str) -> str:
    return f"applications.{ext}"


@bp.get("/manage/applications/export.csv")
@manager_required
def export_csv():
    return csv_response(_filename("csv"), _export_rows(Filters.from_args(request.args)), export_columns())


@bp.get("/manage/applications/export.xlsx")
@manager_required
def export_xlsx():
    return xlsx_response(_filename("xlsx"), _export_rows(Filters.from_args(request.args)), export_columns(),
                         sheet=_("Applications"))
