"""Payout ledger entries and the export file's amounts, pure."""

from __future__ import annotations

import io
from datetime import UTC, datetime

import pytest
from openpyxl import load_workbook

from services.payments.domain import ledger
from services.payments.domain.ledger import LedgerError, Line
from services.payments.exports import payment_order_xlsx
from services.payments.schemas import Payout


def _ordered(*, payee_name: str, payee_bank: str, payee_account_name: str, kind: str) -> Payout:
    return Payout(payout_id="p1", case_no="BF-2031-000001", kind=kind, ref="r1", unit_id="u1", year=2031, amount_fen=1_999_999, status="ordered",
                  created_at=datetime(2031, 12, 1, tzinfo=UTC), payee_name=payee_name, payee_bank=payee_bank, payee_account_name=payee_account_name)


def test_an_appropriation_raises_or_lowers_the_budget() -> None:
    up = ledger.appropriation_entry(key="k1", kind="award", year=2031, delta_fen=20_000_000)
    assert up.lines == (Line.debit("award_funds:2031", 20_000_000), Line.credit("appropriation:award:2031", 20_000_000))
    down = ledger.appropriation_entry(key="k2", kind="award", year=2031, delta_fen=-5)
    assert down.lines == (Line.debit("appropriation:award:2031", 5), Line.credit("award_funds:2031", 5))
    with pytest.raises(LedgerError):
        ledger.appropriation_entry(key="k3", kind="award", year=2031, delta_fen=0)


def test_a_payout_is_payable_then_paid_under_keys_unique_per_kind_and_ref() -> None:
    award = ledger.payable_entry(kind="award", ref="a1", unit_id="u1", year=2031, amount_fen=5_000_000)
    assert award.key == "payable:award:a1"
    assert award.lines == (Line.debit("award_approved:2031", 5_000_000), Line.credit("payout_payable:award:2031", 5_000_000))
    red = ledger.payable_entry(kind="redemption", ref="c1", unit_id="u1", year=2031, amount_fen=300_000)
    # the voucher part the unit was owed since settlement becomes payable
    assert red.lines == (Line.debit("unit_receivable:u1", 300_000), Line.credit("payout_payable:redemption:2031", 300_000))
    paid = ledger.paid_entry(kind="redemption", ref="c1", unit_id="u1", year=2031, amount_fen=300_000)
    assert paid.key == "paid:redemption:c1"
    assert paid.lines == (Line.debit("payout_payable:redemption:2031", 300_000), Line.credit("treasury_paid:redemption:2031", 300_000))
    for bad in (0, -1, 1.5, True):
        with pytest.raises(LedgerError):
            ledger.payable_entry(kind="award", ref="a", unit_id="u", year=2031, amount_fen=bad)  # type: ignore[arg-type]
    with pytest.raises(LedgerError):
        ledger.payable_entry(kind="bonus", ref="a", unit_id="u", year=2031, amount_fen=1)


def test_the_order_file_keeps_amounts_and_account_numbers_as_text() -> None:
    line = (_ordered(payee_name="许昌某大学", payee_bank="工行", payee_account_name="许昌某大学", kind="redemption"), "6222021708001234567")
    ws = load_workbook(io.BytesIO(payment_order_xlsx("FK-2031-000002", [line]))).active
    row = [c.value for c in ws[2]]
    assert row == ["许昌某大学", "工行", "许昌某大学", "6222021708001234567", "19999.99", "2031年度科技创新券兑付", "p1", "BF-2031-000001", "FK-2031-000002"]
    assert ws.cell(row=2, column=5).data_type == "s"


def test_a_payee_cannot_put_a_live_formula_in_the_payment_order() -> None:
    """Issue 14: a unit's bank name ``=HYPERLINK(...)`` was a live formula in finance's file."""
    line = (_ordered(payee_name="@SUM(1+1)*cmd|' /C calc'!A0", payee_bank='=HYPERLINK("http://evil","x")', payee_account_name="+许昌某大学", kind="award"),
            "6222021708001234567")
    ws = load_workbook(io.BytesIO(payment_order_xlsx("FK-2031-000002", [line]))).active
    cells = ws[2]
    assert [c.value for c in cells[:3]] == ["@SUM(1+1)*cmd|' /C calc'!A0", '=HYPERLINK("http://evil","x")', "+许昌某大学"]
    assert all(c.data_type == "s" and c.quotePrefix for c in cells[:3])
    assert ws.cell(row=2, column=5).value == "19999.99"
