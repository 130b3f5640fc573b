"""Figures the services keep in hundredths, as pages show them: points and service hours
(hundredths of a point, of an hour), shares (basis points) and minutes as hours. One formatter,
``hundredths``: two decimals in a table (8550 → 85.50), or ``plain`` in a sentence (8500 → 85,
2550 → 25.5); nothing is ``—``."""

from __future__ import annotations

from typing import Any


def hundredths(value: Any, *, plain: bool = False) -> str:
    """A whole number of hundredths as the number: ``85.50`` (``plain``: ``85.5``, ``85``)."""
    if value is None:
        return "—"
    whole, rest = divmod(abs(int(value)), 100)
    text = f"{'-' if int(value) < 0 else ''}{whole}.{rest:02d}"
    return text.rstrip("0").rstrip(".") if plain else text


def points(centi: Any) -> str:
    """Hundredths of a point as points with two decimals (8550 → 85.50)."""
    return hundredths(centi)


def hours(centi: Any) -> str:
    """Hundredths of an hour as hours with two decimals."""
    return hundredths(centi)


def minutes_as_hours(minutes: Any) -> str:
    """Minutes as hours with two decimals (90 → 1.50)."""
    return "—" if minutes is None else f"{int(minutes) / 60:.2f}"


def percent(bp: Any, *, plain: bool = False) -> str:
    """Basis points as a percentage (5000 → 50.00%; ``plain``: 2550 → 25.5%)."""
    return "—" if bp is None else hundredths(bp, plain=plain) + "%"
