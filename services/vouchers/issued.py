"""Electronic vouchers: use at settlement, refusal, revocation and expiry (R16, R19(2), R21, R27).

Both are one conditional UPDATE on the voucher's status, so a settlement at
23:59 on 31 December and the expiry job cannot both win."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, insert, select, update
from sqlalchemy.engine import RowMapping

from contracts import vouchers as ve
from contracts.commands import UseVoucher, UseVoucherReply
from contracts.envelope import new_event_id
from services.runtime import clock
from services.runtime.bus.commands import command_correlation_id
from services.runtime.errors import Conflict, DomainError, NotFound
from services.runtime.db.unit_of_work import Actor, UnitOfWork
from services.runtime.db.service_db import ServiceDatabase
from services.vouchers import programmes as prog
from services.vouchers import schemas
from services.vouchers.application_steps import APPEALED, SUBMITTED, voucher_snapshot
from services.vouchers.db.models import accounts, applications, programmes, voucher_refusals, vouchers
from services.vouchers.schemas import ExpiryRun, Voucher, VoucherPage
from services.runtime.http.pagination import read_page

ISSUED = "issued"
USED = "used"
EXPIRED = "expired"
REVOKED = "revoked"


def _not_bound() -> Conflict:
    return Conflict("voucher.not_bound", "创新券只能用于其绑定的用户、服务单位和合同", "the voucher is bound to another order or unit")


async def use_voucher(db: ServiceDatabase, actor: Actor, correlation_id: str | None, voucher_id: str, *, order_id: str, unit_id: str | None, now: datetime | None = None) -> Voucher:
    """Deduct the voucher at settlement: issued, bound to this order (and unit),
    not expired. Expiry is checked here, at the moment of use, against
    ``expires_at`` (R21), whether or not the expiry sweep has run yet."""
    now = now or clock.utc_now()
    async with db.unit_of_work(actor, correlation_id) as uow:
        s = uow.session
        row = (await s.execute(select(vouchers).where(vouchers.c.id == voucher_id))).mappings().first()
        if row is None:
            raise NotFound("voucher", "创新券", voucher_id)
        if unit_id is not None and row["unit_id"] != unit_id:
            # another unit learns nothing about the voucher, not even that it exists
            raise NotFound("voucher", "创新券", voucher_id)
        if row["order_id"] != order_id:
            raise _not_bound()
        done = await s.execute(
            update(vouchers)
            .where(vouchers.c.id == voucher_id, vouchers.c.status == ISSUED, vouchers.c.order_id == order_id, vouchers.c.expires_at > now)
            .values(status=USED, used_at=now)
        )
        if done.rowcount != 1:
            # the row may have changed since it was read: a concurrent use of the same
            # voucher (payments asking again, answered by another replica) commits first and
            # this update, re-checked on the committed row, matches nothing. Decide on the
            # row as it is now, never on the stale read (docs/faults.md, finding 3)
            row = (await s.execute(select(vouchers).where(vouchers.c.id == voucher_id))).mappings().one()
            if row["status"] == USED:
                raise Conflict("voucher.already_used", "该创新券已使用", "the voucher has already been used")
            if row["status"] == REVOKED:
                raise Conflict("voucher.revoked", "该创新券已被撤销", "the voucher has been revoked")
            raise Conflict("voucher.expired", "该创新券已过期作废", "the voucher has expired", expires_at=row["expires_at"].isoformat())
        after = (await s.execute(select(vouchers).where(vouchers.c.id == voucher_id))).mappings().one()
        await uow.emit(ve.VoucherUsed(**voucher_snapshot(after)))
        await uow.audit("voucher.use", "voucher", voucher_id, before=voucher_snapshot(row), after=voucher_snapshot(after))
    return schemas.voucher(after)


#: who uses a voucher when payments asks at settlement
PAYMENTS = Actor(subject="payments", role="service")


async def answer_use_voucher(db: ServiceDatabase, cmd: UseVoucher) -> UseVoucherReply:
    """The ``USE_VOUCHER`` command from payments at settlement (R19(2), R21).

    Idempotent: a voucher already used for the same order answers ok with its
    amount, so payments can ask again after a crash. A voucher is bound to one
    order and payments keeps one settlement per order, so "used for this
    order" is "used for this settlement". A refusal is an answer (ok=false
    with the code), not an error."""
    voucher_id = cmd.voucher_id
    if voucher_id is None:
        # the asker's read model may not know the voucher yet: vouchers does
        async with db.read() as s:
            own = (
                await s.execute(
                    select(vouchers.c.id).where(vouchers.c.order_id == cmd.order_id, vouchers.c.status.in_((ISSUED, USED))).order_by(vouchers.c.issued_at.desc())
                )
            ).scalar()
            waiting = (
                await s.execute(select(applications.c.id).where(applications.c.order_id == cmd.order_id, applications.c.status.in_((SUBMITTED, APPEALED))))
            ).first()
        if own is None:
            if waiting is not None:
                return UseVoucherReply(
                    ok=False,
                    code="voucher.application_pending",
                    message_zh="该订单的创新券申请尚未办结",
                    message_en="the order's voucher application is not decided yet",
                )
            return UseVoucherReply(ok=False, code="voucher.none", message_zh="该订单没有创新券", message_en="the order has no voucher")
        voucher_id = own
    try:
        done = await use_voucher(db, PAYMENTS, command_correlation_id(), voucher_id, order_id=cmd.order_id, unit_id=cmd.unit_id)
    except DomainError as exc:
        if exc.code == "voucher.already_used":
            async with db.read() as s:
                row = (await s.execute(select(vouchers).where(vouchers.c.id == voucher_id))).mappings().one()
            if row["status"] == USED and row["order_id"] == cmd.order_id and row["unit_id"] == cmd.unit_id:
                return UseVoucherReply(ok=True, amount_fen=row["amount_fen"], voucher_id=voucher_id, year=row["year"])
        return UseVoucherReply(ok=False, code=exc.code, message_zh=exc.message_zh, message_en=exc.message_en)
    return UseVoucherReply(ok=True, amount_fen=done.amount_fen, voucher_id=voucher_id, year=done.year)


async def _release(uow: UnitOfWork, rows: list[RowMapping], now: datetime) -> None:
    """Give the reservations of ``rows`` (vouchers just moved out of ``issued``
    in this transaction) back to the programmes' budgets and the users' caps.
    Lock order as approval: programmes, then accounts; each a conditional UPDATE."""
    s = uow.session
    by_year: dict[int, int] = defaultdict(int)
    by_account: dict[tuple[str, int], int] = defaultdict(int)
    for row in rows:
        by_year[row["year"]] += row["amount_fen"]
        by_account[(row["user_id"], row["year"])] += row["amount_fen"]
    for year, amount in sorted(by_year.items()):
        done = await s.execute(
            update(programmes)
            .where(programmes.c.year == year, programmes.c.committed_fen >= amount)
            .values(committed_fen=programmes.c.committed_fen - amount, version=programmes.c.version + 1, updated_at=now)
        )
        if done.rowcount != 1:
            raise RuntimeError(f"programme {year} holds less than the {amount} fen being released")
    for (user_id, year), amount in sorted(by_account.items()):
        done = await s.execute(
            update(accounts)
            .where(accounts.c.user_id == user_id, accounts.c.year == year, accounts.c.committed_fen >= amount)
            .values(committed_fen=accounts.c.committed_fen - amount)
        )
        if done.rowcount != 1:
            raise RuntimeError(f"account {user_id}:{year} holds less than the {amount} fen being released")


async def expire_vouchers(db: ServiceDatabase, now: datetime | None = None, actor: Actor | None = None, correlation_id: str | None = None) -> int:
    """Void every issued voucher whose time is up and release its reservation
    from the user's cap and the programme's budget, in one transaction. Safe
    with several workers: each voucher moves by a conditional UPDATE."""
    now = now or clock.utc_now()
    kw: dict[str, Any] = {"correlation_id": correlation_id}
    if actor is not None:
        kw["actor"] = actor
    async with db.unit_of_work(**kw) as uow:
        s = uow.session
        due = (
            (await s.execute(select(vouchers).where(vouchers.c.status == ISSUED, vouchers.c.expires_at <= now).order_by(vouchers.c.id).with_for_update()))
            .mappings()
            .all()
        )
        expired: list[RowMapping] = []
        for row in due:
            done = await s.execute(update(vouchers).where(vouchers.c.id == row["id"], vouchers.c.status == ISSUED).values(status=EXPIRED, expired_at=now))
            if done.rowcount == 1:
                expired.append(row)
        await _release(uow, expired, now)
        for row in expired:
            after = {**row, "status": EXPIRED}
            await uow.emit(ve.VoucherExpired(**voucher_snapshot(after)))
            await uow.audit("voucher.expire", "voucher", row["id"], reason="expires_at passed", before=voucher_snapshot(row), after=voucher_snapshot(after))
    return len(expired)


async def run_expiry(db: ServiceDatabase, as_of: datetime, *, actor: Actor, correlation_id: str | None) -> ExpiryRun:
    """An operator's expiry run as of ``as_of`` (``expire_vouchers``): how many vouchers it voided."""
    return ExpiryRun(expired=await expire_vouchers(db, as_of, actor=actor, correlation_id=correlation_id), as_of=as_of)


