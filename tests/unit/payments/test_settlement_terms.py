"""What a settlement comes to (services/payments/domain/settlement.py, R19(2)):
the user pays the order's amount less the voucher, the voucher never pays more than it."""

from __future__ import annotations

import pytest

from contracts.commands import UseVoucherReply
from services.payments.domain.settlement import PAID, SETTLED, KnownVoucher, VoucherPending, settlement_terms

ORDER_AMOUNT = 100_000  # 1,000 CNY
KNOWN = KnownVoucher(voucher_id="v-known", year=2026)


def test_a_voucher_pays_its_amount_and_the_user_the_rest() -> None:
    t = settlement_terms(ORDER_AMOUNT, UseVoucherReply(ok=True, amount_fen=30_000, voucher_id="v1", year=2026), KNOWN, 2027)
    assert (t.voucher_fen, t.payable_fen, t.voucher_id, t.year, t.voucher_refusal, t.status) == (30_000, 70_000, "v1", 2026, None, SETTLED)


@pytest.mark.parametrize(("amount", "voucher", "payable", "status"), [(ORDER_AMOUNT - 1, ORDER_AMOUNT - 1, 1, SETTLED), (ORDER_AMOUNT, ORDER_AMOUNT, 0, PAID), (ORDER_AMOUNT + 1, ORDER_AMOUNT, 0, PAID)])
def test_the_voucher_never_pays_more_than_the_order_amount(amount: int, voucher: int, payable: int, status: str) -> None:
    t = settlement_terms(ORDER_AMOUNT, UseVoucherReply(ok=True, amount_fen=amount, voucher_id="v1", year=2026), None, 2026)
    assert (t.voucher_fen, t.payable_fen, t.status) == (voucher, payable, status)


def test_what_the_reply_leaves_out_comes_from_the_read_model_then_this_year() -> None:
    t = settlement_terms(ORDER_AMOUNT, UseVoucherReply(ok=True, amount_fen=10_000), KNOWN, 2027)
    assert (t.voucher_id, t.year) == ("v-known", 2026)
    t = settlement_terms(ORDER_AMOUNT, UseVoucherReply(ok=True, amount_fen=10_000), None, 2027)
    assert (t.voucher_id, t.year) == (None, 2027)


def test_a_refused_voucher_bills_the_user_in_full_and_says_why() -> None:
    t = settlement_terms(ORDER_AMOUNT, UseVoucherReply(ok=False, code="voucher.expired"), KNOWN, 2026)
    assert (t.voucher_fen, t.payable_fen, t.voucher_refusal, t.voucher_id) == (0, ORDER_AMOUNT, "voucher.expired", None)
    assert settlement_terms(ORDER_AMOUNT, UseVoucherReply(ok=False), None, 2026).voucher_refusal == "voucher.refused"


def test_no_voucher_at_all_is_no_refusal() -> None:
    t = settlement_terms(ORDER_AMOUNT, UseVoucherReply(ok=False, code="voucher.none"), None, 2026)
    assert (t.voucher_fen, t.payable_fen, t.voucher_refusal, t.year) == (0, ORDER_AMOUNT, None, 2026)


def test_an_undecided_application_stops_the_settlement() -> None:
    with pytest.raises(VoucherPending):
        settlement_terms(ORDER_AMOUNT, UseVoucherReply(ok=False, code="voucher.application_pending"), None, 2026)
