"""Whose records a caller may see: the object-level half of authorization.

The center and the bureau see every unit's records. A competent department
(县区科技主管部门 / 市直有关部门, M10) sees the units whose ``department`` is
the department in its token, and nothing of any other unit. A unit sees its
own. Everybody else sees what is public.
"""

from __future__ import annotations

from sqlalchemy import select

from services.registry.db.party_models import units
from services.runtime.http.auth import Principal
from services.runtime.roles import Role
from services.runtime.db.service_db import ServiceDatabase

#: city-wide staff: every unit's records
CITY_STAFF = (Role.CENTER, Role.BUREAU)


async def unit_department(db: ServiceDatabase, unit_id: str) -> str | None:
    async with db.read() as s:
        return (await s.execute(select(units.c.department).where(units.c.id == unit_id))).scalar_one_or_none()


async def may_see_unit(db: ServiceDatabase, p: Principal, unit_id: str) -> bool:
    """Whether ``p`` may see the non-public records of ``unit_id``."""
    if p.role in CITY_STAFF:
        return True
    if p.role is Role.UNIT:
        return p.org is not None and p.org == unit_id
    if p.role is Role.DEPARTMENT:
        return p.org is not None and await unit_department(db, unit_id) == p.org
    return False
