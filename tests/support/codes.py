"""Valid identifiers for tests, computed with python-stdnum's own check digits."""

from __future__ import annotations

import itertools

from stdnum.cn import ric, uscc

_serial = itertools.count(1)


def credit_code(division: str = "411002") -> str:
    """A valid 18-character unified social credit code in ``division``."""
    body = f"91{division}{next(_serial):09d}"
    return body + uscc.calc_check_digit(body)


def resident_id(birth: str = "19900101", area: str = "411002") -> str:
    body = f"{area}{birth}{next(_serial) % 1000:03d}"
    return body + ric.calc_check_digit(body + "0")  # stdnum ignores the last character
