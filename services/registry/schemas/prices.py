"""The price catalogue as the registry answers with it (M11(4), R9)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import msgspec

from services.registry.domain.prices import BillingUnit, PriceBasis
from services.runtime.http.pagination import Page, page_schema


class PriceItem(msgspec.Struct):
    price_item_id: str
    instrument_id: str
    instrument_name: str
    unit_id: str
    version: int
    name: str
    billing_unit: BillingUnit
    price_fen: int
    basis: PriceBasis
    active: bool
    created_at: datetime
    updated_at: datetime


class InstrumentPrices(msgspec.Struct):
    instrument_id: str
    items: list[PriceItem]


class PriceChange(msgspec.Struct):
    """One change of a price item: the changer's role, never the person."""

    changed_at: datetime
    changed_by_role: str
    new_price_fen: int
    new_basis: PriceBasis
    new_active: bool
    old_price_fen: int | None = None
    old_basis: PriceBasis | None = None
    old_active: bool | None = None
    reason: str | None = None


class PriceHistory(msgspec.Struct):
    price_item_id: str
    changes: list[PriceChange]


PriceItemPage = Annotated[Page[PriceItem], page_schema("PriceItemPage")]
