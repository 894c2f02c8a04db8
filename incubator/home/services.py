"""Figures for the managers' dashboard: a handful of counts, one query each."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from ..enums import OutboxState
from ..extensions import db
from ..timeutils import utcnow


@dataclass(frozen=True)
class ManagerOverview:
    applications_by_status: dict[str, int]
    published_competitions: int
    failed_mail: int
    failed_jobs_24h: int


def manager_overview() -> ManagerOverview:
    from ..applications.models import Application
    from ..competitions.models import Competition
    from ..jobs.models import JobRun
    from ..notifications.models import OutboxMessage

    by_status = dict(db.session.execute(
        db.select(Application.status, db.func.count(Application.id)).group_by(Application.status)
    ).all())
    published = db.session.scalar(
        db.select(db.func.count(Competition.id)).where(Competition.status == "published")) or 0
    failed_mail = db.session.scalar(
        db.select(db.func.count(OutboxMessage.id)).where(OutboxMessage.state == OutboxState.FAILED.value)) or 0
    failed_jobs = db.session.scalar(
        db.select(db.func.count(JobRun.id)).where(JobRun.status == "failed",
                                                  JobRun.started_at >= utcnow() - timedelta(hours=24))) or 0
    return ManagerOverview(by_status, published, failed_mail, failed_jobs)
