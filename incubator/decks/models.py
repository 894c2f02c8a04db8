"""Pitch decks: every confirmed version of an application's deck, and who may download it.

A Deck row exists only once its upload was checked and confirmed (pending uploads live in
storage's UploadTicket until then, and the hourly sweep removes those never confirmed). Versions
count up per application; the highest is the current deck; older ones are kept.
"""
from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..applications.models import Application
from ..enums import Role
from ..extensions import db
from ..storage.models import UploadTicket
from ..timeutils import UTCDateTime, utcnow

DECK_KINDS = ("pdf", "pptx")
CONTENT_TYPES = {
    "pdf": "application/pdf",
    "pptx": "application/vnd.openxmlformats-officedocument.presentationml.presentation",
}


class Deck(db.Model):
    __tablename__ = "decks"
    __table_args__ = (
        sa.UniqueConstraint("application_id", "version"),
        sa.CheckConstraint("version >= 1", name="version_positive"),
        sa.CheckConstraint("size_bytes > 0", name="size_positive"),
        sa.CheckConstraint("kind IN ('pdf', 'pptx')", name="kind_valid"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # No index of its own: the unique (application_id, version) serves lookups by application.
    application_id: Mapped[int] = mapped_column(sa.ForeignKey("applications.id", ondelete="CASCADE"))
    version: Mapped[int] = mapped_column()
    # The confirmed ticket of the checked copy (its key is `key`), not the upload's own ticket: the
    # upload form can still write to the upload's key for an hour, never to the copy's.
    # RESTRICT: a confirmed ticket is never swept, and a deck always names the object it stands for.
    ticket_id: Mapped[int] = mapped_column(sa.ForeignKey("upload_tickets.id", ondelete="RESTRICT"), unique=True)
    key: Mapped[str] = mapped_column(sa.String(255))
    original_filename: Mapped[str] = mapped_column(sa.String(255))
    size_bytes: Mapped[int] = mapped_column(sa.BigInteger)
    kind: Mapped[str] = mapped_column(sa.String(8))
    uploaded_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    confirmed_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    application: Mapped[Application] = relationship()
    ticket: Mapped[UploadTicket] = relationship()
    uploaded_by = relationship("User")

    @property
    def content_type(self) -> str:
        return CONTENT_TYPES[self.kind]

    @property
    def audit_label(self) -> str:
        return f"v{self.version} {self.original_filename}"[:255]


# --- who may download ----------------------------------------------------------------------------

# EXTENSION POINT for the judging feature (built on another branch). When the module below
# exists, its function `can_view_deck(judge, application) -> bool` decides for judges: True only
# for a judge with an active assignment on this entry and no conflict with it (main's
# incubator/judging/services.py has exactly this function). On this branch the module does not
# exist yet, so judges get no deck. A module that exists but fails to import raises: a broken
# judging module must not silently hide (or show) decks.
def judge_may_read(user, application: Application) -> bool:
    """Judging decides: an active, non-conflicted assignment on the entry."""
    from ..judging.services import can_view_deck

    return can_view_deck(user, application)


def is_team_member(user, application: Application) -> bool:
    """The founder who created the team, or a member whose row is linked to this account."""
    if application.is_owned_by(user):
        return True
    return any(m.user_id == user.id for m in application.team.members if m.user_id is not None)


def can_download_deck(user, application: Application) -> bool:
    """The team, managers, and (through judging's extension point) judges assigned to the entry."""
    if user is None or not getattr(user, "is_authenticated", False):
        return False
    if user.has_role(Role.MANAGER) or is_team_member(user, application):
        return True
    return user.has_role(Role.JUDGE) and judge_may_read(user, application)


def sees_deck_file_name(user, application: Application) -> bool:
    """Judges get the deck under a neutral name: the original file name often names the team,
    which a blind round must hide. The team and managers see the name they know."""
    return user.has_role(Role.MANAGER) or is_team_member(user, application)


def can_upload_deck(user, application: Application) -> bool:
    """Whoever may edit the application (a draft any time, a submitted one until the deadline)."""
    return application.can_edit(user)
