"""Vouchers tables: read models of registry facts, and vouchers' own state
(programmes, accounts, applications, vouchers). Budgets and caps hold in the
database too: CHECK constraints, and conditional UPDATEs in the use cases."""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Date,
    Boolean,
    CheckConstraint,
    Column,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
    text,
)

from services.runtime.db.case_numbers import case_counter_table
from services.runtime.db.schema import UtcDateTime, new_metadata

metadata = new_metadata()

#: what vouchers knows of each user, from registry events (event-carried state)
user_view = Table(
    "user_view",
    metadata,
    Column("user_id", String(36), primary_key=True),
    Column("version", Integer, nullable=False),
    Column("name", String(200), nullable=False),
    Column("kind", String(20), nullable=False),
    Column("credit_code", String(18), nullable=True),
    Column("classes", JSON, nullable=False),
    Column("special_classes", JSON, nullable=False),
    Column("in_xuchang", Boolean, nullable=False),
    Column("verified", Boolean, nullable=False),
    Column("sound_finances", Boolean, nullable=False, server_default=text("true")),
    Column("updated_at", UtcDateTime, nullable=False),
)

unit_view = Table(
    "unit_view",
    metadata,
    Column("unit_id", String(36), primary_key=True),
    Column("version", Integer, nullable=False),
    Column("name", String(200), nullable=False),
    Column("status", String(20), nullable=False),
    Column("accepts_vouchers", Boolean, nullable=False),
    Column("parent_unit_id", String(36), nullable=True),
    #: the unit's credit code (a college carries its university's): a user with it is the unit (R26)
    Column("credit_code", String(18), nullable=True),
    Column("updated_at", UtcDateTime, nullable=False),
    Index("ix_unit_view_parent", "parent_unit_id"),
)

