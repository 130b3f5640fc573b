"""Quotes above the published price list over HTTP (M11(4) 收费标准应向社会公布):
the quote's body, and the center's and the bureau's list of every deviation."""

from __future__ import annotations

from typing import Annotated

import msgspec
from litestar import Controller, get
from litestar.di import NamedDependency
from litestar.params import Parameter

from services.registry import quote_deviations
from services.registry.domain.prices import MAX_PRICE_FEN
from services.registry.domain.quotes import MAX_REASON_CHARS
from services.runtime.roles import Role
from services.runtime.http.auth import access
from services.registry.schemas.orders import QuoteDeviationPage
from services.runtime.http.pagination import PageNumber, PageSize
from services.runtime.db.service_db import ServiceDatabase

Fen = Annotated[int, msgspec.Meta(ge=0, le=MAX_PRICE_FEN, description="an amount in fen (分), an integer ≥ 0")]


class QuoteRequest(msgspec.Struct, forbid_unknown_fields=True):
    """The quoted amount. Above the order's list amount (the published prices) of an order with
    a fiscally funded instrument, ``reason`` is required (M11(4)): 422
    ``order.quote_reason_required`` with ``details.field`` = ``reason``."""

    amount_fen: Fen
    note: Annotated[str, msgspec.Meta(max_length=5000)] | None = None
    #: why the quote lies above the published price list; shown to the user on the order
    reason: Annotated[str, msgspec.Meta(max_length=MAX_REASON_CHARS)] | None = None


class QuoteDeviationController(Controller):
    path = "/v1/quote-deviations"
    tags = ["orders"]

    @get("/", operation_id="listQuoteDeviations", **access(Role.CENTER, Role.BUREAU))
    async def list_(
        self,
        db: NamedDependency[ServiceDatabase],
        unit_id: str | None = Parameter(default=None, max_length=36, description="only this unit's quotes"),
        year: int | None = Parameter(default=None, ge=2000, le=2100, description="only quotes of this year (Asia/Shanghai)"),
        page: PageNumber = 1,
        page_size: PageSize = 20,
    ) -> QuoteDeviationPage:
        """Every quote above the published price list of a fiscally funded instrument, with the
        list amount, the quoted amount and the unit's reason (M11(4)), newest first. Center and
        bureau only."""
        return await quote_deviations.list_deviations(db, unit_id=unit_id, year=year, page=page, page_size=page_size)
