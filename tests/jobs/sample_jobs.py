"""Fast-firing jobs for the scheduler tests, loaded with INCUBATOR_EXTRA_JOBS=tests.jobs.sample_jobs.

Each tick appends one line to the file named by SAMPLE_JOBS_LOG: the side effect that must happen
exactly once per due time even with two scheduler processes."""
from __future__ import annotations

import os

from incubator.jobs.registry import register_job


def tick() -> dict:
    with open(os.environ["SAMPLE_JOBS_LOG"], "a", encoding="utf-8") as fh:
        fh.write(f"tick {os.getpid()}\n")
    return {"pid": os.getpid()}


def boom() -> None:
    raise RuntimeError("sample job failure")


register_job("sample_tick", "tests.jobs.sample_jobs:tick", trigger="interval", seconds=1, misfire_grace_time=5,
             description="Sample tick (tests)")
register_job("sample_boom", "tests.jobs.sample_jobs:boom", trigger="interval", seconds=1, misfire_grace_time=5,
             description="Sample failure (tests)")
