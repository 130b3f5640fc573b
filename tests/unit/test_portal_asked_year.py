"""``?year=`` read one way on every page (``core.asked_year``): the complaint deadline, the
evaluation cycle, the year's reports, the vouchers programme, the quote deviations, the
redemption claims and the supervision lists show the year asked for when the services accept
it, and this programme year for none or anything else (``abc``, ``1999``, ``99999``), never a
refusal; a path's or a form's year, when given, goes before the query's."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest

from services.gateway.portal.core import asked_year, this_year


def _ctx(**query: str) -> Any:
    return SimpleNamespace(request=SimpleNamespace(query_params=query))


@pytest.mark.parametrize(("value", "shown"), [("2031", 2031), (" 2000 ", 2000), ("2100", 2100), ("", None), ("abc", None), ("1999", None), ("2101", None), ("99999", None), ("-2025", None), ("2025.0", None)])
def test_the_year_asked_for_or_this_year(value: str, shown: int | None) -> None:
    assert asked_year(_ctx(year=value)) == (shown or this_year())
    assert asked_year(_ctx()) == this_year()


def test_a_path_or_form_year_goes_before_the_query_and_a_page_may_narrow_the_range() -> None:
    assert asked_year(_ctx(year="2030"), "2031") == 2031
    assert asked_year(_ctx(year="2030"), None) == 2030 and asked_year(_ctx(year="2030"), " ") == 2030
    assert asked_year(_ctx(year="2030"), "abc") == this_year()  # what was given and is nonsense is not made up for by the query
    assert asked_year(_ctx(year="2010"), first=2023) == this_year() and asked_year(_ctx(year="2024"), first=2023) == 2024
