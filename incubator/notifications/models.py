"""The mail outbox and in-app notices."""
from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from ..enums import OutboxState
from ..extensions import db
from ..timeutils import UTCDateTime, utcnow


class OutboxMessage(db.Model):
    """A mail rendered at the moment of the change and sent later by the send job.

    It is added in the same transaction as the change that caused it: a rolled-back change
    sends nothing, a committed one is delivered even if SMTP is down right now.
    """

    __tablename__ = "outbox_messages"
    __table_args__ = (
        sa.CheckConstraint("state IN ('pending', 'sending', 'sent', 'failed')", name="state_valid"),
        sa.Index("ix_outbox_messages_due", "state", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    recipient: Mapped[str] = mapped_column(sa.String(254))
    recipient_user_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    subject: Mapped[str] = mapped_column(sa.String(255))
    body_text: Mapped[str] = mapped_column(sa.Text)
    body_html: Mapped[str | None] = mapped_column(sa.Text)
    template: Mapped[str] = mapped_column(sa.String(64))
    state: Mapped[str] = mapped_column(sa.String(16), default=OutboxState.PENDING.value)
    attempts: Mapped[int] = mapped_column(default=0)
    last_error: Mapped[str | None] = mapped_column(sa.Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    claimed_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    message_id: Mapped[str] = mapped_column(sa.String(255), unique=True)


class Notice(db.Model):
    """An in-app notification shown in the navigation with an unread count."""

    __tablename__ = "notices"
    __table_args__ = (sa.Index("ix_notices_user_unread", "user_id", "read_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(sa.String(64))
    # Stored in both languages at creation so the list needs no re-rendering.
    text_zh: Mapped[str] = mapped_column(sa.String(500))
    text_en: Mapped[str] = mapped_column(sa.String(500))
    link: Mapped[str | None] = mapped_column(sa.String(500))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    def text_for(self, locale: str) -> str:
        return self.text_en if str(locale).startswith("en") else self.text_zh
