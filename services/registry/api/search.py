"""The public catalogue search over HTTP."""

from __future__ import annotations

from litestar import Controller, get
from litestar.di import NamedDependency
from litestar.params import Parameter

from services.registry import search
from services.registry.schemas.catalogue import CataloguePage
from services.registry.search_sql import SORTS
from services.runtime.http.auth import PUBLIC, access
from services.runtime.http.pagination import PageNumber, PageSize
from services.runtime.db.service_db import ServiceDatabase
from services.runtime.settings import Settings


class CatalogueController(Controller):
    path = "/v1/catalogue"
    tags = ["catalogue"]

    @get("/instruments", operation_id="searchCatalogue", **access(PUBLIC))
    async def search_instruments(
        self,
        db: NamedDependency[ServiceDatabase],
        settings: NamedDependency[Settings],
        q: str | None = Parameter(default=None, description=f"keywords (at most {search.MAX_QUERY_CHARS} characters); every word must match"),
        category: str | None = Parameter(default=None, description="an instrument category of the catalogue"),
        county_code: str | None = Parameter(default=None, description="a county or district of the city (its division code, e.g. 411002; the city file, XCISS_CITY_FILE)"),
        unit_id: str | None = Parameter(default=None, description="only this unit's instruments"),
        price_min_fen: int | None = Parameter(default=None, description="instruments with an active price of at least this (fen)"),
        price_max_fen: int | None = Parameter(default=None, description="instruments with an active price of at most this (fen)"),
        accepts_vouchers: bool = Parameter(default=False, description="only instruments of units that accept innovation vouchers (R18)"),
        sort: str | None = Parameter(
            default=None,
            description=f"one of {', '.join(SORTS)}: relevance (default; by name without keywords), the lowest active price "
            "(instruments without prices last) or the name; another value is 400 search.bad_sort",
        ),
        page: PageNumber = 1,
        page_size: PageSize = 20,
    ) -> CataloguePage:
        """Public catalogue search: listed, in-service instruments matching the
        keywords (Chinese words by character bigrams, model numbers in any case,
        each dictionary term by any of its synonyms and abbreviations, e.g.
        电镜, SEM, LC-MS, XRD) and filters, most relevant first (name above model
        and category above functions and specifications above the unit's name),
        or by price or name. An empty first page carries suggestions."""
        query = search.parse_query(
            q,
            category=category,
            county_code=county_code,
            unit_id=unit_id,
            price_min_fen=price_min_fen,
            price_max_fen=price_max_fen,
            page=page,
            page_size=page_size,
            accepts_vouchers=accepts_vouchers,
            sort=sort,
            city=settings.city,
        )
        return await search.catalogue_page(db, query)
