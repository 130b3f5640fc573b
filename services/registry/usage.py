"""Registry use cases of the usage log (issue 16): sessions of use of an
instrument with their actual start and end.

A session is opened by a check-in and closed by a check-out (the unit's
staff, or the instrument's recorder), or recorded whole once finished. Each
write is one transaction that first locks the instrument's row (PostgreSQL
``FOR UPDATE``; SQLite transactions write one at a time, ``BEGIN IMMEDIATE``)
and then checks that no other session of the instrument overlaps: sessions
of one instrument never overlap, on both databases. A finished session is
published as UsageRecorded (and a confirmed booking it names becomes
``used``, bookings.mark_used); a correction of a closed session (the unit, with
a reason) keeps the times before it and is published as UsageCorrected.

An ``outside`` session serves an order of the instrument's unit that is in
service; its minutes make the order's service hours at delivery
(``usage_reads.order_usage``, used by ``orders.deliver_results``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import insert, or_, select, update
from sqlalchemy.engine import RowMapping

from contracts import registry_usage as ev
from contracts.envelope import new_event_id
from services.registry.bookings import mark_used
from services.registry.db.instrument_models import instruments
from services.registry.db.order_models import orders
from services.registry.db.usage_models import (
    usage_corrections,
    usage_recorders,
    usage_sessions,
)
from services.registry.domain.usage import (
    SERVICE_STATUSES,
    UsageKind,
    UsageSource,
    check_kind,
    check_reason,
    check_span,
    check_start,
    not_closed,
    not_open,
    overlap,
)
from services.registry.schemas.usage import UsageSession
from services.registry.usage_reads import load_session, session_record
from services.runtime import clock
from services.runtime.errors import Conflict, DomainError, NotFound
from services.runtime.http.idempotency import Idempotency, remember
from services.runtime.db.unit_of_work import Actor, UnitOfWork
from services.runtime.db.service_db import ServiceDatabase


@dataclass(frozen=True)
class Recorded:
    """Who records: the unit's staff (``recorder_id`` None) or a recorder of the unit."""

    unit_id: str
    recorder_id: str | None = None

    @property
    def source(self) -> UsageSource:
        return UsageSource.staff if self.recorder_id is None else UsageSource.recorder


@dataclass(frozen=True)
class Use:
    """What a session is for: its kind, the order (outside) or the researcher (internal), a booking."""

    kind: UsageKind
    order_id: str | None = None
    researcher: str | None = None
    booking_id: str | None = None


async def _instrument(s: Any, instrument_id: str, unit_id: str | None, *, lock: bool = False) -> RowMapping:
    """The instrument (of this unit, unless staff read: ``unit_id`` None); 404 otherwise.
    ``lock``: hold its row until the transaction ends (the overlap guard)."""
    stmt = select(instruments.c.id, instruments.c.unit_id).where(instruments.c.id == instrument_id)
    if lock:
        stmt = stmt.with_for_update()
    row = (await s.execute(stmt)).mappings().first()
    if row is None or (unit_id is not None and row["unit_id"] != unit_id):
        raise NotFound("instrument", "仪器", instrument_id)
    return row


async def _order_user(s: Any, order_id: str, unit_id: str) -> str:
    """The user of an order the unit serves now (in service); else 422."""
    row = (await s.execute(select(orders.c.unit_id, orders.c.user_id, orders.c.status).where(orders.c.id == order_id))).mappings().first()
    if row is None or row["unit_id"] != unit_id:
        raise DomainError("usage.unknown_order", "订单不存在或不属于本单位", f"order {order_id} does not exist or is not the unit's", field="order_id", order_id=order_id)
    if row["status"] not in SERVICE_STATUSES:
        raise DomainError(
            "usage.order_not_in_service",
            "订单不在服务中（须先开始服务，交付结果后不能再记录机时）",
            "the order is not in service (start its service first; after delivery no more time is recorded)",
            field="order_id",
            order_id=order_id,
            order_status=row["status"],
        )
    return str(row["user_id"])


async def _check_free(s: Any, instrument_id: str, started_at: datetime, ended_at: datetime | None, *, exclude: str | None = None) -> None:
    """No other session of the instrument overlaps [started_at, ended_at) (an open one runs on)."""
    t = usage_sessions.c
    conds = [t.instrument_id == instrument_id, or_(t.ended_at.is_(None), t.ended_at > started_at)]
    if ended_at is not None:
        conds.append(t.started_at < ended_at)
    if exclude is not None:
        conds.append(t.id != exclude)
    other = (await s.execute(select(t.id).where(*conds).limit(1))).scalar_one_or_none()
    if other is not None:
        raise overlap(instrument_id, other)


