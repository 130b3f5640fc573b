"""Payments tables: the append-only double-entry ledger, settlements and
payments, and read models of registry orders and vouchers.

The rules hold in the database too: one entry per idempotency key, one
settlement per order, one payment per idempotency key, a line with exactly one
side above zero, and never more paid than payable."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Column,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
)

from services.runtime.db.case_numbers import case_counter_table
from services.runtime.db.schema import BigId, UtcDateTime, new_metadata

metadata = new_metadata()

#: one balanced entry per idempotency key (``settlement:<order>``, ``payment:<key>``)
ledger_entries = Table(
    "ledger_entries",
    metadata,
    Column("key", String(200), primary_key=True),
    Column("kind", String(30), nullable=False),
    Column("memo", Text, nullable=False, default=""),
    Column("created_at", UtcDateTime, nullable=False),
    Column("correlation_id", String(64), nullable=True),
)

ledger_lines = Table(
    "ledger_lines",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("entry_key", String(200), ForeignKey("ledger_entries.key"), nullable=False),
    Column("account", String(120), nullable=False),
    Column("debit_fen", BigInteger, nullable=False),
    Column("credit_fen", BigInteger, nullable=False),
    Index("ix_ledger_lines_account", "account"),
    Index("ix_ledger_lines_entry", "entry_key"),
    CheckConstraint("debit_fen >= 0 AND credit_fen >= 0", name="amounts_not_negative"),
    CheckConstraint("(debit_fen > 0 AND credit_fen = 0) OR (debit_fen = 0 AND credit_fen > 0)", name="one_side"),
)

#: an order's bill: the order's amount = voucher part + what the user pays (R19(2), R19(4))
settlements = Table(
    "settlements",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("order_id", String(36), nullable=False, unique=True),
    Column("user_id", String(36), nullable=False),
    Column("unit_id", String(36), nullable=False),
    #: the order's whole amount (the API and ``SettlementCompleted`` publish it as ``fee_fen``)
    Column("order_amount_fen", BigInteger, nullable=False),
    Column("voucher_fen", BigInteger, nullable=False),
    Column("payable_fen", BigInteger, nullable=False),
    Column("paid_fen", BigInteger, nullable=False),
    Column("voucher_id", String(36), nullable=True),
    #: why no voucher was deducted although the order had one (e.g. voucher.expired)
    Column("voucher_refusal", String(60), nullable=True),
    Column("year", Integer, nullable=False),
    #: settled / paid
    Column("status", String(20), nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    Index("ix_settlements_user", "user_id"),
    Index("ix_settlements_unit", "unit_id"),
    CheckConstraint("order_amount_fen > 0", name="order_amount_positive"),
    CheckConstraint("voucher_fen >= 0 AND voucher_fen <= order_amount_fen", name="voucher_within_order_amount"),
    CheckConstraint("payable_fen = order_amount_fen - voucher_fen", name="payable_is_rest"),
    CheckConstraint("paid_fen >= 0", name="paid_not_negative"),
    CheckConstraint("paid_fen <= payable_fen", name="paid_within_payable"),
)

payments = Table(
    "payments",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("settlement_id", String(36), ForeignKey("settlements.id"), nullable=False),
    Column("amount_fen", BigInteger, nullable=False),
    Column("bank_reference", String(100), nullable=False),
    Column("idempotency_key", String(100), nullable=False, unique=True),
    Column("created_at", UtcDateTime, nullable=False),
    Index("ix_payments_settlement", "settlement_id"),
    CheckConstraint("amount_fen > 0", name="amount_positive"),
)

#: orders whose results were delivered (registry ``order.results_delivered``)
order_view = Table(
    "order_view",
    metadata,
    Column("order_id", String(36), primary_key=True),
    Column("version", Integer, nullable=False),
    Column("user_id", String(36), nullable=False),
    Column("unit_id", String(36), nullable=False),
    #: the order's whole amount (registry's ``amount_fen``)
    Column("amount_fen", BigInteger, nullable=False),
    Column("status", String(30), nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
)

#: vouchers by order, from vouchers' events; vouchers alone decides a voucher's state
voucher_view = Table(
    "voucher_view",
    metadata,
    Column("voucher_id", String(36), primary_key=True),
    Column("order_id", String(36), nullable=False),
    Column("user_id", String(36), nullable=False),
    Column("unit_id", String(36), nullable=False),
    Column("year", Integer, nullable=False),
    Column("amount_fen", BigInteger, nullable=False),
    Column("expires_at", UtcDateTime, nullable=False),
    Column("status", String(20), nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    Index("ix_voucher_view_order", "order_id"),
)

#: voucher applications by order, so settlement waits while a voucher may still come
application_view = Table(
    "application_view",
    metadata,
    Column("application_id", String(36), primary_key=True),
    Column("order_id", String(36), nullable=False),
    #: submitted / rejected / appealed / approved / closed (rejection upheld)
    Column("status", String(20), nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    Index("ix_application_view_order", "order_id"),
)

#: units' names, from registry events (the payee name on a payment order)
unit_view = Table(
    "unit_view",
    metadata,
    Column("unit_id", String(36), primary_key=True),
    Column("version", Integer, nullable=False),
    Column("name", String(200), nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
)

#: the voucher programme's budget per year, from vouchers' events (newest version wins)
programme_view = Table(
    "programme_view",
    metadata,
    Column("year", Integer, primary_key=True, autoincrement=False),
    Column("version", Integer, nullable=False),
    Column("budget_fen", BigInteger, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
)

#: where a unit is paid: the account number only encrypted (``payee.account_number``)
payee_accounts = Table(
    "payee_accounts",
    metadata,
    Column("unit_id", String(36), primary_key=True),
    Column("bank_name", String(200), nullable=False),
    Column("account_name", String(200), nullable=False),
    Column("account_number_enc", Text, nullable=False),
    Column("account_mask", String(64), nullable=False),
    #: the ``ETag`` of the details (If-Match on a change, issue 17)
    Column("version", Integer, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
)

#: a batch of payouts finance pays through its own system (an Excel file)
payment_orders = Table(
    "payment_orders",
    metadata,
    Column("id", String(36), primary_key=True),
    #: the payment order's case number, FK-<year>-<n> (付款单), by the Beijing year it was created
    Column("case_no", String(20), nullable=False, unique=True),
    Column("count", Integer, nullable=False),
    Column("total_fen", BigInteger, nullable=False),
    Column("created_by", String(200), nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    CheckConstraint("count > 0 AND total_fen > 0", name="not_empty"),
)

#: an award or redemption payout: one per (kind, ref), ever; due → ordered → paid.
#: The payee is copied at ordering, so the file shows where the money went.
#: the last case number given per kind and year (BF 拨付 payouts, FK 付款单 payment orders, ZH 追回 clawbacks)
case_counters = case_counter_table(metadata)

payouts = Table(
    "payouts",
    metadata,
    Column("id", String(36), primary_key=True),
    #: the payout's case number, BF-<year>-<n> (services/runtime/db/case_numbers.py), by the Beijing year it became due
    Column("case_no", String(20), nullable=False, unique=True),
    Column("kind", String(20), nullable=False),
    Column("ref", String(64), nullable=False),
    Column("unit_id", String(36), nullable=False),
    Column("year", Integer, nullable=False),
    Column("amount_fen", BigInteger, nullable=False),
    Column("notice_id", String(64), nullable=True),
    Column("status", String(20), nullable=False),
    Column("order_id", String(36), ForeignKey("payment_orders.id"), nullable=True),
    Column("payee_name", String(200), nullable=True),
    Column("payee_bank", String(200), nullable=True),
    Column("payee_account_name", String(200), nullable=True),
    Column("payee_account_enc", Text, nullable=True),
    Column("payee_account_mask", String(64), nullable=True),
    Column("bank_reference", String(100), nullable=True),
    Column("created_at", UtcDateTime, nullable=False),
    Column("ordered_at", UtcDateTime, nullable=True),
    Column("paid_at", UtcDateTime, nullable=True),
    UniqueConstraint("kind", "ref", name="uq_payouts_kind_ref"),
    Index("ix_payouts_status", "status", "year"),
    Index("ix_payouts_unit", "unit_id"),
    Index("ix_payouts_order", "order_id"),
    CheckConstraint("amount_fen > 0", name="amount_positive"),
    CheckConstraint("kind IN ('award', 'redemption')", name="kind_known"),
)

#: fraud findings (registry ``fraud.found``): a party with one gets no new payout
fraud_view = Table(
    "fraud_view",
    metadata,
    Column("finding_id", String(36), primary_key=True),
    Column("party_type", String(10), nullable=False),
    Column("party_id", String(36), nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Index("ix_fraud_view_party", "party_type", "party_id"),
)

#: which vouchers each redemption claim holds (from ``vouchers.redemption.claimed``), so a
#: fraud finding that names vouchers reaches the redemption payouts of their claims (R27)
redemption_vouchers = Table(
    "redemption_vouchers",
    metadata,
    Column("claim_id", String(36), primary_key=True),
    Column("voucher_id", String(36), primary_key=True),
    Index("ix_redemption_vouchers_voucher", "voucher_id"),
)

#: money to be recovered after a fraud finding (R27): one per voucher deduction
#: (kind ``voucher``, ref = settlement id) or paid payout (ref = payout id), ever
clawbacks = Table(
    "clawbacks",
    metadata,
    Column("id", String(36), primary_key=True),
    #: the clawback's case number, ZH-<year>-<n> (追回), by the Beijing year it was recorded
    Column("case_no", String(20), nullable=False, unique=True),
    Column("finding_id", String(36), nullable=False),
    Column("party_type", String(10), nullable=False),
    Column("party_id", String(36), nullable=False),
    Column("kind", String(20), nullable=False),
    Column("ref", String(64), nullable=False),
    Column("year", Integer, nullable=False),
    Column("amount_fen", BigInteger, nullable=False),
    Column("repaid_fen", BigInteger, nullable=False),
    #: outstanding / repaid
    Column("status", String(20), nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    UniqueConstraint("kind", "ref", name="uq_clawbacks_kind_ref"),
    Index("ix_clawbacks_party", "party_type", "party_id"),
    Index("ix_clawbacks_finding", "finding_id"),
    CheckConstraint("amount_fen > 0", name="amount_positive"),
    CheckConstraint("repaid_fen >= 0 AND repaid_fen <= amount_fen", name="repaid_within_amount"),
    CheckConstraint("kind IN ('voucher', 'award', 'redemption')", name="kind_known"),
)

#: a repayment finance recorded against a clawback, once per idempotency key
clawback_repayments = Table(
    "clawback_repayments",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("clawback_id", String(36), ForeignKey("clawbacks.id"), nullable=False),
    Column("amount_fen", BigInteger, nullable=False),
    Column("bank_reference", String(100), nullable=False),
    Column("idempotency_key", String(100), nullable=False, unique=True),
    Column("recorded_by", String(200), nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Index("ix_clawback_repayments_clawback", "clawback_id"),
    CheckConstraint("amount_fen > 0", name="amount_positive"),
)
