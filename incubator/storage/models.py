"""Upload tickets: the record of a key the server handed out for one browser upload.

A ticket exists before any byte reaches the store (the key is server-chosen, the limits are
signed into the presigned POST). Once the owning feature has checked the content of a copy of
the upload (services.snapshot_upload), the copy gets a confirmed ticket of its own, never signed
into any form, and the upload's ticket is closed: confirmed and deleted, its object removed.
A ticket is marked deleted when its object is removed. Objects without a live (not deleted)
ticket are swept by remove_unconfirmed_uploads().
"""
from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from ..timeutils import UTCDateTime, utcnow


class UploadTicket(db.Model):
    __tablename__ = "upload_tickets"
    __table_args__ = (
        sa.CheckConstraint("max_bytes > 0", name="max_bytes_positive"),
        sa.CheckConstraint("size_bytes IS NULL OR size_bytes >= 0", name="size_not_negative"),
        # The cleanup query: unconfirmed, not deleted, older than a day.
        sa.Index("ix_upload_tickets_pending", "confirmed_at", "deleted_at", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(sa.String(255), unique=True)
    purpose: Mapped[str] = mapped_column(sa.String(40), index=True)
    # SET NULL, not CASCADE: removing a person must not orphan (and so sweep away) their files.
    owner_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"), index=True)
    content_type: Mapped[str] = mapped_column(sa.String(127))
    max_bytes: Mapped[int] = mapped_column(sa.BigInteger)
    # Shown to people and used in Content-Disposition only; never part of the key.
    original_filename: Mapped[str] = mapped_column(sa.String(255))
    size_bytes: Mapped[int | None] = mapped_column(sa.BigInteger)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    @property
    def audit_label(self) -> str:
        return f"{self.purpose}: {self.original_filename}"[:255]

    @property
    def is_pending(self) -> bool:
        return self.confirmed_at is None and self.deleted_at is None

    def can_use(self, user) -> bool:
        """Only the person it was issued to may upload to, confirm or download through it."""
        return user is not None and getattr(user, "is_authenticated", False) and self.owner_id == user.id
