"""Evaluation's read model of the units it will evaluate."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select

from contracts import registry as ev
from services.evaluation.db.models import unit_view
from services.runtime.outbox import UnitOfWork
from services.runtime.readmodel import upsert_versioned
from services.runtime.service_db import ServiceDatabase


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


async def list_units(db: ServiceDatabase, *, status: str | None, page: int, page_size: int) -> tuple[list[dict[str, Any]], int]:
    q = select(unit_view)
    c = select(func.count()).select_from(unit_view)
    if status:
        q, c = q.where(unit_view.c.status == status), c.where(unit_view.c.status == status)
    async with db.read() as s:
        total = (await s.execute(c)).scalar_one()
        rows = (await s.execute(q.order_by(unit_view.c.name, unit_view.c.unit_id).offset((page - 1) * page_size).limit(page_size))).mappings().all()
    return [dict(r) for r in rows], total
