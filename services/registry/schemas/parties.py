"""Units (R3, R7, R18, R27) as the registry answers with them."""

from __future__ import annotations

from typing import Annotated

import msgspec

from services.registry.domain.parties import UnitKind, UnitStatus
from services.runtime.http.pagination import Page, page_schema


class Unit(msgspec.Struct):
    unit_id: str
    version: int
    name: str
    credit_code: str
    kind: UnitKind
    status: UnitStatus
    accepts_vouchers: bool
    parent_unit_id: str | None = None
    county_code: str | None = None
    department: str | None = None
    service_content: str | None = None
    contact_person: str | None = None
    contact_phone: str | None = None
    address: str | None = None


UnitPage = Annotated[Page[Unit], page_schema("UnitPage")]
