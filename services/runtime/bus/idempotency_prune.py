"""The worker's hourly prune of expired ``Idempotency-Key`` rows
(``runtime/http/idempotency.py`` records and replays them). Here, with the
worker's other periodic machinery, so that a worker imports none of the HTTP
stack for it (the registry's worker imported Litestar and PyJWT through it)."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete

from services.runtime.bus.consumers import Periodic
from services.runtime.db.schema import IDEMPOTENCY_TABLE as TABLE
from services.runtime.db.service_db import ServiceDatabase
from services.runtime.settings import Settings

log = logging.getLogger("xciss.idempotency")

#: how often the worker deletes expired keys
PRUNE_INTERVAL_S = 3600.0


def retention_of(settings: Settings) -> timedelta:
    return timedelta(hours=settings.idempotency_retention_h)


async def prune(db: ServiceDatabase, retention: timedelta, *, now: datetime | None = None) -> int:
    """Delete keys older than the retention; the number deleted."""
    t = db.metadata.tables[TABLE]
    cutoff = (now or datetime.now(UTC)) - retention
    async with db.unit_of_work() as uow:
        deleted = (await uow.session.execute(delete(t).where(t.c.created_at < cutoff))).rowcount
    if deleted:
        log.info("%s: pruned %d idempotency keys older than %s", db.service, deleted, cutoff.isoformat())
    return int(deleted or 0)


def prune_task(settings: Settings) -> Periodic:
    """The worker's hourly prune of expired keys."""
    retention = retention_of(settings)

    async def run(db: ServiceDatabase) -> int:
        return await prune(db, retention)

    return Periodic("prune_idempotency_keys", PRUNE_INTERVAL_S, run)
