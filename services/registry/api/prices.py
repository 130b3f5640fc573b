"""The price catalogue over HTTP (M11(4), R9): units publish and change the
prices of their instruments' service items; the public reads prices, unit
price lists and the history of every published price."""

from __future__ import annotations

from typing import Annotated

import msgspec
from litestar import Controller, Request, Response, get, patch, post
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody

from services.registry import prices
from services.registry.domain.prices import MAX_PRICE_FEN, BillingUnit, PriceBasis
from services.registry.schemas.prices import InstrumentPrices, PriceHistory, PriceItem, PriceItemPage
from services.runtime.http.auth import PUBLIC, Principal, access, principal_of
from services.runtime.roles import Role
from services.runtime.http.app import actor_of
from services.runtime.http.edge import correlation_of
from services.runtime.http.pagination import PageNumber, PageSize
from services.runtime.http.preconditions import ETAG_HEADER, IfMatchHeader, expected_version, tagged
from services.runtime.db.service_db import ServiceDatabase

#: staff see every item of every instrument
STAFF = (Role.CENTER, Role.BUREAU)

PriceFen = Annotated[int, msgspec.Meta(ge=0, le=MAX_PRICE_FEN, description="price in fen (分), an integer ≥ 0")]
ItemName = Annotated[str, msgspec.Meta(min_length=1, max_length=200, description="service item, e.g. 样品检测（常规）")]
ChangeReason = Annotated[str, msgspec.Meta(max_length=2000)]


class PriceItemCreation(msgspec.Struct, forbid_unknown_fields=True):
    """A new, active service item; fiscal instruments must use cost_compensation (M11(4))."""

    name: ItemName
    billing_unit: BillingUnit
    price_fen: PriceFen
    basis: PriceBasis = PriceBasis.cost_compensation


class PriceItemChange(msgspec.Struct, forbid_unknown_fields=True):
    """Fields to change; ``reason`` is required when the price changes."""

    name: ItemName | None = None
    price_fen: PriceFen | None = None
    basis: PriceBasis | None = None
    active: bool | None = None
    reason: ChangeReason | None = None


def _owner(p: Principal) -> str | None:
    """The unit a UNIT caller is restricted to; None for the center."""
    return (p.org or "") if p.role is Role.UNIT else None


def _viewer(p: Principal) -> tuple[bool, str | None]:
    return p.role in STAFF, (p.org if p.role is Role.UNIT else None)


class PriceController(Controller):
    path = "/v1"
    tags = ["prices"]

    @post("/instruments/{instrument_id:str}/prices", operation_id="addPriceItem", status_code=201, **access(Role.UNIT, Role.CENTER))
    async def add(self, request: Request, db: NamedDependency[ServiceDatabase], instrument_id: FromPath[str], data: JSONBody[PriceItemCreation]) -> PriceItem:
        """The owning unit (or the center) publishes a service item of an instrument (M11(4), R9).
        Fiscal instruments charge on cost compensation; a retired instrument takes no prices."""
        return await prices.add_price_item(
            db,
            actor_of(request),
            correlation_of(request),
            instrument_id,
            owner=_owner(principal_of(request)),
            name=data.name.strip(),
            billing_unit=data.billing_unit,
            price_fen=data.price_fen,
            basis=data.basis,
        )

    @patch("/price-items/{price_item_id:str}", operation_id="changePriceItem", response_headers=ETAG_HEADER, **access(Role.UNIT, Role.CENTER))
    async def change(
        self, request: Request, db: NamedDependency[ServiceDatabase], price_item_id: FromPath[str], data: JSONBody[PriceItemChange], if_match: IfMatchHeader = None
    ) -> Response[PriceItem]:
        """The owning unit (or the center) changes an item's name, price, basis or active flag;
        a price change needs a reason. Every change is kept and published. With
        ``If-Match: "v<version>"`` (the item's ``version`` as listed) only that version is
        changed: another is 412 ``request.precondition_failed``."""
        name = data.name.strip() if data.name is not None else None
        item = await prices.change_price_item(
            db,
            actor_of(request),
            correlation_of(request),
            price_item_id,
            owner=_owner(principal_of(request)),
            name=name or None,
            price_fen=data.price_fen,
            basis=data.basis,
            active=data.active,
            reason=data.reason,
            expected_version=expected_version(if_match),
        )
        return tagged(item, item.version)

    @get("/instruments/{instrument_id:str}/prices", operation_id="listInstrumentPrices", **access(PUBLIC))
    async def of_instrument(self, request: Request, db: NamedDependency[ServiceDatabase], instrument_id: FromPath[str]) -> InstrumentPrices:
        """An instrument's prices. Public for a listed, in-service instrument (active items only);
        the owner unit and staff see every item."""
        staff, own = _viewer(principal_of(request))
        return await prices.instrument_prices(db, instrument_id, staff=staff, own_unit=own)

    @get("/price-items/{price_item_id:str}/history", operation_id="priceHistory", **access(PUBLIC))
    async def history(self, request: Request, db: NamedDependency[ServiceDatabase], price_item_id: FromPath[str]) -> PriceHistory:
        """Every change of a price item, oldest first: old and new price, basis and active flag,
        when, and the changer's role. Public once the instrument is listed and in service (M11(4))."""
        staff, own = _viewer(principal_of(request))
        return await prices.price_history(db, price_item_id, staff=staff, own_unit=own)

    @get("/units/{unit_id:str}/price-list", operation_id="unitPriceList", **access(PUBLIC))
    async def unit_list(
        self, db: NamedDependency[ServiceDatabase], unit_id: FromPath[str], page: PageNumber = 1, page_size: PageSize = 20
    ) -> PriceItemPage:
        """A unit's public price catalogue (R9): the active items of its listed, in-service instruments."""
        return await prices.unit_price_list(db, unit_id, page=page, page_size=page_size)
