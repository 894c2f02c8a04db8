"""Command-line entry points: `flask create-manager`, `flask seed-demo`, and each feature's own."""
from __future__ import annotations

import getpass
import os

import click
from flask import Flask

from .extensions import db


def register(app: Flask) -> None:
    from . import i18n

    i18n.register(app)

    from .jobs.commands import group as jobs_group

    app.cli.add_command(jobs_group)

    @app.cli.command("create-manager")
    @click.argument("email")
    @click.option("--name", default=None, help="Display name (defaults to the part before @).")
    @click.option("--password", default=None, help="Taken from INCUBATOR_MANAGER_PASSWORD or asked for if not given.")
    def create_manager(email: str, name: str | None, password: str | None) -> None:
        """Create the first manager (or give an existing account the manager role)."""
        from .accounts.services import create_manager as create

        password = password or os.environ.get("INCUBATOR_MANAGER_PASSWORD")
        if not password:
            password = getpass.getpass("Password: ")
        if len(password) < 8:
            raise click.ClickException("The password needs at least 8 characters.")
        user = create(email, password, name)
        db.session.commit()
        click.echo(f"Manager ready: {user.email}")

    @app.cli.command("dev")
    @click.option("--host", default="127.0.0.1")
    @click.option("--port", default=5000, type=int)
    def dev(host: str, port: int) -> None:
        """Run everything for local development (what `make run` calls)."""
        from .devstack import run_dev

        raise SystemExit(run_dev(host, port))

    @app.cli.command("seed-demo")
    @click.option("--force", is_flag=True, help="Load again even if demo data exists.")
    def seed_demo(force: bool) -> None:
        """Load demo accounts and data once; print the logins."""
        from .demo import DEMO_PASSWORD, seed

        created = seed(force=force)
        db.session.commit()
        click.echo("Demo data " + ("loaded." if created else "already present."))
        click.echo(f"Demo logins (password for all: {DEMO_PASSWORD}):")
        from .demo import demo_logins

        for role, email in demo_logins():
            click.echo(f"  {role:<8} {email}")
