"""The building (buildings → floors → zones → spaces), admissions, space requests, leases.

Invariants live in the database:
- a lease is half-open [start_date, end_date) with end_date > start_date (CHECK, both backends);
- two ACTIVE leases of one space never overlap: on PostgreSQL an exclusion constraint
  (`EXCLUDE USING gist (space_id WITH =, daterange(start_date, end_date, '[)') WITH &&)
  WHERE (status = 'active')`, needs btree_gist, created by migration 0006); on SQLite the
  allocation services check and insert inside the app's BEGIN IMMEDIATE transaction, which
  serialises writers.
"""
from __future__ import annotations

from datetime import date, datetime

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.dialects.postgresql import ExcludeConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..enums import Role
from ..extensions import db, one_of
from ..timeutils import UTCDateTime, utcnow

SPACE_TYPES = ("desk_hot", "desk_fixed", "office")
DESK_TYPES = ("desk_hot", "desk_fixed")
SPACE_TYPE_LABELS = {"desk_hot": _l("Hot desk"), "desk_fixed": _l("Fixed desk"), "office": _l("Private office")}
FEATURES = ("window", "power", "monitor")
FEATURE_LABELS = {"window": _l("Window"), "power": _l("Power"), "monitor": _l("Monitor")}

REQUEST_STATUSES = ("waiting", "allocated", "cancelled")
REQUEST_STATUS_LABELS = {"waiting": _l("Waiting"), "allocated": _l("Allocated"), "cancelled": _l("Cancelled")}
LEASE_STATUSES = ("active", "ended", "cancelled")
LEASE_STATUS_LABELS = {"active": _l("Active"), "ended": _l("Ended"), "cancelled": _l("Cancelled")}
# Why the platform itself cancelled a lease: a code kept in leases.cancel_code and named in the
# reader's language when shown (a manager's own reason is free text in cancel_reason).
CANCEL_CODES = ("moved", "ended_before_start")
CANCEL_CODE_LABELS = {"moved": _l("Moved to another space before it started"),
                      "ended_before_start": _l("Ended before it started")}
AWARD_LEVEL_LABELS = {1: _l("First prize"), 2: _l("Second prize"), 3: _l("Third prize"), 4: _l("Excellence award")}
REMINDER_DAYS = (30, 7)



def _is_manager(user) -> bool:
    return bool(user and getattr(user, "is_authenticated", False) and user.has_role(Role.MANAGER))


