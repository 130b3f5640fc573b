"""An instrument's row as the registry shows it: the record the API answers
with (``instrument_view``) and the state its events carry
(``instrument_snapshot``), both with the owner unit's county."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.engine import RowMapping

from services.registry.db.instrument_models import instruments
from services.registry.db.party_models import units
from services.registry.schemas.instruments import Instrument


def instrument_snapshot(row: RowMapping | dict[str, Any], county_code: str | None) -> dict[str, Any]:
    """The public state the instrument events carry (and the audit's image)."""
    return {
        "instrument_id": row["id"],
        "unit_id": row["unit_id"],
        "version": row["version"],
        "name": row["name"],
        "category": row["category"],
        "county_code": county_code,
        "funding": row["funding"],
        "original_value_fen": row["original_value_fen"],
        "must_list": row["must_list"],
        "listing_deadline": row["listing_deadline"],
        "status": row["status"],
    }


def instrument_view(row: RowMapping | dict[str, Any], county_code: str | None) -> Instrument:
    """The full record as the API shows it."""
    return Instrument(
        instrument_id=row["id"],
        unit_id=row["unit_id"],
        version=row["version"],
        name=row["name"],
        category=row["category"],
        county_code=county_code,
        funding=row["funding"],
        original_value_fen=row["original_value_fen"],
        must_list=row["must_list"],
        listing_deadline=row["listing_deadline"],
        status=row["status"],
        model=row["model"],
        manufacturer=row["manufacturer"],
        acceptance_date=row["acceptance_date"],
        duty_exempt=row["duty_exempt"],
        classified=row["classified"],
        location=row["location"],
        specifications=row["specifications"],
        functions=row["functions"],
        service_content=row.get("service_content"),
        sample_requirements=row.get("sample_requirements"),
        listed_on=row["listed_on"],
        asset_number=row.get("asset_number"),
    )


WITH_COUNTY = select(instruments, units.c.county_code).join(units, units.c.id == instruments.c.unit_id)
