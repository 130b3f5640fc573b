"""Vouchers' read models of registry facts, and the queries on them."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select

from contracts import registry as ev
from services.runtime.outbox import UnitOfWork
from services.runtime.readmodel import upsert_versioned
from services.runtime.service_db import ServiceDatabase
from services.vouchers.db.models import unit_view, user_view
from services.vouchers.domain.policy import UserFacts


async def on_user(uow: UnitOfWork, e: ev.UserSnapshot) -> None:
    await upsert_versioned(
        uow.session,
        user_view,
        "user_id",
        e.user_id,
        e.version,
        {
            "name": e.name,
            "kind": e.kind,
            "credit_code": e.credit_code,
            "classes": list(e.classes),
            "special_classes": list(e.special_classes),
            "in_xuchang": e.in_xuchang,
            "verified": e.verified,
            "updated_at": datetime.now(UTC),
        },
    )


async def on_unit(uow: UnitOfWork, e: ev.UnitSnapshot) -> None:
    await upsert_versioned(
        uow.session,
        unit_view,
        "unit_id",
        e.unit_id,
        e.version,
        {
            "name": e.name,
            "status": e.status,
            "accepts_vouchers": e.accepts_vouchers,
            "parent_unit_id": e.parent_unit_id,
            "updated_at": datetime.now(UTC),
        },
    )


async def user_facts(db: ServiceDatabase, user_id: str) -> UserFacts | None:
    async with db.read() as s:
        row = (await s.execute(select(user_view).where(user_view.c.user_id == user_id))).mappings().first()
    if row is None:
        return None
    return UserFacts(
        verified=row["verified"],
        in_xuchang=row["in_xuchang"],
        classes=tuple(row["classes"]),
        special_classes=tuple(row["special_classes"]),
    )