class Building(db.Model):
    __tablename__ = "buildings"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(120), unique=True)
    address: Mapped[str] = mapped_column(sa.String(200), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    floors: Mapped[list[Floor]] = relationship(back_populates="building", order_by="Floor.number",
                                               cascade="all, delete-orphan")

    @property
    def audit_label(self) -> str:
        return self.name


class Floor(db.Model):
    __tablename__ = "floors"
    __table_args__ = (
        sa.UniqueConstraint("building_id", "number"),
        sa.CheckConstraint("plan_width > 0 AND plan_height > 0", name="plan_size_positive"),
        # What a space's (floor_id, building_id) refers to, so that a space is always in its floor's
        # building (a unique index rather than a constraint: SQLite adds it without rebuilding floors).
        sa.Index("ix_floors_id_building_id", "id", "building_id", unique=True),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    building_id: Mapped[int] = mapped_column(sa.ForeignKey("buildings.id", ondelete="CASCADE"))
    number: Mapped[int] = mapped_column()
    name: Mapped[str] = mapped_column(sa.String(120), default="")
    plan_width: Mapped[float] = mapped_column(sa.Float, default=2000.0)
    plan_height: Mapped[float] = mapped_column(sa.Float, default=1200.0)
    background_key: Mapped[str | None] = mapped_column(sa.String(512))  # S3 key of the plan image
    # Bumped in the same transaction as every change that alters the plan (leases, outages, layout):
    # the rendered SVG is cached per (floor, plan_version, date, today …), see views.floor_plan_svg.
    plan_version: Mapped[int] = mapped_column(default=0)

    building: Mapped[Building] = relationship(back_populates="floors")
    zones: Mapped[list[Zone]] = relationship(back_populates="floor", order_by="Zone.code",
                                             cascade="all, delete-orphan")

    @property
    def label(self) -> str:
        return self.name or f"{self.number}F"

    @property
    def audit_label(self) -> str:
        return f"{self.building.name} {self.label}" if self.building else self.label


class Zone(db.Model):
    __tablename__ = "zones"
    __table_args__ = (sa.UniqueConstraint("floor_id", "code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    floor_id: Mapped[int] = mapped_column(sa.ForeignKey("floors.id", ondelete="CASCADE"))
    code: Mapped[str] = mapped_column(sa.String(3))
    name: Mapped[str] = mapped_column(sa.String(120), default="")

    floor: Mapped[Floor] = relationship(back_populates="zones")

    @property
    def label(self) -> str:
        return f"{self.code} {self.name}".strip()

    @property
    def audit_label(self) -> str:
        return self.label


def _building_of_floor(context) -> int | None:
    """A new space's building: its floor's (the default when only floor_id is given)."""
    floors = Floor.__table__
    floor_id = context.get_current_parameters().get("floor_id")
    return context.connection.scalar(sa.select(floors.c.building_id).where(floors.c.id == floor_id))


class Space(db.Model):
    """A desk or an office. Its code is unique in its building (every building may have a 3F-A-001),
    so a code a person types is looked up in the building in question (services.resolve_space_code)."""

    __tablename__ = "spaces"
    __table_args__ = (
        sa.CheckConstraint(one_of("type", SPACE_TYPES), name="type_valid"),
        sa.CheckConstraint("capacity >= 1", name="capacity_positive"),
        sa.CheckConstraint("type = 'office' OR capacity = 1", name="desk_has_one_seat"),
        sa.CheckConstraint("w > 0 AND h > 0 AND x >= 0 AND y >= 0", name="geometry_sane"),
        sa.Index("ix_spaces_floor_code", "floor_id", "code"),
        sa.UniqueConstraint("building_id", "code"),
        # The floor, and with it the building: building_id can never differ from the floor's.
        sa.ForeignKeyConstraint(["floor_id", "building_id"], ["floors.id", "floors.building_id"], ondelete="CASCADE"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(sa.String(20))
    building_id: Mapped[int] = mapped_column(default=_building_of_floor)
    floor_id: Mapped[int] = mapped_column()
    zone_id: Mapped[int] = mapped_column(sa.ForeignKey("zones.id", ondelete="CASCADE"), index=True)
    type: Mapped[str] = mapped_column(sa.String(12))
    capacity: Mapped[int] = mapped_column(default=1)
    features: Mapped[list] = mapped_column(sa.JSON, default=list)
    x: Mapped[float] = mapped_column(sa.Float)
    y: Mapped[float] = mapped_column(sa.Float)
    w: Mapped[float] = mapped_column(sa.Float)
    h: Mapped[float] = mapped_column(sa.Float)

    floor: Mapped[Floor] = relationship()
    zone: Mapped[Zone] = relationship()

    @property
    def seats(self) -> int:
        return 1 if self.type in DESK_TYPES else self.capacity

    @property
    def type_label(self):
        return SPACE_TYPE_LABELS.get(self.type, self.type)

    @property
    def audit_label(self) -> str:
        return self.code


class SpaceOutage(db.Model):
    """The space is out of service over [start_date, end_date); no end = until further notice."""

    __tablename__ = "space_outages"
    __table_args__ = (sa.CheckConstraint("end_date IS NULL OR end_date > start_date", name="period_ordered"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    space_id: Mapped[int] = mapped_column(sa.ForeignKey("spaces.id", ondelete="CASCADE"), index=True)
    start_date: Mapped[date] = mapped_column(sa.Date)
    end_date: Mapped[date | None] = mapped_column(sa.Date)
    reason: Mapped[str] = mapped_column(sa.String(200), default="")
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    space: Mapped[Space] = relationship()


class Admission(db.Model):
    """A team admitted to the incubator (入驻): by a manager directly or by the judging results.
    Only admitted teams may ask for space. One admission per team."""

    __tablename__ = "admissions"
    __table_args__ = (
        sa.CheckConstraint(one_of("source", ("manager", "judging")), name="source_valid"),
        sa.CheckConstraint("award_level_rank IS NULL OR award_level_rank >= 1", name="award_rank_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    team_id: Mapped[int] = mapped_column(sa.ForeignKey("teams.id", ondelete="CASCADE"), unique=True)
    admitted_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    admitted_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    source: Mapped[str] = mapped_column(sa.String(10), default="manager")
    award_level_rank: Mapped[int | None] = mapped_column()  # 1 = first prize … NULL = no award known
    note: Mapped[str] = mapped_column(sa.String(500), default="")

    team = relationship("Team")
    admitted_by = relationship("User")


class SpaceRequest(db.Model):
    __tablename__ = "space_requests"
    __table_args__ = (
        sa.CheckConstraint(one_of("status", REQUEST_STATUSES), name="status_valid"),
        sa.CheckConstraint(one_of("space_type", SPACE_TYPES), name="type_valid"),
        sa.CheckConstraint("seats >= 1", name="seats_positive"),
        sa.CheckConstraint("duration_months >= 1 AND duration_months <= 36", name="duration_sane"),
        sa.CheckConstraint("award_level_rank IS NULL OR award_level_rank >= 1", name="award_rank_positive"),
        sa.CheckConstraint("override_priority IS NULL OR override_reason <> ''", name="override_has_reason"),
        sa.Index("ix_space_requests_status", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    team_id: Mapped[int] = mapped_column(sa.ForeignKey("teams.id", ondelete="CASCADE"), index=True)
    seats: Mapped[int] = mapped_column()
    space_type: Mapped[str] = mapped_column(sa.String(12))
    preferred_zone_id: Mapped[int | None] = mapped_column(sa.ForeignKey("zones.id", ondelete="SET NULL"))
    start_date: Mapped[date] = mapped_column(sa.Date)
    duration_months: Mapped[int] = mapped_column()
    note: Mapped[str] = mapped_column(sa.String(500), default="")
    award_level_rank: Mapped[int | None] = mapped_column()  # filled by admission/judging
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    # A manager may put a request ahead of the normal order: smaller comes first, before every
    # request without an override. The reason is required (CHECK) and audited.
    override_priority: Mapped[int | None] = mapped_column()
    override_reason: Mapped[str] = mapped_column(sa.String(300), default="")
    status: Mapped[str] = mapped_column(sa.String(12), default="waiting")
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    lease_group: Mapped[str | None] = mapped_column(sa.String(36))

    team = relationship("Team")
    preferred_zone: Mapped[Zone | None] = relationship()

    @property
    def type_label(self):
        return SPACE_TYPE_LABELS.get(self.space_type, self.space_type)

    @property
    def status_label(self):
        return REQUEST_STATUS_LABELS.get(self.status, self.status)

    @property
    def award_label(self):
        return AWARD_LEVEL_LABELS.get(self.award_level_rank, "") if self.award_level_rank else ""

    @property
    def audit_label(self) -> str:
        return f"{self.team.name if self.team else self.team_id}: {self.seats} × {self.space_type}"

    def can_view(self, user) -> bool:
        return _is_manager(user) or bool(user and getattr(user, "is_authenticated", False)
                                         and self.team and self.team.created_by_id == user.id)


class Lease(db.Model):
    __tablename__ = "leases"
    __table_args__ = (
        sa.CheckConstraint("end_date > start_date", name="period_ordered"),
        sa.CheckConstraint(one_of("status", LEASE_STATUSES), name="status_valid"),
        sa.CheckConstraint(f"cancel_code IS NULL OR {one_of('cancel_code', CANCEL_CODES)}", name="cancel_code_valid"),
        sa.Index("ix_leases_space_period", "space_id", "start_date", "end_date"),
        sa.Index("ix_leases_status_end", "status", "end_date"),
        ExcludeConstraint(
            (sa.column("space_id"), "="),
            (sa.func.daterange(sa.column("start_date"), sa.column("end_date"), sa.literal_column("'[)'")), "&&"),
            using="gist", where=sa.text("status = 'active'"), name="leases_no_overlap",
        ).ddl_if(dialect="postgresql"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    space_id: Mapped[int] = mapped_column(sa.ForeignKey("spaces.id", ondelete="RESTRICT"))
    team_id: Mapped[int] = mapped_column(sa.ForeignKey("teams.id", ondelete="CASCADE"), index=True)
    start_date: Mapped[date] = mapped_column(sa.Date)
    end_date: Mapped[date] = mapped_column(sa.Date)  # exclusive
    status: Mapped[str] = mapped_column(sa.String(10), default="active")
    group_id: Mapped[str] = mapped_column(sa.String(36), index=True)  # leases allocated together
    request_id: Mapped[int | None] = mapped_column(sa.ForeignKey("space_requests.id", ondelete="SET NULL"))
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    cancel_reason: Mapped[str] = mapped_column(sa.String(300), default="")  # a manager's words
    cancel_code: Mapped[str | None] = mapped_column(sa.String(20))  # or one of CANCEL_CODES
    moved_to_id: Mapped[int | None] = mapped_column(sa.ForeignKey("leases.id", ondelete="SET NULL"))

    space: Mapped[Space] = relationship()
    team = relationship("Team")

    @property
    def status_label(self):
        return LEASE_STATUS_LABELS.get(self.status, self.status)

    @property
    def cancel_reason_text(self) -> str:
        """Why it was cancelled, in the reader's language when the platform gave the reason."""
        if self.cancel_code:
            return str(CANCEL_CODE_LABELS.get(self.cancel_code, self.cancel_code))
        return self.cancel_reason or ""

    @property
    def last_day(self) -> date:
        from datetime import timedelta

        return self.end_date - timedelta(days=1)

    @property
    def audit_label(self) -> str:
        return f"{self.space.code if self.space else self.space_id} [{self.start_date}, {self.end_date})"

    def can_view(self, user) -> bool:
        return _is_manager(user) or bool(user and getattr(user, "is_authenticated", False)
                                         and self.team and self.team.created_by_id == user.id)


class LeaseReminder(db.Model):
    """A reminder sent before a lease ends: the UNIQUE key makes each one go out once."""

    __tablename__ = "lease_reminders"
    __table_args__ = (sa.UniqueConstraint("lease_id", "days_before", "end_date"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    lease_id: Mapped[int] = mapped_column(sa.ForeignKey("leases.id", ondelete="CASCADE"))
    days_before: Mapped[int] = mapped_column()
    end_date: Mapped[date] = mapped_column(sa.Date)  # the end it was about: a renewal re-arms it
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
