"""Registry tables. Money in fen (BigInteger); times UTC."""

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
    text,
)

from services.runtime.db.schema import BigId, UtcDateTime, new_metadata
from services.runtime.http.idempotency import add_idempotency_table

metadata = new_metadata()
#: ``Idempotency-Key`` of the creating POSTs (orders, documents, units, users)
idempotency_keys = add_idempotency_table(metadata)

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
    #: R18 published service information (domain/service_info.py); required to accept vouchers
    Column("service_content", Text, nullable=True),
    Column("contact_person", String(50), nullable=True),
    Column("contact_phone", String(40), nullable=True),
    Column("address", String(200), nullable=True),
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
    #: not unique: a second registration of a code goes to the center's review
    #: (``duplicate_of``); only one *verified* user holds a code (the index below)
    Column("credit_code", String(18), nullable=True),
    #: a start-up team's leader: only a keyed digest (uniqueness) and a mask are kept
    Column("leader_name", String(100), nullable=True),
    Column("leader_id_digest", String(64), nullable=True, unique=True),
    Column("leader_id_masked", String(32), nullable=True),
    Column("incubator_credit_code", String(18), nullable=True),
    Column("classes", JSON, nullable=False),
    Column("special_classes", JSON, nullable=False),
    Column("in_xuchang", Boolean, nullable=False),
    Column("verified", Boolean, nullable=False),
    #: R26: sound financial management, as the center last assessed it
    Column("sound_finances", Boolean, nullable=False, server_default=text("true")),
    Column("version", Integer, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    Column("verified_by", String(200), nullable=True),
    Column("verified_at", UtcDateTime, nullable=True),
    #: the user that already held the credit code when this one registered (center's review)
    Column("duplicate_of", String(36), nullable=True),
    #: the center rejected the registration (e.g. the code belongs to another enterprise)
    Column("rejected_at", UtcDateTime, nullable=True),
    Column("rejected_by", String(200), nullable=True),
    Column("rejection_reason", Text, nullable=True),
    Index("uq_users_credit_code_verified", "credit_code", unique=True, sqlite_where=text("verified"), postgresql_where=text("verified")),
    Index("ix_users_credit_code", "credit_code"),
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
    #: R18 服务内容: the services (tests, measurements) offered on this instrument
    Column("service_content", Text, nullable=True),
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

#: R18: the evidence on which a unit was approved to accept vouchers
voucher_acceptance = Table(
    "voucher_acceptance",
    metadata,
    Column("unit_id", String(36), ForeignKey("units.id"), primary_key=True),
    Column("full_time_staff", Integer, nullable=False),
    Column("service_content", Text, nullable=False),
    Column("service_norms", Text, nullable=False),
    Column("fees_published", Boolean, nullable=False),
    Column("no_bad_credit", Boolean, nullable=False),
    Column("granted", Boolean, nullable=False),
    Column("decided_by", String(200), nullable=False),
    Column("decided_at", UtcDateTime, nullable=False),
    Column("reason", Text, nullable=True),
    CheckConstraint("full_time_staff >= 0", name="full_time_staff_not_negative"),
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

#: R26: subordination, co-construction or property-right ties between a user and a unit
affiliations = Table(
    "affiliations",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("user_id", String(36), ForeignKey("users.id"), nullable=False),
    Column("unit_id", String(36), ForeignKey("units.id"), nullable=False),
    #: subordination / co_construction / property_right
    Column("kind", String(30), nullable=False),
    #: declared_by_user / declared_by_unit / recorded_by_reviewer
    Column("source", String(30), nullable=False),
    Column("recorded_by", String(200), nullable=False),
    Column("recorded_at", UtcDateTime, nullable=False),
    Column("note", Text, nullable=True),
    Column("removed_by", String(200), nullable=True),
    Column("removed_at", UtcDateTime, nullable=True),
    Column("removal_reason", Text, nullable=True),
    Index(
        "uq_affiliations_active",
        "user_id",
        "unit_id",
        "kind",
        unique=True,
        sqlite_where=text("removed_at IS NULL"),
        postgresql_where=text("removed_at IS NULL"),
    ),
    Index("ix_affiliations_unit_id", "unit_id"),
)

#: R26, R27: the Xuchang credit blacklist as the platform applies it (public)
blacklist = Table(
    "blacklist",
    metadata,
    Column("id", String(36), primary_key=True),
    #: user / unit
    Column("party_type", String(10), nullable=False),
    Column("party_id", String(36), nullable=False),
    Column("party_name", String(200), nullable=False),
    Column("credit_code", String(18), nullable=True),
    Column("reason", Text, nullable=False),
    Column("added_by", String(200), nullable=False),
    Column("added_at", UtcDateTime, nullable=False),
    Column("removed_by", String(200), nullable=True),
    Column("removed_at", UtcDateTime, nullable=True),
    Column("removal_reason", Text, nullable=True),
    Index(
        "uq_blacklist_active",
        "party_type",
        "party_id",
        unique=True,
        sqlite_where=text("removed_at IS NULL"),
        postgresql_where=text("removed_at IS NULL"),
    ),
)

#: a fraud finding of the bureau (R27): who, when, why, what it concerns and the
#: sanctions it applied. One finding per party and scope: the same finding twice is refused.
fraud_findings = Table(
    "fraud_findings",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("party_type", String(10), nullable=False),
    Column("party_id", String(36), nullable=False),
    Column("party_name", String(200), nullable=False),
    Column("years", JSON, nullable=False),
    Column("voucher_ids", JSON, nullable=False),
    Column("award_ids", JSON, nullable=False),
    #: sha256 of the scope (years, voucher ids, award ids; empty = all of the party's)
    Column("scope_key", String(64), nullable=False),
    Column("sanctions", JSON, nullable=False),
    #: the sanctions include public criticism (通报批评): the finding is on the public list
    Column("criticised", Boolean, nullable=False),
    Column("credit_code", String(40), nullable=True),
    Column("reason", Text, nullable=False),
    Column("evidence_ref", String(500), nullable=True),
    Column("blacklist_entry_id", String(36), nullable=True),
    Column("recorded_by", String(200), nullable=False),
    Column("recorded_at", UtcDateTime, nullable=False),
    Index("uq_fraud_findings_scope", "party_type", "party_id", "scope_key", unique=True),
    Index("ix_fraud_findings_recorded", "recorded_at"),
    Index("ix_fraud_findings_criticised", "criticised", "recorded_at"),
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

# --- public catalogue search (a read model kept by the registry worker) -------


# --- service orders (M14(1), R19, R22–R25) ---------------------------------------

#: a service order between a user and a unit; documents stay with the parties (R23)
orders = Table(
    "orders",
    metadata,
    Column("id", String(36), primary_key=True),
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

#: local accounts of every role (issue 5): the platform's own login, beside OIDC.
#: ``password_hash`` is an argon2id PHC string; the password itself is never stored.
accounts = Table(
    "accounts",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("username", String(64), nullable=False, unique=True),
    Column("password_hash", String(255), nullable=False),
    Column("role", String(20), nullable=False),
    #: the organisation the account acts for: a unit or user id, a department code; None for city-wide roles
    Column("org", String(100), nullable=True),
    Column("display_name", String(100), nullable=True),
    #: how to reach the account's holder (self-service sign-up); a password reset goes to ``email``
    Column("email", String(254), nullable=True),
    Column("phone", String(32), nullable=True),
    Column("status", String(20), nullable=False),  # active / locked / disabled
    Column("failed_attempts", Integer, nullable=False, server_default=text("0")),
    Column("locked_until", UtcDateTime, nullable=True),
    Column("password_changed_at", UtcDateTime, nullable=False),
    Column("last_login_at", UtcDateTime, nullable=True),
    Column("created_at", UtcDateTime, nullable=False),
    Column("created_by", String(200), nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    Column("version", Integer, nullable=False),
    Index("ix_accounts_role_status", "role", "status"),
    Index("ix_accounts_email", "email"),
)

#: login sessions: the ``sid`` claim of the tokens ``POST /v1/sessions`` issues
sessions = Table(
    "sessions",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("account_id", String(36), ForeignKey("accounts.id"), nullable=False),
    Column("issued_at", UtcDateTime, nullable=False),
    Column("expires_at", UtcDateTime, nullable=False),
    Column("revoked_at", UtcDateTime, nullable=True),
    Column("revoked_by", String(200), nullable=True),
    Index("ix_sessions_account", "account_id", "expires_at"),
)
