"""Keeping a read model from events that carry an aggregate's whole state and
its version: apply only what is newer, so order of arrival does not matter."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Table, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession


async def upsert_versioned(session: AsyncSession, table: Table, key: str, key_value: Any, version: int, values: dict[str, Any]) -> bool:
    """Insert or update the row when ``version`` is newer; True when applied."""
    kcol = table.c[key]
    current = (await session.execute(select(table.c.version).where(kcol == key_value))).scalar_one_or_none()
    if current is None:
        await session.execute(insert(table).values({key: key_value, "version": version, **values}))
        return True
    if version <= current:
        return False
    await session.execute(update(table).where(kcol == key_value, table.c.version == current).values(version=version, **values))
    return True
