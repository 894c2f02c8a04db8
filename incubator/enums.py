"""States and roles, importable from anywhere without import cycles."""
from __future__ import annotations

import enum

from flask_babel import lazy_gettext as _l


class Role(str, enum.Enum):
    FOUNDER = "founder"
    JUDGE = "judge"
    MANAGER = "manager"


ROLE_LABELS = {Role.FOUNDER: _l("Founder"), Role.JUDGE: _l("Judge"), Role.MANAGER: _l("Manager")}


class InvitationState(str, enum.Enum):
    PENDING = "pending"
    ACCEPTED = "accepted"
    REVOKED = "revoked"


class OutboxState(str, enum.Enum):
    PENDING = "pending"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"  # gave up after the last retry; a manager can requeue it
