"""Two real `flask jobs run` processes against the test database: each due time runs once."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _start_scheduler(app, tmp_path: Path, name: str, log_file: Path) -> subprocess.Popen:
    env = dict(os.environ)
    env.update({
        "INCUBATOR_ENV": "development",
        "DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
        "INSTANCE_PATH": str(tmp_path / f"instance-{name}"),
        "INCUBATOR_EXTRA_JOBS": "tests.jobs.sample_jobs",
        "SAMPLE_JOBS_LOG": str(log_file),
        "PYTHONPATH": str(ROOT),
        "LOG_LEVEL": "INFO",
    })
    out = open(tmp_path / f"{name}.log", "wb")
    return subprocess.Popen(
        [sys.executable, "-m", "flask", "--app", "wsgi", "jobs", "run", "--only", "sample_tick", "--only", "sample_boom"],
        cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
    )


def _stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=5)


def _runs(db, job_id):
    """Plain copies of the run rows, read in a transaction closed at once: on SQLite every
    transaction holds the write lock, and a lazy attribute refresh would reopen one."""
    from types import SimpleNamespace

    from incubator.jobs.models import JobRun

    rows = db.session.execute(
        db.select(JobRun.due_at, JobRun.status, JobRun.error, JobRun.host)
        .where(JobRun.job_id == job_id).order_by(JobRun.due_at)
    ).all()
    db.session.commit()
    return [SimpleNamespace(**row._asdict()) for row in rows]


def test_two_scheduler_processes_run_each_due_time_once(app, db, tmp_path):
    from incubator.jobs.models import JobRunStatus

    db.session.commit()
    log_file = tmp_path / "ticks.log"
    log_file.touch()
    processes = [_start_scheduler(app, tmp_path, name, log_file) for name in ("a", "b")]
    try:
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            ticks = _runs(db, "sample_tick")
            booms = _runs(db, "sample_boom")
            done_ticks = [r for r in ticks if r.status == JobRunStatus.SUCCEEDED]
            if len(done_ticks) >= 5 and any(b.status == JobRunStatus.FAILED for b in booms):
                break
            for p in processes:
                assert p.poll() is None, (tmp_path / "a.log").read_text() + (tmp_path / "b.log").read_text()
            time.sleep(0.5)
        # Both schedulers are still alive although a job raised every second.
        assert all(p.poll() is None for p in processes)
    finally:
        for p in processes:
            _stop(p)

    logs = (tmp_path / "a.log").read_text(errors="replace") + (tmp_path / "b.log").read_text(errors="replace")
    ticks = _runs(db, "sample_tick")
    booms = _runs(db, "sample_boom")
    assert len([r for r in ticks if r.status == JobRunStatus.SUCCEEDED]) >= 5, logs

    # Exactly once per due time: one row per due time, and one execution (line) per row.
    due_times = [r.due_at for r in ticks]
    assert len(due_times) == len(set(due_times))
    assert all(d.microsecond == 0 for d in due_times)
    lines = log_file.read_text().splitlines()
    assert len(lines) == len(ticks), logs
    # Both processes fired the same due times; the losers skipped them (logged by the runner).
    assert "already taken by another process" in logs

    # The failing job is recorded with its error and did not stop the ticks.
    failed = [b for b in booms if b.status == JobRunStatus.FAILED]
    assert failed and all("sample job failure" in (b.error or "") for b in failed)
    assert "Traceback" in logs
    assert any(t.due_at > failed[0].due_at and t.status == JobRunStatus.SUCCEEDED for t in ticks)
