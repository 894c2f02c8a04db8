"""/manage/jobs: what the scheduler does, when it last ran, and a "run now" button."""
from __future__ import annotations

import json

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from flask_login import current_user

from ..accounts.forms import ConfirmForm
from ..accounts.permissions import manager_required
from ..audit.services import record
from ..extensions import db
from ..timeutils import to_local
from . import registry
from .models import JobRun, JobRunStatus
from .runner import JobBusy, last_runs, run_now

bp = Blueprint("jobs", __name__, url_prefix="/manage/jobs")

RECENT_RUNS = 50


def describe_schedule(spec: registry.JobSpec) -> str:
    """A sentence a manager understands: "Every 30 seconds", "Every day at 03:00"."""
    args = spec.trigger_args
    if spec.trigger == "interval":
        seconds = (args.get("weeks", 0) * 604800 + args.get("days", 0) * 86400 + args.get("hours", 0) * 3600
                   + args.get("minutes", 0) * 60 + args.get("seconds", 0))
        if seconds % 86400 == 0:
            n = seconds // 86400
            return _("Every day") if n == 1 else ngettext("Every %(num)d day", "Every %(num)d days", n)
        if seconds % 3600 == 0:
            n = seconds // 3600
            return _("Every hour") if n == 1 else ngettext("Every %(num)d hour", "Every %(num)d hours", n)
        if seconds % 60 == 0:
            n = seconds // 60
            return _("Every minute") if n == 1 else ngettext("Every %(num)d minute", "Every %(num)d minutes", n)
        return _("Every second") if seconds == 1 else ngettext("Every %(num)d second", "Every %(num)d seconds", seconds)
    if spec.trigger == "cron" and set(args) <= {"hour", "minute"} and all(str(v).isdigit() for v in args.values()):
        return _("Every day at %(time)s", time=f"{int(args.get('hour', 0)):02d}:{int(args.get('minute', 0)):02d}")
    return _("Cron: %(spec)s", spec=", ".join(f"{k}={v}" for k, v in sorted(args.items())))


# What each job's result counts, in the reader's language (a key not listed is shown as it is).
RESULT_LABELS = {
    "sent": _l("sent"), "failed": _l("failed"), "skipped": _l("skipped"),
    "deleted": _l("deleted"), "interrupted": _l("interrupted runs marked failed"),
    "tickets_removed": _l("unconfirmed uploads removed"), "orphans_removed": _l("orphan files removed"),
    "multipart_uploads_aborted": _l("unfinished uploads aborted"),
    "rounds": _l("rounds"), "reminded": _l("judges reminded"),
    "ended": _l("leases ended"), "waitlist_heads_that_fit": _l("waiting teams that now fit"),
    "reminded_leases": _l("leases reminded"),
}


@bp.app_template_filter("job_result")
def job_result(text: str | None) -> str:
    """A run's JSON result as a short line: {"sent": 1, "failed": 0} → "已发送 1 · 失败 0"."""
    if not text:
        return ""
    try:
        value = json.loads(text)
    except ValueError:
        return text
    if isinstance(value, dict):
        return " · ".join(f"{RESULT_LABELS.get(k, k)} {v}" for k, v in value.items())
    return text


@bp.get("/")
@manager_required
def index():
    specs = registry.load()
    latest = last_runs(specs.keys())
    rows = [
        {
            "spec": spec,
            "schedule": describe_schedule(spec),
            "available": spec.is_available(),
            "next_run": spec.next_run_time(),
            "last": latest.get(spec.id),
        }
        for spec in specs.values()
    ]
    job_filter = request.args.get("job", "")
    recent_query = db.select(JobRun).order_by(JobRun.id.desc()).limit(RECENT_RUNS)
    if job_filter in specs:
        recent_query = recent_query.where(JobRun.job_id == job_filter)
    else:
        job_filter = ""
    recent = db.session.scalars(recent_query).all()
    return render_template("jobs/index.html", rows=rows, recent=recent, form=ConfirmForm(), Status=JobRunStatus,
                           job_filter=job_filter)


@bp.post("/<job_id>/run")
@manager_required
def run(job_id: str):
    if not ConfirmForm().validate_on_submit():
        abort(400)
    spec = registry.get(job_id)
    if spec is None:
        abort(404)
    if not spec.is_available():
        flash(_("This job is not available yet: its feature is not installed."), "warning")
        return redirect(url_for("jobs.index"))
    try:
        run_row = run_now(job_id)
    except JobBusy as busy:
        flash(_("This job has been running since %(time)s; try again when it has finished.",
                time=to_local(busy.started_at).strftime("%H:%M:%S")), "warning")
        return redirect(url_for("jobs.index"))
    if run_row is None:
        flash(_("The job already ran for this second; try again in a moment."), "warning")
        return redirect(url_for("jobs.index"))
    record(current_user._get_current_object(), "job.run_now", ("job", job_id, job_id),
           after={"run_id": run_row.id, "status": run_row.status})
    db.session.commit()
    if run_row.status == JobRunStatus.SUCCEEDED:
        flash(_("The job ran now and succeeded: %(result)s", result=job_result(run_row.result) or "—"), "success")
    else:
        flash(_("The job ran now and failed; the error is in the list below."), "danger")
    return redirect(url_for("jobs.index"))
