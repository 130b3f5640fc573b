"""Evaluation's read model of the units it will evaluate."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select

from contracts import registry as ev
from services.evaluation import schemas
from services.evaluation.db.models import unit_blacklist_view, unit_view
from services.evaluation.schemas import EvaluatedUnitPage
from services.runtime.db.unit_of_work import UnitOfWork
from services.runtime.db.readmodel import record_entry, upsert_versioned
from services.runtime.db.service_db import ServiceDatabase
from services.runtime.http.pagination import read_page


async def on_unit(uow: UnitOfWork, e: ev.UnitSnapshot) -> None:
    await upsert_versioned(
        uow.session,
        unit_view,
        "unit_id",
        e.unit_id,
        e.version,
        {
            "name": e.name,
            "kind": e.kind,
            "status": e.status,
            "county_code": e.county_code,
            "department": e.department,
            "parent_unit_id": e.parent_unit_id,
            "updated_at": datetime.now(UTC),
        },
    )


async def _blacklist_entry(uow: UnitOfWork, e: ev.BlacklistSnapshot, *, removal: bool) -> None:
    """A unit's blacklist entry (a user's does not concern evaluation)."""
    if e.party_type == "unit":
        await record_entry(uow.session, unit_blacklist_view, "entry_id", e.entry_id, {"unit_id": e.party_id}, removal=removal)


async def on_blacklist_added(uow: UnitOfWork, e: ev.BlacklistAdded) -> None:
    await _blacklist_entry(uow, e, removal=False)


async def on_blacklist_removed(uow: UnitOfWork, e: ev.BlacklistRemoved) -> None:
    await _blacklist_entry(uow, e, removal=True)


async def excluded_units(s: Any, unit_ids: list[str]) -> dict[str, str]:
    """Units that fail the award check now (R27): disqualified or on the blacklist,
    each with why (``disqualified`` / ``blacklisted``)."""
    if not unit_ids:
        return {}
    black = set((await s.execute(select(unit_blacklist_view.c.unit_id).where(unit_blacklist_view.c.unit_id.in_(unit_ids), unit_blacklist_view.c.active.is_(True)))).scalars())
    disq = set((await s.execute(select(unit_view.c.unit_id).where(unit_view.c.unit_id.in_(unit_ids), unit_view.c.status == "disqualified"))).scalars())
    return {**{u: "blacklisted" for u in black}, **{u: "disqualified" for u in disq}}


async def list_units(db: ServiceDatabase, *, status: str | None, page: int, page_size: int, department: str | None = None) -> EvaluatedUnitPage:
    """Units by name; ``department`` narrows to the units under that competent department."""
    q = select(unit_view)
    if status:
        q = q.where(unit_view.c.status == status)
    if department is not None:
        q = q.where(unit_view.c.department == department)
    async with db.read() as s:
        return await read_page(s, q, order_by=[unit_view.c.name, unit_view.c.unit_id], page=page, page_size=page_size, item=schemas.evaluated_unit)
