"""An instrument's ratings summed up (R19(4), issue 17): the average to one
decimal, half up (what a person works out by hand), and every star counted."""

from __future__ import annotations

import pytest

from services.registry.domain.ratings import average, distribution


@pytest.mark.parametrize(
    ("counts", "expected"),
    [
        ({}, None),
        ({5: 0}, None),
        ({4: 1}, 4.0),
        ({5: 2, 4: 1, 3: 1}, 4.3),  # 4.25: half up, not to even
        ({5: 1, 4: 1, 3: 1, 2: 1, 1: 1}, 3.0),
        ({5: 1, 1: 2}, 2.3),  # 2.333…
        ({5: 2, 4: 1}, 4.7),  # 4.666…
    ],
)
def test_the_average_has_one_decimal_rounded_half_up(counts: dict[int, int], expected: float | None) -> None:
    assert average(counts) == expected


def test_every_star_is_counted_zero_when_none() -> None:
    assert distribution({5: 2, 3: 1}) == {"1": 0, "2": 0, "3": 1, "4": 0, "5": 2}
    assert distribution({}) == {"1": 0, "2": 0, "3": 0, "4": 0, "5": 0}
