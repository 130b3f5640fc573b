"""Registry tables. Money in fen (BigInteger); times UTC."""

from __future__ import annotations

from sqlalchemy import JSON, BigInteger, Boolean, CheckConstraint, Column, Date, ForeignKey, Index, Integer, String, Table, Text, text

from services.runtime.database import UtcDateTime, new_metadata

metadata = new_metadata()

units = Table(
    "units",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("name", String(200), nullable=False),
    Column("credit_code", String(18), nullable=False),
    Column("kind", String(30), nullable=False),
    Column("parent_unit_id", String(36), ForeignKey("units.id"), nullable=True),
    Column("county_code", String(6), nullable=True),
    Column("department", String(100), nullable=True),
    Column("status", String(20), nullable=False),
    Column("accepts_vouchers", Boolean, nullable=False, server_default=text("false")),
    Column("version", Integer, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    Column("decided_by", String(200), nullable=True),
    Column("decided_at", UtcDateTime, nullable=True),
    Column("decision_reason", Text, nullable=True),
    # a college (R13) shares its university's credit code; top-level units are unique
    Index(
        "uq_units_credit_code_top",
        "credit_code",
        unique=True,
        sqlite_where=text("parent_unit_id IS NULL"),
        postgresql_where=text("parent_unit_id IS NULL"),
    ),
    Index("ix_units_status", "status"),
)

users = Table(
    "users",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("name", String(200), nullable=False),
    Column("kind", String(20), nullable=False),
    Column("credit_code", String(18), nullable=True, unique=True),
    #: a start-up team's leader: only a keyed digest (uniqueness) and a mask are kept
    Column("leader_name", String(100), nullable=True),
    Column("leader_id_digest", String(64), nullable=True, unique=True),
    Column("leader_id_masked", String(32), nullable=True),
    Column("incubator_credit_code", String(18), nullable=True),
    Column("classes", JSON, nullable=False),
    Column("special_classes", JSON, nullable=False),
    Column("in_xuchang", Boolean, nullable=False),
    Column("verified", Boolean, nullable=False),
    Column("version", Integer, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    Column("verified_by", String(200), nullable=True),
    Column("verified_at", UtcDateTime, nullable=True),
)

instruments = Table(
    "instruments",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("unit_id", String(36), ForeignKey("units.id"), nullable=False),
    Column("name", String(200), nullable=False),
    Column("category", String(40), nullable=False),
    Column("model", String(200), nullable=True),
    Column("manufacturer", String(200), nullable=True),
    #: 原值, in fen
    Column("original_value_fen", BigInteger, nullable=False),
    Column("funding", String(20), nullable=False),
    Column("acceptance_date", Date, nullable=False),
    Column("duty_exempt", Boolean, nullable=False),
    Column("classified", Boolean, nullable=False),
    Column("location", String(200), nullable=True),
    Column("specifications", Text, nullable=True),
    Column("functions", Text, nullable=True),
    Column("status", String(20), nullable=False),
    #: computed at write time from funding, value and flags (M5, M6)
    Column("must_list", Boolean, nullable=False),
    #: 30th working day after acceptance (M11(3)); null when not must-list
    Column("listing_deadline", Date, nullable=True),
    Column("listed_on", Date, nullable=True),
    Column("version", Integer, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    CheckConstraint("original_value_fen >= 0", name="original_value_fen_not_negative"),
    Index("ix_instruments_unit_id", "unit_id"),
)
