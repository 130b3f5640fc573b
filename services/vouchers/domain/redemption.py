"""Redemption claims (R20), pure: invoice numbers, the claim window, the review.

Invoices (发票): a fully digital invoice (数电票) has a 20-digit number and no
code; an older VAT invoice has a code of 10 or 12 digits and an 8-digit
number. The normalised key (``digital:<20>`` or ``vat:<code>:<number>``) is
unique in the database: one invoice backs one claim only, across all units
and years.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from services.runtime.errors import DomainError

CLAIMED = "claimed"
APPROVED = "approved"
REJECTED = "rejected"
NOTICED = "noticed"
SETTLED = "settled"

#: a claim still waiting for its money (its vouchers stay held)
LIVE = (CLAIMED, APPROVED, NOTICED)


def _digits(s: str, n: tuple[int, ...]) -> bool:
    return s.isascii() and s.isdigit() and len(s) in n


def invalid_invoice(detail_en: str) -> DomainError:
    return DomainError(
        "redemption.invoice_invalid",
        "发票号码不正确：数电票为20位号码；增值税发票为10位或12位发票代码加8位号码",
        f"invalid invoice: {detail_en} (a fully digital invoice has a 20-digit number; a VAT invoice a 10- or 12-digit code and an 8-digit number)",
        status=422,
    )


def invoice_key(code: str | None, number: str) -> str:
    """The invoice's unique key, or ``redemption.invoice_invalid``."""
    number = (number or "").strip()
    code = (code or "").strip() or None
    if code is None:
        if not _digits(number, (20,)):
            raise invalid_invoice("a fully digital invoice number is 20 digits")
        return f"digital:{number}"
    if not _digits(code, (10, 12)):
        raise invalid_invoice("a VAT invoice code is 10 or 12 digits")
    if not _digits(number, (8,)):
        raise invalid_invoice("a VAT invoice number is 8 digits")
    return f"vat:{code}:{number}"


@dataclass(frozen=True)
class Window:
    """The days (policy time, inclusive) on which units may claim for a programme year."""

    year: int
    opens_on: date
    closes_on: date

    def __post_init__(self) -> None:
        if self.closes_on < self.opens_on:
            raise DomainError("redemption.window_invalid", "申报截止日期早于开始日期", "the window closes before it opens", status=422)

    def is_open(self, today: date) -> bool:
        return self.opens_on <= today <= self.closes_on


def window_closed(year: int, window: Window | None) -> DomainError:
    if window is None:
        return DomainError("redemption.window_closed", f"{year}年度创新券兑付申报期未设置", f"no claim window is set for {year}", status=409, year=year)
    return DomainError(
        "redemption.window_closed",
        f"{year}年度创新券兑付申报期为{window.opens_on}至{window.closes_on}",
        f"claims for {year} are accepted from {window.opens_on} to {window.closes_on}",
        status=409,
        year=year,
        opens_on=window.opens_on.isoformat(),
        closes_on=window.closes_on.isoformat(),
    )


@dataclass(frozen=True)
class ItemDecision:
    voucher_id: str
    approved: bool
    reason: str | None = None


@dataclass(frozen=True)
class Review:
    approved: bool
    approved_fen: int
    reasons: list[str]
    status: str


def review(amounts: dict[str, int], decisions: list[ItemDecision]) -> Review:
    """Approve all, in part (rejected vouchers with reasons), or reject: one
    decision per claimed voucher, a reason for every rejected one."""
    ids = [d.voucher_id for d in decisions]
    if sorted(ids) != sorted(amounts) or len(set(ids)) != len(ids):
        raise DomainError(
            "redemption.decisions_incomplete",
            "须对申报的每张创新券各作一项审核结论",
            "give exactly one decision for each claimed voucher",
            status=422,
        )
    reasons: list[str] = []
    for d in decisions:
        if not d.approved:
            if not (d.reason or "").strip():
                raise DomainError("redemption.reason_required", "核减或驳回须说明理由", "a rejected voucher needs a reason", status=422, voucher_id=d.voucher_id)
            reasons.append(f"{d.voucher_id}: {d.reason}")
    approved_fen = sum(amounts[d.voucher_id] for d in decisions if d.approved)
    ok = any(d.approved for d in decisions)
    return Review(approved=ok, approved_fen=approved_fen, reasons=reasons, status=APPROVED if ok else REJECTED)
