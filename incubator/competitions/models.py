"""Competitions and their set-up: tracks, rounds, rubric criteria, custom questions.

Times are aware UTC (UTCDateTime); managers type and read them in Asia/Shanghai.
"""
from __future__ import annotations

from datetime import datetime
from decimal import Decimal

import sqlalchemy as sa
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..enums import Role
from ..extensions import db, one_of
from ..timeutils import UTCDateTime, utcnow

COMPETITION_STATUSES = ("draft", "published", "closed")
COMPETITION_STATUS_LABELS = {"draft": _l("Draft"), "published": _l("Published"), "closed": _l("Closed")}

AGGREGATIONS = ("mean", "median", "trimmed_mean", "zscore")
AGGREGATION_LABELS = {
    "mean": _l("Mean"),
    "median": _l("Median"),
    "trimmed_mean": _l("Trimmed mean (drop highest and lowest)"),
    "zscore": _l("Z-score per judge, then mean"),
}
ADVANCEMENT_KINDS = ("top_n_per_track", "top_percent_overall")
ADVANCEMENT_LABELS = {"top_n_per_track": _l("Top N per track"), "top_percent_overall": _l("Top percent overall")}

QUESTION_KINDS = ("text", "number", "choice", "yes_no")
QUESTION_KIND_LABELS = {"text": _l("Text"), "number": _l("Number"), "choice": _l("Choice"), "yes_no": _l("Yes / no")}



def _zh() -> bool:
    try:
        return not str(get_locale() or "zh").startswith("en")
    except Exception:  # outside a request: Chinese first
        return True


def in_interface_language(zh: str | None, en: str | None) -> str:
    """The text in the interface's language, falling back to the other one."""
    return (zh or en or "") if _zh() else (en or zh or "")


class Bilingual:
    """Rows named in both languages show the one of the current interface, falling back to the other."""

    name_zh: str
    name_en: str | None

    @property
    def name(self) -> str:
        return in_interface_language(self.name_zh, self.name_en)


