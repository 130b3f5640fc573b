"""Affiliations (R26): the subordination, co-construction and property-right
ties between users and units, declared by either side or recorded by a
reviewer. One transaction each, with the state change, its outbox event and
its audit row."""

from __future__ import annotations

from typing import Any

import msgspec
from sqlalchemy import insert, select, update
from sqlalchemy.engine import RowMapping
from sqlalchemy.exc import IntegrityError

from contracts import registry as ev
from contracts.envelope import new_event_id
from services.registry.audited import audited
from services.registry.db.party_models import units, users
from services.registry.db.supervision_models import affiliations
from services.registry.domain.parties import AffiliationKind, AffiliationSource, affiliated, check_reason
from services.registry.schemas.affiliations import Affiliation, AffiliationPage
from services.runtime import clock
from services.runtime.errors import Conflict, NotFound
from services.runtime.db.unit_of_work import Actor
from services.runtime.db.service_db import ServiceDatabase
from services.runtime.http.pagination import read_page


def affiliation_view(row: RowMapping | dict[str, Any]) -> Affiliation:
    """A tie as the API shows it."""
    return Affiliation(
        affiliation_id=row["id"],
        user_id=row["user_id"],
        unit_id=row["unit_id"],
        kind=row["kind"],
        source=row["source"],
        note=row["note"],
        recorded_by=row["recorded_by"],
        recorded_at=row["recorded_at"],
        removed_by=row["removed_by"],
        removed_at=row["removed_at"],
        removal_reason=row["removal_reason"],
    )


def _image(tie: Affiliation) -> dict[str, Any]:
    """The tie as its audit row keeps it (times as ISO 8601 text)."""
    return audited(msgspec.structs.asdict(tie))


_DUPLICATE_TIE = ("affiliation.duplicate", "该用户与该单位的同类关联关系已登记", "this tie between the user and the unit is already recorded")


async def record_affiliation(
    db: ServiceDatabase,
    actor: Actor,
    correlation_id: str | None,
    *,
    user_id: str,
    unit_id: str,
    kind: AffiliationKind,
    source: AffiliationSource,
    note: str | None,
) -> Affiliation:
    """A tie declared by the user or the unit, or recorded by a reviewer. The
    caller decides ``source`` from the role, never from the request body."""
    now = clock.utc_now()
    row = {
        "id": new_event_id(),
        "user_id": user_id,
        "unit_id": unit_id,
        "kind": str(kind),
        "source": str(source),
        "recorded_by": actor.subject,
        "recorded_at": now,
        "note": (note or "").strip() or None,
        "removed_by": None,
        "removed_at": None,
        "removal_reason": None,
    }
    try:
        async with db.unit_of_work(actor, correlation_id) as uow:
            s = uow.session
            if (await s.execute(select(users.c.id).where(users.c.id == user_id))).first() is None:
                raise NotFound("user", "用户", user_id)
            if (await s.execute(select(units.c.id).where(units.c.id == unit_id))).first() is None:
                raise NotFound("unit", "单位", unit_id)
            dup = select(affiliations.c.id).where(
                affiliations.c.user_id == user_id, affiliations.c.unit_id == unit_id, affiliations.c.kind == str(kind), affiliations.c.removed_at.is_(None)
            )
            if (await s.execute(dup)).first() is not None:
                raise Conflict(*_DUPLICATE_TIE)
            await s.execute(insert(affiliations).values(**row))
            out = affiliation_view(row)
            await uow.emit(ev.AffiliationRecorded(affiliation_id=row["id"], user_id=user_id, unit_id=unit_id, kind=str(kind), source=str(source)))
            await uow.audit("affiliation.record", "affiliation", row["id"], after=_image(out))
    except IntegrityError as exc:  # a concurrent twin won the unique index
        raise Conflict(*_DUPLICATE_TIE) from exc
    return out


async def remove_affiliation(db: ServiceDatabase, actor: Actor, correlation_id: str | None, affiliation_id: str, *, reason: str | None) -> Affiliation:
    text = check_reason(reason, required=True, what_zh="删除关联关系", what_en="removing a tie") or ""
    now = clock.utc_now()
    async with db.unit_of_work(actor, correlation_id) as uow:
        s = uow.session
        row = (await s.execute(select(affiliations).where(affiliations.c.id == affiliation_id))).mappings().first()
        if row is None:
            raise NotFound("affiliation", "关联关系", affiliation_id)
        if row["removed_at"] is not None:
            raise Conflict("affiliation.already_removed", "该关联关系已删除", "the tie was already removed")
        changed = await s.execute(
            update(affiliations)
            .where(affiliations.c.id == affiliation_id, affiliations.c.removed_at.is_(None))
            .values(removed_by=actor.subject, removed_at=now, removal_reason=text)
        )
        if changed.rowcount != 1:
            raise Conflict("affiliation.already_removed", "该关联关系已删除", "the tie was already removed")
        after = (await s.execute(select(affiliations).where(affiliations.c.id == affiliation_id))).mappings().one()
        out = affiliation_view(after)
        await uow.emit(ev.AffiliationRemoved(affiliation_id=affiliation_id, user_id=row["user_id"], unit_id=row["unit_id"], kind=row["kind"], reason=text))
        await uow.audit("affiliation.remove", "affiliation", affiliation_id, reason=text, before=_image(affiliation_view(row)), after=_image(out))
    return out


async def list_affiliations(
    db: ServiceDatabase, *, user_id: str | None, unit_id: str | None, include_removed: bool, page: int, page_size: int
) -> AffiliationPage:
    """A page of ties, oldest first."""
    conds = []
    if user_id is not None:
        conds.append(affiliations.c.user_id == user_id)
    if unit_id is not None:
        conds.append(affiliations.c.unit_id == unit_id)
    if not include_removed:
        conds.append(affiliations.c.removed_at.is_(None))
    async with db.read() as s:
        return await read_page(s, select(affiliations).where(*conds), order_by=[affiliations.c.recorded_at, affiliations.c.id], page=page, page_size=page_size, item=affiliation_view)


async def is_affiliated(db: ServiceDatabase, user_id: str, unit_id: str) -> bool:
    """Whether the user has an active tie with the unit, its parent or its
    children (R26, R13)."""
    async with db.read() as s:
        ties = (await s.execute(select(affiliations.c.unit_id).where(affiliations.c.user_id == user_id, affiliations.c.removed_at.is_(None)))).scalars().all()
        if not ties:
            return False
        parent_of: dict[str, str | None] = {}
        todo = {unit_id, *ties}
        while todo:  # walk up the parent chains of the unit and every tied unit
            rows = (await s.execute(select(units.c.id, units.c.parent_unit_id).where(units.c.id.in_(todo)))).all()
            parent_of.update({r.id: r.parent_unit_id for r in rows})
            todo = {r.parent_unit_id for r in rows if r.parent_unit_id is not None and r.parent_unit_id not in parent_of}
    return affiliated(ties, unit_id, parent_of)
