"""What payments' use cases return, and its API answers as they are: one
struct per record (settlement, payment, payout, payee, payment order,
clawback), with the pages, lists and reports built of them. Request bodies
stay beside their routes in ``api/``; events are in ``contracts/payments.py``.

Each record is built from its table row by the one function below it
(``settlement(row)``, ``payout(row)``…), so a column reaches a client in
one place."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

import msgspec
from sqlalchemy.engine import RowMapping

from services.payments.domain import ledger
from services.runtime.http.pagination import Page, page_schema

Row = RowMapping | dict[str, Any]


# ---------------------------------------------------------------- settlements


class Payment(msgspec.Struct):
    payment_id: str
    settlement_id: str
    amount_fen: int
    #: in full for finance only; others see the last four characters
    bank_reference: str
    idempotency_key: str
    created_at: datetime


def payment(row: Row) -> Payment:
    return Payment(payment_id=row["id"], settlement_id=row["settlement_id"], amount_fen=row["amount_fen"], bank_reference=row["bank_reference"],
                   idempotency_key=row["idempotency_key"], created_at=row["created_at"])


class Settlement(msgspec.Struct):
    settlement_id: str
    order_id: str
    user_id: str
    unit_id: str
    #: the order's whole amount (= voucher_fen + payable_fen); published as ``fee_fen``,
    #: the name clients and the ``SettlementCompleted`` event have used since the start
    order_amount_fen: int = msgspec.field(name="fee_fen")
    voucher_fen: int
    payable_fen: int
    paid_fen: int
    remaining_fen: int
    year: int
    status: str
    created_at: datetime
    updated_at: datetime
    voucher_id: str | None = None
    #: the code vouchers refused the order's voucher with (e.g. voucher.expired)
    voucher_refusal: str | None = None
    payments: list[Payment] = []


def settlement(row: Row, payments: list[Payment] | None = None) -> Settlement:
    return Settlement(
        settlement_id=row["id"],
        order_id=row["order_id"],
        user_id=row["user_id"],
        unit_id=row["unit_id"],
        order_amount_fen=row["order_amount_fen"],
        voucher_fen=row["voucher_fen"],
        payable_fen=row["payable_fen"],
        paid_fen=row["paid_fen"],
        remaining_fen=row["payable_fen"] - row["paid_fen"],
        voucher_id=row["voucher_id"],
        voucher_refusal=row["voucher_refusal"],
        year=row["year"],
        status=row["status"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
        payments=payments or [],
    )


class PaymentResult(msgspec.Struct):
    payment: Payment
    settlement: Settlement
    paid_in_full: bool


SettlementPage = Annotated[Page[Settlement], page_schema("SettlementPage")]


class Balance(msgspec.Struct):
    #: the ledger's name of the account, ``<kind>:…`` (docs/payouts.md "Ledger accounts")
    account: str
    debit_fen: int
    credit_fen: int
    #: debit minus credit
    balance_fen: int
    #: what the account holds: user_payable, unit_receivable, cash_received, voucher_budget,
    #: funds, appropriation, award_approved, payout_payable, treasury_paid,
    #: clawback_receivable, clawed_back, recovered (another: the text before its first ``:``)
    kind: str
    #: the money of a budget account: award, redemption or voucher
    money: str | None = None
    #: the budget year the account is kept for
    year: int | None = None
    #: the party the account is kept for: ``unit`` or ``user``, and its id
    party_type: str | None = None
    party_id: str | None = None


def balance(account: str, debit_fen: int, credit_fen: int) -> Balance:
    """An account's sums, with the parts its name encodes (``ledger.account_parts``)."""
    parts = ledger.account_parts(account)
    return Balance(
        account=account,
        debit_fen=debit_fen,
        credit_fen=credit_fen,
        balance_fen=debit_fen - credit_fen,
        kind=parts.kind,
        money=parts.money,
        year=parts.year,
        party_type=parts.party_type,
        party_id=parts.party_id,
    )


class BalanceTotals(msgspec.Struct):
    debit_fen: int
    credit_fen: int


class Balances(msgspec.Struct, kw_only=True):
    """A page of the accounts' balances, in the accounts' order."""

    items: list[Balance]
    total: int
    page: int
    page_size: int
    #: Σdebit and Σcredit of every account the query selects (not only this page)
    totals: BalanceTotals


class TrialBalance(msgspec.Struct):
    debit_fen: int
    credit_fen: int
    balanced: bool
    entries: int
    #: the books up to this moment (None: all of them)
    as_of: datetime | None = None


# ---------------------------------------------------------------- payouts


class Payee(msgspec.Struct):
    unit_id: str
    bank_name: str
    account_name: str
    account_number_masked: str
    updated_at: datetime
    #: the details' version, also their ``ETag`` (send it as ``If-Match`` when changing them)
    version: int


