"""Judging: judge profiles, conflicts, assignments, scores, round results.

Permissions live here as can_* helpers; the services decide, the database guarantees
(UNIQUE assignment per (round, entry, judge), one score per assignment, CHECKed states).
"""
from __future__ import annotations

import string
import unicodedata
from datetime import datetime

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..applications.models import Application
from ..competitions.models import Round, Track
from ..enums import Role
from ..extensions import db, one_of
from ..timeutils import UTCDateTime, utcnow

CONFLICT_SOURCES = ("declared", "automatic")
ASSIGNMENT_SOURCES = ("manual", "auto")
SCORE_STATUSES = ("draft", "submitted")
SCORE_STATUS_LABELS = {"draft": _l("Draft"), "submitted": _l("Submitted")}
DECISIONS = ("advanced", "eliminated")
AWARD_LEVELS = ("first", "second", "third", "honorable")
AWARD_LABELS = {"first": _l("First prize"), "second": _l("Second prize"), "third": _l("Third prize"),
                "honorable": _l("Honorable mention")}
REVEAL_MODES = ("nothing", "ranks", "scores")
REVEAL_LABELS = {"nothing": _l("Nothing"), "ranks": _l("Ranks only"), "scores": _l("Ranks and scores")}
# The recusal reason the platform writes when a conflict forbids an assignment (judging.services.
# withdraw_conflicted); shown in the reader's language. The second is what earlier versions wrote.
CONFLICT_REASON = "conflict of interest"
CONFLICT_REASONS = (CONFLICT_REASON, "声明利益冲突 (conflict of interest declared)")



# Suffixes that name the legal form, not the organisation: "嘉兴南湖科技有限公司" and "嘉兴南湖科技"
# are the same employer. Checked after punctuation and spaces are gone and letters are casefolded,
# longest first, repeatedly (so "集团有限公司" goes too).
ORG_SUFFIXES = ("股份有限公司", "有限责任公司", "有限公司", "集团", "公司",
                "coltd", "limited", "ltd", "inc", "corporation", "corp", "llc", "gmbh")


def normalize_organization(name: str | None) -> str:
    """The comparison key of a school or employer: NFKC (full-width → half-width), casefold, drop
    whitespace, punctuation and symbols, then drop legal-form suffixes (有限公司, Co., Ltd., Inc. ...)
    as long as something remains. "浙江大学" == "浙江 大学" == "浙江大学 "; "Alibaba Co., Ltd." ==
    "alibaba"; "嘉兴XX科技有限公司" == "嘉兴XX科技". Empty input gives "" (never a conflict)."""
    if not name:
        return ""
    text = unicodedata.normalize("NFKC", name).casefold()
    text = "".join(ch for ch in text if not unicodedata.category(ch)[0] in "PZSC" and ch not in string.whitespace)
    changed = True
    while changed:
        changed = False
        for suffix in ORG_SUFFIXES:
            if text.endswith(suffix) and len(text) > len(suffix) + 1:
                text = text[: -len(suffix)]
                changed = True
    return text


judge_expertise = sa.Table(
    "judge_expertise",
    db.metadata,
    sa.Column("profile_id", sa.ForeignKey("judge_profiles.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("track_id", sa.ForeignKey("tracks.id", ondelete="CASCADE"), primary_key=True),
)


class JudgeProfile(db.Model):
    __tablename__ = "judge_profiles"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), unique=True)
    organization: Mapped[str] = mapped_column(sa.String(160), default="")
    organization_key: Mapped[str] = mapped_column(sa.String(160), default="", index=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)

    user = relationship("User")
    expertise: Mapped[list[Track]] = relationship(secondary=judge_expertise, order_by="Track.position")

    @property
    def audit_label(self) -> str:
        return getattr(self.user, "email", str(self.user_id))


class JudgeConflict(db.Model):
    """A conflict of interest (回避): with one application, or with every entry of an organisation."""

    __tablename__ = "judge_conflicts"
    __table_args__ = (
        sa.CheckConstraint(one_of("source", CONFLICT_SOURCES), name="source_valid"),
        sa.CheckConstraint("application_id IS NOT NULL OR organization_key <> ''", name="has_target"),
        sa.Index("ix_judge_conflicts_judge", "judge_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    judge_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"))
    application_id: Mapped[int | None] = mapped_column(sa.ForeignKey("applications.id", ondelete="CASCADE"),
                                                       index=True)
    organization: Mapped[str] = mapped_column(sa.String(160), default="")
    organization_key: Mapped[str] = mapped_column(sa.String(160), default="")
    reason: Mapped[str] = mapped_column(sa.String(300), default="")
    source: Mapped[str] = mapped_column(sa.String(10), default="declared")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    application: Mapped[Application | None] = relationship()

    @property
    def audit_label(self) -> str:
        return self.organization or f"application #{self.application_id}"


