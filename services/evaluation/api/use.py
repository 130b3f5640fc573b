"""A unit's use figures for a year (运行使用, issue 16): effective hours,
hours served to outside users, the sharing rate and idle instruments, per
instrument, counted from the registry's usage log."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, get
from litestar.di import NamedDependency
from litestar.params import FromPath

from services.evaluation import use
from services.evaluation.api.reports import _year as checked_year, readable_unit
from services.evaluation.schemas import UnitUseOut
from services.runtime.roles import Role
from services.runtime.http.auth import access
from services.runtime.db.service_db import ServiceDatabase


class UseController(Controller):
    path = "/v1/units"
    tags = ["units"]

    @get("/{unit_id:str}/use/{year:int}", operation_id="getUnitUse", **access(Role.UNIT, Role.DEPARTMENT, Role.CENTER, Role.BUREAU))
    async def unit_use(self, request: Request[Any, Any, Any], db: NamedDependency[ServiceDatabase], unit_id: FromPath[str], year: FromPath[int]) -> UnitUseOut:
        """The unit's use of its instruments in the year (the natural year in
        Asia/Shanghai; a session crossing new year counts its minutes in each
        year), from the usage log: the unit itself, its competent department,
        the center and the bureau. 404 ``unit.not_found`` for a unit evaluation
        has not heard of and, so as not to tell that it exists, for another's unit."""
        checked_year(year)
        await readable_unit(request, db, unit_id)
        return await use.unit_use(db, year, unit_id)
