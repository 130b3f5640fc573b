"""Units (R3, R7, R18, R27) as the registry answers with them."""

from __future__ import annotations

from typing import Annotated

import msgspec

from services.registry.domain.parties import UnitKind, UnitStatus, UnitStatusChange
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


class UnitRecord(Unit):
    """One unit as ``getUnit`` answers: the unit and the status changes its caller may make
    now (R27: the bureau's suspension, reinstatement, disqualification, each from the statuses
    the registry allows it from, with whether it needs a reason); none for anyone else, and
    none from a status nothing leaves (a disqualified unit)."""

    actions: list[UnitStatusChange] = []


UnitPage = Annotated[Page[Unit], page_schema("UnitPage")]
