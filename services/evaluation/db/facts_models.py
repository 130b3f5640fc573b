"""The facts evaluation counts (R11, M14(1)): one narrow table per kind of
event, each row written once from the event that establishes it.

Every dated fact stores ``year``, the policy year (natural year in
Asia/Shanghai) of the event time that counts, so the yearly measures are a
plain ``WHERE year = :y ... GROUP BY unit_id`` over an index (see
:mod:`services.evaluation.measures`). The tables share ``metadata`` with the
rest of evaluation, so one alembic history covers them.

Units come from ``unit_view`` (:mod:`services.evaluation.db.models`), which the
existing read model keeps from the registry's unit events.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Boolean, Column, Date, Index, Integer, String, Table

from services.evaluation.db.models import metadata
from services.runtime.db.schema import UtcDateTime

#: instruments: versioned snapshot of the registry's public instrument state
#: plus the dates that decide which years an instrument counts in
fact_instrument = Table(
    "fact_instrument",
    metadata,
    Column("instrument_id", String(36), primary_key=True),
    Column("version", Integer, nullable=False),
    Column("unit_id", String(36), nullable=False),
    Column("category", String(100), nullable=False),
    Column("county_code", String(6), nullable=True),
    Column("funding", String(30), nullable=False),
    Column("original_value_fen", BigInteger, nullable=False),
    Column("must_list", Boolean, nullable=False),
    Column("listing_deadline", Date, nullable=True),
    Column("status", String(20), nullable=False),
    #: the earliest event time seen for the instrument (its registration)
    Column("registered_at", UtcDateTime, nullable=False),
    Column("registered_year", Integer, nullable=False),
    #: the day it was listed (a local date, as the registry states it)
    Column("listed_on", Date, nullable=True),
    Column("listed_year", Integer, nullable=True),
    #: listed by its deadline (M11(3)); the registry's flag from InstrumentListed
    Column("on_time", Boolean, nullable=True),
    Column("retired_year", Integer, nullable=True),
    Index("ix_fact_instrument_unit", "unit_id"),
    Index("ix_fact_instrument_category", "category"),
)

#: service orders: versioned snapshot (status, parties, the primary instrument)
fact_order = Table(
    "fact_order",
    metadata,
    Column("order_id", String(36), primary_key=True),
    #: 0 until a registry order event arrives (rows can be started by payments or vouchers events)
    Column("version", Integer, nullable=False),
    Column("unit_id", String(36), nullable=False),
    Column("user_id", String(36), nullable=False),
    Column("status", String(30), nullable=False),
    Column("amount_fen", BigInteger, nullable=False),
    Column("purpose", String(40), nullable=False),
    #: the first instrument of the order: the one its category report counts it under
    Column("primary_instrument_id", String(36), nullable=True),
    Column("contracted_year", Integer, nullable=True),
    Column("cancelled_year", Integer, nullable=True),
    Index("ix_fact_order_contracted", "contracted_year", "unit_id", "cancelled_year"),
    #: an order's primary instrument without reading the row (category report)
    Index("ix_fact_order_instrument", "order_id", "primary_instrument_id"),
)

#: results delivered (R19(3)): one row per order; hours in hundredths
fact_delivery = Table(
    "fact_delivery",
    metadata,
    Column("order_id", String(36), primary_key=True),
    Column("unit_id", String(36), nullable=False),
    Column("user_id", String(36), nullable=False),
    Column("primary_instrument_id", String(36), nullable=True),
    Column("delivered_at", UtcDateTime, nullable=False),
    Column("year", Integer, nullable=False),
    Column("service_hours_centi", BigInteger, nullable=False),
    Index("ix_fact_delivery_year_unit", "year", "unit_id", "user_id", "delivered_at", "service_hours_centi"),
    Index("ix_fact_delivery_year_instrument", "year", "primary_instrument_id", "service_hours_centi"),
)

#: settlements (payments): the fee, its voucher part; one row per order
fact_settlement = Table(
    "fact_settlement",
    metadata,
    Column("order_id", String(36), primary_key=True),
    Column("settlement_id", String(36), nullable=False),
    Column("unit_id", String(36), nullable=False),
    Column("user_id", String(36), nullable=False),
    Column("settled_at", UtcDateTime, nullable=False),
    Column("year", Integer, nullable=False),
    Column("fee_fen", BigInteger, nullable=False),
    Column("voucher_fen", BigInteger, nullable=False),
    Column("voucher_id", String(36), nullable=True),
    Index("ix_fact_settlement_year_unit", "year", "unit_id", "fee_fen", "voucher_fen"),
    Index("ix_fact_settlement_year_order", "year", "order_id", "fee_fen", "voucher_fen"),
)

#: ratings (R19(4)): the latest rating of an order counts
fact_rating = Table(
    "fact_rating",
    metadata,
    Column("order_id", String(36), primary_key=True),
    Column("unit_id", String(36), nullable=False),
    Column("user_id", String(36), nullable=False),
    Column("rated_at", UtcDateTime, nullable=False),
    Column("year", Integer, nullable=False),
    Column("rating", Integer, nullable=False),
    Index("ix_fact_rating_year_unit", "year", "unit_id", "rating"),
    Index("ix_fact_rating_year_order", "year", "order_id", "rating"),
)

#: vouchers deducted at settlement (vouchers.voucher.used)
fact_voucher_use = Table(
    "fact_voucher_use",
    metadata,
    Column("voucher_id", String(36), primary_key=True),
    Column("order_id", String(36), nullable=False),
    Column("unit_id", String(36), nullable=False),
    Column("user_id", String(36), nullable=False),
    Column("used_at", UtcDateTime, nullable=False),
    Column("year", Integer, nullable=False),
    Column("amount_fen", BigInteger, nullable=False),
    Index("ix_fact_voucher_use_year_unit", "year", "unit_id"),
)

#: valid vouchers a unit refused (R19(2)); every refusal is a row
fact_voucher_refusal = Table(
    "fact_voucher_refusal",
    metadata,
    Column("event_id", String(36), primary_key=True),
    Column("voucher_id", String(36), nullable=False),
    Column("order_id", String(36), nullable=False),
    Column("unit_id", String(36), nullable=False),
    Column("user_id", String(36), nullable=False),
    Column("refused_at", UtcDateTime, nullable=False),
    Column("year", Integer, nullable=False),
    Column("reason", String(500), nullable=False),
    Index("ix_fact_voucher_refusal_year_unit", "year", "unit_id"),
)

#: ties between users and units (R26): a user is *outside* a unit when no tie
#: was in force at the moment the results were delivered
fact_affiliation = Table(
    "fact_affiliation",
    metadata,
    Column("affiliation_id", String(36), primary_key=True),
    Column("user_id", String(36), nullable=False),
    Column("unit_id", String(36), nullable=False),
    Column("kind", String(40), nullable=False),
    Column("recorded_at", UtcDateTime, nullable=True),
    Column("removed_at", UtcDateTime, nullable=True),
    Index("ix_fact_affiliation_unit_user", "unit_id", "user_id"),
)

#: complaints upheld against a unit (M11(6)), from the registry's ComplaintUpheld;
#: ``year`` is the policy year the complaint was filed in (the event states it)
fact_complaint = Table(
    "fact_complaint",
    metadata,
    Column("complaint_id", String(36), primary_key=True),
    Column("unit_id", String(36), nullable=False),
    Column("year", Integer, nullable=False),
    Column("upheld_at", UtcDateTime, nullable=False),
    Index("ix_fact_complaint_year_unit", "year", "unit_id"),
)

#: sessions of use of an instrument (issue 16), from registry.usage.recorded /
#: corrected: the session's latest version; a correction replaces its times
fact_usage_session = Table(
    "fact_usage_session",
    metadata,
    Column("session_id", String(36), primary_key=True),
    Column("version", Integer, nullable=False),
    Column("instrument_id", String(36), nullable=False),
    Column("unit_id", String(36), nullable=False),
    #: outside (an outside user's order) / internal (the unit's own researchers)
    Column("kind", String(20), nullable=False),
    Column("order_id", String(36), nullable=True),
    Column("started_at", UtcDateTime, nullable=False),
    Column("ended_at", UtcDateTime, nullable=False),
    Column("minutes", Integer, nullable=False),
)

#: a session's minutes per policy year (split at local new year,
#: services/evaluation/domain/usage_years.py); rewritten with the session
fact_usage_year = Table(
    "fact_usage_year",
    metadata,
    Column("session_id", String(36), primary_key=True),
    Column("year", Integer, primary_key=True),
    Column("unit_id", String(36), nullable=False),
    Column("instrument_id", String(36), nullable=False),
    Column("kind", String(20), nullable=False),
    Column("minutes", Integer, nullable=False),
    Index("ix_fact_usage_year_unit", "year", "unit_id", "instrument_id", "kind", "minutes"),
)

FACT_TABLES = (
    fact_instrument,
    fact_order,
    fact_delivery,
    fact_settlement,
    fact_rating,
    fact_voucher_use,
    fact_voucher_refusal,
    fact_affiliation,
    fact_complaint,
    fact_usage_session,
    fact_usage_year,
)
