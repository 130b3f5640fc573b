"""A unit's row as the registry shows it: the record the API answers with
(``unit_view``), the same record as the audit keeps it (``unit_image``) and as
its events carry it (``unit_event``)."""

from __future__ import annotations

from typing import Any

from sqlalchemy.engine import RowMapping

from services.registry.domain import service_info
from services.registry.schemas.parties import Unit
from services.runtime.audit_image import audit_image


def unit_image(unit: Unit) -> dict[str, Any]:
    """The unit as its audit rows keep it: the record as answered, with its
    published service information."""
    return audit_image(unit)


def unit_event(unit: Unit) -> dict[str, Any]:
    """The unit's fields as its events carry them (no service information: no consumer needs it)."""
    return audit_image(unit, leave_out=service_info.UNIT_FIELDS)


def unit_view(row: RowMapping | dict[str, Any]) -> Unit:
    """A unit as the API shows it, with its published service information (R18)."""
    return Unit(
        unit_id=row["id"],
        version=row["version"],
        name=row["name"],
        credit_code=row["credit_code"],
        kind=row["kind"],
        parent_unit_id=row["parent_unit_id"],
        county_code=row["county_code"],
        department=row["department"],
        status=row["status"],
        accepts_vouchers=row["accepts_vouchers"],
        service_content=row.get("service_content"),
        contact_person=row.get("contact_person"),
        contact_phone=row.get("contact_phone"),
        address=row.get("address"),
    )
