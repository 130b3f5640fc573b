"""Consuming events: pull consumers with durable names, an idempotent inbox,
redelivery with backoff, and a dead-letter stream for what keeps failing.
Workers also answer commands (``Responder``, ``bus/commands.py``) on core
NATS request/reply.

FastStream's default for NATS terminates a message when the handler raises;
here acks are manual: success acks, a failure is nak'ed with a growing delay,
and after ``consumer_max_attempts`` the message is parked in ``DEADLETTER``
with its error, then acked. The server-side ``max_deliver`` is unlimited so a
crash on the last attempt cannot drop a message silently. The events of one
durable that arrive together are applied in one transaction, each acked after
its COMMIT (``bus/inbox_batch.py``).
"""

from __future__ import annotations

import asyncio
import logging
import traceback
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import msgspec
import nats
from nats.js.api import AckPolicy as JsAckPolicy
from nats.js.api import ConsumerConfig, DeliverPolicy
from nats.js.errors import NotFoundError
from opentelemetry.trace import SpanKind, Status, StatusCode

from contracts.envelope import Event, decode
from contracts.subjects import (
    DEADLETTER_STREAM,
    deadletter_subject,
    durable_name,
    producer_of,
    stream_name,
)
from services.runtime import metrics, telemetry
from services.runtime.bus.commands import Responder, run_command

if TYPE_CHECKING:  # FastStream is imported by the worker that builds its broker: an API or relay process needs none of it
    from faststream.nats import NatsBroker
    from faststream.nats.annotations import NatsMessage
from services.runtime.bus.connect import connect_nats
from services.runtime.bus.inbox_batch import InboxBatcher
from services.runtime.bus_identity.credentials import BusAccess
from services.runtime.bus_identity.permissions import inbox_prefix
from services.runtime.db.unit_of_work import UnitOfWork
from services.runtime.db.service_db import ServiceDatabase
from services.runtime.settings import Settings
from services.runtime.bus.streams import deadletter_stream_config, ensure_stream

log = logging.getLogger("xciss.consumers")

Handler = Callable[[UnitOfWork, Any], Awaitable[None]]


@dataclass(frozen=True)
class Subscription:
    """``handler(uow, event)`` runs in the same transaction as the inbox row."""

    event_type: type[Event]
    handler: Handler

    @property
    def subject(self) -> str:
        return self.event_type.subject


PeriodicFn = Callable[[ServiceDatabase], Awaitable[Any]]


@dataclass(frozen=True)
class Periodic:
    """A task the worker runs every ``interval_s`` seconds while it runs.

    ``fn(db)`` opens its own unit of work. Several workers may run it at the
    same time, so it must be safe to run concurrently (conditional updates).
    A failure is logged and the next run happens on schedule."""

    name: str
    interval_s: float
    fn: PeriodicFn


class Outcome:
    DONE = "done"
    DUPLICATE = "duplicate"
    RETRY = "retry"
    PARKED = "parked"


