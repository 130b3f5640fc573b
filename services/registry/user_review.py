"""The center's review of a user's registration (R4): verification, and the
rejection of one that is not genuine — for example a credit code given
by somebody who is not that enterprise, a registration that is not genuine.
A pending user or a wrongly verified one may be rejected, with a reason; it
is then unverified for good, holds no credit code, and vouchers learns it
from ``registry.user.rejected`` (it may no longer apply for vouchers).
Vouchers it already received are the bureau's matter (a fraud finding)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from contracts import registry as ev
from services.registry import credit_codes as codes
from services.registry.db.models import users
from services.registry.domain.parties import check_reason
from services.registry.parties import _user_snapshot, user_view
from services.runtime.errors import Conflict, NotFound
from services.runtime.outbox import Actor
from services.runtime.service_db import ServiceDatabase


async def reject_user(db: ServiceDatabase, actor: Actor, correlation_id: str | None, user_id: str, *, reason: str | None) -> dict[str, Any]:
    text = check_reason(reason, required=True)
    now = datetime.now(UTC)
    async with db.unit_of_work(actor, correlation_id) as uow:
        s = uow.session
        row = (await s.execute(select(users).where(users.c.id == user_id))).mappings().first()
        if row is None:
            raise NotFound("user", "用户", user_id)
        if row["rejected_at"] is not None:
            raise Conflict("user.already_rejected", "该用户注册已被驳回", "the user's registration is already rejected")
        changed = await s.execute(
            update(users)
            .where(users.c.id == user_id, users.c.version == row["version"])
            .values(verified=False, version=row["version"] + 1, updated_at=now, rejected_at=now, rejected_by=f"{actor.role}:{actor.subject}"[:200], rejection_reason=text)
        )
        if changed.rowcount != 1:
            raise Conflict("user.concurrent_change", "该用户正被他人修改，请刷新后重试", "the user changed meanwhile; reload and retry")
        after = (await s.execute(select(users).where(users.c.id == user_id))).mappings().one()
        await uow.emit(ev.UserRejected(**_user_snapshot(after)))
        await uow.audit("user.reject", "user", user_id, reason=text, before=user_view(row), after=user_view(after))
    return user_view(after)


async def verify_user(db: ServiceDatabase, actor: Actor, correlation_id: str | None, user_id: str, *, reason: str | None) -> dict[str, Any]:
    reason = check_reason(reason, required=False)
    try:
        return await _verify_user(db, actor, correlation_id, user_id, reason=reason)
    except IntegrityError as exc:  # another user of the code was verified meanwhile
        raise codes.code_held(None) from exc


async def _verify_user(db: ServiceDatabase, actor: Actor, correlation_id: str | None, user_id: str, *, reason: str | None) -> dict[str, Any]:
    now = datetime.now(UTC)
    async with db.unit_of_work(actor, correlation_id) as uow:
        s = uow.session
        row = (await s.execute(select(users).where(users.c.id == user_id))).mappings().first()
        if row is None:
            raise NotFound("user", "用户", user_id)
        if row["verified"]:
            raise Conflict("user.already_verified", "该用户已通过审核", "the user is already verified")
        if row["rejected_at"] is not None:
            raise Conflict("user.rejected", "该用户注册已被驳回", "the user's registration was rejected")
        held = await codes.holder(s, row["credit_code"], verified_only=True, other_than=user_id)
        if held:
            raise codes.code_held(row["credit_code"], held)
        changed = await s.execute(
            update(users)
            .where(users.c.id == user_id, users.c.version == row["version"])
            .values(verified=True, version=row["version"] + 1, updated_at=now, verified_by=actor.subject, verified_at=now)
        )
        if changed.rowcount != 1:
            raise Conflict("user.concurrent_change", "该用户正被他人修改，请刷新后重试", "the user changed meanwhile; reload and retry")
        after = (await s.execute(select(users).where(users.c.id == user_id))).mappings().one()
        snap = _user_snapshot(after)
        await uow.emit(ev.UserVerified(**snap))
        await uow.audit("user.verify", "user", user_id, reason=reason, before=_user_snapshot(row), after=snap)
    return snap
