"""Registry tables of the usage log (issue 16): sessions of use of an
instrument, their corrections, and the instrument-side recorders that post
them. They share ``metadata`` with the rest of the registry
(``db/models.py`` imports this module). Times UTC."""

from __future__ import annotations

from sqlalchemy import (
    CheckConstraint,
    Column,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
)

from services.registry.db.metadata import metadata
from services.runtime.db.dialect_ddl import partial_index
from services.runtime.db.schema import UtcDateTime

#: one session of use of an instrument: open from check-in until check-out
usage_sessions = Table(
    "usage_sessions",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("instrument_id", String(36), ForeignKey("instruments.id"), nullable=False),
    Column("unit_id", String(36), ForeignKey("units.id"), nullable=False),
    #: outside / internal
    Column("kind", String(20), nullable=False),
    Column("order_id", String(36), ForeignKey("orders.id"), nullable=True),
    #: the order's user (outside sessions)
    Column("user_id", String(36), nullable=True),
    #: the unit's researcher or group (internal sessions)
    Column("researcher", String(200), nullable=True),
    #: a booking this session served (no foreign key: bookings live elsewhere)
    Column("booking_id", String(36), nullable=True),
    #: staff / recorder
    Column("source", String(20), nullable=False),
    Column("recorder_id", String(36), nullable=True),
    Column("started_at", UtcDateTime, nullable=False),
    Column("ended_at", UtcDateTime, nullable=True),
    #: whole minutes between start and end (None while open)
    Column("minutes", Integer, nullable=True),
    Column("version", Integer, nullable=False),
    #: "<role>:<subject>"
    Column("created_by", String(200), nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    CheckConstraint("kind IN ('outside', 'internal')", name="usage_kind_known"),
    CheckConstraint("kind <> 'outside' OR order_id IS NOT NULL", name="usage_outside_has_order"),
    CheckConstraint("ended_at IS NULL OR ended_at > started_at", name="usage_ends_after_start"),
    CheckConstraint("(ended_at IS NULL) = (minutes IS NULL)", name="usage_minutes_when_closed"),
    CheckConstraint("minutes IS NULL OR minutes >= 0", name="usage_minutes_not_negative"),
    Index("ix_usage_sessions_instrument", "instrument_id", "started_at"),
    Index("ix_usage_sessions_order", "order_id"),
    Index("ix_usage_sessions_unit", "unit_id", "started_at"),
    # at most one open session per instrument, whatever the code does
    partial_index("uq_usage_sessions_open", "instrument_id", unique=True, where="ended_at IS NULL"),
)

#: a correction of a closed session: the times before and after, who and why
#: (the first correction's ``before`` is the original record)
usage_corrections = Table(
    "usage_corrections",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("session_id", String(36), ForeignKey("usage_sessions.id"), nullable=False),
    Column("before_started_at", UtcDateTime, nullable=False),
    Column("before_ended_at", UtcDateTime, nullable=False),
    Column("before_minutes", Integer, nullable=False),
    Column("after_started_at", UtcDateTime, nullable=False),
    Column("after_ended_at", UtcDateTime, nullable=False),
    Column("after_minutes", Integer, nullable=False),
    Column("reason", Text, nullable=False),
    Column("corrected_by", String(200), nullable=False),
    Column("corrected_at", UtcDateTime, nullable=False),
    Index("ix_usage_corrections_session", "session_id", "corrected_at"),
)

#: an instrument-side recorder (a relay, a timer, the instrument's PC) with its own credential
usage_recorders = Table(
    "usage_recorders",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("instrument_id", String(36), ForeignKey("instruments.id"), nullable=False),
    Column("unit_id", String(36), ForeignKey("units.id"), nullable=False),
    Column("name", String(100), nullable=False),
    #: SHA-256 (hex) of the secret token; the token itself is shown once and never stored
    Column("token_sha256", String(64), nullable=False, unique=True),
    Column("created_by", String(200), nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("revoked_by", String(200), nullable=True),
    Column("revoked_at", UtcDateTime, nullable=True),
    Column("last_used_at", UtcDateTime, nullable=True),
    Index("ix_usage_recorders_instrument", "instrument_id", "created_at"),
)
