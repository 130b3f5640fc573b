"""What vouchers' use cases return, and its API answers as they are: one
struct per record (programme, account, application, voucher and its
refusals, redemption window, evidence document, claim and its items, expert
assignment), with the pages and results built of them.
Request bodies stay beside their routes in ``api/``; events are in
``contracts/vouchers.py``.

Each record is built from its table row by the one function below it
(``programme(row)``, ``application(row)``…), so a column reaches a client in
one place."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any

import msgspec
from sqlalchemy.engine import RowMapping

from services.runtime.http.pagination import Page, page_schema

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
    #: R4's eligible user classes and R16's special classes of the year
    eligible_classes: list[str] = []
    special_classes: list[str] = []


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
        eligible_classes=list(row["eligible_classes"]),
        special_classes=list(row["special_classes"]),
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
    #: the case number people read and say (SQ-2026-000123): unique, one per application, issued when it is submitted
    case_no: str
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
    #: the order's case number (DD-2026-000123), how people name the order; none for an order known before orders had one
    order_case_no: str | None = None
    #: the applicant's name (the enterprise or start-up team, as registry last told vouchers);
    #: on the application read and listed, not in the records a decision returns
    user_name: str | None = None


#: what an application's audit image leaves out: read with it, not its own (its applicant's name)
READ_ALONG = ("user_name",)


def application(row: Row, voucher_id: str | None = None, user_name: str | None = None) -> Application:
    """An application with the id of its voucher (None until one is issued) and its applicant's name."""
    return Application(
        application_id=row["id"],
        case_no=row["case_no"],
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
        order_case_no=row["order_case_no"],
        user_name=user_name,
    )


ApplicationPage = Annotated[Page[Application], page_schema("ApplicationPage")]


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
    #: the order's case number (DD-2026-000123); none for an order known before orders had one
    order_case_no: str | None = None


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
        order_case_no=row["order_case_no"],
    )


VoucherPage = Annotated[Page[Voucher], page_schema("VoucherPage")]


class ExpiryRun(msgspec.Struct):
    expired: int
    #: the moment the run voided vouchers as of (its ``as_of``, or now on the policy clock)
    as_of: datetime


# ---------------------------------------------------------------- redemption


class Window(msgspec.Struct):
    year: int
    opens_on: date
    closes_on: date
    updated_at: datetime
    #: the window's version, also its ``ETag`` (send it as ``If-Match`` when changing it)
    version: int


def window(row: Row) -> Window:
    return Window(year=row["year"], opens_on=row["opens_on"], closes_on=row["closes_on"], updated_at=row["updated_at"], version=row["version"])


class Document(msgspec.Struct):
    document_id: str
    unit_id: str
    sha256: str
    filename: str
    content_type: str
    size: int
    uploaded_at: datetime


def document(row: Row) -> Document:
    return Document(document_id=row["id"], unit_id=row["unit_id"], sha256=row["sha256"], filename=row["filename"], content_type=row["content_type"],
                    size=row["size"], uploaded_at=row["uploaded_at"])


class ClaimItem(msgspec.Struct):
    voucher_id: str
    amount_fen: int
    invoice_number: str
    receipt_document_id: str
    results_document_id: str
    invoice_code: str | None = None
    approved: bool | None = None
    reason: str | None = None


def claim_item(row: Row) -> ClaimItem:
    return ClaimItem(voucher_id=row["voucher_id"], amount_fen=row["amount_fen"], invoice_number=row["invoice_number"],
                     receipt_document_id=row["receipt_document_id"], results_document_id=row["results_document_id"], invoice_code=row["invoice_code"],
                     approved=row["approved"], reason=row["reason"])


class Claim(msgspec.Struct):
    claim_id: str
    #: the case number people read and say (DF-2026-000123): unique, one per claim, issued when it is made
    case_no: str
    unit_id: str
    year: int
    #: claimed / approved / rejected / noticed / settled
    status: str
    amount_fen: int
    claimed_at: datetime
    reasons: list[str] = []
    approved_fen: int | None = None
    paid_fen: int | None = None
    reviewed_at: datetime | None = None
    reviewed_by: str | None = None
    notice_id: str | None = None
    noticed_at: datetime | None = None
    settled_at: datetime | None = None
    items: list[ClaimItem] | None = None


def claim(row: Row, items: list[ClaimItem] | None = None) -> Claim:
    """A claim; ``items`` only where they were read (one claim, not a page)."""
    return Claim(
        claim_id=row["id"],
        case_no=row["case_no"],
        unit_id=row["unit_id"],
        year=row["year"],
        status=row["status"],
        amount_fen=row["amount_fen"],
        approved_fen=row["approved_fen"],
        paid_fen=row["paid_fen"],
        reasons=list(row["reasons"] or []),
        claimed_at=row["claimed_at"],
        reviewed_at=row["reviewed_at"],
        reviewed_by=row["reviewed_by"],
        notice_id=row["notice_id"],
        noticed_at=row["noticed_at"],
        settled_at=row["settled_at"],
        items=items,
    )


ClaimPage = Annotated[Page[Claim], page_schema("ClaimPage")]


class Assignment(msgspec.Struct):
    assignment_id: str
    claim_id: str
    expert_id: str
    assigned_at: datetime


def assignment(row: Row) -> Assignment:
    return Assignment(assignment_id=row["id"], claim_id=row["claim_id"], expert_id=row["expert_id"], assigned_at=row["assigned_at"])
