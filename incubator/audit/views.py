"""/manage/audit: browse, filter and export the audit trail (managers only)."""
from __future__ import annotations

import json
from datetime import datetime, time, timedelta

from flask import Blueprint, render_template, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, SelectField, StringField
from wtforms.validators import Length, Optional

from ..accounts.models import User
from ..accounts.permissions import manager_required
from ..extensions import db
from ..formfields import YearInRange
from ..spreadsheets import csv_response
from ..timeutils import local_to_utc, to_local, utcnow
from ..urls import page_number
from .models import AuditRecord

bp = Blueprint("audit", __name__, url_prefix="/manage/audit")

PAGE_SIZE = 50
EXPORT_LIMIT = 100_000

# Readable names for every action the code records (tests/audit checks none is missing); an
# action without one would show its code.
ACTION_LABELS = {
    "user.create": _l("Account created"),
    "user.login": _l("Logged in"),
    "user.logout": _l("Logged out"),
    "user.password_reset_requested": _l("Password reset requested"),
    "user.password_reset": _l("Password reset"),
    "user.roles_change": _l("Roles changed"),
    "invitation.create": _l("Invitation sent"),
    "invitation.accept": _l("Invitation accepted"),
    "invitation.revoke": _l("Invitation withdrawn"),
    "mail.retry": _l("Failed mail queued again"),
    "job.run_now": _l("Job run by hand"),
    "competition.create": _l("Competition created"),
    "competition.update": _l("Competition edited"),
    "competition.publish": _l("Competition published"),
    "competition.close": _l("Competition closed"),
    "track.create": _l("Track added"),
    "track.update": _l("Track edited"),
    "tracks.reorder": _l("Tracks reordered"),
    "tracks.delete": _l("Track removed"),
    "round.create": _l("Round added"),
    "round.update": _l("Round edited"),
    "rounds.reorder": _l("Rounds reordered"),
    "rounds.delete": _l("Round removed"),
    "criterion.create": _l("Rubric criterion added"),
    "criterion.update": _l("Rubric criterion edited"),
    "criteria.reorder": _l("Rubric criteria reordered"),
    "criteria.delete": _l("Rubric criterion removed"),
    "question.create": _l("Application question added"),
    "question.update": _l("Application question edited"),
    "custom_questions.reorder": _l("Application questions reordered"),
    "custom_questions.delete": _l("Application question removed"),
    "application.create": _l("Application started"),
    "application.edit": _l("Application edited"),
    "application.submit": _l("Application submitted"),
    "application.withdraw": _l("Application withdrawn"),
    "application.status": _l("Application status changed"),
    "application.bulk_status": _l("Application status changed in bulk"),
    "application.extension": _l("Deadline extended for one application"),
    "deck.upload": _l("Pitch deck uploaded"),
    "deck.refused": _l("Pitch deck refused by the content check"),
    "judging.profile": _l("Judge profile saved"),
    "judging.conflict.declare": _l("Conflict of interest declared"),
    "judging.conflict.remove": _l("Conflict of interest withdrawn"),
    "judging.conflict.automatic": _l("Conflict of interest found automatically"),
    "judging.assign.manual": _l("Judges assigned by hand"),
    "judging.assign.auto": _l("Judges assigned automatically"),
    "judging.assign.undo": _l("Automatic assignment undone"),
    "judging.unassign": _l("Judge removed from an entry"),
    "judging.unassign.bulk": _l("Judges removed from entries in bulk"),
    "judging.recuse": _l("Judge recused"),
    "judging.conflict.on_submitted": _l("Conflict found after a score was submitted"),
    "judging.score.draft": _l("Score saved as a draft"),
    "judging.score.submit": _l("Score submitted"),
    "judging.score.reopen": _l("Score reopened"),
    "judging.remind": _l("Judges reminded"),
    "judging.advancement": _l("Advancement confirmed"),
    "judging.result": _l("Round result recorded"),
    "judging.awards": _l("Awards and admissions confirmed"),
    "judging.publish": _l("Results published"),
    "judging.reveal": _l("Leaderboard display changed"),
    "judging.screen_links.revoke": _l("Screen links withdrawn"),
    "spaces.team_admitted": _l("Team admitted to incubation"),
    "spaces.admission_updated": _l("Admission edited"),
    "spaces.building_created": _l("Building added"),
    "spaces.building_updated": _l("Building edited"),
    "spaces.building_deleted": _l("Building removed"),
    "spaces.floor_created": _l("Floor added"),
    "spaces.floor_updated": _l("Floor edited"),
    "spaces.floor_deleted": _l("Floor removed"),
    "spaces.floor_background": _l("Floor plan image changed"),
    "spaces.layout_imported": _l("Layout imported"),
    "spaces.out_of_service": _l("Space taken out of service"),
    "spaces.back_in_service": _l("Space back in service"),
    "spaces.request_created": _l("Space requested"),
    "spaces.request_cancelled": _l("Space request cancelled"),
    "spaces.request_priority": _l("Waiting-list priority changed"),
    "spaces.request_allocated": _l("Space request fulfilled"),
    "spaces.lease_allocated": _l("Lease created"),
    "spaces.lease_renewed": _l("Lease renewed"),
    "spaces.lease_shortened": _l("Lease shortened"),
    "spaces.lease_ended_early": _l("Lease ended early"),
    "spaces.lease_cancelled": _l("Lease cancelled"),
    "spaces.lease_moved": _l("Team moved to other spaces"),
    "spaces.lease_expired": _l("Lease expired"),
    "spaces.lease_reminder": _l("Lease expiry reminder sent"),
}