def payee(row: Row) -> Payee:
    return Payee(unit_id=row["unit_id"], bank_name=row["bank_name"], account_name=row["account_name"], account_number_masked=row["account_mask"],
                 updated_at=row["updated_at"], version=row["version"])


class Payout(msgspec.Struct):
    payout_id: str
    #: the case number people read and say (BF-2026-000007): unique, numbered per Beijing year the payout became due
    case_no: str
    kind: str
    ref: str
    unit_id: str
    year: int
    amount_fen: int
    #: due / ordered / paid
    status: str
    created_at: datetime
    notice_id: str | None = None
    payment_order_id: str | None = None
    #: the case number of the payment order it is on (FK-2026-000003), once ordered
    payment_order_case_no: str | None = None
    payee_name: str | None = None
    payee_bank: str | None = None
    payee_account_name: str | None = None
    payee_account_mask: str | None = None
    bank_reference: str | None = None
    ordered_at: datetime | None = None
    paid_at: datetime | None = None
    #: on the due list: ``payout.payee_missing`` when the unit has no payee details
    blocked: str | None = None


def payout(row: Row, *, blocked: str | None = None, order_case_no: str | None = None) -> Payout:
    """A payout from its row; its payment order's case number from the row's
    ``payment_order_case_no`` (a read joined with the order) or ``order_case_no``."""
    return Payout(
        payout_id=row["id"],
        case_no=row["case_no"],
        kind=row["kind"],
        ref=row["ref"],
        unit_id=row["unit_id"],
        year=row["year"],
        amount_fen=row["amount_fen"],
        notice_id=row.get("notice_id"),
        status=row["status"],
        payment_order_id=row.get("order_id"),
        payment_order_case_no=row.get("payment_order_case_no") or order_case_no,
        payee_name=row.get("payee_name"),
        payee_bank=row.get("payee_bank"),
        payee_account_name=row.get("payee_account_name"),
        payee_account_mask=row.get("payee_account_mask"),
        bank_reference=row.get("bank_reference"),
        created_at=row["created_at"],
        ordered_at=row.get("ordered_at"),
        paid_at=row.get("paid_at"),
        blocked=blocked,
    )


PayoutPage = Annotated[Page[Payout], page_schema("PayoutPage")]


class DueList(msgspec.Struct):
    items: list[Payout]
    total_fen: int
    blocked_fen: int


class PaymentOrder(msgspec.Struct):
    payment_order_id: str
    #: the case number people read and say (FK-2026-000003): unique, numbered per Beijing year the order was created
    case_no: str
    count: int
    total_fen: int
    created_by: str
    created_at: datetime
    payouts: list[Payout] | None = None


def payment_order(row: Row, payouts: list[Payout] | None = None) -> PaymentOrder:
    return PaymentOrder(payment_order_id=row["id"], case_no=row["case_no"], count=row["count"], total_fen=row["total_fen"], created_by=row["created_by"], created_at=row["created_at"],
                        payouts=payouts)


PaymentOrderPage = Annotated[Page[PaymentOrder], page_schema("PaymentOrderPage")]


class Check(msgspec.Struct):
    name: str
    left_fen: int
    right_fen: int
    ok: bool


class BudgetExecution(msgspec.Struct):
    year: int
    voucher: dict[str, int]
    award: dict[str, int]
    checks: list[Check]
    balanced: bool
    #: per kind (voucher / award / redemption): clawed back, repaid, outstanding (R27)
    clawback: dict[str, dict[str, int]] = {}


# ---------------------------------------------------------------- clawbacks


class Clawback(msgspec.Struct):
    clawback_id: str
    #: the case number people read and say (ZH-2026-000004, 追回), by the Beijing year it was recorded
    case_no: str
    finding_id: str
    party_type: str
    party_id: str
    #: voucher (ref = settlement id), award or redemption (ref = payout id)
    kind: str
    ref: str
    year: int
    amount_fen: int
    repaid_fen: int
    outstanding_fen: int
    status: str
    created_at: datetime
    updated_at: datetime


def clawback(row: Row) -> Clawback:
    return Clawback(clawback_id=row["id"], case_no=row["case_no"], finding_id=row["finding_id"], party_type=row["party_type"], party_id=row["party_id"], kind=row["kind"],
                    ref=row["ref"], year=row["year"], amount_fen=row["amount_fen"], repaid_fen=row["repaid_fen"],
                    outstanding_fen=row["amount_fen"] - row["repaid_fen"], status=row["status"], created_at=row["created_at"], updated_at=row["updated_at"])


ClawbackPage = Annotated[Page[Clawback], page_schema("ClawbackPage")]
