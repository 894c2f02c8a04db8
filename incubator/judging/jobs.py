"""Scheduled judging jobs (run by the single scheduler process; see incubator/jobs/registry.py)."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l

from ..jobs.registry import scheduled


@scheduled("judging_deadline_reminders", trigger="interval", minutes=15,
           description=_l("Remind judges 48 hours before scoring closes (once per judge and round)"))
def send_deadline_reminders() -> dict:
    """For each round whose scoring closes within 48 hours, mail every judge with unsubmitted scores
    once (JudgeReminder rows keep it to one per judge and round, even across restarts)."""
    from . import services

    sent = 0
    rounds = services.reminder_due_rounds()
    for rnd in rounds:
        sent += services.remind_judges(None, rnd, automatic=True)
    return {"rounds": len(rounds), "reminded": sent}
