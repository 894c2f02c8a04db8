"""`flask jobs run | list | run-now`."""
from __future__ import annotations

import click
from flask import current_app
from flask.cli import AppGroup

from . import registry

group = AppGroup("jobs", help="The scheduler process and its jobs.")


@group.command("run")
@click.option("--only", multiple=True, help="Schedule only this job id (repeatable).")
def run_cmd(only):
    """Run the scheduler in the foreground (one process per deployment)."""
    from .scheduler import run_forever

    run_forever(current_app._get_current_object(), tuple(only))


@group.command("list")
def list_cmd():
    """List the registered jobs with their schedule and next run."""
    for spec in registry.load().values():
        state = "" if spec.is_available() else "  (not available)"
        click.echo(f"{spec.id:<28} {spec.trigger} {spec.trigger_args}  next {spec.next_run_time():%Y-%m-%d %H:%M:%S}Z{state}")


@group.command("run-now")
@click.argument("job_id")
def run_now_cmd(job_id):
    """Run one job now through the guarded runner (recorded like a scheduled run)."""
    from .runner import run_now

    if registry.get(job_id) is None:
        raise click.ClickException(f"no job {job_id!r}")
    run = run_now(job_id)
    if run is None:
        raise click.ClickException("not run: not available, or already run this second")
    click.echo(f"{run.status}: {run.result or run.error or ''}")