def _snapshot(row: RowMapping) -> dict[str, Any]:
    """The session as its events carry it."""
    keys = ("version", "instrument_id", "unit_id", "kind", "order_id", "user_id", "booking_id", "source", "started_at", "ended_at", "minutes")
    return {"session_id": row["id"], **{k: row[k] for k in keys}}


def _image(record: UsageSession, *fields: str) -> dict[str, Any]:
    """What the audit row of a session's creation keeps of it: these fields of the record."""
    return {f: getattr(record, f) for f in fields}


async def _touch(s: Any, who: Recorded, now: datetime) -> None:
    if who.recorder_id is not None:
        await s.execute(update(usage_recorders).where(usage_recorders.c.id == who.recorder_id).values(last_used_at=now))


async def _open(
    uow: UnitOfWork, who: Recorded, instrument_id: str, use: Use, started_at: datetime, ended_at: datetime | None, minutes: int | None, now: datetime
) -> RowMapping:
    """Insert a session after the rules and the overlap guard (the instrument's row is locked)."""
    s = uow.session
    order_id, researcher = check_kind(use.kind, use.order_id, use.researcher)
    await _instrument(s, instrument_id, who.unit_id, lock=True)
    user_id = await _order_user(s, order_id, who.unit_id) if order_id is not None else None
    await _check_free(s, instrument_id, started_at, ended_at)
    session_id = new_event_id()
    await s.execute(
        insert(usage_sessions).values(
            id=session_id,
            instrument_id=instrument_id,
            unit_id=who.unit_id,
            kind=str(UsageKind(use.kind)),
            order_id=order_id,
            user_id=user_id,
            researcher=researcher,
            booking_id=(use.booking_id or "").strip()[:36] or None,
            source=str(who.source),
            recorder_id=who.recorder_id,
            started_at=started_at,
            ended_at=ended_at,
            minutes=minutes,
            version=1,
            created_by=uow.actor.label,
            created_at=now,
            updated_at=now,
        )
    )
    await _touch(s, who, now)
    return (await s.execute(select(usage_sessions).where(usage_sessions.c.id == session_id))).mappings().one()


async def check_in(
    db: ServiceDatabase,
    actor: Actor,
    correlation_id: str | None,
    who: Recorded,
    instrument_id: str,
    use: Use,
    *,
    at: datetime | None = None,
    idempotency: Idempotency | None = None,
) -> UsageSession:
    """Open a session of the instrument (now, or at an earlier ``at``): no other session may be open or overlap."""
    now = clock.utc_now()
    started_at = at or now
    check_start(started_at, now)
    async with db.unit_of_work(actor, correlation_id) as uow:
        row = await _open(uow, who, instrument_id, use, started_at, None, None, now)
        record = await session_record(uow.session, row)
        await uow.audit("usage.check_in", "usage_session", row["id"], after=_image(record, "instrument_id", "kind", "order_id", "source", "started_at"))
        await remember(uow, idempotency, record)
    return record


async def record_session(
    db: ServiceDatabase,
    actor: Actor,
    correlation_id: str | None,
    who: Recorded,
    instrument_id: str,
    use: Use,
    *,
    started_at: datetime,
    ended_at: datetime,
    max_session: timedelta,
    idempotency: Idempotency | None = None,
) -> UsageSession:
    """Record a finished session whole (UsageRecorded)."""
    now = clock.utc_now()
    minutes = check_span(started_at, ended_at, now, max_session)
    async with db.unit_of_work(actor, correlation_id) as uow:
        row = await _open(uow, who, instrument_id, use, started_at, ended_at, minutes, now)
        record = await session_record(uow.session, row)
        await uow.audit("usage.record", "usage_session", row["id"], after=_image(record, "instrument_id", "kind", "order_id", "source", "started_at", "ended_at", "minutes"))
        await uow.emit(ev.UsageRecorded(**_snapshot(row)))
        await mark_used(uow, row["booking_id"], instrument_id)
        await remember(uow, idempotency, record)
    return record