class Assignment(db.Model):
    __tablename__ = "assignments"
    __table_args__ = (
        sa.UniqueConstraint("round_id", "application_id", "judge_id"),
        sa.CheckConstraint(one_of("source", ASSIGNMENT_SOURCES), name="source_valid"),
        sa.CheckConstraint("(recused_at IS NULL) = (recusal_reason IS NULL)", name="recusal_has_reason"),
        sa.Index("ix_assignments_judge_round", "judge_id", "round_id"),
        sa.Index("ix_assignments_round_application", "round_id", "application_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(sa.ForeignKey("rounds.id", ondelete="CASCADE"))
    application_id: Mapped[int] = mapped_column(sa.ForeignKey("applications.id", ondelete="CASCADE"))
    judge_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"))
    source: Mapped[str] = mapped_column(sa.String(10), default="manual")
    batch_id: Mapped[str | None] = mapped_column(sa.String(36), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    recused_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    recusal_reason: Mapped[str | None] = mapped_column(sa.String(500))

    round: Mapped[Round] = relationship()
    application: Mapped[Application] = relationship()
    judge = relationship("User", foreign_keys=[judge_id])
    score: Mapped[Score | None] = relationship(back_populates="assignment", uselist=False,
                                               cascade="all, delete-orphan")

    @property
    def active(self) -> bool:
        return self.recused_at is None

    @property
    def recusal_text(self) -> str:
        """The recusal reason as the reader should see it: the judge's words, or the platform's."""
        if self.recusal_reason in CONFLICT_REASONS:
            return str(_l("Conflict of interest"))
        return self.recusal_reason or ""

    @property
    def audit_label(self) -> str:
        return f"round {self.round_id} / application {self.application_id} / judge {self.judge_id}"

    @property
    def score_status_label(self) -> str:
        """The score's status in the reader's language ("" before any save): for the exports."""
        return str(SCORE_STATUS_LABELS[self.score.status]) if self.score else ""


class Score(db.Model):
    """One judge's score sheet for one assignment. `values` maps criterion id (as text) to a number.
    `version` grows by one on every save: a save that carries an older version is refused."""

    __tablename__ = "scores"
    __table_args__ = (
        sa.CheckConstraint(one_of("status", SCORE_STATUSES), name="status_valid"),
        sa.CheckConstraint("status = 'draft' OR submitted_at IS NOT NULL", name="submitted_has_time"),
        sa.CheckConstraint("version >= 1", name="version_positive"),
        sa.CheckConstraint("total IS NULL OR (total >= 0 AND total <= 100)", name="total_range"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    assignment_id: Mapped[int] = mapped_column(sa.ForeignKey("assignments.id", ondelete="CASCADE"), unique=True)
    values: Mapped[dict] = mapped_column(sa.JSON, default=dict)
    total: Mapped[float | None] = mapped_column(sa.Float)  # weighted 0-100, set when complete
    comment_to_organizers: Mapped[str] = mapped_column(sa.Text, default="")
    feedback_to_team: Mapped[str] = mapped_column(sa.Text, default="")
    status: Mapped[str] = mapped_column(sa.String(10), default="draft")
    version: Mapped[int] = mapped_column(default=1)
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    assignment: Mapped[Assignment] = relationship(back_populates="score")

    @property
    def submitted(self) -> bool:
        return self.status == "submitted"


class RoundState(db.Model):
    """Judging state of a round (kept beside the competitions' Round table, which judging does not own)."""

    __tablename__ = "round_states"
    __table_args__ = (sa.CheckConstraint(one_of("reveal", REVEAL_MODES), name="reveal_valid"),)

    round_id: Mapped[int] = mapped_column(sa.ForeignKey("rounds.id", ondelete="CASCADE"), primary_key=True)
    decisions_confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    results_published_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    reveal: Mapped[str] = mapped_column(sa.String(10), default="nothing")
    # Signed into the hall's screen links (services.screen_token): raising it withdraws every link
    # given out so far.
    screen_link_version: Mapped[int] = mapped_column(default=0, server_default="0")

    round: Mapped[Round] = relationship()


class RoundResult(db.Model):
    """An entry's outcome in a round: the figures at decision time, the decision, the award."""

    __tablename__ = "round_results"
    __table_args__ = (
        sa.UniqueConstraint("round_id", "application_id"),
        sa.CheckConstraint("decision IS NULL OR " + one_of("decision", DECISIONS), name="decision_valid"),
        sa.CheckConstraint("award_level IS NULL OR " + one_of("award_level", AWARD_LEVELS), name="award_valid"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(sa.ForeignKey("rounds.id", ondelete="CASCADE"))
    application_id: Mapped[int] = mapped_column(sa.ForeignKey("applications.id", ondelete="CASCADE"), index=True)
    aggregated: Mapped[float | None] = mapped_column(sa.Float)
    raw_mean: Mapped[float | None] = mapped_column(sa.Float)
    normalized: Mapped[float | None] = mapped_column(sa.Float)
    rank: Mapped[int | None] = mapped_column()
    track_rank: Mapped[int | None] = mapped_column()
    decision: Mapped[str | None] = mapped_column(sa.String(10))
    award_level: Mapped[str | None] = mapped_column(sa.String(10))
    # Final round: the managers chose to admit this team (入驻). Publishing the results turns it
    # into the incubator's admission (spaces.services.admit_team), which desk allocation reads.
    admitted: Mapped[bool] = mapped_column(default=False)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    decided_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))

    application: Mapped[Application] = relationship()

    @property
    def award_label(self):
        return AWARD_LABELS.get(self.award_level, "") if self.award_level else ""


class JudgeReminder(db.Model):
    """The 48-hour reminder a judge got for a round: one row per (round, judge) so it is sent once."""

    __tablename__ = "judge_reminders"
    __table_args__ = (sa.UniqueConstraint("round_id", "judge_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(sa.ForeignKey("rounds.id", ondelete="CASCADE"))
    judge_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"))
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


# --- permissions ---------------------------------------------------------------------------------

def is_manager(user) -> bool:
    return bool(user and user.is_authenticated and user.has_role(Role.MANAGER))


def can_score(user, assignment: Assignment | None) -> bool:
    """The judge of an active assignment (conflicts are checked by services.visible_assignment)."""
    return bool(assignment and user and user.is_authenticated and assignment.judge_id == user.id
                and assignment.active and user.has_role(Role.JUDGE))
