"""Writing a fact once: the insert every facts consumer uses, safe when two
workers race on the same key (:mod:`services.evaluation.facts`,
:mod:`services.evaluation.complaint_facts`)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Table, insert, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession


async def insert_if_absent(session: AsyncSession, table: Table, values: dict[str, Any]) -> bool:
    """Insert the row unless its primary key exists; True when inserted.

    ``ON CONFLICT DO NOTHING`` on both databases, so two workers racing on
    the same key never fail on the unique index."""
    dialect = session.get_bind().dialect.name
    stmt: Any
    if dialect == "postgresql":
        stmt = postgresql.insert(table).values(values).on_conflict_do_nothing()
    elif dialect == "sqlite":
        stmt = sqlite.insert(table).values(values).on_conflict_do_nothing()
    else:  # pragma: no cover - the platform runs on the two above
        exists = (await session.execute(select(*table.primary_key.columns).where(*(c == values[c.name] for c in table.primary_key.columns)))).first()
        if exists:
            return False
        stmt = insert(table).values(values)
    result = await session.execute(stmt)
    return bool(result.rowcount)
