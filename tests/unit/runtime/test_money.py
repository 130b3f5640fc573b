"""Fen shown as yuan and yuan read as fen, exactly (services/runtime/money.py): the
one home of the portal's amounts, the notices, the payment order and the ledger import."""

from __future__ import annotations

from decimal import Decimal

import pytest

from services.runtime.money import MAX_FEN, MoneyError, parse_yuan, yuan, yuan_plain, yuan_sign, yuan_words


@pytest.mark.parametrize(
    ("fen", "grouped", "sign", "words", "plain"),
    [
        (0, "0.00", "¥0.00", "0元", "0.00"),
        (1, "0.01", "¥0.01", "0.01元", "0.01"),
        (10, "0.10", "¥0.10", "0.10元", "0.10"),
        (123_450, "1,234.50", "¥1,234.50", "1,234.50元", "1234.50"),
        (5_000_000, "50,000.00", "¥50,000.00", "50,000元", "50000.00"),
        (19_999_999, "199,999.99", "¥199,999.99", "199,999.99元", "199999.99"),
        (10**10, "100,000,000.00", "¥100,000,000.00", "100,000,000元", "100000000.00"),
        (10**13 + 7, "100,000,000,000.07", "¥100,000,000,000.07", "100,000,000,000.07元", "100000000000.07"),
        (-1, "-0.01", "¥-0.01", "-0.01元", "-0.01"),
        (-150, "-1.50", "¥-1.50", "-1.50元", "-1.50"),
    ],
)
def test_fen_are_shown_as_yuan_to_the_fen(fen: int, grouped: str, sign: str, words: str, plain: str) -> None:
    assert (yuan(fen), yuan_sign(fen), yuan_words(fen), yuan_plain(fen)) == (grouped, sign, words, plain)


@pytest.mark.parametrize(
    ("value", "fen"),
    [
        ("0", 0),
        ("0.01", 1),
        ("0.07", 7),
        ("1000", 100_000),
        ("1,234.5", 123_450),
        (" 199999.99 ", 19_999_999),
        ("100000000", 10**10),  # 1e8 yuan
        ("1.230", 123),  # as exact as 1.23
        (12, 1200),
        (0.07, 7),  # a float cell, through its shortest repr
        (199999.99, 19_999_999),
        (1e8, 10**10),
        (Decimal("3.5"), 350),
        ("10000000000000", MAX_FEN),
    ],
)
def test_yuan_are_read_as_fen_exactly(value: object, fen: int) -> None:
    assert parse_yuan(value) == fen


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("1.234", "precision"),
        (0.001, "precision"),
        ("-5", "negative"),
        ("-0.01", "negative"),
        (-1, "negative"),
        (-0.5, "negative"),
        (True, "invalid"),
        (False, "invalid"),
        (None, "invalid"),
        ("", "invalid"),
        ("一千", "invalid"),
        ("1e8", "invalid"),
        ("¥5", "invalid"),
        ("1,2", "invalid"),  # not a grouping of thousands (a decimal comma elsewhere)
        ("5.", "invalid"),
        (".5", "invalid"),
        (float("nan"), "invalid"),
        (float("inf"), "invalid"),
        ([5], "invalid"),
        ("10000000000000.01", "too_large"),
    ],
)
def test_what_is_not_yuan_is_refused_with_the_reason(value: object, reason: str) -> None:
    with pytest.raises(MoneyError) as e:
        parse_yuan(value)
    assert e.value.reason == reason


def test_the_largest_amount_is_the_callers() -> None:
    assert parse_yuan("100", most_fen=10_000) == 10_000
    with pytest.raises(MoneyError, match="too_large"):
        parse_yuan("100.01", most_fen=10_000)
