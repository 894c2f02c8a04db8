"""The ceiling our pages are measured against: a minimal Flask view doing one PostgreSQL query.

Served by the same gunicorn configuration as the platform in the same benchmark run, so the
ratio (ours / baseline) says how much our own code costs, whatever the machine's noise.
"""
from __future__ import annotations

import os

import sqlalchemy as sa
from flask import Flask


def create_baseline_app() -> Flask:
    app = Flask("baseline")
    engine = sa.create_engine(os.environ["DATABASE_URL"], pool_size=4, max_overflow=0, pool_pre_ping=False)

    @app.get("/one-query")
    def one_query():
        with engine.connect() as conn:
            count = conn.execute(sa.text("SELECT count(*) FROM users")).scalar()
        return {"users": count}

    return app