#: the experts evaluation registered (``evaluation.expert.registered``): their own unit and declared ties
expert_view = Table(
    "expert_view",
    metadata,
    Column("expert_id", String(36), primary_key=True),
    Column("role", String(20), nullable=False),
    Column("unit_id", String(36), nullable=True),
    Column("ties", JSON, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
)

#: ties between users and units (R26), by registry entry id; removed entries stay, inactive
affiliation_view = Table(
    "affiliation_view",
    metadata,
    Column("affiliation_id", String(36), primary_key=True),
    Column("user_id", String(36), nullable=False),
    Column("unit_id", String(36), nullable=False),
    Column("kind", String(40), nullable=False),
    Column("active", Boolean, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    Index("ix_affiliation_view_user", "user_id", "unit_id"),
)

#: the credit blacklist (R26, R27), by registry entry id
blacklist_view = Table(
    "blacklist_view",
    metadata,
    Column("entry_id", String(36), primary_key=True),
    Column("party_type", String(10), nullable=False),
    Column("party_id", String(36), nullable=False),
    Column("active", Boolean, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    Index("ix_blacklist_view_party", "party_type", "party_id"),
)

#: contracted orders (R19(1), R22)
order_view = Table(
    "order_view",
    metadata,
    Column("order_id", String(36), primary_key=True),
    #: the order's case number in the registry (DD-<year>-<n>); none from events before orders had one
    Column("case_no", String(20), nullable=True),
    Column("version", Integer, nullable=False),
    Column("user_id", String(36), nullable=False),
    Column("unit_id", String(36), nullable=False),
    Column("status", String(30), nullable=False),
    Column("amount_fen", BigInteger, nullable=False),
    Column("testing_fee_fen", BigInteger, nullable=False),
    Column("purpose", String(40), nullable=False),
    Column("contract_sha256", String(64), nullable=True),
    Column("provincial_subsidy", Boolean, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
)

#: one programme per natural year (R15, R16)
programmes = Table(
    "programmes",
    metadata,
    Column("year", Integer, primary_key=True, autoincrement=False),
    Column("budget_fen", BigInteger, nullable=False),
    Column("committed_fen", BigInteger, nullable=False),
    Column("rate_bp", Integer, nullable=False),
    Column("cap_fen", BigInteger, nullable=False),
    Column("special_cap_fen", BigInteger, nullable=False),
    Column("appeal_window_days", Integer, nullable=False),
    Column("auto_approve", Boolean, nullable=False),
    #: R4's eligible user classes and R16's special classes of the year, as opened
    Column("eligible_classes", JSON, nullable=False),
    Column("special_classes", JSON, nullable=False),
    Column("open", Boolean, nullable=False),
    Column("closed_reason", String(40), nullable=True),
    Column("version", Integer, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    CheckConstraint("committed_fen >= 0", name="committed_not_negative"),
    CheckConstraint("committed_fen <= budget_fen", name="committed_within_budget"),
)

#: a user's voucher account per year, with its cap (R16, R19(1))
accounts = Table(
    "accounts",
    metadata,
    Column("user_id", String(36), primary_key=True),
    Column("year", Integer, primary_key=True, autoincrement=False),
    Column("cap_fen", BigInteger, nullable=False),
    Column("committed_fen", BigInteger, nullable=False),
    Column("activated_at", UtcDateTime, nullable=False),
    CheckConstraint("committed_fen >= 0", name="committed_not_negative"),
    CheckConstraint("committed_fen <= cap_fen", name="committed_within_cap"),
)

#: applications (R19): one per order ever; an appeal reuses it
applications = Table(
    "applications",
    metadata,
    Column("id", String(36), primary_key=True),
    #: the application's case number, SQ-<year>-<n> (services/runtime/db/case_numbers.py): what people read and say
    Column("case_no", String(20), nullable=False, unique=True),
    Column("user_id", String(36), nullable=False),
    Column("unit_id", String(36), nullable=False),
    Column("order_id", String(36), nullable=False),
    #: the order's case number (DD-…) as the order view knew it at submission: how people name the order
    Column("order_case_no", String(20), nullable=True),
    Column("contract_sha256", String(64), nullable=True),
    Column("year", Integer, nullable=False),
    #: submitted / approved / rejected / appealed
    Column("status", String(20), nullable=False),
    Column("amount_fen", BigInteger, nullable=False),
    #: failing check codes: at submission, then at the decision
    Column("failures", JSON, nullable=False),
    Column("submitted_at", UtcDateTime, nullable=False),
    Column("decided_at", UtcDateTime, nullable=True),
    Column("decided_by", String(200), nullable=True),
    Column("decision_reason", Text, nullable=True),
    Column("appealed_at", UtcDateTime, nullable=True),
    Column("appeal_reason", Text, nullable=True),
    Column("appeal_outcome", String(20), nullable=True),
    Column("appeal_decided_at", UtcDateTime, nullable=True),
    Column("appeal_decided_by", String(200), nullable=True),
    Column("appeal_decision_reason", Text, nullable=True),
    UniqueConstraint("order_id", name="uq_applications_order_id"),
    Index("ix_applications_contract", "contract_sha256"),
    Index("ix_applications_user", "user_id"),
    CheckConstraint("amount_fen >= 0", name="amount_not_negative"),
)

#: electronic vouchers bound to one user, unit and contract (R21)
vouchers = Table(
    "vouchers",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("application_id", String(36), nullable=False),
    Column("user_id", String(36), nullable=False),
    Column("unit_id", String(36), nullable=False),
    Column("order_id", String(36), nullable=False),
    #: the order's case number (DD-…), from its application
    Column("order_case_no", String(20), nullable=True),
    Column("year", Integer, nullable=False),
    Column("amount_fen", BigInteger, nullable=False),
    Column("expires_at", UtcDateTime, nullable=False),
    #: issued / used / expired / revoked
    Column("status", String(20), nullable=False),
    Column("issued_at", UtcDateTime, nullable=False),
    Column("used_at", UtcDateTime, nullable=True),
    Column("expired_at", UtcDateTime, nullable=True),
    Column("revoked_at", UtcDateTime, nullable=True),
    #: order_cancelled / blacklisted / unit_disqualified
    Column("revoked_reason", String(40), nullable=True),
    UniqueConstraint("application_id", name="uq_vouchers_application_id"),
    Index("ix_vouchers_status_expiry", "status", "expires_at"),
    Index("ix_vouchers_user", "user_id"),
    Index("ix_vouchers_unit", "unit_id"),
    CheckConstraint("amount_fen > 0", name="amount_positive"),
)

#: a unit's refusal of a valid voucher, with its reason (R19(2)); the voucher stays issued
voucher_refusals = Table(
    "voucher_refusals",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("voucher_id", String(36), nullable=False),
    Column("unit_id", String(36), nullable=False),
    Column("reason", Text, nullable=False),
    Column("by", String(200), nullable=False),
    Column("at", UtcDateTime, nullable=False),
    Index("ix_voucher_refusals_voucher", "voucher_id", "at"),
)

#: the days on which units claim redemption for a programme year (R20), set by the center
redemption_windows = Table(
    "redemption_windows",
    metadata,
    Column("year", Integer, primary_key=True, autoincrement=False),
    Column("opens_on", Date, nullable=False),
    Column("closes_on", Date, nullable=False),
    #: the ``ETag`` of the window (If-Match on a change, issue 17)
    Column("version", Integer, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    CheckConstraint("closes_on >= opens_on", name="window_ordered"),
)

#: evidence files a unit uploaded for its claims (bank receipts, service results)
redemption_documents = Table(
    "redemption_documents",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("unit_id", String(36), nullable=False),
    Column("sha256", String(64), nullable=False),
    Column("filename", String(255), nullable=False),
    Column("content_type", String(100), nullable=False),
    Column("size", Integer, nullable=False),
    Column("uploaded_at", UtcDateTime, nullable=False),
    Index("ix_redemption_documents_unit", "unit_id"),
)

#: a unit's yearly redemption claim (R20): claimed → approved/rejected → noticed → settled
redemption_claims = Table(
    "redemption_claims",
    metadata,
    Column("id", String(36), primary_key=True),
    #: the claim's case number, DF-<year>-<n> (services/runtime/db/case_numbers.py): what people read and say
    Column("case_no", String(20), nullable=False, unique=True),
    Column("unit_id", String(36), nullable=False),
    Column("year", Integer, nullable=False),
    Column("status", String(20), nullable=False),
    Column("amount_fen", BigInteger, nullable=False),
    Column("approved_fen", BigInteger, nullable=True),
    Column("paid_fen", BigInteger, nullable=True),
    Column("reasons", JSON, nullable=False),
    Column("claimed_at", UtcDateTime, nullable=False),
    Column("reviewed_at", UtcDateTime, nullable=True),
    Column("reviewed_by", String(200), nullable=True),
    Column("notice_id", String(36), nullable=True),
    Column("noticed_at", UtcDateTime, nullable=True),
    Column("settled_at", UtcDateTime, nullable=True),
    Index("ix_redemption_claims_unit", "unit_id", "year"),
    CheckConstraint("amount_fen > 0", name="amount_positive"),
    CheckConstraint("approved_fen IS NULL OR (approved_fen >= 0 AND approved_fen <= amount_fen)", name="approved_within_claim"),
)

#: one claimed voucher with its evidence. ``held_voucher_id`` is the voucher
#: while the claim may still redeem it (NULL once rejected): unique, so a
#: voucher is in at most one live or settled claim; ``invoice_key`` is unique
#: for ever: one invoice backs one claim only.
redemption_items = Table(
    "redemption_items",
    metadata,
    Column("claim_id", String(36), primary_key=True),
    Column("voucher_id", String(36), primary_key=True),
    Column("held_voucher_id", String(36), nullable=True),
    Column("amount_fen", BigInteger, nullable=False),
    Column("invoice_key", String(60), nullable=False),
    Column("invoice_code", String(12), nullable=True),
    Column("invoice_number", String(20), nullable=False),
    Column("receipt_document_id", String(36), nullable=False),
    Column("results_document_id", String(36), nullable=False),
    Column("approved", Boolean, nullable=True),
    Column("reason", Text, nullable=True),
    UniqueConstraint("held_voucher_id", name="uq_redemption_items_held_voucher_id"),
    UniqueConstraint("invoice_key", name="uq_redemption_items_invoice_key"),
    CheckConstraint("amount_fen > 0", name="amount_positive"),
)

#: an expert the center or the bureau assigned to review a claim; an expert
#: reads and reviews only the claims assigned to them
redemption_assignments = Table(
    "redemption_assignments",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("claim_id", String(36), nullable=False),
    Column("expert_id", String(36), nullable=False),
    Column("assigned_at", UtcDateTime, nullable=False),
    Column("assigned_by", String(200), nullable=False),
    UniqueConstraint("claim_id", "expert_id", name="uq_redemption_assignments_claim_expert"),
    Index("ix_redemption_assignments_expert", "expert_id"),
)

#: the last case number issued per kind and year (SQ: applications, DF: redemption claims)
case_counters = case_counter_table(metadata)
