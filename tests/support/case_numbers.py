"""The back-fill of case numbers by a migration, as the tests of each service's
numbering check it: three records made across a Beijing new year, the last
made given the earliest time (so the migration must number by time, not by
id), then the migration run again from the revision before it."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

from alembic import command
from sqlalchemy import update

from services.runtime.db.migrations import alembic_config, upgrade
from services.runtime.db.service_db import ServiceDatabase

#: 31 Dec 2025 23:30 and 1 Jan 2026 00:30 Beijing time, and a day later in 2026
ACROSS_NEW_YEAR = (datetime(2025, 12, 31, 15, 30, tzinfo=UTC), datetime(2025, 12, 31, 16, 30, tzinfo=UTC), datetime(2026, 3, 1, 2, 0, tzinfo=UTC))


async def backdate(db: ServiceDatabase, key: Any, when: Any, keys: list[Any]) -> None:
    """Give the records whose ``key`` is in ``keys`` (in the order made) the
    times of :data:`ACROSS_NEW_YEAR` in reverse, in their column ``when``."""
    async with db.unit_of_work() as uow:
        for k, at in zip(reversed(keys), ACROSS_NEW_YEAR, strict=True):
            await uow.session.execute(update(key.table).where(key == k).values({when.name: at}))


async def migrate_again(settings: Any, service: str, before: str) -> None:
    """Down to the revision ``before`` the numbering, and up to the head again."""
    url = settings.database_url(service)
    await asyncio.to_thread(command.downgrade, alembic_config(service, url), before)
    await asyncio.to_thread(upgrade, service, url)
