"""Events produced by the vouchers service (stream ``VOUCHERS``). Amounts in fen."""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar

from contracts.envelope import Event
from contracts.subjects import subject


class ProgrammeSnapshot(Event, frozen=True, kw_only=True):
    year: int
    version: int
    budget_fen: int
    committed_fen: int
    rate_bp: int
    cap_fen: int
    special_cap_fen: int
    open: bool


class ProgrammeOpened(ProgrammeSnapshot, frozen=True, kw_only=True):
    subject: ClassVar[str] = subject("vouchers", "programme", "opened")
    summary: ClassVar[str] = "The bureau and finance published the year's voucher budget and opened the programme (R15)."


class ProgrammeBudgetChanged(ProgrammeSnapshot, frozen=True, kw_only=True):
    subject: ClassVar[str] = subject("vouchers", "programme", "budget_changed")
    summary: ClassVar[str] = "The year's voucher budget changed; a raised budget reopens a closed programme (R15)."


class ProgrammeClosed(ProgrammeSnapshot, frozen=True, kw_only=True):
    subject: ClassVar[str] = subject("vouchers", "programme", "closed")
    summary: ClassVar[str] = "The programme stopped taking applications: budget committed or year over (R15)."
    reason: str


class AccountActivated(Event, frozen=True, kw_only=True):
    subject: ClassVar[str] = subject("vouchers", "account", "activated")
    summary: ClassVar[str] = "A user opened its voucher account for the year (R19(1))."
    user_id: str
    year: int
    cap_fen: int


class ApplicationSnapshot(Event, frozen=True, kw_only=True):
    application_id: str
    user_id: str
    unit_id: str
    order_id: str
    year: int
    status: str
    amount_fen: int = 0
    #: the case number people read and say (SQ-2026-000123); None from producers before it was added
    case_no: str | None = None


class ApplicationSubmitted(ApplicationSnapshot, frozen=True, kw_only=True):
    subject: ClassVar[str] = subject("vouchers", "application", "submitted")
    summary: ClassVar[str] = "A user applied for a voucher on a contracted order (R19(1))."


class ApplicationApproved(ApplicationSnapshot, frozen=True, kw_only=True):
    subject: ClassVar[str] = subject("vouchers", "application", "approved")
    summary: ClassVar[str] = "The center approved an application; its amount is reserved from the cap and the budget (R19(2))."


class ApplicationRejected(ApplicationSnapshot, frozen=True, kw_only=True):
    subject: ClassVar[str] = subject("vouchers", "application", "rejected")
    summary: ClassVar[str] = "An application was rejected, with every failing check's code (R19(2))."
    reasons: list[str]
    #: the center's stated reason for the rejection; None from producers before it was added
    reason: str | None = None
    #: the last instant (UTC) an appeal may be filed, the rejection plus the year's appeal window (R19(2)); None from producers before it was added
    appeal_until: datetime | None = None


class AppealFiled(ApplicationSnapshot, frozen=True, kw_only=True):
    subject: ClassVar[str] = subject("vouchers", "appeal", "filed")
    summary: ClassVar[str] = "A rejected user appealed within the window (R19(2))."


class AppealDecided(ApplicationSnapshot, frozen=True, kw_only=True):
    subject: ClassVar[str] = subject("vouchers", "appeal", "decided")
    summary: ClassVar[str] = "The bureau upheld the rejection or overturned it (R19(2))."
    #: "uphold" (the rejection stands) or "overturn" (the application is approved, ``amount_fen`` its voucher)
    outcome: str
    #: the bureau's stated reason for its decision; None from producers before it was added
    reason: str | None = None


class VoucherSnapshot(Event, frozen=True, kw_only=True):
    voucher_id: str
    application_id: str
    user_id: str
    unit_id: str
    order_id: str
    year: int
    amount_fen: int
    expires_at: datetime
    status: str


class VoucherIssued(VoucherSnapshot, frozen=True, kw_only=True):
    subject: ClassVar[str] = subject("vouchers", "voucher", "issued")
    summary: ClassVar[str] = "An electronic voucher bound to one user, unit and contract was issued (R15, R21)."


class VoucherUsed(VoucherSnapshot, frozen=True, kw_only=True):
    subject: ClassVar[str] = subject("vouchers", "voucher", "used")
    summary: ClassVar[str] = "A voucher was deducted at settlement (R19(2))."


class VoucherExpired(VoucherSnapshot, frozen=True, kw_only=True):
    subject: ClassVar[str] = subject("vouchers", "voucher", "expired")
    summary: ClassVar[str] = "An unused voucher became void at the end of its year; its reservation was released (R16, R21)."


class VoucherRevoked(VoucherSnapshot, frozen=True, kw_only=True):
    subject: ClassVar[str] = subject("vouchers", "voucher", "revoked")
    summary: ClassVar[str] = "A voucher was revoked (fraud, cancelled order); its reservation was released (R27)."
    reason: str


class VoucherRefused(VoucherSnapshot, frozen=True, kw_only=True):
    subject: ClassVar[str] = subject("vouchers", "voucher", "refused")
    summary: ClassVar[str] = "A unit refused a valid voucher, with its recorded reason (R19(2)); the voucher stays valid."
    reason: str


class RedemptionSnapshot(Event, frozen=True, kw_only=True):
    claim_id: str
    unit_id: str
    year: int
    voucher_ids: list[str]
    #: the sum of the claimed vouchers' amounts
    amount_fen: int
    status: str
    #: the case number people read and say (DF-2026-000123); None from producers before it was added
    case_no: str | None = None


class RedemptionClaimed(RedemptionSnapshot, frozen=True, kw_only=True):
    subject: ClassVar[str] = subject("vouchers", "redemption", "claimed")
    summary: ClassVar[str] = "A unit claimed the used vouchers it received, with bank receipts, invoices and results (R20)."


class RedemptionReviewed(RedemptionSnapshot, frozen=True, kw_only=True):
    subject: ClassVar[str] = subject("vouchers", "redemption", "reviewed")
    summary: ClassVar[str] = "Experts checked a redemption claim; approved_fen is what goes on the notice (R20(3))."
    approved: bool
    approved_fen: int
    reasons: list[str] = []


class RedemptionSettled(RedemptionSnapshot, frozen=True, kw_only=True):
    subject: ClassVar[str] = subject("vouchers", "redemption", "settled")
    summary: ClassVar[str] = "A noticed claim was paid; its vouchers are redeemed and can never be claimed again (R20, R22)."
    paid_fen: int


EVENTS: tuple[type[Event], ...] = (
    ProgrammeOpened,
    ProgrammeBudgetChanged,
    ProgrammeClosed,
    AccountActivated,
    ApplicationSubmitted,
    ApplicationApproved,
    ApplicationRejected,
    AppealFiled,
    AppealDecided,
    VoucherIssued,
    VoucherUsed,
    VoucherExpired,
    VoucherRevoked,
    VoucherRefused,
    RedemptionClaimed,
    RedemptionReviewed,
    RedemptionSettled,
)
