"""Money as users read and type it: amounts are integer fen everywhere in the
platform; this module is the one place that turns fen into yuan text and yuan
text (or a spreadsheet cell) into fen. Pure: no I/O, no float arithmetic.

Formats (what the pages, notices and exports show):

* :func:`yuan` ``123450`` → ``"1,234.50"`` (grouped; the number in a sentence, ``… 1,234.50 元``)
* :func:`yuan_sign` ``123450`` → ``"¥1,234.50"`` (the portal's amounts, the notices)
* :func:`yuan_words` ``5000000`` → ``"50,000元"`` (the guide: fen only when there are any)
* :func:`yuan_plain` ``123450`` → ``"1234.50"`` (a column of a bank's payment order: no grouping)

A negative amount keeps its sign in front of the number: ``-150`` → ``"-1.50"``,
``"¥-1.50"`` (as Excel's Chinese currency format shows it).

:func:`parse_yuan` reads ``"1,234.5"``, ``"0.07"``, an integer or a float cell
(through its shortest repr, exact for every value with up to 15 significant
digits) into fen, exactly; it refuses anything else with a :class:`MoneyError`
that says why (``reason``), for the caller to word at its field.
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

__all__ = ["MAX_FEN", "MoneyError", "parse_yuan", "yuan", "yuan_plain", "yuan_sign", "yuan_words"]

#: the largest amount read from text, in fen (10^13 yuan): far above any real amount, well inside BIGINT
MAX_FEN = 10**15

#: digits, optionally grouped by commas in threes, then optionally a point and decimals
_YUAN = re.compile(r"(\d+|\d{1,3}(,\d{3})+)(\.\d+)?")


class MoneyError(ValueError):
    """An amount that is not yuan: ``reason`` is ``"invalid"`` (not a number of
    yuan: text, a bool, nothing), ``"negative"``, ``"precision"`` (finer than a
    fen) or ``"too_large"`` (above ``most_fen``)."""

    def __init__(self, reason: str, value: object) -> None:
        super().__init__(f"{value!r} is not an amount in yuan ({reason})")
        self.reason, self.value = reason, value


def _split(fen: int) -> tuple[str, int, int]:
    fen = int(fen)
    sign, fen = ("-", -fen) if fen < 0 else ("", fen)
    whole, cents = divmod(fen, 100)
    return sign, whole, cents


def yuan(fen: int) -> str:
    """``123450`` → ``"1,234.50"``; ``5`` → ``"0.05"``."""
    sign, whole, cents = _split(fen)
    return f"{sign}{whole:,}.{cents:02d}"


def yuan_sign(fen: int) -> str:
    """``123450`` → ``"¥1,234.50"``; ``-150`` → ``"¥-1.50"``."""
    return f"¥{yuan(fen)}"


def yuan_words(fen: int) -> str:
    """``5000000`` → ``"50,000元"``; ``123450`` → ``"1,234.50元"``."""
    sign, whole, cents = _split(fen)
    return f"{sign}{whole:,}元" if not cents else f"{sign}{whole:,}.{cents:02d}元"


def yuan_plain(fen: int) -> str:
    """``123456`` → ``"1234.56"``: no grouping (a bank's import column)."""
    sign, whole, cents = _split(fen)
    return f"{sign}{whole}.{cents:02d}"


def parse_yuan(value: object, *, most_fen: int = MAX_FEN) -> int:
    """Yuan → fen, exactly: ``"199999.99"`` → 19999999, ``"1,234.5"`` → 123450,
    ``12`` → 1200, ``0.07`` (a float cell) → 7. Not negative, not finer than a
    fen (``"1.230"`` is 1.23 yuan; ``"1.234"`` is refused), at most ``most_fen``.
    Text is digits with an optional point: no sign, exponent or currency mark."""
    if isinstance(value, bool) or value is None:
        raise MoneyError("invalid", value)
    if isinstance(value, int):
        amount = Decimal(value)
    elif isinstance(value, float):
        amount = Decimal(repr(value))
    elif isinstance(value, Decimal):
        amount = value
    elif isinstance(value, str):
        text = value.strip()
        if text.startswith("-") and _YUAN.fullmatch(text[1:].strip()):
            raise MoneyError("negative", value)
        if not _YUAN.fullmatch(text):
            raise MoneyError("invalid", value)
        try:
            amount = Decimal(text.replace(",", ""))
        except InvalidOperation as exc:  # pragma: no cover - the pattern already holds
            raise MoneyError("invalid", value) from exc
    else:
        raise MoneyError("invalid", value)
    if not amount.is_finite():
        raise MoneyError("invalid", value)
    if amount < 0:
        raise MoneyError("negative", value)
    fen = amount * 100
    if fen != fen.to_integral_value():
        raise MoneyError("precision", value)
    if fen > most_fen:
        raise MoneyError("too_large", value)
    return int(fen)
