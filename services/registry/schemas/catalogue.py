"""The public catalogue search's answer: a page of instruments, best first,
and on an empty first page what to try instead. The items and suggestions
are kept in the search's per-process cache as they are (frozen: shared by
every request that hits the same page)."""

from __future__ import annotations

from typing import Literal

import msgspec


class CatalogueItem(msgspec.Struct, frozen=True):
    instrument_id: str
    name: str
    category: str
    unit_id: str
    unit_name: str
    score: int
    model: str | None = None
    county_code: str | None = None
    #: the range of the instrument's active service prices, in fen; null without prices
    min_price_fen: int | None = None
    max_price_fen: int | None = None
    #: the unit is approved and accepts innovation vouchers (R18)
    accepts_vouchers: bool = False
    #: the users' ratings of its rated orders (issue 17): the average to one decimal (null
    #: without ratings) and how many; part of the read model (search_docs), refreshed by each rating
    rating_average: float | None = None
    rating_count: int = 0


class Suggestion(msgspec.Struct, frozen=True):
    """Something to try instead of a search that found nothing."""

    #: ``term``: a canonical term of the synonym dictionary (search it as ``q``);
    #: ``category``: a category (search it as ``category``, without ``q``)
    kind: Literal["term", "category"]
    text: str
    #: how many instruments it finds under the request's other filters
    total: int


class CataloguePage(msgspec.Struct):
    items: list[CatalogueItem]
    total: int
    page: int
    page_size: int
    #: only on an empty first page: the dictionary's canonical terms closest to the
    #: keywords that find something, else the categories holding instruments
    suggestions: list[Suggestion] = []
