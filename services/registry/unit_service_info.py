"""A unit publishes its service information (R18 "通过平台发布服务信息，明确服务内容、
收费标准和联系方式"): service content, contact person, phone and address.

One transaction: the change and its audit row. No event: no consumer of the
registry's unit events needs a unit's contact. The center checks these
fields before it lets a unit accept vouchers (``acceptance.service_info_unpublished``).
"""

from __future__ import annotations

from typing import Any

from services.registry import parties
from services.registry.domain import service_info
from services.registry.schemas.parties import Unit
from services.registry.unit_rows import unit_image, unit_view
from services.runtime import clock
from services.runtime.errors import Forbidden
from services.runtime.db.unit_of_work import Actor
from services.runtime.http.preconditions import check_version
from services.runtime.db.service_db import ServiceDatabase


async def publish_service_info(
    db: ServiceDatabase, actor: Actor, correlation_id: str | None, unit_id: str, *, changes: dict[str, Any], owner: str | None, expected_version: int | None = None
) -> Unit:
    """Apply ``changes`` (only the R18 fields; None clears one). ``owner``: when
    set, the unit must be that one (else 403). 422 naming the field on a bad value;
    412 when ``expected_version`` (an If-Match) is not the unit's."""
    if owner is not None and unit_id != owner:
        raise Forbidden()  # before the values are judged: another unit learns nothing
    cleaned = service_info.clean(changes)
    async with db.unit_of_work(actor, correlation_id) as uow:
        row = await parties._unit_row(uow.session, unit_id)
        check_version(row["version"], expected_version)
        if not cleaned:
            return unit_view(row)
        after = await parties._update_unit(uow.session, row, updated_at=clock.utc_now(), **cleaned)
        unit = unit_view(after)
        await uow.audit("unit.service_info", "unit", unit_id, before=unit_image(unit_view(row)), after=unit_image(unit))
    return unit