class Competition(Bilingual, db.Model):
    __tablename__ = "competitions"
    __table_args__ = (
        sa.CheckConstraint(one_of("status", COMPETITION_STATUSES), name="status_valid"),
        sa.CheckConstraint("opens_at IS NULL OR closes_at IS NULL OR opens_at < closes_at", name="window_ordered"),
        sa.CheckConstraint("max_founder_age IS NULL OR (max_founder_age > 0 AND max_founder_age < 100)",
                           name="max_age_sane"),
        sa.CheckConstraint("graduated_within_years IS NULL OR graduated_within_years >= 0",
                           name="graduated_within_sane"),
        sa.CheckConstraint("seats_offered IS NULL OR seats_offered >= 0", name="seats_sane"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name_zh: Mapped[str] = mapped_column(sa.String(120))
    name_en: Mapped[str | None] = mapped_column(sa.String(160))
    description_zh: Mapped[str] = mapped_column(sa.Text, default="")
    description_en: Mapped[str] = mapped_column(sa.Text, default="")
    opens_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    closes_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    status: Mapped[str] = mapped_column(sa.String(16), default="draft")
    # Eligibility of the team lead. Both set: meeting either one is enough (age OR recent graduate),
    # the usual rule of youth startup competitions. Neither set: everyone is eligible.
    max_founder_age: Mapped[int | None] = mapped_column(default=35)
    graduated_within_years: Mapped[int | None] = mapped_column()
    seats_offered: Mapped[int | None] = mapped_column()
    # A confirmed pitch deck is part of a complete application (set for new competitions by the form).
    deck_required: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    tracks: Mapped[list[Track]] = relationship(back_populates="competition", cascade="all, delete-orphan",
                                               order_by="Track.position")
    rounds: Mapped[list[Round]] = relationship(back_populates="competition", cascade="all, delete-orphan",
                                               order_by="Round.position")
    questions: Mapped[list[CustomQuestion]] = relationship(back_populates="competition",
                                                           cascade="all, delete-orphan",
                                                           order_by="CustomQuestion.position")

    @property
    def description(self) -> str:
        return in_interface_language(self.description_zh, self.description_en)

    @property
    def audit_label(self) -> str:
        return self.name_zh

    @property
    def status_label(self):
        return COMPETITION_STATUS_LABELS.get(self.status, self.status)

    def window_contains(self, moment: datetime) -> bool:
        return bool(self.opens_at and self.closes_at and self.opens_at <= moment < self.closes_at)

    def is_accepting(self, moment: datetime | None = None) -> bool:
        """Published and inside the application window (a granted extension is checked on the application)."""
        return self.status == "published" and self.window_contains(moment or utcnow())

    @property
    def is_visible_to_founders(self) -> bool:
        return self.status in ("published", "closed")

    @staticmethod
    def can_manage(user) -> bool:
        return bool(user and user.is_authenticated and user.has_role(Role.MANAGER))


class Track(Bilingual, db.Model):
    __tablename__ = "tracks"
    __table_args__ = (sa.UniqueConstraint("competition_id", "name_zh"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    competition_id: Mapped[int] = mapped_column(sa.ForeignKey("competitions.id", ondelete="CASCADE"), index=True)
    name_zh: Mapped[str] = mapped_column(sa.String(80))
    name_en: Mapped[str | None] = mapped_column(sa.String(120))
    position: Mapped[int] = mapped_column(default=0)

    competition: Mapped[Competition] = relationship(back_populates="tracks")

    @property
    def audit_label(self) -> str:
        return self.name_zh


class Round(Bilingual, db.Model):
    __tablename__ = "rounds"
    __table_args__ = (
        sa.CheckConstraint(one_of("aggregation", AGGREGATIONS), name="aggregation_valid"),
        sa.CheckConstraint(one_of("advancement_kind", ADVANCEMENT_KINDS), name="advancement_kind_valid"),
        sa.CheckConstraint("advancement_value > 0", name="advancement_value_positive"),
        sa.CheckConstraint("advancement_kind <> 'top_percent_overall' OR advancement_value <= 100",
                           name="advancement_percent_max"),
        sa.CheckConstraint("judges_per_entry > 0", name="judges_per_entry_positive"),
        sa.CheckConstraint("scoring_opens_at IS NULL OR scoring_closes_at IS NULL OR scoring_opens_at < scoring_closes_at",
                           name="scoring_window_ordered"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    competition_id: Mapped[int] = mapped_column(sa.ForeignKey("competitions.id", ondelete="CASCADE"), index=True)
    name_zh: Mapped[str] = mapped_column(sa.String(80))
    name_en: Mapped[str | None] = mapped_column(sa.String(120))
    position: Mapped[int] = mapped_column(default=0)
    scoring_opens_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    scoring_closes_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    judges_per_entry: Mapped[int] = mapped_column(default=3)
    blind: Mapped[bool] = mapped_column(default=False)
    aggregation: Mapped[str] = mapped_column(sa.String(20), default="mean")
    advancement_kind: Mapped[str] = mapped_column(sa.String(24), default="top_n_per_track")
    advancement_value: Mapped[int] = mapped_column(default=10)

    competition: Mapped[Competition] = relationship(back_populates="rounds")
    criteria: Mapped[list[Criterion]] = relationship(back_populates="round", cascade="all, delete-orphan",
                                                     order_by=lambda: [Criterion.position, Criterion.id])

    @property
    def audit_label(self) -> str:
        return self.name_zh

    @property
    def scoring_window_set(self) -> bool:
        """Whether both ends of the scoring window are set (a round may be created, and judges
        assigned, before they are)."""
        return self.scoring_opens_at is not None and self.scoring_closes_at is not None

    @property
    def aggregation_label(self):
        return AGGREGATION_LABELS.get(self.aggregation, self.aggregation)

    @property
    def total_weight(self) -> Decimal:
        return sum((c.weight for c in self.criteria), Decimal(0))

    @property
    def weight_warning(self) -> bool:
        """Weights need not sum to 100 (scores are normalised by the total weight), but a rubric whose
        weights read as percentages is easier for judges to trust, so anything else is flagged."""
        return bool(self.criteria) and self.total_weight != Decimal(100)


class Criterion(Bilingual, db.Model):
    __tablename__ = "criteria"
    __table_args__ = (
        sa.CheckConstraint("weight > 0", name="weight_positive"),
        sa.CheckConstraint("max_score > 0", name="max_score_positive"),
        sa.CheckConstraint("step > 0 AND step <= max_score", name="step_sane"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(sa.ForeignKey("rounds.id", ondelete="CASCADE"), index=True)
    name_zh: Mapped[str] = mapped_column(sa.String(80))
    name_en: Mapped[str | None] = mapped_column(sa.String(120))
    description_zh: Mapped[str] = mapped_column(sa.Text, default="")
    description_en: Mapped[str] = mapped_column(sa.Text, default="")
    weight: Mapped[Decimal] = mapped_column(sa.Numeric(6, 2))
    max_score: Mapped[Decimal] = mapped_column(sa.Numeric(6, 2), default=Decimal(10))
    step: Mapped[Decimal] = mapped_column(sa.Numeric(5, 2), default=Decimal(1))
    position: Mapped[int] = mapped_column(default=0)

    round: Mapped[Round] = relationship(back_populates="criteria")

    @property
    def description(self) -> str:
        return in_interface_language(self.description_zh, self.description_en)

    @property
    def audit_label(self) -> str:
        return self.name_zh


class CustomQuestion(db.Model):
    __tablename__ = "custom_questions"
    __table_args__ = (sa.CheckConstraint(one_of("kind", QUESTION_KINDS), name="kind_valid"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    competition_id: Mapped[int] = mapped_column(sa.ForeignKey("competitions.id", ondelete="CASCADE"), index=True)
    label_zh: Mapped[str] = mapped_column(sa.String(200))
    label_en: Mapped[str | None] = mapped_column(sa.String(300))
    kind: Mapped[str] = mapped_column(sa.String(10), default="text")
    # Options of a "choice" question, one per entry; the stored answer is the option's text.
    choices: Mapped[list] = mapped_column(sa.JSON, default=list)
    required: Mapped[bool] = mapped_column(default=False)
    position: Mapped[int] = mapped_column(default=0)

    competition: Mapped[Competition] = relationship(back_populates="questions")

    @property
    def label(self) -> str:
        return in_interface_language(self.label_zh, self.label_en)

    @property
    def audit_label(self) -> str:
        return self.label_zh[:255]

    @property
    def kind_label(self):
        return QUESTION_KIND_LABELS.get(self.kind, self.kind)
