"""Scheduled jobs of the notifications feature (imported by incubator.jobs.registry)."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l

from ..jobs.registry import register_job

# deliver_pending commits after each message itself (a sent mail must be marked sent at once).
register_job("send_mail", "incubator.notifications.mailer:deliver_pending", trigger="interval", seconds=30,
             misfire_grace_time=30, description=_l("Send queued mail from the outbox"))
