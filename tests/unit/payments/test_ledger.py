"""The pure double-entry ledger: lines, balanced entries, settlement and payment postings."""

from __future__ import annotations

import random

import pytest

from services.payments.domain import ledger
from services.payments.domain.ledger import Entry, LedgerError, Line


def test_a_line_has_exactly_one_side_in_whole_fen() -> None:
    assert Line.debit("user_payable:u", 5).debit_fen == 5
    for bad in (
        lambda: Line("user_payable:u", 0, 0),
        lambda: Line("user_payable:u", 3, 3),
        lambda: Line("user_payable:u", -1, 0),
        lambda: Line("user_payable:u", 0, -2),
        lambda: Line("user_payable:u", 1.5, 0),  # type: ignore[arg-type]
        lambda: Line("user_payable:u", True, 0),  # type: ignore[arg-type]
        lambda: Line("nocolon", 1, 0),
        lambda: Line("", 1, 0),
    ):
        with pytest.raises(LedgerError):
            bad()


def test_an_entry_balances_and_has_two_lines() -> None:
    ok = Entry("k", "test", (Line.debit("a:1", 7), Line.credit("b:1", 3), Line.credit("c:1", 4)))
    assert ok.debit_fen == ok.credit_fen == 7
    with pytest.raises(LedgerError):
        Entry("k", "test", (Line.debit("a:1", 7), Line.credit("b:1", 6)))
    with pytest.raises(LedgerError):
        Entry("k", "test", (Line.debit("a:1", 7),))
    with pytest.raises(LedgerError):
        Entry("", "test", (Line.debit("a:1", 1), Line.credit("b:1", 1)))


def test_settlement_with_a_voucher() -> None:
    e = ledger.settlement_entry(order_id="o", user_id="u", unit_id="n", year=2026, order_amount_fen=1_000_000, voucher_fen=300_000)
    assert e.key == "settlement:o" and e.kind == ledger.SETTLEMENT
    assert e.lines == (
        Line.debit("user_payable:u", 700_000),
        Line.debit("voucher_budget:2026", 300_000),
        Line.credit("unit_receivable:n", 1_000_000),
    )


def test_settlement_without_a_voucher_and_fully_covered() -> None:
    plain = ledger.settlement_entry(order_id="o", user_id="u", unit_id="n", year=2026, order_amount_fen=500, voucher_fen=0)
    assert plain.lines == (Line.debit("user_payable:u", 500), Line.credit("unit_receivable:n", 500))
    covered = ledger.settlement_entry(order_id="o", user_id="u", unit_id="n", year=2026, order_amount_fen=500, voucher_fen=500)
    assert covered.lines == (Line.debit("voucher_budget:2026", 500), Line.credit("unit_receivable:n", 500))


@pytest.mark.parametrize(("amount", "voucher"), [(0, 0), (100, 101), (100, -1), (-5, 0), (100.0, 0), (100, 0.5)])
def test_settlement_refuses_impossible_amounts(amount: object, voucher: object) -> None:
    with pytest.raises(LedgerError):
        ledger.settlement_entry(order_id="o", user_id="u", unit_id="n", year=2026, order_amount_fen=amount, voucher_fen=voucher)  # type: ignore[arg-type]


def test_payment() -> None:
    e = ledger.payment_entry(idempotency_key="abc", user_id="u", unit_id="n", amount_fen=42)
    assert e.key == "payment:abc" and e.kind == ledger.PAYMENT
    assert e.lines == (Line.debit("cash_received:n", 42), Line.credit("user_payable:u", 42))
    for bad in (0, -1, 1.0, True):
        with pytest.raises(LedgerError):
            ledger.payment_entry(idempotency_key="abc", user_id="u", unit_id="n", amount_fen=bad)  # type: ignore[arg-type]


def test_property_every_settlement_and_its_payments_balance() -> None:
    """Many random order amounts, vouchers and payment splits: each entry balances, the
    unit is owed the order amount, and once paid in full the user owes nothing."""
    rng = random.Random(20261127)
    for _ in range(2000):
        amount = rng.choice([1, 2, 3, rng.randint(1, 10**6), rng.randint(1, 10**12)])
        voucher = rng.choice([0, amount, rng.randint(0, amount), amount * 3 // 10])
        s = ledger.settlement_entry(order_id="o", user_id="u", unit_id="n", year=2026, order_amount_fen=amount, voucher_fen=voucher)
        assert s.debit_fen == s.credit_fen == amount
        assert all((ln.debit_fen > 0) != (ln.credit_fen > 0) for ln in s.lines)
        lines = list(s.lines)
        left, i = amount - voucher, 0
        while left > 0:
            part = rng.randint(1, left)
            p = ledger.payment_entry(idempotency_key=f"k{i}", user_id="u", unit_id="n", amount_fen=part)
            assert p.debit_fen == p.credit_fen == part
            lines.extend(p.lines)
            left -= part
            i += 1
        b = ledger.balances(lines)
        assert sum(d for d, _ in b.values()) == sum(c for _, c in b.values())
        d, c = b["user_payable:u"] if amount > voucher else (0, 0)
        assert d == c  # paid in full
        assert b["unit_receivable:n"] == (0, amount)
        if voucher:
            assert b["voucher_budget:2026"] == (voucher, 0)
        if amount > voucher:
            assert b["cash_received:n"] == (amount - voucher, 0)


@pytest.mark.parametrize(
    ("account", "parts"),
    [
        (ledger.user_payable("u-1"), ("user_payable", None, None, "user", "u-1")),
        (ledger.unit_receivable("n-1"), ("unit_receivable", None, None, "unit", "n-1")),
        (ledger.cash_received("n-1"), ("cash_received", None, None, "unit", "n-1")),
        (ledger.voucher_budget(2025), ("voucher_budget", None, 2025, None, None)),
        (ledger.award_approved(2025), ("award_approved", None, 2025, None, None)),
        (ledger.funds(ledger.AWARD, 2026), ("funds", "award", 2026, None, None)),
        (ledger.funds(ledger.VOUCHER, 2026), ("funds", "voucher", 2026, None, None)),
        (ledger.appropriation(ledger.AWARD, 2026), ("appropriation", "award", 2026, None, None)),
        (ledger.payout_payable(ledger.REDEMPTION, 2025), ("payout_payable", "redemption", 2025, None, None)),
        (ledger.treasury_paid(ledger.AWARD, 2025), ("treasury_paid", "award", 2025, None, None)),
        (ledger.clawback_receivable("unit", "n-1"), ("clawback_receivable", None, None, "unit", "n-1")),
        (ledger.clawback_receivable("user", "u-1"), ("clawback_receivable", None, None, "user", "u-1")),
        (ledger.clawed_back(ledger.VOUCHER, 2025), ("clawed_back", "voucher", 2025, None, None)),
        (ledger.recovered(ledger.REDEMPTION, 2025), ("recovered", "redemption", 2025, None, None)),
        # another shape: its kind alone, nothing guessed
        ("payout_payable:bonus:2025", ("payout_payable", None, None, None, None)),
        ("voucher_budget:next", ("voucher_budget", None, None, None, None)),
        ("clawback_receivable:team:x", ("clawback_receivable", None, None, None, None)),
        ("suspense:1", ("suspense", None, None, None, None)),
    ],
)
def test_an_accounts_parts_are_what_its_name_was_made_of(account: str, parts: tuple[object, ...]) -> None:
    got = ledger.account_parts(account)
    assert (got.kind, got.money, got.year, got.party_type, got.party_id) == parts
