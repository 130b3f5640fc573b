"""Registry tables of service orders (M14(1), R19, R22–R25): the order with
its contract, service and settlement, its priced items, and its documents.
Money in fen (BigInteger); times UTC."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    text,
)

from services.registry.db.metadata import metadata
from services.runtime.db.schema import BigId, UtcDateTime
from services.runtime.db.case_numbers import case_counter_table

#: a service order between a user and a unit; documents stay with the parties (R23)
orders = Table(
    "orders",
    metadata,
    Column("id", String(36), primary_key=True),
    #: the order's case number, DD-<year>-<n> (services/runtime/db/case_numbers.py): what people read and say
    Column("case_no", String(20), nullable=False, unique=True),
    Column("user_id", String(36), ForeignKey("users.id"), nullable=False),
    Column("unit_id", String(36), ForeignKey("units.id"), nullable=False),
    #: research / technology_development / statutory_testing (R5)
    Column("purpose", String(30), nullable=False),
    Column("description", Text, nullable=True),
    #: requested / quoted / contracted / in_service / results_delivered / settled / rated / cancelled
    Column("status", String(20), nullable=False),
    #: the price list's total of the requested items, in fen
    Column("list_amount_fen", BigInteger, nullable=False),
    #: the amount quoted by the unit (the list total until it quotes), in fen
    Column("amount_fen", BigInteger, nullable=False),
    Column("quote_note", Text, nullable=True),
    #: M11(4): why the quote lies above the published list (required then, None otherwise)
    Column("quote_reason", Text, nullable=True),
    # the contract (R19(1), R22, M12, R25)
    Column("testing_fee_fen", BigInteger, nullable=True),
    Column("ip_ownership", Text, nullable=True),
    Column("confidentiality", Text, nullable=True),
    Column("damage_compensation", Text, nullable=True),
    Column("provincial_subsidy", Boolean, nullable=False, server_default=text("false")),
    Column("contract_document_id", String(36), nullable=True),
    Column("rd_proof_document_id", String(36), nullable=True),
    Column("user_signed_at", UtcDateTime, nullable=True),
    Column("unit_signed_at", UtcDateTime, nullable=True),
    # service and results (R19(3))
    Column("result_document_id", String(36), nullable=True),
    Column("service_hours", Integer, nullable=True),
    #: the service time in minutes: the total of the order's usage sessions, or the stated hours × 60
    Column("service_minutes", Integer, nullable=True),
    Column("cancel_reason", Text, nullable=True),
    Column("cancelled_by_role", String(20), nullable=True),
    Column("quoted_at", UtcDateTime, nullable=True),
    Column("contracted_at", UtcDateTime, nullable=True),
    Column("started_at", UtcDateTime, nullable=True),
    Column("delivered_at", UtcDateTime, nullable=True),
    Column("cancelled_at", UtcDateTime, nullable=True),
    Column("version", Integer, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    # settlement (R19(4)), from payments' SettlementCompleted and PaymentReceived
    Column("settlement_id", String(36), nullable=True),
    #: the voucher deduction, in fen
    Column("voucher_fen", BigInteger, nullable=True),
    #: what the user has paid of the rest so far, in fen
    Column("paid_fen", BigInteger, nullable=True),
    Column("settled_at", UtcDateTime, nullable=True),
    # the user's rating of the service (R19(4)): 1–5 and an optional comment
    Column("rating", Integer, nullable=True),
    Column("rating_comment", Text, nullable=True),
    Column("rated_at", UtcDateTime, nullable=True),
    CheckConstraint("amount_fen >= 0", name="order_amount_not_negative"),
    CheckConstraint("service_hours IS NULL OR service_hours >= 0", name="order_service_hours_not_negative"),
    Index("ix_orders_user", "user_id", "created_at"),
    Index("ix_orders_unit", "unit_id", "created_at"),
    Index("ix_orders_status", "status", "created_at"),
)

#: the price items and quantities of an order, as priced when requested
order_items = Table(
    "order_items",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("order_id", String(36), ForeignKey("orders.id"), nullable=False),
    Column("position", Integer, nullable=False),
    Column("instrument_id", String(36), ForeignKey("instruments.id"), nullable=False),
    Column("price_item_id", String(36), ForeignKey("price_items.id"), nullable=False),
    Column("name", String(200), nullable=False),
    Column("billing_unit", String(30), nullable=False),
    Column("price_fen", BigInteger, nullable=False),
    Column("quantity", Integer, nullable=False),
    Column("amount_fen", BigInteger, nullable=False),
    CheckConstraint("quantity > 0", name="order_item_quantity_positive"),
    Index("ix_order_items_order", "order_id", "position"),
)

#: an order's documents (contract, R&D proof, results); the bytes live in the
#: content-addressed document store under the data directory, keyed by sha256
order_documents = Table(
    "order_documents",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("order_id", String(36), ForeignKey("orders.id"), nullable=False),
    #: contract / rd_proof / result
    Column("kind", String(20), nullable=False),
    Column("sha256", String(64), nullable=False),
    Column("size", BigInteger, nullable=False),
    Column("content_type", String(100), nullable=False),
    Column("filename", String(255), nullable=False),
    #: "<role>:<subject>"
    Column("uploaded_by", String(200), nullable=False),
    Column("uploaded_at", UtcDateTime, nullable=False),
    Index("ix_order_documents_order", "order_id", "uploaded_at"),
)

#: the last case number issued per kind and year (DD: orders)
case_counters = case_counter_table(metadata)
