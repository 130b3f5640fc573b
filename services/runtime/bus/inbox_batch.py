"""Applying deliveries in batches: one transaction for the events of one
durable that arrive together (a pull batch), instead of one each.

The profile of ``bench/event_lag.py`` (bench/README.md, "Event lag") showed
the consumer's cost per event in the transaction machinery, not in the
handlers: a pool checkout with its ping, BEGIN, the inbox look-up and insert,
COMMIT, and, with a pull batch of 20 handled concurrently against a pool of
10, a fresh PostgreSQL connection (and its statement cache) for every second
event. Here the events that wait for one durable are applied by one drain task,
in order, in one unit of work: one look-up of the inbox for all of them, one
insert of their inbox rows, each event's handler with its own correlation and
causation, one COMMIT. Each event's inbox row commits with its effect, and the
caller acks only after that COMMIT, so the guarantees are those of one event
at a time: a crash before COMMIT loses nothing (no ack: redelivered), a crash
after it is caught by the inbox on redelivery.

If anything in a batch fails (a poison event, a race on the inbox), the batch
is rolled back as a whole and each of its events is applied again alone, by
the same code with a batch of one: the failing one gets its own exception, and
so its own retries and its own dead letter; the others succeed alone. This is
the only place that writes the inbox.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from opentelemetry import context as otel_context
from sqlalchemy import insert, select
from sqlalchemy.exc import IntegrityError

from contracts.envelope import Event
from services.runtime.db.service_db import ServiceDatabase
from services.runtime.db.unit_of_work import SYSTEM, UnitOfWork

#: a subscription's ``handler(uow, event)`` (``bus/consumers.py``)
Handler = Callable[[UnitOfWork, Any], Awaitable[None]]

DONE = "done"
DUPLICATE = "duplicate"


@dataclass
class _Job:
    event: Event
    #: the delivery's trace context (its ``process`` span): each handler runs under its own
    trace: otel_context.Context = field(default_factory=otel_context.get_current)
    future: asyncio.Future[str] = field(default_factory=lambda: asyncio.get_running_loop().create_future())


class InboxBatcher:
    """One per durable. A drain task runs only while events wait, and takes
    up to ``batch_max`` of them per transaction."""

    def __init__(self, db: ServiceDatabase, subject: str, handler: Handler, durable: str, batch_max: int):
        self.db = db
        self.subject = subject
        self.handler = handler
        self.durable = durable
        self.batch_max = max(1, batch_max)
        self.pending: list[_Job] = []
        self.draining: asyncio.Task[None] | None = None
        #: transactions that applied more than one event (tests and the bench read it)
        self.batches = 0
        #: multi-event transactions rolled back, their events then applied one by one
        self.rolled_back = 0

    async def submit(self, event: Event) -> str:
        """Apply ``event`` (with whatever else is waiting); its outcome, or its exception."""
        job = _Job(event)
        self.pending.append(job)
        if self.draining is None or self.draining.done():
            self.draining = asyncio.create_task(self._drain(), name=f"inbox-batch:{self.durable}")
        # shielded: a cancelled caller (shutdown) does not cancel the batch of the others
        return await asyncio.shield(job.future)

    async def _drain(self) -> None:
        while self.pending:
            jobs, self.pending = self.pending[: self.batch_max], self.pending[self.batch_max :]
            if len(jobs) > 1:
                try:
                    outcomes = await self._apply_batch(jobs)
                except asyncio.CancelledError:
                    for j in jobs + self.pending:
                        if not j.future.done():
                            j.future.cancel()
                    raise
                except Exception:  # noqa: BLE001 - rolled back: each event again, alone, for its own outcome
                    self.rolled_back += 1
                else:
                    self.batches += 1
                    for j, outcome in zip(jobs, outcomes, strict=True):
                        if not j.future.done():
                            j.future.set_result(outcome)
                    continue
            for j in jobs:
                if j.future.done():
                    continue
                try:
                    j.future.set_result(await self._apply_alone(j))
                except asyncio.CancelledError:
                    for k in jobs + self.pending:
                        if not k.future.done():
                            k.future.cancel()
                    raise
                except Exception as exc:  # noqa: BLE001 - handed to the waiting delivery
                    j.future.set_exception(exc)

    async def _apply_alone(self, job: _Job) -> str:
        """One event in its own transaction: a batch of one, and a lost race
        on the inbox (another replica committed the same event first) is a
        duplicate, not a failure."""
        try:
            (outcome,) = await self._apply_batch([job])
        except IntegrityError:
            inbox = self.db.metadata.tables["inbox"]
            async with self.db.read() as s:
                seen = await s.execute(select(inbox.c.event_id).where(inbox.c.consumer == self.durable, inbox.c.event_id == job.event.event_id))
                if seen.first() is not None:
                    return DUPLICATE
            raise
        return outcome

    async def _apply_batch(self, jobs: list[_Job]) -> list[str]:
        inbox = self.db.metadata.tables["inbox"]
        events = [j.event for j in jobs]
        ids = [e.event_id for e in events]
        async with self.db.unit_of_work(SYSTEM) as uow:
            seen = await uow.session.execute(select(inbox.c.event_id).where(inbox.c.consumer == self.durable, inbox.c.event_id.in_(ids)))
            done = {r[0] for r in seen}
            outcomes: list[str] = []
            fresh: list[_Job] = []
            for j in jobs:
                e = j.event
                if e.event_id in done:  # applied before, or earlier in this batch (a redelivery in the same pull)
                    outcomes.append(DUPLICATE)
                    continue
                done.add(e.event_id)
                fresh.append(j)
                outcomes.append(DONE)
            if fresh:
                now = datetime.now(UTC)
                await uow.session.execute(
                    insert(inbox), [{"consumer": self.durable, "event_id": j.event.event_id, "subject": self.subject, "processed_at": now} for j in fresh]
                )
            for j in fresh:
                e = j.event
                share = UnitOfWork(
                    uow.session,
                    uow.metadata,
                    actor=SYSTEM,
                    correlation_id=e.correlation_id,
                    causation_id=e.event_id,
                    emitted=uow.emitted,
                    audit_rows=uow.audit_rows,
                    outbox_rows=uow.outbox_rows,
                )
                token = otel_context.attach(j.trace)  # its events carry, and its spans join, its own trace
                try:
                    await self.handler(share, e)
                finally:
                    otel_context.detach(token)
        return outcomes
