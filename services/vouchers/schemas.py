"""What vouchers' use cases return, and its API answers as they are: one
struct per record (programme, account, application, voucher and its
refusals), with the pages and results built of them.
Request bodies stay beside their routes in ``api/``; events are in
``contracts/vouchers.py``.

Each record is built from its table row by the one function below it
(``programme(row)``, ``application(row)``…), so a column reaches a client in
one place."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import msgspec
from sqlalchemy.engine import RowMapping

Row = RowMapping | dict[str, Any]


# ---------------------------------------------------------------- programmes and accounts


class Programme(msgspec.Struct):
    year: int
    version: int
    budget_fen: int
    committed_fen: int
    remaining_fen: int
    rate_bp: int
    cap_fen: int
    special_cap_fen: int
    appeal_window_days: int
    auto_approve: bool
    open: bool
    closed_reason: str | None = None


def programme(row: Row) -> Programme:
    """The programme as stored (``programmes.read`` adds R21's end of the year)."""
    return Programme(
        year=row["year"],
        version=row["version"],
        budget_fen=row["budget_fen"],
        committed_fen=row["committed_fen"],
        remaining_fen=row["budget_fen"] - row["committed_fen"],
        rate_bp=row["rate_bp"],
        cap_fen=row["cap_fen"],
        special_cap_fen=row["special_cap_fen"],
        appeal_window_days=row["appeal_window_days"],
        auto_approve=row["auto_approve"],
        open=row["open"],
        closed_reason=row["closed_reason"],
    )


class Account(msgspec.Struct):
    user_id: str
    year: int
    cap_fen: int
    committed_fen: int
    remaining_fen: int
    activated_at: datetime


def account(row: Row) -> Account:
    return Account(user_id=row["user_id"], year=row["year"], cap_fen=row["cap_fen"], committed_fen=row["committed_fen"],
                   remaining_fen=row["cap_fen"] - row["committed_fen"], activated_at=row["activated_at"])


class EligibilityView(msgspec.Struct):
    user_id: str
    year: int
    known: bool
    eligible: bool
    reasons: list[str]
    yearly_cap_fen: int


# ---------------------------------------------------------------- applications


class Application(msgspec.Struct):
    application_id: str
    user_id: str
    unit_id: str
    order_id: str
    year: int
    status: str
    amount_fen: int
    #: failing checks' codes (at submission; at rejection)
    failures: list[str]
    submitted_at: datetime
    decided_at: datetime | None = None
    decision_reason: str | None = None
    appealed_at: datetime | None = None
    appeal_reason: str | None = None
    appeal_outcome: str | None = None
    appeal_decided_at: datetime | None = None
    appeal_decision_reason: str | None = None
    voucher_id: str | None = None


def application(row: Row, voucher_id: str | None = None) -> Application:
    """An application with the id of its voucher (None until one is issued)."""
    return Application(
        application_id=row["id"],
        user_id=row["user_id"],
        unit_id=row["unit_id"],
        order_id=row["order_id"],
        year=row["year"],
        status=row["status"],
        amount_fen=row["amount_fen"],
        failures=list(row["failures"]),
        submitted_at=row["submitted_at"],
        decided_at=row["decided_at"],
        decision_reason=row["decision_reason"],
        appealed_at=row["appealed_at"],
        appeal_reason=row["appeal_reason"],
        appeal_outcome=row["appeal_outcome"],
        appeal_decided_at=row["appeal_decided_at"],
        appeal_decision_reason=row["appeal_decision_reason"],
        voucher_id=voucher_id,
    )


class ApplicationPage(msgspec.Struct):
    items: list[Application]
    total: int
    page: int
    page_size: int


# ---------------------------------------------------------------- vouchers


class Refusal(msgspec.Struct):
    refusal_id: str
    unit_id: str
    reason: str
    by: str
    at: datetime


def refusal(row: Row) -> Refusal:
    return Refusal(refusal_id=row["id"], unit_id=row["unit_id"], reason=row["reason"], by=row["by"], at=row["at"])


class Voucher(msgspec.Struct):
    voucher_id: str
    application_id: str
    user_id: str
    unit_id: str
    order_id: str
    year: int
    amount_fen: int
    expires_at: datetime
    status: str
    issued_at: datetime
    used_at: datetime | None = None
    expired_at: datetime | None = None
    revoked_at: datetime | None = None
    #: order_cancelled / blacklisted / unit_disqualified
    revoked_reason: str | None = None
    #: refusals by the unit (only on ``getVoucher``)
    refusals: list[Refusal] | None = None


def voucher(row: Row, refusals: list[Refusal] | None = None) -> Voucher:
    """A voucher; ``refusals`` only where they were read (one voucher, not a page)."""
    return Voucher(
        voucher_id=row["id"],
        application_id=row["application_id"],
        user_id=row["user_id"],
        unit_id=row["unit_id"],
        order_id=row["order_id"],
        year=row["year"],
        amount_fen=row["amount_fen"],
        expires_at=row["expires_at"],
        status=row["status"],
        issued_at=row["issued_at"],
        used_at=row["used_at"],
        expired_at=row["expired_at"],
        revoked_at=row["revoked_at"],
        revoked_reason=row["revoked_reason"],
        refusals=refusals,
    )


class VoucherPage(msgspec.Struct):
    items: list[Voucher]
    total: int
    page: int
    page_size: int


class ExpiryRun(msgspec.Struct):
    expired: int
    #: the moment the run voided vouchers as of (its ``as_of``, or now on the policy clock)
    as_of: datetime
