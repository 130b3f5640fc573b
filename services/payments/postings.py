"""Writing ledger entries: the one place rows reach ``ledger_entries`` and
``ledger_lines``. Entries are never edited; a key identifies an entry, so
posting the same fact twice is caught by its key."""

from __future__ import annotations

from services.runtime import clock


from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.payments.db.models import ledger_entries, ledger_lines
from services.payments.domain import ledger


async def write(s: AsyncSession, entry: ledger.Entry, correlation_id: str | None) -> None:
    """Insert ``entry``; a second entry with its key violates the primary key."""
    await s.execute(insert(ledger_entries).values(key=entry.key, kind=entry.kind, memo=entry.memo, created_at=clock.utc_now(), correlation_id=correlation_id))
    await s.execute(
        insert(ledger_lines),
        [{"entry_key": entry.key, "account": ln.account, "debit_fen": ln.debit_fen, "credit_fen": ln.credit_fen} for ln in entry.lines],
    )


async def post_once(s: AsyncSession, entry: ledger.Entry, correlation_id: str | None) -> bool:
    """Post ``entry`` unless an entry with its key exists; True when posted."""
    if (await s.execute(select(ledger_entries.c.key).where(ledger_entries.c.key == entry.key))).first() is not None:
        return False
    await write(s, entry, correlation_id)
    return True
