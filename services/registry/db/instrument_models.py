"""Registry tables of instruments: the instruments a unit shares, their
published service items and prices (M11(4), R9) with every change to them,
and the ledger imports that register instruments in bulk. Money in fen
(BigInteger); times UTC."""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
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
from services.runtime.db.schema import BigId, UtcDateTime

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
    #: R18 服务内容: the services (tests, measurements) offered on this instrument
    Column("service_content", Text, nullable=True),
    #: 样品要求 (issue 17): what a sample must be like (form, quantity, preparation), free text
    Column("sample_requirements", Text, nullable=True),
    Column("status", String(20), nullable=False),
    #: computed at write time from funding, value and flags (M5, M6)
    Column("must_list", Boolean, nullable=False),
    #: 30th working day after acceptance (M11(3)); null when not must-list
    Column("listing_deadline", Date, nullable=True),
    Column("listed_on", Date, nullable=True),
    #: the unit's own asset number (资产编号): the key of a ledger import
    Column("asset_number", String(64), nullable=True),
    Column("version", Integer, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    CheckConstraint("original_value_fen >= 0", name="original_value_fen_not_negative"),
    Index("ix_instruments_unit_id", "unit_id"),
    Index("uq_instruments_unit_asset", "unit_id", "asset_number", unique=True),
)

#: M11(4), R9: the published service items and prices of an instrument
price_items = Table(
    "price_items",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("instrument_id", String(36), ForeignKey("instruments.id"), nullable=False),
    Column("unit_id", String(36), ForeignKey("units.id"), nullable=False),
    Column("name", String(200), nullable=False),
    #: per_sample / per_hour / per_machine_hour / per_item
    Column("billing_unit", String(30), nullable=False),
    Column("price_fen", BigInteger, nullable=False),
    #: cost_compensation (fiscal instruments) / negotiable (non-fiscal)
    Column("basis", String(30), nullable=False),
    Column("active", Boolean, nullable=False),
    Column("version", Integer, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    CheckConstraint("price_fen >= 0", name="price_fen_not_negative"),
    Index("ix_price_items_instrument_id", "instrument_id"),
)

#: every change to a published price: who, when, old, new (append-only)
price_changes = Table(
    "price_changes",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("price_item_id", String(36), ForeignKey("price_items.id"), nullable=False),
    Column("changed_by", String(200), nullable=False),
    Column("changed_at", UtcDateTime, nullable=False),
    Column("old_price_fen", BigInteger, nullable=True),
    Column("new_price_fen", BigInteger, nullable=False),
    Column("old_basis", String(30), nullable=True),
    Column("new_basis", String(30), nullable=False),
    Column("old_active", Boolean, nullable=True),
    Column("new_active", Boolean, nullable=False),
    Column("reason", Text, nullable=True),
    Index("ix_price_changes_item", "price_item_id", "id"),
)

#: a ledger import (Excel/CSV): all rows or none; the same file twice changes nothing
import_jobs = Table(
    "import_jobs",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("unit_id", String(36), ForeignKey("units.id"), nullable=False),
    Column("filename", String(255), nullable=False),
    Column("sha256", String(64), nullable=False),
    #: validating / failed / imported
    Column("status", String(20), nullable=False),
    Column("total_rows", Integer, nullable=False),
    Column("processed_rows", Integer, nullable=False),
    Column("created_count", Integer, nullable=False),
    Column("unchanged_count", Integer, nullable=False),
    Column("errors", JSON, nullable=False),
    Column("created_by", String(200), nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("finished_at", UtcDateTime, nullable=True),
    Index("ix_import_jobs_unit", "unit_id", "created_at"),
)