#: why a voucher was revoked
ORDER_CANCELLED = "order_cancelled"
BLACKLISTED = "blacklisted"
UNIT_DISQUALIFIED = "unit_disqualified"
FRAUD = "fraud"


async def revoke_vouchers(uow: UnitOfWork, where: ColumnElement[bool], reason: str, now: datetime | None = None) -> int:
    """Revoke the *issued* vouchers matching ``where`` inside the caller's
    transaction (an event handler's), releasing their reservations; a
    programme closed for its budget reopens. Used vouchers are left alone
    (clawback is another matter). Conditional UPDATEs: a redelivered event,
    or a second event about the same party, revokes nothing twice."""
    now = now or clock.utc_now()
    s = uow.session
    rows = (await s.execute(select(vouchers).where(where, vouchers.c.status == ISSUED).order_by(vouchers.c.id).with_for_update())).mappings().all()
    revoked: list[RowMapping] = []
    for row in rows:
        done = await s.execute(update(vouchers).where(vouchers.c.id == row["id"], vouchers.c.status == ISSUED).values(status=REVOKED, revoked_at=now, revoked_reason=reason))
        if done.rowcount == 1:
            revoked.append(row)
    await _release(uow, revoked, now)
    for year in sorted({r["year"] for r in revoked}):
        await prog.reopen_if_released(uow, year)
    for row in revoked:
        after = {**row, "status": REVOKED}
        await uow.emit(ve.VoucherRevoked(**voucher_snapshot(after), reason=reason))
        await uow.audit("voucher.revoke", "voucher", row["id"], reason=reason, before=voucher_snapshot(row), after=voucher_snapshot(after))
    return len(revoked)


