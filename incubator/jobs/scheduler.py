"""The scheduler process: `flask jobs run`. Never started inside web workers.

APScheduler 3 calls a job function without telling it which fire time it is for; the executor
below passes the scheduled run time (`scheduled_run_time`) to our entry point, which turns it into
the due time of the job_runs row. coalesce=True folds missed fire times into one run, and a run
later than misfire_grace_time is skipped by APScheduler itself.
"""
from __future__ import annotations

import logging
import signal

from apscheduler.executors.base import run_job as apscheduler_run_job
from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.blocking import BlockingScheduler
from flask import Flask

from . import registry
from .runner import run_job

log = logging.getLogger(__name__)


class _JobAtRunTime:
    """A view of an APScheduler Job whose kwargs carry the run time being fired."""

    def __init__(self, job, run_time):
        self._job = job
        self.kwargs = {**job.kwargs, "scheduled_run_time": run_time}

    def __getattr__(self, name):
        return getattr(self._job, name)

    def __str__(self):
        return str(self._job)


class RunTimeThreadPoolExecutor(ThreadPoolExecutor):
    """ThreadPoolExecutor that hands each job function its scheduled run time."""

    def _do_submit_job(self, job, run_times):
        def run_all():
            events = []
            for run_time in run_times:
                events += apscheduler_run_job(_JobAtRunTime(job, run_time), job._jobstore_alias, [run_time],
                                              self._logger.name)
            return events

        def callback(future):
            exc = future.exception()
            if exc:
                self._run_job_error(job.id, exc, getattr(exc, "__traceback__", None))
            else:
                self._run_job_success(job.id, future.result())

        self._pool.submit(run_all).add_done_callback(callback)


def fire(app: Flask, job_id: str, scheduled_run_time=None) -> None:
    # The default only satisfies APScheduler's signature check at add_job; the executor always
    # passes the run time.
    if scheduled_run_time is None:
        raise RuntimeError("fire() needs the scheduled run time; use RunTimeThreadPoolExecutor")
    with app.app_context():
        run_job(job_id, scheduled_run_time)


def build_scheduler(app: Flask, only: tuple[str, ...] = ()) -> BlockingScheduler:
    scheduler = BlockingScheduler(
        timezone=registry.SCHEDULE_TIMEZONE,
        executors={"default": RunTimeThreadPoolExecutor(max_workers=4)},
        job_defaults={"coalesce": True, "max_instances": 1},
    )
    specs = registry.load()
    unknown = set(only) - set(specs)
    if unknown:
        raise KeyError(f"unknown job ids: {', '.join(sorted(unknown))}")
    for spec in specs.values():
        if only and spec.id not in only:
            continue
        if not spec.is_available():
            log.warning("job %s is not available (%s cannot be imported yet); not scheduled", spec.id, spec.func_path)
            continue
        scheduler.add_job(fire, trigger=spec.build_trigger(), args=[app, spec.id], id=spec.id,
                          name=spec.id, misfire_grace_time=spec.misfire_grace_time)
        log.info("scheduled job %s (%s %s)", spec.id, spec.trigger, spec.trigger_args)
    return scheduler


def run_forever(app: Flask, only: tuple[str, ...] = ()) -> None:
    scheduler = build_scheduler(app, only)

    def stop(signum, _frame):
        log.info("signal %s: stopping the scheduler", signum)
        scheduler.shutdown(wait=False)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    log.info("scheduler started with %d jobs", len(scheduler.get_jobs()))
    scheduler.start()
    log.info("scheduler stopped")
