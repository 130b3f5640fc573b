"""Instruments and their listing compliance as the registry answers with them
(M5, M6, M11(3))."""

from __future__ import annotations

from datetime import date
from typing import Annotated

import msgspec

from services.registry.domain.listing import Funding, ListingStatus
from services.runtime.http.pagination import Page, page_schema


class Instrument(msgspec.Struct):
    instrument_id: str
    unit_id: str
    version: int
    name: str
    category: str
    funding: Funding
    original_value_fen: int
    acceptance_date: date
    duty_exempt: bool
    classified: bool
    status: str
    must_list: bool
    county_code: str | None = None
    listing_deadline: date | None = None
    listed_on: date | None = None
    model: str | None = None
    manufacturer: str | None = None
    location: str | None = None
    specifications: str | None = None
    functions: str | None = None
    service_content: str | None = None
    #: 样品要求: what a sample sent for testing must be like (form, quantity, preparation)
    sample_requirements: str | None = None
    #: the unit's own asset number (资产编号), unique within the unit
    asset_number: str | None = None


InstrumentPage = Annotated[Page[Instrument], page_schema("InstrumentPage")]


class AttentionItem(msgspec.Struct):
    instrument_id: str
    unit_id: str
    name: str
    state: ListingStatus
    listing_deadline: date | None = None


class Compliance(msgspec.Struct):
    """Listing states on ``as_of`` (M11(3)): counts per state and the
    overdue or due-soon instruments (at most 100, earliest deadline first)."""

    as_of: date
    total: int
    counts: dict[str, int]
    attention: list[AttentionItem]
    unit_id: str | None = None
