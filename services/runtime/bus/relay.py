"""The outbox relay: publishes to JetStream the events a unit of work wrote
with its state change (``db/unit_of_work.py``).

``OutboxRelay`` publishes each row with
``Nats-Msg-Id = event_id``, checks the PubAck, retries with backoff and keeps
the row until it is acknowledged. A republished row is dropped by JetStream's
de-duplication window, and after that by every consumer's inbox.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime
from typing import Any

import nats
from nats.js.client import JetStreamContext
from opentelemetry.trace import SpanKind
from sqlalchemy import MetaData, bindparam, select, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from services.runtime import metrics, telemetry
from services.runtime.bus.connect import connect_nats
from services.runtime.bus_identity.credentials import BusAccess
from services.runtime.db.engine import is_sqlite

log = logging.getLogger("xciss.outbox")

#: the relay's longest wait between two attempts at a row after a failure
RELAY_MAX_BACKOFF_S = 5.0
#: the relay's wait after a batch that was not full, and the first after it found no
#: row; each further empty look doubles it, up to the poll interval (``XCISS_OUTBOX_POLL_S``)
RELAY_BUSY_WAIT_S = 0.005


def relay_retry_horizon_s(publish_timeout_s: float, poll_s: float) -> float:
    """How long after a publish whose PubAck was lost the relay publishes the
    row again, at the latest, while the relay and its database keep running:
    the publish timeout, the longest backoff and one poll. JetStream's
    de-duplication window must be longer, or that retry is stored twice. (A
    relay that dies between publish and commit, or a database outage, can
    retry later than any window; consumers' inboxes keep the effect single.)"""
    return publish_timeout_s + RELAY_MAX_BACKOFF_S + poll_s


class OutboxRelay:
    """Publishes a service's outbox rows to JetStream, in id order per batch."""

    def __init__(
        self,
        service: str,
        engine: AsyncEngine,
        metadata: MetaData,
        bus: BusAccess,
        *,
        poll_s: float = 0.1,
        batch: int,
        publish_timeout_s: float = 5.0,
    ):
        self.service = service
        self.engine = engine
        self.outbox = outbox = metadata.tables["outbox"]
        # built once: the relay runs them hundreds of times a second under load (Core, no ORM session)
        self._pending = (
            select(outbox.c.id, outbox.c.event_id, outbox.c.subject, outbox.c.payload, outbox.c.headers)
            .where(outbox.c.published_at.is_(None))
            .order_by(outbox.c.id)
            .limit(batch)
        )
        self._published = (
            update(outbox)
            .where(outbox.c.id.in_(bindparam("ids", expanding=True)))
            .values(published_at=bindparam("now"), attempts=outbox.c.attempts + 1, last_error=None)
        )
        self._pending_locked = self._pending.with_for_update(skip_locked=True)
        self._sqlite = is_sqlite(str(engine.url))
        self._failed = (
            update(outbox).where(outbox.c.id.in_(bindparam("ids", expanding=True))).values(attempts=outbox.c.attempts + 1, last_error=bindparam("error"))
        )
        self.bus = bus
        self.poll_s = poll_s
        self.batch = batch
        self.publish_timeout_s = publish_timeout_s
        self._wake = asyncio.Event()
        self._nc: nats.NATS | None = None
        self.published = 0

    def poke(self) -> None:
        """Wake the relay now (when it shares the process with the writer)."""
        self._wake.set()

    async def run(self, stop: asyncio.Event) -> None:
        self._nc = await connect_nats(self.bus, f"xciss-{self.service}-relay")
        js = self._nc.jetstream(timeout=self.publish_timeout_s)
        busy = min(RELAY_BUSY_WAIT_S, self.poll_s)
        backoff = idle = self.poll_s
        try:
            while not stop.is_set():
                try:
                    sent, failed = await self.publish_batch(js)
                except Exception:  # database trouble: keep the loop alive
                    log.exception("%s relay: batch failed", self.service)
                    sent, failed = 0, 1
                if failed:
                    backoff = wait = min(max(backoff * 2, 0.2), RELAY_MAX_BACKOFF_S)
                elif sent == self.batch:
                    backoff, idle = self.poll_s, busy
                    continue  # a full batch: there are more rows now
                else:
                    if sent:
                        # rows another process writes wake no one here: while events come, look again
                        # after a moment that gathers the next few into one batch
                        idle = busy
                    # each empty look doubles the wait, up to the poll interval
                    backoff, wait, idle = self.poll_s, idle, min(idle * 2, self.poll_s)
                self._wake.clear()
                waiters = [asyncio.ensure_future(self._wake.wait()), asyncio.ensure_future(stop.wait())]
                await asyncio.wait(waiters, timeout=wait, return_when=asyncio.FIRST_COMPLETED)
                for w in waiters:
                    w.cancel()
        finally:
            await self._nc.drain() if self._nc.is_connected else await self._nc.close()

    async def publish_batch(self, js: JetStreamContext) -> tuple[int, int]:
        """Publish one batch of pending rows; returns (published, failed)."""
        if self._sqlite:
            # SQLite has one writer: never hold its lock while talking to NATS.
            async with self.engine.connect() as conn:
                rows = (await conn.execute(self._pending)).all()
            if not rows:
                return 0, 0
            results = await self._publish(js, rows)
            async with self.engine.begin() as conn:
                await self._record(conn, results)
        else:
            # PostgreSQL: lock the batch so a second relay skips these rows.
            async with self.engine.begin() as conn:
                rows = (await conn.execute(self._pending_locked)).all()
                if not rows:
                    return 0, 0
                results = await self._publish(js, rows)
                await self._record(conn, results)
        ok = sum(1 for _, err in results if err is None)
        self.published += ok
        metrics.RELAY_PUBLISHED.labels(self.service).inc(ok)
        if len(results) > ok:
            metrics.RELAY_FAILURES.labels(self.service).inc(len(results) - ok)
        return ok, len(results) - ok

    async def _publish(self, js: JetStreamContext, rows: list[Any]) -> list[tuple[int, str | None]]:
        tr = telemetry.tracer()
        futures = []
        for row in rows:
            parent = telemetry.context_from(row.headers)
            with tr.start_as_current_span(f"{row.subject} publish", context=parent, kind=SpanKind.PRODUCER) as span:
                span.set_attribute("messaging.system", "nats")
                span.set_attribute("messaging.destination.name", row.subject)
                span.set_attribute("messaging.message.id", row.event_id)
                headers = telemetry.current_carrier()
                headers["Nats-Msg-Id"] = row.event_id
                futures.append(js.publish(row.subject, row.payload, headers=headers, timeout=self.publish_timeout_s))
        results: list[tuple[int, str | None]] = []
        for row, outcome in zip(rows, await asyncio.gather(*futures, return_exceptions=True), strict=True):
            if isinstance(outcome, BaseException):
                results.append((row.id, f"{type(outcome).__name__}: {outcome}"))
            else:
                results.append((row.id, None))
                if getattr(outcome, "duplicate", False):
                    metrics.RELAY_DUPLICATES.labels(self.service).inc()
        failed = [r for r in results if r[1] is not None]
        if failed:
            log.warning("%s relay: %d of %d publishes failed (%s)", self.service, len(failed), len(rows), failed[0][1])
        return results

    async def _record(self, conn: AsyncConnection, results: list[tuple[int, str | None]]) -> None:
        ok_ids = [i for i, err in results if err is None]
        if ok_ids:
            await conn.execute(self._published, {"ids": ok_ids, "now": datetime.now(UTC)})
        # one UPDATE per error text: a NATS outage fails the whole batch with one or two of them
        failed: dict[str, list[int]] = {}
        for i, err in results:
            if err is not None:
                failed.setdefault(err[:2000], []).append(i)
        for err, ids in failed.items():
            await conn.execute(self._failed, {"ids": ids, "error": err})
