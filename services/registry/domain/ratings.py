"""Public ratings of an instrument (R19(4), issue 17): what the users' ratings
of its finished services add up to. Pure: no I/O.

The average is kept to one decimal, rounded half up (4.25 → 4.3), so the
figure the page shows is the one a person would work out by hand."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import ROUND_HALF_UP, Decimal

#: the stars a rating may give, lowest first
STARS: tuple[int, ...] = (1, 2, 3, 4, 5)


def distribution(counts: Mapping[int, int]) -> dict[str, int]:
    """How many ratings gave each star, every star present ("1" … "5", 0 when none)."""
    return {str(star): int(counts.get(star, 0)) for star in STARS}


def average(counts: Mapping[int, int]) -> float | None:
    """The mean rating to one decimal (half up), None without ratings."""
    return mean(sum(star * counts.get(star, 0) for star in STARS), sum(counts.get(star, 0) for star in STARS))


def mean(points: int, total: int) -> float | None:
    """``points`` stars over ``total`` ratings to one decimal (half up), None without ratings."""
    if total == 0:
        return None
    return float((Decimal(points) / Decimal(total)).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP))
