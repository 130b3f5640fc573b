"""What a service plugs into the runtime, and the pieces built from it.

A service module exposes a :class:`ServiceSpec`; the runtime builds its HTTP
app, its worker and its relay from that spec and the settings. The runtime
never imports a service by name except through :func:`load_spec`.
"""

from __future__ import annotations

import asyncio
import importlib
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import nats
from sqlalchemy import MetaData

from services.runtime.bus import testclock
from services.runtime.bus.connect import connect_nats
from services.runtime.bus_identity.credentials import BusAccess
from services.runtime.bus_identity.permissions import OPERATOR
from services.runtime.bus.plan import CLOCK_BUCKET, bucket_owner
from services.runtime.bus.commands import CommandError, Responder
from services.runtime.bus.consumers import Periodic, Subscription, Worker
from services.runtime.metrics import ServiceMetrics, outbox_probe
from services.runtime.bus.relay import OutboxRelay
from services.runtime.db.service_db import ServiceDatabase
from services.runtime.settings import Settings
from services.runtime.bus.streams import ensure_service_streams

if TYPE_CHECKING:  # the HTTP stack is imported by create_app: a relay or worker process needs none of it
    from litestar import Litestar
    from litestar.di import Provide

log = logging.getLogger("xciss.service")


@dataclass(frozen=True)
class ServiceSpec:
    name: str
    metadata: MetaData
    #: builds the route handlers (controllers) of the service
    routes: Callable[[Settings], Sequence[Any]]
    subscriptions: Callable[[], list[Subscription]] = list
    #: command subjects the service answers (core NATS request/reply)
    responders: Callable[[], list[Responder]] = list
    #: command subjects the service sends (its bus identity may publish only these)
    asks: tuple[str, ...] = ()
    description: str = ""
    #: tasks the worker runs on a timer (each must be safe with several workers)
    periodic: Callable[[Settings], list[Periodic]] = field(default=lambda _s: [])
    #: operator tasks run by ``xciss task <service> <name>`` (e.g. rebuilding a read model)
    tasks: Callable[[], dict[str, Callable[[ServiceDatabase], Awaitable[Any]]]] = field(default=lambda: {})
    dependencies: Callable[[Settings], dict[str, Provide]] = field(default=lambda _s: {})
    #: the service's own gauges, set from its database when ``/metrics`` is
    #: scraped (at most every ``XCISS_METRICS_CACHE_S``), e.g. voucher budget remaining
    metrics_probe: Callable[[ServiceDatabase], Awaitable[None]] | None = None


def load_spec(service: str) -> ServiceSpec:
    module = importlib.import_module(f"services.{service}.app")
    return module.SPEC


def tables_spec(service: str) -> ServiceSpec:
    """A service with its tables only (``services/<service>/db/models.py``), no routes,
    subscriptions or tasks: what an outbox relay needs, without importing the service's
    HTTP and event handlers (a relay process holds ~72 MiB instead of ~100: bench/memory.py --deployed)."""
    module = importlib.import_module(f"services.{service}.db.models")
    return ServiceSpec(name=service, metadata=module.metadata, routes=lambda _settings: ())


class NatsHandle:
    """The API process's own NATS connection, for request/reply commands and
    ``/ready``'s detail. It connects in the background, so the API serves
    while NATS is down and ``/ready`` says so (without turning unready)."""

    def __init__(self, bus: BusAccess | None, name: str):
        self.bus = bus
        self.name = name
        self.nc: nats.NATS | None = None
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        if self.bus is not None:
            self._task = asyncio.create_task(self._connect())

    async def _connect(self) -> None:
        assert self.bus is not None
        self.nc = await connect_nats(self.bus, self.name)

    async def connection(self, timeout: float = 5.0) -> nats.NATS:
        """The connection, for sending commands; waits briefly for the first connect."""
        if self.nc is None and self._task is not None and not self._task.done():
            await asyncio.wait({self._task}, timeout=timeout)
        if self.nc is None or not self.nc.is_connected:
            raise CommandError("command.unavailable", "消息服务暂不可用，请稍后重试", "the message bus is not reachable; try again later")
        return self.nc

    async def check(self) -> None:
        if self.bus is None:
            raise RuntimeError("no NATS URL configured")
        if self.nc is None or not self.nc.is_connected:
            raise RuntimeError("not connected to NATS")
        await self.nc.jetstream().account_info()

    async def stop(self) -> None:
        if self._task and not self._task.done():
            self._task.cancel()
        if self.nc is not None and not self.nc.is_closed:
            try:  # a bus that does not answer must not hold the shutdown
                await asyncio.wait_for(self.nc.close(), 5.0)
            except TimeoutError:
                log.warning("%s: closing the NATS connection timed out", self.name)


def create_database(spec: ServiceSpec, settings: Settings) -> ServiceDatabase:
    return ServiceDatabase(spec.name, settings.database_url(spec.name), spec.metadata, pool=settings.db_pool())


