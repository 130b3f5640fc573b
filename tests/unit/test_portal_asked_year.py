"""``?year=`` read one way on every page (``core.asked_year``): the complaint deadline, the
evaluation cycle, the year's reports, the vouchers programme, the quote deviations, the
redemption claims and the supervision lists show the year asked for when the services accept
it, and this programme year for none or anything else (``abc``, ``1999``, ``99999``), never a
refusal; a path's or a form's year, when given, goes before the query's."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest

from services.gateway.portal.client import ApiError
from services.gateway.portal.core import asked_year, form_year, this_year


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


@pytest.mark.parametrize("typed", ["abc", "1999", "2101", "99999", "-2025", "2025.0"])
def test_a_forms_year_that_is_no_year_is_refused_at_its_field(typed: str) -> None:
    """``core.form_year``: a form's year is sent on as typed only when it is one (2000–2100);
    otherwise the portal's own refusal at the field, in both languages — not a 500."""
    with pytest.raises(ApiError) as refused:
        form_year({"year": typed})
    err = refused.value
    assert (err.status, err.code, err.field_errors("zh")) == (422, "portal.bad_year", {"year": "请填写 2000 至 2100 之间的年份"})
    assert err.message("en") == "Give a year from 2000 to 2100"
    assert form_year({"year": " 2031 "}) == 2031 and form_year({"year": "2000"}) == 2000 and form_year({"year": "2100"}) == 2100
    assert form_year({}) == form_year({"year": ""}) == this_year()
