"""Request bodies of instrument changes (the ledger import's job as answered is
``services/registry/schemas/imports.py:ImportJob``).

``InstrumentRegistration`` extends the one in ``schemas`` with the unit's own
asset number (资产编号); the instrument as answered is
``services/registry/schemas/instruments.py:Instrument``."""

from __future__ import annotations

from typing import Annotated, Any, Literal

import msgspec

from services.registry.api import schemas

AssetNumber = Annotated[str, msgspec.Meta(min_length=1, max_length=64, description="the unit's own asset number (资产编号), unique within the unit")]


class InstrumentRegistration(schemas.InstrumentRegistration, forbid_unknown_fields=True):
    """must_list, listing_deadline and status are computed, never sent."""

    asset_number: AssetNumber | None = None


class InstrumentChange(msgspec.Struct, forbid_unknown_fields=True):
    """Send only what changes. ``status`` moves between in_service and
    maintenance (retire with POST …/retire). funding, original_value_fen,
    acceptance_date, duty_exempt and classified decide must_list and the
    deadline: sending any of them is refused with 422 instrument.immutable_field.
    ``version``, when sent, must be the current one (409 otherwise)."""

    name: Annotated[str, msgspec.Meta(min_length=1, max_length=200)] | msgspec.UnsetType = msgspec.UNSET
    category: Annotated[str, msgspec.Meta(min_length=1, max_length=40)] | msgspec.UnsetType = msgspec.UNSET
    model: schemas.Text200 | None | msgspec.UnsetType = msgspec.UNSET
    manufacturer: schemas.Text200 | None | msgspec.UnsetType = msgspec.UNSET
    location: schemas.Text200 | None | msgspec.UnsetType = msgspec.UNSET
    specifications: schemas.LongText | None | msgspec.UnsetType = msgspec.UNSET
    functions: schemas.LongText | None | msgspec.UnsetType = msgspec.UNSET
    service_content: schemas.ServiceContent | None | msgspec.UnsetType = msgspec.UNSET
    sample_requirements: schemas.SampleRequirements | None | msgspec.UnsetType = msgspec.UNSET
    status: Literal["in_service", "maintenance"] | msgspec.UnsetType = msgspec.UNSET
    version: int | msgspec.UnsetType = msgspec.UNSET
    # refused with 422 instrument.immutable_field (declared so the refusal is explicit, not a 400)
    funding: Any = msgspec.UNSET
    original_value_fen: Any = msgspec.UNSET
    acceptance_date: Any = msgspec.UNSET
    duty_exempt: Any = msgspec.UNSET
    classified: Any = msgspec.UNSET


class Retirement(msgspec.Struct, forbid_unknown_fields=True):
    reason: Annotated[str, msgspec.Meta(min_length=1, max_length=2000)]
