"""Keeping a read model from events that carry an aggregate's whole state and
its version (or a status that only moves forward): apply only what is newer,
so order of arrival does not matter; and facts written once
(``insert_if_absent``), however many workers race on the key.

Several consumers may write the same row at once (one durable per subject, and
on PostgreSQL they really run in parallel). The update's condition is
therefore "older than mine" and never "equal to what I read": PostgreSQL
re-checks the condition on the row as it is after a concurrent writer
commits, so an update that was still newer is applied, not lost
(docs/faults.md, finding 2)."""

from __future__ import annotations

from collections.abc import Mapping
from functools import lru_cache
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Table, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from services.runtime.db.upsert import conflict_insert


async def upsert_versioned(session: AsyncSession, table: Table, key: str, key_value: Any, version: int, values: dict[str, Any]) -> bool:
    """Insert or update the row when ``version`` is newer; True when applied."""
    kcol = table.c[key]
    current = (await session.execute(select(table.c.version).where(kcol == key_value))).scalar_one_or_none()
    if current is None:
        await session.execute(insert(table).values({key: key_value, "version": version, **values}))
        return True
    if version <= current:
        return False
    done = await session.execute(update(table).where(kcol == key_value, table.c.version < version).values(version=version, **values))
    return bool(done.rowcount)


async def advance_status(
    session: AsyncSession, table: Table, key: str, key_value: Any, status: str, rank: Mapping[str, int], values: dict[str, Any], *, insert_values: dict[str, Any]
) -> bool:
    """Insert the row, or move its ``status`` forward to ``status`` when
    ``rank`` puts that later than the row's; True when applied. For events
    without a version whose states only move forward."""
    kcol = table.c[key]
    current = (await session.execute(select(table.c.status).where(kcol == key_value))).scalar_one_or_none()
    if current is None:
        await session.execute(insert(table).values({key: key_value, "status": status, **insert_values, **values}))
        return True
    earlier = [name for name, r in rank.items() if r < rank[status]]
    if not earlier:
        return False
    done = await session.execute(update(table).where(kcol == key_value, table.c.status.in_(earlier)).values(status=status, **values))
    return bool(done.rowcount)


async def record_entry(session: AsyncSession, table: Table, key: str, key_value: str, values: dict[str, Any], *, removal: bool) -> None:
    """Entries (affiliations, blacklist) have no version: a removal wins over
    a recording that arrives after it (an entry id is never re-recorded). The
    table has ``key``, ``active`` and ``updated_at`` besides ``values``."""
    kcol = table.c[key]
    exists = (await session.execute(select(kcol).where(kcol == key_value))).first() is not None
    now = datetime.now(UTC)
    if not exists:
        await session.execute(insert(table).values({key: key_value, **values, "active": not removal, "updated_at": now}))
    elif removal:
        await session.execute(update(table).where(kcol == key_value).values(active=False, updated_at=now))


async def insert_if_absent(session: AsyncSession, table: Table, values: dict[str, Any]) -> bool:
    """Insert the row unless its primary key exists; True when inserted.

    ``ON CONFLICT DO NOTHING`` on both databases, so two workers racing on
    the same key never fail on the unique index."""
    # one statement per table, the row as parameters: SQLAlchemy's compiled cache finds it
    # without rebuilding ``.values(...)`` and its cache key for every row (a consumer's hot path)
    result = await session.execute(_insert_ignoring(session.get_bind().dialect.name, table), dict(values))
    return bool(result.rowcount)


@lru_cache(maxsize=256)
def _insert_ignoring(dialect_name: str, table: Table) -> Any:
    return conflict_insert(dialect_name, table).on_conflict_do_nothing()
