"""Vouchers' read models of registry facts, and the queries on them."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select

from contracts import registry as ev
from services.runtime.db.unit_of_work import UnitOfWork
from services.runtime.db.readmodel import record_entry, upsert_versioned
from services.runtime.db.service_db import ServiceDatabase
from services.vouchers.db.models import (
    affiliation_view,
    blacklist_view,
    order_view,
    unit_view,
    user_view,
)
from services.vouchers.domain.policy import UserFacts

#: a unit that is not approved (suspended, disqualified...) accepts no vouchers
UNIT_APPROVED = "approved"
ORDER_CONTRACTED = "contracted"


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
            "sound_finances": e.sound_finances,
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
            "credit_code": e.credit_code or None,
            "updated_at": datetime.now(UTC),
        },
    )


async def on_affiliation_recorded(uow: UnitOfWork, e: ev.AffiliationRecorded) -> None:
    await record_entry(uow.session, affiliation_view, "affiliation_id", e.affiliation_id, {"user_id": e.user_id, "unit_id": e.unit_id, "kind": e.kind}, removal=False)


async def on_affiliation_removed(uow: UnitOfWork, e: ev.AffiliationRemoved) -> None:
    await record_entry(uow.session, affiliation_view, "affiliation_id", e.affiliation_id, {"user_id": e.user_id, "unit_id": e.unit_id, "kind": e.kind}, removal=True)


async def on_blacklist_added(uow: UnitOfWork, e: ev.BlacklistAdded) -> None:
    await record_entry(uow.session, blacklist_view, "entry_id", e.entry_id, {"party_type": e.party_type, "party_id": e.party_id}, removal=False)


async def on_blacklist_removed(uow: UnitOfWork, e: ev.BlacklistRemoved) -> None:
    await record_entry(uow.session, blacklist_view, "entry_id", e.entry_id, {"party_type": e.party_type, "party_id": e.party_id}, removal=True)


async def on_order(uow: UnitOfWork, e: ev.OrderSnapshot) -> None:
    await upsert_versioned(
        uow.session,
        order_view,
        "order_id",
        e.order_id,
        e.version,
        {
            "case_no": e.case_no,
            "user_id": e.user_id,
            "unit_id": e.unit_id,
            "status": e.status,
            "amount_fen": e.amount_fen,
            "testing_fee_fen": e.testing_fee_fen,
            "purpose": e.purpose,
            "contract_sha256": e.contract_sha256,
            "provincial_subsidy": e.provincial_subsidy,
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