# Readable names of the objects audit rows point at: a table's name (the record's target type), or
# "job" for a scheduled job run by hand.
TARGET_LABELS = {
    "users": _l("Account"),
    "invitations": _l("Invitation"),
    "outbox_messages": _l("Mail"),
    "job": _l("Scheduled job"),
    "competitions": _l("Competition"),
    "tracks": _l("Track"),
    "rounds": _l("Round"),
    "criteria": _l("Rubric criterion"),
    "custom_questions": _l("Application question"),
    "teams": _l("Team"),
    "applications": _l("Application"),
    "decks": _l("Pitch deck"),
    "judge_profiles": _l("Judge profile"),
    "judge_conflicts": _l("Conflict of interest"),
    "assignments": _l("Judge assignment"),
    "scores": _l("Score"),
    "round_states": _l("Round status"),
    "round_results": _l("Result of an entry in a round"),
    "buildings": _l("Building"),
    "floors": _l("Floor"),
    "spaces": _l("Space"),
    "space_requests": _l("Space request"),
    "leases": _l("Lease"),
    "admissions": _l("Admission"),
}


@bp.app_template_global()
def target_label(kind: str) -> str:
    label = TARGET_LABELS.get(kind)
    return str(label) if label is not None else kind


@bp.app_template_global()
def action_label(code: str) -> str:
    label = ACTION_LABELS.get(code)
    return str(label) if label is not None else code


class AuditFilterForm(FlaskForm):
    class Meta:
        csrf = False  # a GET search form changes nothing

    person = StringField(_l("Person (name or email)"), validators=[Optional(), Length(max=254)])
    action = SelectField(_l("Action"), choices=[], validators=[Optional()], validate_choice=False)
    target_type = SelectField(_l("Object type"), choices=[], validators=[Optional()], validate_choice=False)
    target_id = StringField(_l("Object id"), validators=[Optional(), Length(max=64)])
    date_from = DateField(_l("From (date)"), validators=[Optional(), YearInRange()],
                          render_kw={"type": "date"})
    date_to = DateField(_l("To (date, inclusive)"), validators=[Optional(), YearInRange()], render_kw={"type": "date"})

    def validate(self, extra_validators=None) -> bool:
        ok = super().validate(extra_validators)
        if ok and self.date_from.data and self.date_to.data and self.date_to.data < self.date_from.data:
            self.date_to.errors.append(_l("The end date is before the start date."))
            ok = False
        return ok