async def check_out(
    db: ServiceDatabase,
    actor: Actor,
    correlation_id: str | None,
    who: Recorded,
    *,
    session_id: str | None = None,
    instrument_id: str | None = None,
    at: datetime | None = None,
    max_session: timedelta,
    idempotency: Idempotency | None = None,
) -> UsageSession:
    """Close an open session (by its id, or the instrument's open one) now or at
    an earlier ``at`` (UsageRecorded); a session that is not open is 409 ``usage.not_open``."""
    now = clock.utc_now()
    async with db.unit_of_work(actor, correlation_id) as uow:
        s = uow.session
        if session_id is None:
            assert instrument_id is not None
            await _instrument(s, instrument_id, who.unit_id, lock=True)
            t = usage_sessions.c
            session_id = (await s.execute(select(t.id).where(t.instrument_id == instrument_id, t.ended_at.is_(None)))).scalar_one_or_none()
            if session_id is None:
                raise Conflict("usage.nothing_open", "该仪器当前没有使用中的记录", "the instrument has no open session", instrument_id=instrument_id)
        row = await load_session(s, session_id, who.unit_id)
        if row["ended_at"] is not None:
            raise not_open(session_id)
        ended_at = at or now
        minutes = check_span(row["started_at"], ended_at, now, max_session)
        changed = await s.execute(
            update(usage_sessions)
            .where(usage_sessions.c.id == session_id, usage_sessions.c.ended_at.is_(None))
            .values(ended_at=ended_at, minutes=minutes, version=row["version"] + 1, updated_at=now)
        )
        if changed.rowcount != 1:
            raise not_open(session_id)
        await _touch(s, who, now)
        after = await load_session(s, session_id, None)
        record = await session_record(s, after)
        await uow.audit("usage.check_out", "usage_session", session_id, after={"ended_at": ended_at, "minutes": minutes, "source": str(who.source)})
        await uow.emit(ev.UsageRecorded(**_snapshot(after)))
        await mark_used(uow, after["booking_id"], after["instrument_id"])
        await remember(uow, idempotency, record)
    return record


async def correct(
    db: ServiceDatabase,
    actor: Actor,
    correlation_id: str | None,
    unit_id: str,
    session_id: str,
    *,
    started_at: datetime,
    ended_at: datetime,
    reason: str | None,
    max_session: timedelta,
) -> UsageSession:
    """The unit corrects a closed session's times with a reason; the times before
    are kept (usage_corrections, the audit row) and UsageCorrected is published.
    A session of an order whose results are delivered can no longer change."""
    now = clock.utc_now()
    async with db.unit_of_work(actor, correlation_id) as uow:
        s = uow.session
        row = await load_session(s, session_id, unit_id)  # another unit's session does not exist for it
        text = check_reason(reason)
        minutes = check_span(started_at, ended_at, now, max_session)
        await _instrument(s, row["instrument_id"], unit_id, lock=True)
        if row["ended_at"] is None:
            raise not_closed(session_id)
        if row["order_id"] is not None:
            await _order_user(s, row["order_id"], unit_id)
        await _check_free(s, row["instrument_id"], started_at, ended_at, exclude=session_id)
        changed = await s.execute(
            update(usage_sessions)
            .where(usage_sessions.c.id == session_id, usage_sessions.c.version == row["version"])
            .values(started_at=started_at, ended_at=ended_at, minutes=minutes, version=row["version"] + 1, updated_at=now)
        )
        if changed.rowcount != 1:
            raise Conflict("usage.concurrent_change", "该使用记录正被他人修改，请刷新后重试", "the session changed meanwhile; reload and retry")
        await s.execute(
            insert(usage_corrections).values(
                id=new_event_id(),
                session_id=session_id,
                before_started_at=row["started_at"],
                before_ended_at=row["ended_at"],
                before_minutes=row["minutes"],
                after_started_at=started_at,
                after_ended_at=ended_at,
                after_minutes=minutes,
                reason=text,
                corrected_by=actor.label,
                corrected_at=now,
            )
        )
        after = await load_session(s, session_id, None)
        before = {"started_at": row["started_at"], "ended_at": row["ended_at"], "minutes": row["minutes"]}
        await uow.audit("usage.correct", "usage_session", session_id, reason=text, before=before, after={"started_at": started_at, "ended_at": ended_at, "minutes": minutes})
        await uow.emit(
            ev.UsageCorrected(
                **_snapshot(after), previous_started_at=row["started_at"], previous_ended_at=row["ended_at"], previous_minutes=row["minutes"], reason=text
            )
        )
        return await session_record(s, after)