def create_metrics(spec: ServiceSpec, settings: Settings) -> ServiceMetrics:
    """The probes of one process; the roles it runs add theirs."""
    return ServiceMetrics(spec.name, cache_s=settings.metrics_cache_s)


def create_app(spec: ServiceSpec, settings: Settings, db: ServiceDatabase | None = None, metrics: ServiceMetrics | None = None) -> Litestar:
    from litestar.di import Provide

    from services.runtime.http.app import build_app
    from services.runtime.http.clock_api import clock_controllers
    from services.runtime.http.operation_docs import describe_when_documented

    db = db or create_database(spec, settings)
    metrics = metrics or create_metrics(spec, settings)
    if spec.metrics_probe is not None:
        probe, service_db = spec.metrics_probe, db
        metrics.add(f"{spec.name}.service", lambda: probe(service_db))
    nats_handle = NatsHandle(settings.bus(spec.name) if settings.nats_url else None, f"xciss-{spec.name}-api")
    routes = list(spec.routes(settings))
    on_startup: list[Callable[[], Awaitable[None]]] = [nats_handle.start]
    on_shutdown: list[Callable[[], Awaitable[None]]] = [nats_handle.stop]
    if testclock.allowed(settings):  # the test clock: never in production
        routes += clock_controllers(owner=bucket_owner(CLOCK_BUCKET) == spec.name, replicas=settings.stream_replicas)
        follower = testclock.ClockFollower(lambda: nats_handle.nc, settings.clock_poll_s, f"{spec.name}-api")
        on_startup.append(follower.start)
        on_shutdown.insert(0, follower.stop)
    app = build_app(
        spec.name,
        settings,
        db,
        routes,
        # NATS is shown in /ready, not required by it: the outbox takes writes while the bus is down
        reported_checks={"nats": nats_handle.check},
        on_startup=on_startup,
        on_shutdown=on_shutdown,
        dependencies={
            "settings": Provide(lambda: settings, use_cache=True, sync_to_thread=False),
            "nats": Provide(lambda: nats_handle, use_cache=True, sync_to_thread=False),
            **spec.dependencies(settings),
        },
        description=spec.description,
        metrics=metrics,
    )
    return describe_when_documented(app, spec.name)


def create_worker(spec: ServiceSpec, settings: Settings, db: ServiceDatabase, metrics: ServiceMetrics | None = None) -> Worker:
    if not settings.nats_url:
        raise RuntimeError("XCISS_NATS_URL is required to run a worker")
    worker = Worker(spec.name, settings, db, spec.subscriptions(), settings.bus(spec.name), responders=spec.responders(), periodic=spec.periodic(settings))
    if metrics is not None:
        metrics.add(f"{spec.name}.consumers", worker.probe_metrics)
    return worker


def create_relay(spec: ServiceSpec, settings: Settings, db: ServiceDatabase, metrics: ServiceMetrics | None = None) -> OutboxRelay:
    if not settings.nats_url:
        raise RuntimeError("XCISS_NATS_URL is required to run a relay")
    relay = OutboxRelay(
        spec.name,
        db.engine,
        db.metadata,
        settings.bus(spec.name),
        poll_s=settings.outbox_poll_s,
        batch=settings.outbox_batch,
        publish_timeout_s=settings.publish_timeout_s,
    )
    db.on_events.append(relay.poke)
    if metrics is not None:
        metrics.add(f"{spec.name}.outbox", outbox_probe(spec.name, db.engine, db.metadata))
    return relay


#: how long a process keeps trying to declare its streams while JetStream cannot answer
STREAMS_DEADLINE_S = 90.0


async def declare_streams(settings: Settings, services: Sequence[str], identity: str = OPERATOR) -> None:
    """Each owner's stream plus the dead-letter stream: every stream as the
    operator (``xciss streams``, ``xciss up``), or a service's own at its start.

    A JetStream cluster that is forming, electing or busy may not answer (a
    timeout, "temporarily unavailable", "no suitable peers"), and two replicas
    of a service declare the same stream at once: such errors are tried again
    for up to :data:`STREAMS_DEADLINE_S` before the process gives up (found by
    the cluster fault run: a replica that exited at start)."""
    nc = await connect_nats(settings.bus(identity), f"xciss-streams-{identity}")
    deadline = asyncio.get_running_loop().time() + STREAMS_DEADLINE_S
    delay = 0.5
    try:
        for s in services:
            while True:
                try:
                    await ensure_service_streams(nc.jetstream(timeout=10), s, settings, may_update_shared=identity == OPERATOR)
                    break
                except nats.errors.Error as exc:
                    if asyncio.get_running_loop().time() + delay > deadline:
                        raise
                    log.warning("%s: streams of %s not declared yet (%s: %s); again in %.1fs", identity, s, type(exc).__name__, exc, delay)
                    await asyncio.sleep(delay)
                    delay = min(delay * 2, 5.0)
    finally:
        await nc.close()
