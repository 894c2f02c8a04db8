"""One row per (job, due time): the row is the lock that makes a run happen exactly once."""
from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from ..timeutils import UTCDateTime, utcnow


class JobRunStatus:
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"


class JobRun(db.Model):
    """A run of a scheduled job for one due time.

    The runner inserts the row in its own committed transaction *before* calling the job; the
    UNIQUE (job_id, due_at) key lets only one process win a due time, on PostgreSQL and SQLite
    alike, even if two scheduler processes run by mistake.
    """

    __tablename__ = "job_runs"
    __table_args__ = (
        sa.UniqueConstraint("job_id", "due_at"),
        sa.CheckConstraint("status IN ('running', 'succeeded', 'failed')", name="status_valid"),
        sa.Index("ix_job_runs_started_at", "started_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    job_id: Mapped[str] = mapped_column(sa.String(64))
    # The scheduled fire time truncated to the second, UTC ("run now" uses the moment of the click).
    due_at: Mapped[datetime] = mapped_column(UTCDateTime())
    manual: Mapped[bool] = mapped_column(default=False)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    status: Mapped[str] = mapped_column(sa.String(16), default=JobRunStatus.RUNNING)
    result: Mapped[str | None] = mapped_column(sa.Text)
    error: Mapped[str | None] = mapped_column(sa.Text)
    host: Mapped[str] = mapped_column(sa.String(255))

    @property
    def duration_seconds(self) -> float | None:
        if self.finished_at is None:
            return None
        return (self.finished_at - self.started_at).total_seconds()
