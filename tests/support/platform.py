"""The services of the platform running inside the test's event loop against
a real nats-server and real databases: each service's HTTP app (in-process
ASGI client), its worker and its outbox relay."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Iterable
from typing import Any

import httpx
import msgspec
from nats.js.errors import NotFoundError

from contracts.subjects import DEADLETTER_STREAM, PRODUCERS, stream_name
from services.runtime import clock
from services.runtime.roles import Role
from services.runtime.http.auth import issue_token
from services.runtime.bus.plan import CLOCK_BUCKET, GATEWAY_LIMITS_BUCKET
from services.runtime.bus.consumers import Worker
from services.runtime.bus.connect import connect_nats
from services.runtime.bus_identity.credentials import BusAccess
from services.runtime.bus.relay import OutboxRelay
from services.runtime.service import (
    ServiceSpec,
    create_app,
    create_database,
    create_relay,
    create_worker,
    declare_streams,
    load_spec,
)
from services.runtime.db.service_db import ServiceDatabase
from services.runtime.settings import Settings
from tests.support.asgi import LifespanClient


async def reset_streams(bus: BusAccess) -> None:
    """Delete every stream (and so every durable) left by an earlier test (as the
    operator), the test clock's bucket with them: each test starts on real time;
    and the gateway's rate-limit counts: each test starts with a whole allowance
    (a test signs in as the same subject as the one before it, often within the
    same minute, and the two tests' requests added up to a 429 in CI)."""
    clock.follow(None)
    nc = await connect_nats(bus, "xciss-test-reset")
    try:
        js = nc.jetstream()
        for name in [*(stream_name(p) for p in PRODUCERS), DEADLETTER_STREAM, f"KV_{CLOCK_BUCKET}", f"KV_{GATEWAY_LIMITS_BUCKET}"]:
            with contextlib.suppress(NotFoundError):
                await js.delete_stream(name)
    finally:
        await nc.close()


class RunningService:
    def __init__(self, spec: ServiceSpec, settings: Settings):
        self.spec = spec
        self.settings = settings
        self.db: ServiceDatabase = create_database(spec, settings)
        self.client: httpx.AsyncClient | None = None
        self._lifespan: LifespanClient | None = None
        self.worker: Worker | None = None
        self.relay: OutboxRelay | None = None
        self._relay_stop = asyncio.Event()
        self._relay_task: asyncio.Task[None] | None = None

    async def start(self, *, api: bool = True, worker: bool = True, relay: bool = True) -> None:
        if relay:
            self.relay = create_relay(self.spec, self.settings, self.db)
            self._relay_stop = asyncio.Event()
            self._relay_task = asyncio.create_task(self.relay.run(self._relay_stop))
        if worker and self.spec.subscriptions():
            self.worker = create_worker(self.spec, self.settings, self.db)
            await self.worker.start()
        if api:
            self._lifespan = LifespanClient(create_app(self.spec, self.settings, self.db), f"http://{self.spec.name}.local")
            self.client = await self._lifespan.__aenter__()

    async def stop_relay(self) -> None:
        if self._relay_task is not None:
            self._relay_stop.set()
            await asyncio.wait_for(self._relay_task, 15)
            self._relay_task = None

    async def stop(self) -> None:
        if self._lifespan is not None:
            await self._lifespan.__aexit__(None, None, None)
            self._lifespan = self.client = None
        if self.worker is not None:
            await self.worker.stop()
            self.worker = None
        await self.stop_relay()
        await self.db.dispose()


class Platform:
    def __init__(self, settings: Settings, services: Iterable[str]):
        self.settings = settings
        self.services = {s: RunningService(load_spec(s), settings) for s in services}

    def __getitem__(self, service: str) -> RunningService:
        return self.services[service]

    def token(self, role: Role | str, org: str | None = None, subject: str | None = None) -> str:
        return issue_token(self.settings, subject=subject or f"test-{role}", role=role, org=org)

    def headers(self, role: Role | str | None, org: str | None = None) -> dict[str, str]:
        return {} if role is None else {"Authorization": f"Bearer {self.token(role, org)}"}

    async def call(self, service: str, method: str, path: str, *, role: Role | str | None = None, org: str | None = None, json: Any = None, **kw: Any) -> httpx.Response:
        client = self.services[service].client
        assert client is not None, f"{service} API not started"
        headers = {**self.headers(role, org), **kw.pop("headers", {})}
        return await client.request(method, path, headers=headers, json=json, **kw)

    async def start(self, **kw: bool) -> None:
        assert self.settings.nats_url
        # consumers bind to every producer; the streams Job's part, with the operator's own key
        # (a test that hands the services one seed file, XCISS_NATS_NKEY_FILE, still has the directory)
        operator = msgspec.structs.replace(self.settings, nats_nkey_file=None) if self.settings.nats_credentials_dir else self.settings
        await declare_streams(operator, list(PRODUCERS))
        for svc in self.services.values():
            await svc.start(**kw)

    async def stop(self) -> None:
        for svc in self.services.values():
            await svc.stop()


def to_builtins(obj: Any) -> Any:
    return msgspec.to_builtins(obj)


@contextlib.asynccontextmanager
async def running(platform: Platform, **kw: bool) -> AsyncIterator[Platform]:
    await platform.start(**kw)
    try:
        yield platform
    finally:
        await platform.stop()
