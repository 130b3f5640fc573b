"""A unit's row as the registry shows it: the record the API answers with
(``unit_view``), its state as the audit keeps it (``unit_snapshot``) and as its
events carry it (``unit_event``)."""

from __future__ import annotations

from typing import Any

from sqlalchemy.engine import RowMapping

from services.registry.domain import service_info
from services.registry.schemas.parties import Unit


def unit_snapshot(row: RowMapping | dict[str, Any]) -> dict[str, Any]:
    """The unit's state as its audit rows keep it (``unit_event``: as its events carry it)."""
    return {
        "unit_id": row["id"],
        "version": row["version"],
        "name": row["name"],
        "credit_code": row["credit_code"],
        "kind": row["kind"],
        "parent_unit_id": row["parent_unit_id"],
        "county_code": row["county_code"],
        "department": row["department"],
        "status": row["status"],
        "accepts_vouchers": row["accepts_vouchers"],
        # R18 published service information (shown, not carried on events)
        **{f: row.get(f) for f in service_info.UNIT_FIELDS},
    }


def unit_event(snap: dict[str, Any]) -> dict[str, Any]:
    """A unit snapshot as its events carry it (no service information: no consumer needs it)."""
    return {k: v for k, v in snap.items() if k not in service_info.UNIT_FIELDS}


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
