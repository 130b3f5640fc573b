"""The portal's paging helpers (issue 17: no silent truncation at 100): ``page_number``
reads ``?page=`` (or another name) and makes anything that is not a page the services
accept page 1; ``page_in`` pages a list a service answers whole as ``paged`` pages the API's; ``find_listed`` finds the record it looks for on the list's later pages
too (the 101st application of a user); ``first_only`` says when a list read whole in one
page holds more."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace
from typing import Any

import pytest

from services.gateway.portal.paging import find_listed, first_only, page_in, page_number, paged


def _ctx(**query: str) -> Any:
    return SimpleNamespace(request=SimpleNamespace(query_params=query))


@pytest.mark.parametrize(("value", "page"), [("3", 3), ("1", 1), ("100000", 100000), ("", 1), ("abc", 1), ("0", 1), ("-2", 1), ("100001", 1), ("2.5", 1), ("9" * 40, 1)])
def test_a_page_that_is_not_one_is_page_one(value: str, page: int) -> None:
    assert page_number(_ctx(page=value)) == page


def test_a_second_list_pages_by_its_own_name() -> None:
    ctx = _ctx(page="2", apage="5")
    assert (page_number(ctx), page_number(ctx, "apage"), page_number(ctx, "vpage")) == (2, 5, 1)


def test_a_list_answered_whole_is_paged_here_as_the_api_pages() -> None:
    every = list(range(45))
    assert page_in(every, 3, 20) == ([40, 41, 42, 43, 44], {"page": 3, "pages": 3, "total": 45, "prev": 2, "next": None})
    assert page_in(every, 1, 20)[0] == list(range(20)) and page_in(every, 1, 20)[1]["next"] == 2
    assert page_in([], 1, 20) == ([], paged(None, 1, 20))


def test_the_pager_of_an_answer_and_of_none() -> None:
    assert paged({"items": [1], "total": 21}, 3, 10) == {"page": 3, "pages": 3, "total": 21, "prev": 2, "next": None}
    assert paged(None, 1, 10) == {"page": 1, "pages": 1, "total": 0, "prev": None, "next": None}


class _Listed:
    def __init__(self, n: int) -> None:
        self.items = [{"id": f"a{i:03d}"} for i in range(n)]
        self.pages: list[int] = []

    async def maybe(self, service: str, path: str, **params: Any) -> Any:
        self.pages.append(params["page"])
        start = (params["page"] - 1) * params["page_size"]
        return {"items": self.items[start : start + params["page_size"]], "total": len(self.items)}


def test_find_listed_reads_on_until_found_and_stops_at_the_end() -> None:
    api = _Listed(250)
    ctx = SimpleNamespace(api=api)
    assert asyncio.run(find_listed(ctx, "vouchers", "/v1/applications/", lambda a: a["id"] == "a100")) == {"id": "a100"}  # the 101st
    assert api.pages == [1, 2]
    api.pages.clear()
    assert asyncio.run(find_listed(ctx, "vouchers", "/v1/applications/", lambda a: a["id"] == "nobody")) is None
    assert api.pages == [1, 2, 3]


def test_first_only_says_how_many_were_left_out() -> None:
    assert first_only({"items": [1] * 100, "total": 101}) == {"shown": 100, "total": 101}
    assert first_only({"items": [1] * 3, "total": 3}) is None and first_only(None) is None
