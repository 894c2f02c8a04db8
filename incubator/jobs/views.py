"""/manage/jobs: what the scheduler does, when it last ran, and a "run now" button."""
from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import ngettext

from ..accounts.forms import ConfirmForm
from ..accounts.permissions import manager_required
from ..audit.services import record
from ..extensions import db
from flask_login import current_user
from . import registry
from .models import JobRun, JobRunStatus
from .runner import last_runs, run_now

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
            return ngettext("Every day", "Every %(num)d days", n)
        if seconds % 3600 == 0:
            n = seconds // 3600
            return ngettext("Every hour", "Every %(num)d hours", n)
        if seconds % 60 == 0:
            n = seconds // 60
            return ngettext("Every minute", "Every %(num)d minutes", n)
        return ngettext("Every second", "Every %(num)d seconds", seconds)
    if spec.trigger == "cron" and set(args) <= {"hour", "minute"} and all(str(v).isdigit() for v in args.values()):
        return _("Every day at %(time)s", time=f"{int(args.get('hour', 0)):02d}:{int(args.get('minute', 0)):02d}")
    return _("Cron: %(spec)s", spec=", ".join(f"{k}={v}" for k, v in sorted(args.items())))


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
    recent = db.session.scalars(db.select(JobRun).order_by(JobRun.id.desc()).limit(RECENT_RUNS)).all()
    return render_template("jobs/index.html", rows=rows, recent=recent, form=ConfirmForm(), Status=JobRunStatus)


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
    run_row = run_now(job_id)
    if run_row is None:
        flash(_("The job already ran for this second; try again in a moment."), "warning")
        return redirect(url_for("jobs.index"))
    record(current_user._get_current_object(), "job.run_now", ("job", job_id, job_id),
           after={"run_id": run_row.id, "status": run_row.status})
    db.session.commit()
    if run_row.status == JobRunStatus.SUCCEEDED:
        flash(_("The job ran now and succeeded: %(result)s", result=run_row.result or "—"), "success")
    else:
        flash(_("The job ran now and failed; the error is in the list below."), "danger")
    return redirect(url_for("jobs.index"))
