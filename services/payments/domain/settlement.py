"""What a settlement comes to, pure (R19(2): the user pays the order's amount
less the voucher; the voucher's share is paid by the programme at redemption).

The vouchers service decides whether the order's voucher may be used
(``UseVoucherReply``); from its answer and the order's amount this works out the
voucher's share (never more than the amount), the user's payable part, the
programme year the voucher's money belongs to, why a voucher was not used,
and the settlement's status."""

from __future__ import annotations

import msgspec

from contracts.commands import UseVoucherReply

SETTLED = "settled"
PAID = "paid"

#: vouchers' answer while an application on the order awaits its decision
APPLICATION_PENDING = "voucher.application_pending"
#: vouchers' answer when the order has neither a voucher nor a pending application
NO_VOUCHER = "voucher.none"


class VoucherPending(Exception):
    """The order's voucher application is not decided: settling now would bill the user in full."""


class KnownVoucher(msgspec.Struct, frozen=True, kw_only=True):
    """The order's voucher as payments' read model knows it (it may lag vouchers)."""

    voucher_id: str
    year: int


class SettlementTerms(msgspec.Struct, frozen=True, kw_only=True):
    order_amount_fen: int
    voucher_fen: int
    payable_fen: int
    voucher_id: str | None
    #: the programme year of the voucher's money (this year when no voucher is used)
    year: int
    #: why the voucher was not used (its code), None when used or when there was none
    voucher_refusal: str | None

    @property
    def status(self) -> str:
        """Paid at once when the voucher covers the whole amount."""
        return PAID if self.payable_fen == 0 else SETTLED


def settlement_terms(order_amount_fen: int, reply: UseVoucherReply, known: KnownVoucher | None, this_year: int) -> SettlementTerms:
    """The settlement of an order of ``order_amount_fen`` after vouchers' ``reply``.
    Raises :class:`VoucherPending` when vouchers says an application is still open."""
    voucher_fen, voucher_id, year, refusal = 0, None, this_year, None
    if reply.ok:
        voucher_fen = min(reply.amount_fen, order_amount_fen)
        voucher_id = reply.voucher_id or (known.voucher_id if known else None)
        year = reply.year or (known.year if known else this_year)
    elif reply.code == APPLICATION_PENDING:
        raise VoucherPending
    elif reply.code != NO_VOUCHER:
        refusal = reply.code or "voucher.refused"
    return SettlementTerms(
        order_amount_fen=order_amount_fen, voucher_fen=voucher_fen, payable_fen=order_amount_fen - voucher_fen, voucher_id=voucher_id, year=year, voucher_refusal=refusal
    )
