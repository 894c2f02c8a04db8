"""Scheduled jobs of the accounts feature (imported by incubator.jobs.registry)."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l

from ..jobs.registry import register_job

# One row per login: a year of a few thousand people logging in daily is a million rows the login
# query never needs again once they ended.
register_job("prune_login_sessions", "incubator.accounts.services:prune_login_sessions", trigger="cron",
             hour=3, minute=40, kwargs={"keep_days": 30}, misfire_grace_time=3600,
             description=_l("Delete logins that ended more than 30 days ago"))
