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


class PayoutOrdered(PayoutSnapshot, frozen=True, kw_only=True):
    subject: ClassVar[str] = subject("payments", "payout", "ordered")
    summary: ClassVar[str] = "A payout became due after its notice was final and was put on a payment order for finance (R14(4), R20)."
    batch_id: str | None = None


class PayoutPaid(PayoutSnapshot, frozen=True, kw_only=True):
    subject: ClassVar[str] = subject("payments", "payout", "paid")
    summary: ClassVar[str] = "Finance confirmed the payout was paid to the unit; the ledger moved it from payable to paid."


EVENTS: tuple[type[Event], ...] = (SettlementCompleted, PaymentReceived, PayoutOrdered, PayoutPaid)
