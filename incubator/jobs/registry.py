"""Where features declare their scheduled jobs.

A feature adds a `jobs.py` module to its package (``incubator/<feature>/jobs.py``); the registry
imports every such module, plus the modules named in the INCUBATOR_EXTRA_JOBS environment variable
(comma separated, used by tests), and each module declares its jobs with one of:

    from flask_babel import lazy_gettext as _l
    from incubator.jobs.registry import register_job, scheduled

    register_job("send_mail", "incubator.notifications.mailer:deliver_pending",
                 trigger="interval", seconds=30, description=_l("Send queued mail"))

    @scheduled("close_rounds", trigger="cron", hour=0, minute=5, description=_l("Close rounds past their deadline"))
    def close_rounds() -> dict: ...

The function is given by dotted path and imported only when the job runs, so a job may point at a
module that is not there yet (`optional=True`: it is skipped and shown as not available). Job
functions take plain values (ids, numbers, strings) as keyword arguments, never ORM objects; the
runner pushes the app context and commits (see runner.py).
"""
from __future__ import annotations

import importlib
import importlib.util
import json
import logging
import os
import pkgutil
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Callable

log = logging.getLogger(__name__)

# Interval jobs count from a fixed anchor, not from the start of the process: two scheduler
# processes (one by mistake) then compute the same due times, and the job_runs key lets one win.
INTERVAL_ANCHOR = datetime(2026, 1, 1, tzinfo=timezone.utc)
SCHEDULE_TIMEZONE = "Asia/Shanghai"


class JobUnavailable(Exception):
    """The job's function cannot be imported (its feature is not installed yet)."""


@dataclass(frozen=True)
class JobSpec:
    id: str
    func_path: str  # "package.module:function" (or "package.module.function")
    trigger: str  # "interval" or "cron" (APScheduler 3 trigger names)
    trigger_args: dict
    description: Any  # a lazy_gettext string
    kwargs: dict = field(default_factory=dict)
    optional: bool = False
    misfire_grace_time: int = 60

    def resolve(self) -> Callable:
        module_name, _, attr = self.func_path.partition(":")
        if not attr:
            module_name, _, attr = self.func_path.rpartition(".")
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            # Only the job's own module missing makes it "not available"; a broken import inside an
            # existing module is a bug and must be loud.
            if exc.name and (module_name == exc.name or module_name.startswith(exc.name + ".")):
                raise JobUnavailable(f"module {module_name} is not installed") from exc
            raise
        try:
            return getattr(module, attr)
        except AttributeError as exc:
            raise JobUnavailable(f"{module_name} has no {attr}") from exc

    def is_available(self) -> bool:
        try:
            self.resolve()
        except JobUnavailable:
            return False
        return True

    def build_trigger(self):
        from apscheduler.triggers.cron import CronTrigger
        from apscheduler.triggers.interval import IntervalTrigger

        if self.trigger == "interval":
            args = {"start_date": INTERVAL_ANCHOR, "timezone": SCHEDULE_TIMEZONE, **self.trigger_args}
            return IntervalTrigger(**args)
        if self.trigger == "cron":
            return CronTrigger(**{"timezone": SCHEDULE_TIMEZONE, **self.trigger_args})
        raise ValueError(f"job {self.id}: unsupported trigger {self.trigger!r}")

    def next_run_time(self, now: datetime | None = None) -> datetime | None:
        now = now or datetime.now(timezone.utc)
        value = self.build_trigger().get_next_fire_time(None, now)
        return value.astimezone(timezone.utc) if value else None


_REGISTRY: dict[str, JobSpec] = {}
_loaded = False


def register_job(job_id: str, func_path: str, *, trigger: str, description, kwargs: dict | None = None,
                 optional: bool = False, misfire_grace_time: int = 60, **trigger_args) -> JobSpec:
    """Declare a job. Registering the same id again replaces it (modules may be re-imported)."""
    kwargs = dict(kwargs or {})
    try:
        json.dumps(kwargs)
    except TypeError as exc:
        raise TypeError(f"job {job_id}: kwargs must be plain values (ids, strings, numbers), not objects") from exc
    spec = JobSpec(job_id, func_path, trigger, dict(trigger_args), description, kwargs, optional, misfire_grace_time)
    spec.build_trigger()  # a typo in the schedule fails at import, not at 3 a.m.
    _REGISTRY[job_id] = spec
    return spec


def scheduled(job_id: str, *, trigger: str, description, kwargs: dict | None = None,
              misfire_grace_time: int = 60, **trigger_args):
    """Decorator form of register_job for a function defined in the feature's jobs.py."""
    def decorator(func: Callable) -> Callable:
        register_job(job_id, f"{func.__module__}:{func.__qualname__}", trigger=trigger, description=description,
                     kwargs=kwargs, misfire_grace_time=misfire_grace_time, **trigger_args)
        return func
    return decorator


def _job_modules() -> list[str]:
    import incubator

    names = []
    for info in pkgutil.iter_modules(incubator.__path__):
        if info.ispkg and importlib.util.find_spec(f"incubator.{info.name}.jobs") is not None:
            names.append(f"incubator.{info.name}.jobs")
    extra = os.environ.get("INCUBATOR_EXTRA_JOBS", "")
    names += [n.strip() for n in extra.split(",") if n.strip()]
    return names


def load() -> dict[str, JobSpec]:
    """Import every jobs module once and return the registry (id → spec)."""
    global _loaded
    if not _loaded:
        for name in _job_modules():
            importlib.import_module(name)
        _loaded = True
    return dict(sorted(_REGISTRY.items()))


def get(job_id: str) -> JobSpec | None:
    return load().get(job_id)
