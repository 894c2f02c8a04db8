"""The guarded runner: every job run, scheduled or "run now", goes through run_job().

1. The run row (job_id, due_at) is INSERTed and committed in a transaction of its own. The UNIQUE
   key means that of two processes firing the same due time only one gets the row; the other
   skips. Works the same on PostgreSQL and SQLite.
2. The job function is called with its plain keyword arguments inside the app context.
3. On return the runner commits once. A function may also commit its own small batches
   (mailer.deliver_pending commits per message); it must leave nothing half-done in the session.
4. On an exception the runner rolls back, logs the traceback and records the run as failed with
   the error; nothing propagates, so the scheduler and the other jobs carry on.
"""
from __future__ import annotations

import json
import logging
import os
import socket
import traceback
from datetime import datetime, timedelta, timezone

from sqlalchemy.exc import IntegrityError

from ..extensions import db
from ..timeutils import utcnow
from . import registry
from .models import JobRun, JobRunStatus

log = logging.getLogger(__name__)

_unavailable_logged: set[str] = set()


def due_second(value: datetime) -> datetime:
    if value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    return value.astimezone(timezone.utc).replace(microsecond=0)


def host_label() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"[:255]


def _result_text(value) -> str | None:
    if value is None:
        return None
    try:
        return json.dumps(value, ensure_ascii=False, default=str)[:4000]
    except (TypeError, ValueError):
        return str(value)[:4000]


def _claim(job_id: str, due_at: datetime, manual: bool) -> int | None:
    db.session.rollback()  # start from a clean transaction whatever the caller left
    run = JobRun(job_id=job_id, due_at=due_at, manual=manual, started_at=utcnow(),
                 status=JobRunStatus.RUNNING, host=host_label())
    db.session.add(run)
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        return None
    return run.id


def _finish(run_id: int, status: str, result: str | None = None, error: str | None = None) -> None:
    db.session.execute(
        db.update(JobRun).where(JobRun.id == run_id)
        .values(status=status, finished_at=utcnow(), result=result, error=error)
    )
    db.session.commit()


def run_job(job_id: str, due_at: datetime, *, manual: bool = False) -> JobRun | None:
    """Run `job_id` for `due_at` unless some process already did. Needs an app context.

    Returns the run row, or None when the due time was taken by another process or the job is
    not available. Never raises for a failure of the job itself.
    """
    spec = registry.get(job_id)
    if spec is None:
        raise KeyError(job_id)
    load_error: Exception | None = None
    try:
        func = spec.resolve()
    except registry.JobUnavailable as exc:
        if job_id not in _unavailable_logged:
            _unavailable_logged.add(job_id)
            # An optional job waits for its feature; a required one missing is a deployment error.
            level = logging.WARNING if spec.optional else logging.ERROR
            log.log(level, "job %s is not available (%s); skipping it", job_id, exc)
        return None
    except Exception as exc:  # the module is there but broken: record it as a failed run below
        func, load_error = None, exc

    # A scheduled run's key is its due second; a manual run's keeps the microseconds (never 0), so
    # "run now" cannot take a scheduled run's slot, nor a scheduled run a manual one's.
    due_at = _manual_moment(due_at) if manual else due_second(due_at)
    run_id = _claim(job_id, due_at, manual)
    if run_id is None:
        log.info("job %s for %s already taken by another process; skipping", job_id, due_at.isoformat())
        return None

    log.debug("job %s started for %s (run %s)", job_id, due_at.isoformat(), run_id)
    try:
        if load_error is not None:
            raise load_error
        value = func(**spec.kwargs)
        db.session.commit()
    except Exception as exc:  # a job's failure is recorded, never fatal to the scheduler
        db.session.rollback()
        log.exception("job %s failed for %s (run %s)", job_id, due_at.isoformat(), run_id)
        error = "".join(traceback.format_exception(exc))[-8000:]
        try:
            _finish(run_id, JobRunStatus.FAILED, error=error)
        except Exception:
            db.session.rollback()
            log.exception("could not record the failure of run %s", run_id)
    else:
        try:
            _finish(run_id, JobRunStatus.SUCCEEDED, result=_result_text(value))
        except Exception:
            db.session.rollback()
            log.exception("could not record the success of run %s", run_id)
        log.info("job %s succeeded for %s: %s", job_id, due_at.isoformat(), _result_text(value))
    return db.session.get(JobRun, run_id, populate_existing=True)


class JobBusy(Exception):
    """A run of the job is still going: a second one at once would do its work twice."""

    def __init__(self, started_at: datetime):
        super().__init__(started_at)
        self.started_at = started_at


# A run marked running for longer than this is taken for one whose process died (it never ends).
RUNNING_AT_MOST = timedelta(hours=2)


def _manual_moment(value: datetime) -> datetime:
    value = value.astimezone(timezone.utc) if value.tzinfo else value.replace(tzinfo=timezone.utc)
    return value if value.microsecond else value.replace(microsecond=1)


def run_now(job_id: str) -> JobRun | None:
    """'Run now' from the manager page: the same guarded runner, due now. Refused (JobBusy) while a
    run of the job, scheduled or manual, is still going."""
    started = db.session.scalar(
        db.select(db.func.max(JobRun.started_at))
        .where(JobRun.job_id == job_id, JobRun.status == JobRunStatus.RUNNING,
               JobRun.started_at > utcnow() - RUNNING_AT_MOST))
    if started is not None:
        raise JobBusy(started)
    return run_job(job_id, utcnow(), manual=True)


def last_runs(job_ids) -> dict[str, JobRun]:
    """The latest run of each job, in one query."""
    latest = (
        db.select(JobRun.job_id, db.func.max(JobRun.id).label("max_id"))
        .where(JobRun.job_id.in_(list(job_ids)))
        .group_by(JobRun.job_id)
        .subquery()
    )
    rows = db.session.scalars(db.select(JobRun).join(latest, JobRun.id == latest.c.max_id)).all()
    return {row.job_id: row for row in rows}


def prune_runs(keep_days: int = 30) -> dict:
    """Delete finished runs older than `keep_days` (send_mail alone records 2,880 runs a day), after
    marking as failed the runs marked running for over RUNNING_AT_MOST: a process that died mid-job."""
    # A run still marked running long after it began belongs to a process that died: it would
    # never end, never count as failed, and never be pruned.
    interrupted = db.session.execute(
        db.update(JobRun).where(JobRun.status == JobRunStatus.RUNNING, JobRun.started_at < utcnow() - RUNNING_AT_MOST)
        .values(status=JobRunStatus.FAILED, finished_at=utcnow(),
                error="The process running this job ended before the job finished (marked by prune_job_runs).")
        .execution_options(synchronize_session=False)).rowcount
    cutoff = utcnow() - timedelta(days=keep_days)
    result = db.session.execute(
        db.delete(JobRun).where(JobRun.due_at < cutoff, JobRun.status != JobRunStatus.RUNNING)
        .execution_options(synchronize_session=False)
    )
    return {"deleted": result.rowcount, "interrupted": interrupted}
