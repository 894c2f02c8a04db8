"""Scheduled jobs of the spaces feature (registered with incubator.jobs.registry).

- spaces_end_expired_leases (daily 00:10 Asia/Shanghai): end active leases whose end date has
  come, tell the teams, and if spaces were freed tell the managers which waitlist heads now fit.
- spaces_lease_reminders (daily 09:00): remind teams 30 and 7 days before a lease ends, once each
  (lease_reminders rows), so a second run the same day sends nothing.

The runner's job_runs key makes each due time run once even with two scheduler processes; the
functions are idempotent on their own as well.
"""
from __future__ import annotations

from flask_babel import lazy_gettext as _l

from ..jobs.registry import scheduled
from . import services


@scheduled("spaces_end_expired_leases", trigger="cron", hour=0, minute=10, misfire_grace_time=3600,
           description=_l("End expired leases, free their spaces and tell managers which waiting teams now fit"))
def end_expired_leases() -> dict:
    ended = services.expire_leases()
    fits = services.spaces_freed([lease.space_id for lease in ended]) if ended else 0
    return {"ended": len(ended), "waitlist_heads_that_fit": fits}


@scheduled("spaces_lease_reminders", trigger="cron", hour=9, minute=0, misfire_grace_time=3600,
           description=_l("Remind teams 30 and 7 days before their leases end"))
def send_lease_reminders() -> dict:
    return {"reminded_leases": services.send_end_reminders()}
