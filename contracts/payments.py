"""Events produced by the payments service (stream ``PAYMENTS``). Amounts in fen."""

from __future__ import annotations

from typing import ClassVar, Literal

from contracts.envelope import Event
from contracts.subjects import subject


class SettlementCompleted(Event, frozen=True, kw_only=True):
    subject: ClassVar[str] = subject("payments", "settlement", "completed")
    summary: ClassVar[str] = "An order was settled: fee = voucher deduction + what the user pays (R19(2), R19(4))."
    settlement_id: str
    order_id: str
    user_id: str
    unit_id: str
    fee_fen: int
    voucher_fen: int
    payable_fen: int
    voucher_id: str | None = None


class PaymentReceived(Event, frozen=True, kw_only=True):
    subject: ClassVar[str] = subject("payments", "payment", "received")
    summary: ClassVar[str] = "The user paid the rest of a settled order (R19(4)); paid_in_full tells whether nothing is left."
    settlement_id: str
    order_id: str
    user_id: str
    unit_id: str
    amount_fen: int
    paid_fen: int
    payable_fen: int
    paid_in_full: bool


class PayoutSnapshot(Event, frozen=True, kw_only=True):
    payout_id: str
    #: ``award`` (ref = award id) or ``redemption`` (ref = redemption claim id)
    kind: Literal["award", "redemption"]
    ref: str
    unit_id: str
    year: int
    amount_fen: int
    #: the payout's case number people read and say (BF-2026-000007); None from producers before it was added
    case_no: str | None = None


class PayoutOrdered(PayoutSnapshot, frozen=True, kw_only=True):
    subject: ClassVar[str] = subject("payments", "payout", "ordered")
    summary: ClassVar[str] = "A payout became due after its notice was final and was put on a payment order for finance (R14(4), R20)."
    #: the payment order's id
    batch_id: str | None = None
    #: the payment order's case number people read and say (FK-2026-000003); None from producers before it was added
    payment_order_case_no: str | None = None


class PayoutPaid(PayoutSnapshot, frozen=True, kw_only=True):
    subject: ClassVar[str] = subject("payments", "payout", "paid")
    summary: ClassVar[str] = "Finance confirmed the payout was paid to the unit; the ledger moved it from payable to paid."


class ClawbackSnapshot(Event, frozen=True, kw_only=True):
    clawback_id: str
    finding_id: str
    #: ``user`` or ``unit``: who owes the money back
    party_type: str
    party_id: str
    #: ``voucher`` (ref = settlement id), ``award`` or ``redemption`` (ref = payout id)
    kind: Literal["voucher", "award", "redemption"]
    ref: str
    year: int
    amount_fen: int
    #: the clawback's case number people read and say (ZH-2026-000004); None from producers before it was added
    case_no: str | None = None


class ClawbackRecorded(ClawbackSnapshot, frozen=True, kw_only=True):
    subject: ClassVar[str] = subject("payments", "clawback", "recorded")
    summary: ClassVar[str] = "Funds paid on false grounds became a receivable from the party (R27: 追回); the ledger keeps the original entries."


class ClawbackRepaid(ClawbackSnapshot, frozen=True, kw_only=True):
    subject: ClassVar[str] = subject("payments", "clawback", "repaid")
    summary: ClassVar[str] = "Finance recorded a repayment of a clawback; outstanding_fen is what the party still owes on it."
    repaid_fen: int
    outstanding_fen: int


class PayoutCancelled(PayoutSnapshot, frozen=True, kw_only=True):
    subject: ClassVar[str] = subject("payments", "payout", "cancelled")
    summary: ClassVar[str] = "A payout not yet paid was cancelled because of a fraud finding against its unit (R27); its payable was reversed."
    finding_id: str


EVENTS: tuple[type[Event], ...] = (SettlementCompleted, PaymentReceived, PayoutOrdered, PayoutPaid, PayoutCancelled, ClawbackRecorded, ClawbackRepaid)
