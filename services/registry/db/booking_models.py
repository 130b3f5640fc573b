"""Registry tables of instrument time (issue 16): schedules, downtime,
qualifications and bookings. They share ``metadata`` with the rest of the
registry, so one alembic history covers them (``db/models.py`` imports
this module). Times are UTC.

On PostgreSQL the migration adds an exclusion constraint to ``bookings``
(``bookings_no_overlap``: btree_gist over ``instrument_id`` and
``tstzrange(starts_at, ends_at)`` for requested, confirmed and used bookings), so
two bookings holding time never overlap on one instrument whatever the code
does. SQLite has no such constraint: there the write transaction
(``BEGIN IMMEDIATE``, services/runtime/db/schema.py) serialises the check and
the insert.
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Column,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
)

from services.registry.db.metadata import metadata
from services.runtime.db.schema import UtcDateTime

#: one per instrument; the owner unit edits it (no row: the instrument takes no bookings)
instrument_schedules = Table(
    "instrument_schedules",
    metadata,
    Column("instrument_id", String(36), ForeignKey("instruments.id"), primary_key=True),
    Column("unit_id", String(36), ForeignKey("units.id"), nullable=False),
    #: {"mon": [["08:30", "12:00"], ...], ...} in Asia/Shanghai local time
    Column("weekly_hours", JSON, nullable=False),
    Column("closed_on_holidays", Boolean, nullable=False),
    Column("open_on_makeup_days", Boolean, nullable=False),
    Column("slot_minutes", Integer, nullable=False),
    Column("min_minutes", Integer, nullable=False),
    Column("max_minutes", Integer, nullable=False),
    Column("book_ahead_days", Integer, nullable=False),
    Column("book_before_minutes", Integer, nullable=False),
    Column("cancel_before_hours", Integer, nullable=False),
    #: staff / self
    Column("operated_by", String(10), nullable=False),
    #: required / automatic
    Column("approval", String(10), nullable=False),
    Column("version", Integer, nullable=False),
    Column("updated_by", String(200), nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    CheckConstraint("slot_minutes > 0 AND min_minutes <= max_minutes", name="schedule_limits"),
)

#: maintenance and other downtime: no booking over it; added over bookings, it cancels them
instrument_downtimes = Table(
    "instrument_downtimes",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("instrument_id", String(36), ForeignKey("instruments.id"), nullable=False),
    Column("starts_at", UtcDateTime, nullable=False),
    Column("ends_at", UtcDateTime, nullable=False),
    Column("reason", Text, nullable=False),
    Column("created_by", String(200), nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    CheckConstraint("ends_at > starts_at", name="downtime_range"),
    Index("ix_instrument_downtimes_instrument_start", "instrument_id", "starts_at"),
)

#: who (a person: an account of a user organisation) is trained on a self-operated instrument
instrument_qualifications = Table(
    "instrument_qualifications",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("instrument_id", String(36), ForeignKey("instruments.id"), nullable=False),
    Column("account_id", String(36), ForeignKey("accounts.id"), nullable=False),
    #: the user organisation the person belongs to (the account's org)
    Column("user_id", String(36), ForeignKey("users.id"), nullable=False),
    #: the last day (Asia/Shanghai) the qualification is in force
    Column("valid_until", Date, nullable=False),
    Column("granted_by", String(200), nullable=False),
    Column("granted_at", UtcDateTime, nullable=False),
    Column("revoked_at", UtcDateTime, nullable=True),
    Column("revoked_by", String(200), nullable=True),
    Column("revoke_reason", Text, nullable=True),
    Index("uq_instrument_qualifications_person", "instrument_id", "account_id", unique=True),
)

#: a slot of instrument time booked by a user for one of its orders
bookings = Table(
    "bookings",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("instrument_id", String(36), ForeignKey("instruments.id"), nullable=False),
    Column("unit_id", String(36), ForeignKey("units.id"), nullable=False),
    Column("user_id", String(36), ForeignKey("users.id"), nullable=False),
    Column("order_id", String(36), ForeignKey("orders.id"), nullable=False),
    #: "<role>:<subject>" of the person who booked
    Column("booked_by", String(200), nullable=False),
    Column("starts_at", UtcDateTime, nullable=False),
    Column("ends_at", UtcDateTime, nullable=False),
    #: requested / confirmed / declined / cancelled / no_show / used
    Column("status", String(20), nullable=False),
    Column("note", Text, nullable=True),
    #: the last decision: who (role:subject), the party (user / unit), why, when
    Column("decided_by", String(200), nullable=True),
    Column("decided_party", String(10), nullable=True),
    Column("reason", Text, nullable=True),
    Column("decided_at", UtcDateTime, nullable=True),
    #: the downtime that cancelled it, if one did
    Column("downtime_id", String(36), ForeignKey("instrument_downtimes.id"), nullable=True),
    Column("created_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    Column("version", Integer, nullable=False),
    #: when its user was reminded of the confirmed booking (once; services/registry/booking_notices.py)
    Column("reminded_at", UtcDateTime, nullable=True),
    CheckConstraint("ends_at > starts_at", name="booking_range"),
    Index("ix_bookings_instrument_start", "instrument_id", "starts_at"),
    Index("ix_bookings_user_start", "user_id", "starts_at"),
    Index("ix_bookings_unit_start", "unit_id", "starts_at"),
    Index("ix_bookings_order", "order_id"),
)