class Worker:
    """Runs a service's subscriptions on one FastStream broker."""

    def __init__(
        self,
        service: str,
        settings: Settings,
        db: ServiceDatabase,
        subscriptions: list[Subscription],
        bus: BusAccess,
        responders: list[Responder] | None = None,
        periodic: list[Periodic] | None = None,
    ):
        self.service = service
        self.settings = settings
        self.db = db
        self.subscriptions = subscriptions
        #: each subscription and its durable consumer, by subject (one event type each)
        self._subscribed: dict[str, tuple[Subscription, str]] = {}
        self.responders = responders or []
        self.periodic = periodic or []
        self._periodic_tasks: list[asyncio.Task[None]] = []
        self._stopping = asyncio.Event()
        self.periodic_runs: dict[str, int] = {}
        self.bus = bus
        self.broker: NatsBroker | None = None
        self._nc: nats.NATS | None = None
        self._answering: set[asyncio.Task[None]] = set()
        self._responder_subs: list[Any] = []
        self.outcomes: dict[str, int] = {}
        #: per durable: the events of a pull batch are applied in one transaction (bus/inbox_batch.py)
        self.batchers: dict[str, InboxBatcher] = {}

    def _batcher(self, sub: Subscription, durable: str) -> InboxBatcher:
        b = self.batchers.get(durable)
        if b is None:
            b = self.batchers[durable] = InboxBatcher(
                self.db, sub.subject, sub.handler, durable, self.settings.consumer_batch
            )
        return b

    def backoff(self, attempt: int) -> float:
        steps = self.settings.consumer_backoff_s
        return steps[min(attempt - 1, len(steps) - 1)] if steps else 1.0

    def _build_broker(self) -> NatsBroker:
        from faststream import AckPolicy
        from faststream.nats import JStream, NatsBroker, PullSub
        from faststream.nats.security import NatsSecurity

        options = self.bus.connect_options()
        tls = options.pop("tls", None)
        broker = NatsBroker(
            self.bus.servers,
            name=f"xciss-{self.service}-worker",
            security=NatsSecurity(ssl_context=tls) if tls is not None else None,
            **options,
            max_reconnect_attempts=-1,
            reconnect_time_wait=1,
            graceful_timeout=self.settings.graceful_timeout_s,
            logger=None,
            # the handlers take no parameters and decode with msgspec: FastStream's default
            # serializer (pydantic) would build a model per subscriber for nothing (idle memory)
            serializer=None,
        )
        # one handler for every subscription, found by the message's subject: FastStream wraps
        # each handler it is given with a test recorder (a MagicMock) even outside tests, about
        # 12 KiB of idle memory a handler (issue 19, target 5)
        handler: Any = self._on_message
        for sub in self.subscriptions:
            durable = durable_name(self.service, sub.subject)
            self._subscribed[sub.subject] = (sub, durable)
            handler = broker.subscriber(
                sub.subject,
                stream=JStream(stream_name(producer_of(sub.subject)), declare=False),
                durable=durable,
                pull_sub=PullSub(batch_size=self.settings.consumer_batch, timeout=1.0),
                # the next pull is fetched while the last one's batch commits (bus/inbox_batch.py)
                max_workers=2 * self.settings.consumer_batch,
                config=ConsumerConfig(
                    durable_name=durable,
                    ack_policy=JsAckPolicy.EXPLICIT,
                    ack_wait=self.settings.consumer_ack_wait_s,
                    max_deliver=-1,
                    deliver_policy=DeliverPolicy.ALL,
                    filter_subject=sub.subject,
                ),
                ack_policy=AckPolicy.MANUAL,
                # pulls are answered on this identity's own inboxes (FastStream's default is _INBOX.)
                inbox_prefix=f"{inbox_prefix(self.bus.identity)}.".encode(),
                include_in_schema=False,
            )(handler)
        return broker

    async def _on_message(self) -> None:
        """Every subscription's handler. No parameters: FastStream's dependency injection
        would resolve a ``NatsMessage`` parameter in a worker thread, for every message
        (the profile's run_in_threadpool)."""
        assert self.broker is not None
        msg: NatsMessage = self.broker.context.get_local("message")
        sub, durable = self._subscribed[msg.raw_message.subject]
        outcome = await self.process(sub, durable, msg.raw_message)
        self.outcomes[outcome] = self.outcomes.get(outcome, 0) + 1
        metrics.record_outcome(self.service, durable, outcome)

    async def process(self, sub: Subscription, durable: str, raw: Any) -> str:
        """Handle one delivery and ack, nak or park it. Never raises."""
        headers = dict(raw.headers or {})
        attempt = raw.metadata.num_delivered if raw.metadata else 1
        parent = telemetry.context_from(headers)
        with telemetry.tracer().start_as_current_span(f"{sub.subject} process", context=parent, kind=SpanKind.CONSUMER) as span:
            span.set_attribute("messaging.system", "nats")
            span.set_attribute("messaging.destination.name", sub.subject)
            span.set_attribute("messaging.consumer.group.name", durable)
            span.set_attribute("messaging.delivery.attempt", attempt)
            try:
                event = decode(raw.data, sub.event_type)
            except (msgspec.DecodeError, msgspec.ValidationError) as exc:
                # a malformed message never gets better: park it at once
                await self._park(durable, raw, f"undecodable: {exc}", attempt)
                await raw.ack()
                span.set_status(Status(StatusCode.ERROR, "undecodable"))
                return Outcome.PARKED
            span.set_attribute("messaging.message.id", event.event_id)
            try:
                outcome = await self._batcher(sub, durable).submit(event)
            except Exception as exc:
                span.record_exception(exc)
                span.set_status(Status(StatusCode.ERROR, type(exc).__name__))
                if attempt >= self.settings.consumer_max_attempts:
                    error = "".join(traceback.format_exception_only(exc)).strip()
                    log.error("%s: giving up on %s after %d attempts: %s", durable, event.event_id, attempt, error)
                    await self._park(durable, raw, error, attempt, event_id=event.event_id)
                    await raw.ack()
                    return Outcome.PARKED
                delay = self.backoff(attempt)
                log.warning("%s: attempt %d on %s failed (%s); redelivery in %.1fs", durable, attempt, event.event_id, exc, delay)
                await raw.nak(delay=delay)
                return Outcome.RETRY
            await raw.ack()
            return outcome

    async def _park(self, durable: str, raw: Any, error: str, attempt: int, event_id: str | None = None) -> None:
        assert self._nc is not None
        js = self._nc.jetstream()
        seq = raw.metadata.sequence.stream if raw.metadata else 0
        headers = {
            "Nats-Msg-Id": f"dl:{durable}:{seq}",
            "Xciss-Original-Subject": raw.subject,
            "Xciss-Consumer": durable,
            "Xciss-Service": self.service,
            "Xciss-Error": error[:4000],
            "Xciss-Attempts": str(attempt),
            "Xciss-Stream-Seq": str(seq),
            "Xciss-Parked-At": datetime.now(UTC).isoformat(),
        }
        if event_id:
            headers["Xciss-Event-Id"] = event_id
        for k in ("traceparent", "tracestate"):
            if raw.headers and k in raw.headers:
                headers[k] = raw.headers[k]
        await js.publish(deadletter_subject(self.service, durable), raw.data, headers=headers)

    def _make_responder(self, r: Responder) -> Callable[[Any], Awaitable[None]]:
        async def on_request(msg: Any) -> None:
            # answer in a task of its own: one slow command does not hold up the next
            task = asyncio.create_task(self.answer(r, msg))
            self._answering.add(task)
            task.add_done_callback(self._answering.discard)

        return on_request

    async def answer(self, r: Responder, msg: Any) -> None:
        """Run the command and respond. Never raises; always responds."""
        reply, headers = await run_command(r, self.db, self.service, msg)
        if not msg.reply:
            return
        try:
            assert self._nc is not None
            await self._nc.publish(msg.reply, reply, headers=headers)
        except Exception:  # the caller is gone or NATS is down: it will time out and retry
            log.warning("%s: could not answer %s", self.service, r.subject, exc_info=True)

    async def _every(self, p: Periodic) -> None:
        while not self._stopping.is_set():
            try:
                await asyncio.wait_for(self._stopping.wait(), timeout=p.interval_s)
                return
            except TimeoutError:
                pass
            try:
                await p.fn(self.db)
            except Exception:
                log.exception("%s: periodic task %s failed", self.service, p.name)
            self.periodic_runs[p.name] = self.periodic_runs.get(p.name, 0) + 1

    def _start_periodic(self) -> None:
        self._stopping.clear()
        for p in self.periodic:
            self._periodic_tasks.append(asyncio.create_task(self._every(p), name=f"{self.service}:{p.name}"))

    async def _stop_periodic(self) -> None:
        """Let a run in progress finish (up to the graceful timeout), then cancel."""
        self._stopping.set()
        tasks, self._periodic_tasks = self._periodic_tasks, []
        if not tasks:
            return
        _, pending = await asyncio.wait(tasks, timeout=self.settings.graceful_timeout_s)
        for t in pending:
            t.cancel()
        if pending:
            await asyncio.wait(pending)

    async def start(self) -> None:
        self._nc = await connect_nats(self.bus, f"xciss-{self.service}-dlq")
        self._start_periodic()
        for r in self.responders:
            self._responder_subs.append(await self._nc.subscribe(r.subject, queue=self.service, cb=self._make_responder(r)))
        self.broker = self._build_broker()
        delay = 0.2
        # the producers' streams may not exist yet, and a NATS cluster electing a leader answers
        # JetStream requests with timeouts or 503s: a worker started then retries, it does not die
        while True:
            try:
                await ensure_stream(self._nc.jetstream(), deadletter_stream_config(self.settings), may_update=False)
                await self.broker.start()
                return
            except Exception as exc:
                log.warning("%s worker: cannot bind consumers yet (%s: %s); retrying in %.1fs", self.service, type(exc).__name__, exc, delay)
                try:
                    await self.broker.stop()
                except Exception:  # the half-started broker's own goodbye can time out too
                    log.debug("%s worker: stopping the unbound broker failed", self.service, exc_info=True)
                self.broker = self._build_broker()
                await asyncio.sleep(delay)
                delay = min(delay * 2, 5.0)

    async def stop(self) -> None:
        """Finish in-flight handlers (up to the graceful timeout), then close."""
        await self._stop_periodic()
        for sub in self._responder_subs:  # take no new requests; answer those in hand
            try:
                await sub.drain()
            except Exception:
                log.debug("%s: draining a responder failed", self.service, exc_info=True)
        self._responder_subs.clear()
        if self._answering:
            await asyncio.wait(set(self._answering), timeout=self.settings.graceful_timeout_s)
        if self.broker is not None:
            await self.broker.stop()
        if self._nc is not None and not self._nc.is_closed:
            await self._nc.drain()

    async def probe_metrics(self) -> None:
        """Scrape-time gauges: each durable's lag and this service's dead letters."""
        if self._nc is None or not self._nc.is_connected:
            return
        js = self._nc.jetstream(timeout=2.0)
        for sub in self.subscriptions:
            durable = durable_name(self.service, sub.subject)
            try:
                info = await js.consumer_info(stream_name(producer_of(sub.subject)), durable)
            except NotFoundError:
                continue  # not bound yet
            metrics.CONSUMER_LAG.labels(self.service, durable).set((info.num_pending or 0) + (info.num_ack_pending or 0))
        try:
            dl = await js.stream_info(DEADLETTER_STREAM, subjects_filter=deadletter_subject(self.service, "*"))
        except NotFoundError:
            return
        metrics.DEADLETTER_MESSAGES.labels(self.service).set(sum((dl.state.subjects or {}).values()))

    async def run(self, stop: asyncio.Event) -> None:
        await self.start()
        try:
            await stop.wait()
        finally:
            await self.stop()