async def refuse_voucher(db: ServiceDatabase, actor: Actor, correlation_id: str | None, voucher_id: str, *, unit_id: str, reason: str) -> Voucher:
    """R19(2): the bound unit records why it refuses a valid voucher. Nothing
    about the voucher changes: it stays issued and usable; the refusal is
    kept (table, audit, ``VoucherRefused``) for the center to review."""
    reason = reason.strip()
    if not reason:
        raise DomainError("voucher.refusal_reason_required", "拒绝接收创新券须说明理由", "a reason is required to refuse a voucher", status=400)
    now = clock.utc_now()
    async with db.unit_of_work(actor, correlation_id) as uow:
        s = uow.session
        row = (await s.execute(select(vouchers).where(vouchers.c.id == voucher_id))).mappings().first()
        if row is None or row["unit_id"] != unit_id:
            raise NotFound("voucher", "创新券", voucher_id)
        if row["status"] != ISSUED:
            raise Conflict("voucher.not_issued", "只能拒绝尚未使用的有效创新券", "only a valid, unused voucher can be refused", current_status=row["status"])
        refusal = {"id": new_event_id(), "voucher_id": voucher_id, "unit_id": unit_id, "reason": reason, "by": actor.label, "at": now}
        await s.execute(insert(voucher_refusals).values(**refusal))
        await uow.emit(ve.VoucherRefused(**voucher_snapshot(row), reason=reason))
        await uow.audit("voucher.refuse", "voucher", voucher_id, reason=reason, after={**voucher_snapshot(row), "refusal_id": refusal["id"]})
    return await get_voucher(db, voucher_id)


async def list_vouchers(
    db: ServiceDatabase, *, user_id: str | None, unit_id: str | None, status: str | None, page: int, page_size: int, order_id: str | None = None
) -> VoucherPage:
    """Vouchers, newest first (without their refusals): ``user_id``'s, ``unit_id``'s, or all;
    with ``order_id`` only those of that order (the voucher presented on it)."""
    q = select(vouchers)
    if order_id is not None:
        q = q.where(vouchers.c.order_id == order_id)
    if user_id is not None:
        q = q.where(vouchers.c.user_id == user_id)
    if unit_id is not None:
        q = q.where(vouchers.c.unit_id == unit_id)
    if status is not None:
        q = q.where(vouchers.c.status == status)
    async with db.read() as s:
        return await read_page(s, q, order_by=[vouchers.c.issued_at.desc(), vouchers.c.id], page=page, page_size=page_size, item=schemas.voucher)


async def get_voucher(db: ServiceDatabase, voucher_id: str) -> Voucher:
    """One voucher with the refusals recorded against it, oldest first."""
    async with db.read() as s:
        row = (await s.execute(select(vouchers).where(vouchers.c.id == voucher_id))).mappings().first()
        if row is None:
            raise NotFound("voucher", "创新券", voucher_id)
        q = select(voucher_refusals).where(voucher_refusals.c.voucher_id == voucher_id).order_by(voucher_refusals.c.at, voucher_refusals.c.id)
        refusals = (await s.execute(q)).mappings().all()
    return schemas.voucher(row, [schemas.refusal(r) for r in refusals])
