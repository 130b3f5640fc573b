"""Prometheus metrics of every service process.

Counters and histograms move as work happens (HTTP requests through
the API's metrics middleware (http/metrics.py: RouteMetrics), relay publishes, consumer outcomes). Gauges
that describe state elsewhere — the outbox backlog in the database, consumer
lag and dead letters in JetStream, a service's own figures such as the voucher
budget — are *probes*: async functions run when ``/metrics`` is scraped, at
most once per ``XCISS_METRICS_CACHE_S`` however often Prometheus asks, so a
scrape never hammers the database or the bus.

Which process exports what follows its roles: the ``api`` role the service's
own probes (``ServiceSpec.metrics``), the ``relay`` role the outbox probe, the
``worker`` role consumer lag and dead letters. ``xciss run`` and ``xciss up``
run all three in one process and serve everything on the API's ``/metrics``;
``xciss worker`` and ``xciss relay`` serve ``/metrics`` (and the probes'
``/health`` and ``/ready``) on ``XCISS_METRICS_PORT``. Several replicas report the same state gauges: use
``max by (...)`` over them. The catalogue is in docs/observability.md.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, Counter, Gauge, generate_latest
from sqlalchemy import MetaData, func, select
from sqlalchemy.ext.asyncio import AsyncEngine


log = logging.getLogger("xciss.metrics")

#: prefix of the HTTP metrics (http/metrics.py: RouteMetrics, Litestar's Prometheus series)
HTTP_PREFIX = "xciss_http"

OUTBOX_BACKLOG = Gauge("xciss_outbox_backlog", "Outbox rows not yet acknowledged by JetStream", ["service"])
OUTBOX_OLDEST_AGE = Gauge(
    "xciss_outbox_oldest_age_seconds", "Age of the oldest unpublished outbox row (0 when the outbox is empty)", ["service"]
)
RELAY_PUBLISHED = Counter("xciss_relay_published", "Outbox rows this relay published and JetStream acknowledged", ["service"])
RELAY_DUPLICATES = Counter(
    "xciss_relay_duplicates", "Publishes JetStream acknowledged as duplicates of a message id it already stored", ["service"]
)
RELAY_FAILURES = Counter("xciss_relay_publish_failures", "Publishes that failed (no PubAck); the row is retried", ["service"])
CONSUMER_MESSAGES = Counter(
    "xciss_consumer_messages",
    "Deliveries a durable consumer finished, by outcome: handled, duplicate (inbox), retried, dead_lettered",
    ["service", "durable", "outcome"],
)
CALENDAR_DAYS_LEFT = Gauge(
    "xciss_calendar_days_left",
    "Days from today (Beijing) to the end of the last year the official working-day calendar knows (-1: not even this year)",
)
CONSUMER_LAG = Gauge(
    "xciss_consumer_lag_messages", "Messages of a durable not yet acknowledged (num_pending + num_ack_pending)", ["service", "durable"]
)
DEADLETTER_MESSAGES = Gauge("xciss_deadletter_messages", "Messages in the dead-letter stream parked by this service's consumers", ["service"])
NATS_UNSAFE = Gauge(
    "xciss_nats_unsafe", "1 for each NATS safety check that failed at start-up (code label, see docs/observability.md)", ["service", "code"]
)

#: consumer outcomes (services.runtime.bus.consumers.Outcome) as operators read them
OUTCOME_LABELS = {"done": "handled", "duplicate": "duplicate", "retry": "retried", "parked": "dead_lettered"}

Probe = Callable[[], Awaitable[None]]


class ServiceMetrics:
    """The probes of one service process, refreshed when ``/metrics`` is scraped."""

    def __init__(self, service: str, *, cache_s: float = 5.0):
        self.service = service
        self.cache_s = cache_s
        self.probes: list[tuple[str, Probe]] = []
        self._last = float("-inf")
        self._lock = asyncio.Lock()

    def add(self, name: str, probe: Probe) -> None:
        self.probes.append((name, probe))

    async def refresh(self) -> None:
        """Run every probe unless they ran less than ``cache_s`` ago. A failing
        probe is logged and leaves its gauges as they were."""
        async with self._lock:
            if time.monotonic() - self._last < self.cache_s:
                return
            for name, probe in self.probes:
                try:
                    await asyncio.wait_for(probe(), timeout=5.0)
                except Exception as exc:  # a scrape must answer even when a dependency does not
                    log.warning("%s: metrics probe %s failed: %s: %s", self.service, name, type(exc).__name__, exc)
            self._last = time.monotonic()

    async def exposition(self) -> bytes:
        await self.refresh()
        return generate_latest(REGISTRY)


def outbox_probe(service: str, engine: AsyncEngine, metadata: MetaData) -> Probe:
    outbox = metadata.tables["outbox"]

    async def probe() -> None:
        async with engine.connect() as conn:
            row = (
                await conn.execute(select(func.count(), func.min(outbox.c.created_at)).where(outbox.c.published_at.is_(None)))
            ).one()
        count, oldest = row
        OUTBOX_BACKLOG.labels(service).set(count)
        if oldest is None:
            OUTBOX_OLDEST_AGE.labels(service).set(0)
        else:
            if oldest.tzinfo is None:  # SQLite gives naive UTC
                oldest = oldest.replace(tzinfo=UTC)
            OUTBOX_OLDEST_AGE.labels(service).set(max(0.0, (datetime.now(UTC) - oldest).total_seconds()))

    return probe


def record_outcome(service: str, durable: str, outcome: str) -> None:
    CONSUMER_MESSAGES.labels(service, durable, OUTCOME_LABELS.get(outcome, outcome)).inc()


def record_nats_findings(service: str, codes: list[str]) -> None:
    for code in codes:
        NATS_UNSAFE.labels(service, code).set(1)


async def serve_metrics(
    metrics: ServiceMetrics, host: str, port: int, stop: asyncio.Event, ready: Probe | None = None
) -> None:
    """``/metrics`` on its own port, for processes without the API
    (``xciss worker``, ``xciss relay``), with the probes' ``/health`` (the
    process answers) and ``/ready`` (``ready`` passes: the service's database);
    anything else answers 404."""

    async def answer(path: str) -> tuple[bytes, str, str]:
        if path == "/metrics":
            return await metrics.exposition(), "200 OK", CONTENT_TYPE_LATEST
        if path == "/health":
            return b'{"status":"ok"}', "200 OK", "application/json"
        if path == "/ready":
            try:
                if ready is not None:
                    await asyncio.wait_for(ready(), timeout=5.0)
            except Exception as exc:  # a failing dependency is the answer, not an error
                log.warning("%s: not ready: %s: %s", metrics.service, type(exc).__name__, exc)
                return b'{"status":"not_ready"}', "503 Service Unavailable", "application/json"
            return b'{"status":"ready"}', "200 OK", "application/json"
        return b"not found\n", "404 Not Found", "text/plain"

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            request_line = await asyncio.wait_for(reader.readline(), timeout=10)
            while (await asyncio.wait_for(reader.readline(), timeout=10)) not in (b"\r\n", b"\n", b""):
                pass
            parts = request_line.decode("latin-1").split()
            if len(parts) >= 2 and parts[0] in ("GET", "HEAD"):
                body, status, ctype = await answer(parts[1].split("?", 1)[0])
            else:
                body, status, ctype = b"not found\n", "404 Not Found", "text/plain"
            head = f"HTTP/1.1 {status}\r\nContent-Type: {ctype}\r\nContent-Length: {len(body)}\r\nConnection: close\r\n\r\n"
            writer.write(head.encode("latin-1") + (body if parts and parts[0] != "HEAD" else b""))
            await writer.drain()
        except (OSError, asyncio.TimeoutError, UnicodeDecodeError):
            pass
        finally:
            writer.close()

    server = await asyncio.start_server(handle, host, port)
    log.info("%s: metrics on http://%s:%d/metrics", metrics.service, host, port)
    try:
        async with server:
            await stop.wait()
    finally:
        server.close()
