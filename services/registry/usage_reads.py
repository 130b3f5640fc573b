"""Reading the usage log (issue 16): one session with its corrections, the
sessions of a unit (or, for staff, of every unit), and the minutes of an
order's sessions (which make its service hours at delivery)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.engine import RowMapping

from services.registry.db.usage_models import usage_corrections, usage_sessions
from services.registry.schemas.usage import Correction, UsageSession, UsageSessionPage
from services.runtime.errors import NotFound
from services.runtime.db.service_db import ServiceDatabase
from services.runtime.http.pagination import Page


def session_not_found(session_id: str) -> NotFound:
    return NotFound("usage_session", "使用记录", session_id)


async def load_session(s: Any, session_id: str, unit_id: str | None) -> RowMapping:
    row = (await s.execute(select(usage_sessions).where(usage_sessions.c.id == session_id))).mappings().first()
    if row is None or (unit_id is not None and row["unit_id"] != unit_id):
        raise session_not_found(session_id)
    return row


async def session_record(s: Any, row: RowMapping) -> UsageSession:
    """A session as the API shows it, with its corrections."""
    [record] = await session_records(s, [row])
    return record


async def session_records(s: Any, rows: Sequence[RowMapping]) -> list[UsageSession]:
    """``rows`` as the API shows them, in their order, with one read of every
    correction whatever their number."""
    if not rows:
        return []
    fixes: dict[str, list[Correction]] = {r["id"]: [] for r in rows}
    c = usage_corrections.c
    q = select(usage_corrections).where(c.session_id.in_(list(fixes))).order_by(c.session_id, c.corrected_at, c.id)
    for f in (await s.execute(q)).mappings():
        fixes[f["session_id"]].append(_correction(f))
    return [_session(r, fixes[r["id"]]) for r in rows]


def _correction(f: RowMapping) -> Correction:
    return Correction(
        before_started_at=f["before_started_at"],
        before_ended_at=f["before_ended_at"],
        before_minutes=f["before_minutes"],
        after_started_at=f["after_started_at"],
        after_ended_at=f["after_ended_at"],
        after_minutes=f["after_minutes"],
        reason=f["reason"],
        corrected_at=f["corrected_at"],
    )


def _session(row: RowMapping, corrections: list[Correction]) -> UsageSession:
    return UsageSession(
        session_id=row["id"],
        version=row["version"],
        instrument_id=row["instrument_id"],
        unit_id=row["unit_id"],
        kind=row["kind"],
        order_id=row["order_id"],
        user_id=row["user_id"],
        researcher=row["researcher"],
        booking_id=row["booking_id"],
        source=row["source"],
        recorder_id=row["recorder_id"],
        status="open" if row["ended_at"] is None else "closed",
        started_at=row["started_at"],
        ended_at=row["ended_at"],
        minutes=row["minutes"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
        corrections=corrections,
    )


async def get_session(db: ServiceDatabase, session_id: str, unit_id: str | None) -> UsageSession:
    """One session: the unit's own (``unit_id``), or any (staff: None)."""
    async with db.read() as s:
        return await session_record(s, await load_session(s, session_id, unit_id))


async def list_sessions(
    db: ServiceDatabase,
    unit_id: str | None,
    *,
    instrument_id: str | None,
    order_id: str | None,
    page: int,
    page_size: int,
) -> UsageSessionPage:
    """Sessions, newest start first: a unit its own, staff every unit's."""
    t = usage_sessions.c
    conds: list[Any] = []
    if unit_id is not None:
        conds.append(t.unit_id == unit_id)
    if instrument_id is not None:
        conds.append(t.instrument_id == instrument_id)
    if order_id is not None:
        conds.append(t.order_id == order_id)
    async with db.read() as s:
        total = (await s.execute(select(func.count()).select_from(usage_sessions).where(*conds))).scalar_one()
        rows = (
            await s.execute(select(usage_sessions).where(*conds).order_by(t.started_at.desc(), t.id.desc()).offset((page - 1) * page_size).limit(page_size))
        ).mappings().all()
        return Page(items=await session_records(s, rows), total=total, page=page, page_size=page_size)


async def order_usage(s: Any, order_id: str) -> tuple[int | None, int]:
    """(total minutes of the order's closed sessions — None when it has no session —, its open sessions)."""
    t = usage_sessions.c
    closed, minutes, still_open = (
        await s.execute(
            select(
                func.count(t.ended_at),
                func.coalesce(func.sum(t.minutes), 0),
                func.count().filter(t.ended_at.is_(None)),
            ).where(t.order_id == order_id)
        )
    ).one()
    if closed == 0 and still_open == 0:
        return None, 0
    return int(minutes), int(still_open)

