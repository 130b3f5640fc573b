"""A unit's use figures for a year (运行使用, issue 16): effective hours,
hours served to outside users, the sharing rate and idle instruments, per
instrument, counted from the registry's usage log."""

from __future__ import annotations

from typing import Any

import msgspec
from litestar import Controller, Request, get
from litestar.di import NamedDependency
from litestar.params import FromPath

from services.evaluation import use
from services.evaluation.api.reports import _year as checked_year, readable_unit
from services.runtime.roles import Role
from services.runtime.http.auth import access
from services.runtime.db.service_db import ServiceDatabase


class InstrumentUseOut(msgspec.Struct, kw_only=True):
    instrument_id: str
    #: listed on the platform by the year's end
    listed: bool
    effective_minutes: int
    outside_minutes: int
    #: listed, and no session of use in the year
    idle: bool


class UnitUseOut(msgspec.Struct, kw_only=True):
    unit_id: str
    year: int
    #: 有效工作机时, in minutes (every session of use in the year)
    effective_minutes: int
    #: 对外服务机时, in minutes (sessions serving outside users' orders)
    outside_minutes: int
    #: 共享率 = outside ÷ effective, in basis points (10000 = 100 %), rounded down; 0 without use
    sharing_rate_bp: int
    idle_instrument_ids: list[str]
    instruments: list[InstrumentUseOut]


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
        u = await use.unit_use(db, year, unit_id)
        return UnitUseOut(
            unit_id=unit_id,
            year=year,
            effective_minutes=u.effective_minutes,
            outside_minutes=u.outside_minutes,
            sharing_rate_bp=use.sharing_rate_bp(u.outside_minutes, u.effective_minutes),
            idle_instrument_ids=u.idle_instrument_ids,
            instruments=[InstrumentUseOut(**vars(i)) for i in u.instruments],
        )
