"""The public catalogue search over HTTP."""

from __future__ import annotations

import msgspec
from litestar import Controller, get
from litestar.di import NamedDependency
from litestar.params import Parameter

from services.registry import search
from services.runtime.auth import PUBLIC, access
from services.runtime.pagination import PageNumber, PageSize
from services.runtime.service_db import ServiceDatabase


class CatalogueItem(msgspec.Struct):
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


class CataloguePage(msgspec.Struct):
    items: list[CatalogueItem]
    total: int
    page: int
    page_size: int


class CatalogueController(Controller):
    path = "/v1/catalogue"
    tags = ["catalogue"]

    @get("/instruments", operation_id="searchCatalogue", **access(PUBLIC))
    async def search_instruments(
        self,
        db: NamedDependency[ServiceDatabase],
        q: str | None = Parameter(default=None, description=f"keywords (at most {search.MAX_QUERY_CHARS} characters); every word must match"),
        category: str | None = Parameter(default=None, description="an instrument category of the catalogue"),
        county_code: str | None = Parameter(default=None, description="a county or district of Xuchang, e.g. 411002"),
        unit_id: str | None = Parameter(default=None, description="only this unit's instruments"),
        price_min_fen: int | None = Parameter(default=None, description="instruments with an active price of at least this (fen)"),
        price_max_fen: int | None = Parameter(default=None, description="instruments with an active price of at most this (fen)"),
        page: PageNumber = 1,
        page_size: PageSize = 20,
    ) -> CataloguePage:
        """Public catalogue search: listed, in-service instruments matching the
        keywords (Chinese words by character bigrams, model numbers in any case)
        and filters, most relevant first (name above model and category above
        functions and specifications above the unit's name)."""
        query = search.parse_query(
            q,
            category=category,
            county_code=county_code,
            unit_id=unit_id,
            price_min_fen=price_min_fen,
            price_max_fen=price_max_fen,
            page=page,
            page_size=page_size,
        )
        items, total = await search.search(db, query)
        return CataloguePage(items=[CatalogueItem(**i) for i in items], total=total, page=page, page_size=page_size)
