"""Figures kept in hundredths read one way on every page (``portal/figures.py``): points and
service hours with two decimals in a table, a grade threshold or a share plainly in the guide's
sentences, nothing as ``—``."""

from __future__ import annotations

import pytest

from services.gateway.portal import guide
from services.gateway.portal.figures import hours, hundredths, minutes_as_hours, percent, points


@pytest.mark.parametrize(("centi", "table", "sentence"), [(8550, "85.50", "85.5"), (8500, "85.00", "85"), (5, "0.05", "0.05"), (0, "0.00", "0"), (-150, "-1.50", "-1.5"), (None, "—", "—")])
def test_hundredths_in_a_table_and_in_a_sentence(centi: int | None, table: str, sentence: str) -> None:
    assert hundredths(centi) == points(centi) == hours(centi) == table
    assert hundredths(centi, plain=True) == sentence


def test_shares_and_minutes() -> None:
    assert (percent(5000), percent(2550, plain=True), percent(None)) == ("50.00%", "25.5%", "—")
    assert (guide.percent(3000), guide.points(8500), guide.points(8750)) == ("30%", "85", "87.5")
    assert (minutes_as_hours(90), minutes_as_hours(None)) == ("1.50", "—")

