"""The gateway's rate limit is one allowance per caller across replicas: two
gateways on the same NATS count together (a JetStream key-value bucket)."""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path

import httpx

from services.gateway.app import create_app
from services.runtime.roles import Role
from services.runtime.http.auth import issue_token
from services.runtime.bus_identity.credentials import BusAccess
from services.runtime.bus.plan import GATEWAY_LIMITS_BUCKET
from services.runtime.bus.kvstore import NatsKVStore
from services.command.natsserver import EmbeddedNats
from services.runtime.settings import SERVICES, Settings
from tests.support.asgi import LifespanClient


def _ok(request: httpx.Request) -> httpx.Response:
    return httpx.Response(200, json={"ok": True})


async def test_two_gateway_replicas_share_one_allowance(nats_server: EmbeddedNats, tmp_path: Path) -> None:
    """Each replica tells the shared count in the background: once it has (a round trip,
    at most 50 ms under load), the other replica refuses the caller's fifth request."""
    settings = Settings(data_dir=tmp_path, nats_url=nats_server.url, nats_credentials_dir=nats_server.credentials_dir, gateway_rate_limit_per_minute=4)
    urls = {s: f"http://{s}.svc" for s in SERVICES}
    apps = [create_app(settings, transport=httpx.MockTransport(_ok), upstreams=urls) for _ in (1, 2)]
    caller = {"Authorization": f"Bearer {issue_token(settings, subject=f'user-{uuid.uuid4()}', role=Role.USER)}"}
    async with LifespanClient(apps[0], "http://gw1") as a, LifespanClient(apps[1], "http://gw2") as b:
        codes = []
        for i in range(6):  # alternate replicas, as a load balancer would
            client, app = (a, apps[0]) if i % 2 == 0 else (b, apps[1])
            codes.append((await client.get("/api/registry/v1/x", headers=caller)).status_code)
            await app.state.rate_limit.settled()
    assert codes == [200, 200, 200, 200, 429, 429]


async def test_a_burst_on_one_replica_gets_exactly_the_allowance(nats_server: EmbeddedNats, tmp_path: Path) -> None:
    """Twenty requests at once from one caller: four answered, sixteen refused with
    Retry-After, and the shared count holds the four for the other replicas."""
    settings = Settings(data_dir=tmp_path, nats_url=nats_server.url, nats_credentials_dir=nats_server.credentials_dir, gateway_rate_limit_per_minute=4)
    urls = {s: f"http://{s}.svc" for s in SERVICES}
    apps = [create_app(settings, transport=httpx.MockTransport(_ok), upstreams=urls) for _ in (1, 2)]
    caller = {"Authorization": f"Bearer {issue_token(settings, subject=f'user-{uuid.uuid4()}', role=Role.USER)}"}
    async with LifespanClient(apps[0], "http://gw1") as a, LifespanClient(apps[1], "http://gw2") as b:
        answers = await asyncio.gather(*(a.get("/api/registry/v1/x", headers=caller) for _ in range(20)))
        await apps[0].state.rate_limit.settled()
        other = await b.get("/api/registry/v1/x", headers=caller)
    assert sorted(r.status_code for r in answers) == [200] * 4 + [429] * 16
    refused = next(r for r in answers if r.status_code == 429)
    assert refused.json()["code"] == "request.rate_limited" and int(refused.headers["retry-after"]) >= 1
    assert refused.headers["ratelimit-remaining"] == "0"
    assert other.status_code == 429


async def test_an_anonymous_caller_cannot_dodge_the_limit_with_a_made_up_forwarded_address(nats_server: EmbeddedNats, tmp_path: Path) -> None:
    """Counted by the address the trusted proxy (an ingress at 10.200.0.0/16) saw, not by what the caller wrote."""
    settings = Settings(data_dir=tmp_path, nats_url=nats_server.url, nats_credentials_dir=nats_server.credentials_dir, gateway_rate_limit_per_minute=3,
                        trusted_proxies=("127.0.0.0/8", "10.200.0.0/16"))
    urls = {s: f"http://{s}.svc" for s in SERVICES}
    n = uuid.uuid4().int
    client = f"198.18.{n % 250}.{(n >> 8) % 250 + 1}"
    async with LifespanClient(create_app(settings, transport=httpx.MockTransport(_ok), upstreams=urls), "http://gw") as gw:
        codes = [(await gw.get("/api/registry/v1/x", headers={"X-Forwarded-For": f"203.0.113.{i}, {client}, 10.200.0.5"})).status_code for i in range(5)]
    assert codes == [200, 200, 200, 429, 429]


async def test_the_store_keeps_values_and_expiry(nats_server: EmbeddedNats) -> None:
    store = NatsKVStore(nats_server.access("gateway"), GATEWAY_LIMITS_BUCKET, create=True)
    try:
        assert await store.get("k") is None
        await store.set("k", b"v", expires_in=60)
        assert await store.get("k") == b"v" and await store.exists("k")
        assert 0 < (await store.expires_in("k") or 0) <= 60
        await store.set("gone", b"x", expires_in=-1)
        assert await store.get("gone") is None
        ns = store.with_namespace("other")
        try:
            assert await ns.get("k") is None  # namespaces do not see each other
        finally:
            await ns.close()
        await store.delete("k")
        assert await store.get("k") is None
    finally:
        await store.close()


async def test_the_limit_fails_open_when_nats_is_gone(tmp_path: Path) -> None:
    store = NatsKVStore(BusAccess(url="nats://127.0.0.1:1", identity="gateway"), "NOWHERE")
    # connect_nats retries forever; the store must not hang a request: a
    # caller that cannot reach NATS gets "nothing stored" quickly

    async def probe() -> bytes | None:
        return await store.get("k")

    try:
        result = await asyncio.wait_for(probe(), timeout=30)
    except TimeoutError:
        result = b"hung"
    finally:
        await store.close()
    assert result is None


async def test_each_test_starts_with_a_whole_allowance(nats_server: EmbeddedNats, tmp_path: Path) -> None:
    """Tests sign in as fixed subjects (``test-bureau``): the counts one test left in
    the shared bucket must not refuse the next test's requests within the same minute
    (CI's run of stop 27 failed two portal tests with 429 this way)."""
    from tests.support.platform import reset_streams

    settings = Settings(data_dir=tmp_path, nats_url=nats_server.url, nats_credentials_dir=nats_server.credentials_dir, gateway_rate_limit_per_minute=2)
    urls = {s: f"http://{s}.svc" for s in SERVICES}
    caller = {"Authorization": f"Bearer {issue_token(settings, subject=f'test-fixed-{uuid.uuid4()}', role=Role.BUREAU)}"}

    async def three_requests() -> list[int]:
        app = create_app(settings, transport=httpx.MockTransport(_ok), upstreams=urls)
        async with LifespanClient(app, "http://gw") as gw:
            codes = [(await gw.get("/api/registry/v1/x", headers=caller)).status_code for _ in range(3)]
            await app.state.rate_limit.settled()
        return codes

    assert await three_requests() == [200, 200, 429]
    await reset_streams(nats_server.access("operator"))
    assert await three_requests() == [200, 200, 429]