def filtered_query(form: AuditFilterForm):
    """The audit records matching the form, newest first, actors eager-loaded."""
    query = db.select(AuditRecord).options(db.joinedload(AuditRecord.actor).lazyload(User.role_rows))
    if form.person.data and form.person.data.strip():
        pattern = "%" + form.person.data.strip().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        query = query.where(AuditRecord.actor_id.in_(
            db.select(User.id).where(db.or_(User.name.ilike(pattern, escape="\\"), User.email.ilike(pattern, escape="\\")))
        ))
    if form.action.data:
        query = query.where(AuditRecord.action == form.action.data)
    if form.target_type.data:
        query = query.where(AuditRecord.target_type == form.target_type.data)
    if form.target_id.data and form.target_id.data.strip():
        query = query.where(AuditRecord.target_id == form.target_id.data.strip())
    if form.date_from.data:
        query = query.where(AuditRecord.created_at >= local_to_utc(datetime.combine(form.date_from.data, time.min)))
    if form.date_to.data:
        end = datetime.combine(form.date_to.data + timedelta(days=1), time.min)
        query = query.where(AuditRecord.created_at < local_to_utc(end))
    return query.order_by(AuditRecord.created_at.desc(), AuditRecord.id.desc())


def _filter_form() -> tuple[AuditFilterForm, bool]:
    form = AuditFilterForm(request.args)
    actions = db.session.scalars(db.select(AuditRecord.action).distinct().order_by(AuditRecord.action)).all()
    types = db.session.scalars(db.select(AuditRecord.target_type).distinct().order_by(AuditRecord.target_type)).all()
    form.action.choices = [("", _("Any action"))] + [(a, action_label(a)) for a in actions]
    form.target_type.choices = [("", _("Any type"))] + [(t, target_label(t)) for t in types]
    valid = form.validate()
    return form, valid


def _filter_args() -> dict:
    keys = ("person", "action", "target_type", "target_id", "date_from", "date_to")
    return {k: request.args[k] for k in keys if request.args.get(k)}


@bp.get("/")
@manager_required
def index():
    form, valid = _filter_form()
    if not valid:
        return render_template("audit/index.html", form=form, page=None, args=_filter_args()), 400
    page = db.paginate(filtered_query(form), page=page_number(request.args.get("page")), per_page=PAGE_SIZE,
                       error_out=False, count=True)
    return render_template("audit/index.html", form=form, page=page, args=_filter_args())


@bp.app_template_filter("audit_json")
def _json(value) -> str:
    """Before/after as readable JSON (Chinese kept as is, not \\u escapes)."""
    return "" if value is None else json.dumps(value, ensure_ascii=False, sort_keys=True)


@bp.get("/export.csv")
@manager_required
def export():
    form, valid = _filter_form()
    if not valid:
        return render_template("audit/index.html", form=form, page=None, args=_filter_args()), 400
    headers = [_("Time (Beijing)"), _("Person"), _("Email"), _("Action"), _("Action code"), _("Object type"),
               _("Object id"), _("Object"), _("Before"), _("After"), _("Request id")]
    query = filtered_query(form).limit(EXPORT_LIMIT).execution_options(yield_per=1000)

    def rows():  # run as the response streams (the query's server-side cursor lives in that transaction)
        for row in db.session.scalars(query):
            yield (to_local(row.created_at).strftime("%Y-%m-%d %H:%M:%S"), row.actor.name if row.actor else "",
                   row.actor.email if row.actor else "", action_label(row.action), row.action,
                   target_label(row.target_type), row.target_id, row.target_label, _json(row.before),
                   _json(row.after), row.request_id)

    filename = "audit-" + to_local(utcnow()).strftime("%Y%m%d-%H%M") + ".csv"
    return csv_response(filename, rows(), headers)
