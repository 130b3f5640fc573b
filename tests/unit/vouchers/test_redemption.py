"""Redemption rules (R20): invoice numbers at their edges, the claim window, the review."""

from __future__ import annotations

from datetime import date

import pytest

from services.runtime.errors import DomainError
from services.vouchers.domain.redemption import ItemDecision, Window, invoice_key, review


@pytest.mark.parametrize(("digits", "ok"), [(19, False), (20, True), (21, False)])
def test_a_fully_digital_invoice_has_a_20_digit_number(digits: int, ok: bool) -> None:
    number = "2" * digits
    if ok:
        assert invoice_key(None, number) == f"digital:{number}"
    else:
        with pytest.raises(DomainError) as e:
            invoice_key(None, number)
        assert e.value.code == "redemption.invoice_invalid"


@pytest.mark.parametrize(("digits", "ok"), [(9, False), (10, True), (11, False), (12, True), (13, False)])
def test_a_vat_invoice_code_has_10_or_12_digits(digits: int, ok: bool) -> None:
    code = "4" * digits
    if ok:
        assert invoice_key(code, "12345678") == f"vat:{code}:12345678"
    else:
        with pytest.raises(DomainError, match="code"):
            invoice_key(code, "12345678")


@pytest.mark.parametrize(("digits", "ok"), [(7, False), (8, True), (9, False)])
def test_a_vat_invoice_number_has_8_digits(digits: int, ok: bool) -> None:
    number = "1" * digits
    if ok:
        assert invoice_key("4100231130", number) == f"vat:4100231130:{number}"
    else:
        with pytest.raises(DomainError, match="number is 8 digits"):
            invoice_key("4100231130", number)


@pytest.mark.parametrize("number", ["1234567890123456789a", "１２３４５６７８９０１２３４５６７８９０", ""])
def test_only_ascii_digits_count(number: str) -> None:
    with pytest.raises(DomainError):
        invoice_key(None, number)


def test_the_same_invoice_written_differently_has_one_key() -> None:
    assert invoice_key(" 4100231130 ", " 00012345 ") == invoice_key("4100231130", "00012345")
    assert invoice_key("", "2" * 20) == invoice_key(None, "2" * 20)


def test_the_window_includes_both_ends() -> None:
    w = Window(2026, date(2027, 1, 4), date(2027, 3, 31))
    assert not w.is_open(date(2027, 1, 3))
    assert w.is_open(date(2027, 1, 4)) and w.is_open(date(2027, 3, 31))
    assert not w.is_open(date(2027, 4, 1))
    with pytest.raises(DomainError):
        Window(2026, date(2027, 3, 31), date(2027, 1, 4))


AMOUNTS = {"v1": 300_000, "v2": 150_000}


def test_approve_all_in_part_or_reject() -> None:
    r = review(AMOUNTS, [ItemDecision("v1", True), ItemDecision("v2", True)])
    assert (r.approved, r.approved_fen, r.status, r.reasons) == (True, 450_000, "approved", [])
    r = review(AMOUNTS, [ItemDecision("v1", True), ItemDecision("v2", False, "发票金额与合同不符")])
    assert (r.approved, r.approved_fen, r.status) == (True, 300_000, "approved") and r.reasons == ["v2: 发票金额与合同不符"]
    r = review(AMOUNTS, [ItemDecision("v1", False, "无服务结果"), ItemDecision("v2", False, "无银行回单")])
    assert (r.approved, r.approved_fen, r.status) == (False, 0, "rejected")


def test_a_review_decides_every_voucher_once_with_reasons() -> None:
    for decisions in ([ItemDecision("v1", True)], [ItemDecision("v1", True), ItemDecision("v1", True)],
                      [ItemDecision("v1", True), ItemDecision("v2", True), ItemDecision("v3", True)]):
        with pytest.raises(DomainError) as e:
            review(AMOUNTS, decisions)
        assert e.value.code == "redemption.decisions_incomplete"
    with pytest.raises(DomainError) as e:
        review(AMOUNTS, [ItemDecision("v1", True), ItemDecision("v2", False, "  ")])
    assert e.value.code == "redemption.reason_required"
