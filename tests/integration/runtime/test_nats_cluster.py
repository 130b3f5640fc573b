"""The platform on a real three-node JetStream cluster (issue 21's finding 1):
its key-value buckets are replicated like its streams, a client given every
server's address moves on when its server dies, and the production check
names a bucket kept on one server."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import msgspec
import nats.errors
import nats.js.errors
import pytest
from nats.js import JetStreamContext

from services.runtime.bus import natscheck, testclock
from services.runtime.bus.connect import connect_nats
from services.runtime.bus.plan import GATEWAY_LIMITS_BUCKET, SESSIONS_BUCKET
from services.runtime.platform import platform_plan
from services.runtime.bus.kvstore import NatsKVStore
from services.runtime.http.sessions import session_store
from services.runtime.settings import Settings
from services.runtime.bus.streams import ensure_stream, producer_stream_config
from tests.faults.natscluster import NatsCluster
from tests.support.polling import eventually

pytestmark = pytest.mark.slow


@pytest.fixture
def cluster(tmp_path: Path) -> Iterator[NatsCluster]:
    c = NatsCluster(tmp_path / "nats", tmp_path / "creds", tmpfs=False)
    c.start()
    try:
        yield c
    finally:
        c.close()


def _settings(c: NatsCluster, tmp_path: Path, **kw: object) -> Settings:
    return Settings(data_dir=tmp_path, nats_url=c.url, nats_credentials_dir=c.credentials_dir, stream_replicas=3, **kw)  # type: ignore[arg-type]


async def _replicas(c: NatsCluster, stream: str) -> int:
    nc = await connect_nats(c.access("operator"), "test-replicas")
    try:
        return (await nc.jetstream().stream_info(stream)).config.num_replicas
    finally:
        await nc.close()


async def _state(c: NatsCluster, stream: str, store: NatsKVStore) -> str:
    """What a failure needs to be understood: the stream's leader and replicas as
    the surviving servers see them, and where the store's connection is."""
    conn = store.connection
    where = f"store connected={conn.is_connected if conn else None} to {conn.connected_url if conn else None}"
    try:
        nc = await connect_nats(c.access("operator"), "test-state")
    except Exception as exc:  # noqa: BLE001 - a diagnostic only
        return f"{where}; no operator connection ({exc!r})"
    try:
        info = (await nc.jetstream(timeout=5).stream_info(stream)).cluster
        replicas = [(r.name, r.current, r.offline, r.lag) for r in (info.replicas or [])] if info else None
        return f"{where}; {stream} leader={info.leader if info else None} replicas={replicas}"
    except Exception as exc:  # noqa: BLE001
        return f"{where}; stream info failed ({exc!r})"
    finally:
        await nc.close()


async def test_the_key_value_buckets_have_as_many_replicas_as_the_streams(cluster: NatsCluster, tmp_path: Path) -> None:
    settings = _settings(cluster, tmp_path)
    sessions = session_store(settings, "test-sessions", "registry")  # registry owns the sessions bucket
    assert isinstance(sessions, NatsKVStore)
    await sessions.set("revoked:abc", b"1", expires_in=60)
    limits = NatsKVStore(settings.bus("gateway"), GATEWAY_LIMITS_BUCKET, name="test-gw", create=True, replicas=settings.stream_replicas)
    await limits.set("k", b"v", expires_in=60)
    nc = await connect_nats(settings.bus("registry"), "test-clock")
    try:
        await testclock.bucket(nc, create=True, replicas=settings.stream_replicas)
    finally:
        await nc.close()
    try:
        # before the fix every bucket was created with one replica: one server's loss took the sessions away
        assert await _replicas(cluster, f"KV_{SESSIONS_BUCKET}") == 3
        assert await _replicas(cluster, f"KV_{GATEWAY_LIMITS_BUCKET}") == 3
        assert await _replicas(cluster, "KV_XCISS_CLOCK") == 3
        # and survive the loss of the server that leads them: once the other two have
        # elected a new leader (a few seconds, during which the store answers "not stored"),
        # the revocation is read again, with that server still down
        nc = await connect_nats(cluster.access("operator"), "test-leader")
        try:
            leader = (await nc.jetstream().stream_info(f"KV_{SESSIONS_BUCKET}")).cluster.leader
        finally:
            await nc.close()
        node = cluster.node_named(leader)
        assert node is not None
        node.kill()
        try:
            # the other two elect a leader within seconds; a loaded CI machine once took longer than 30 s
            await eventually(lambda: sessions.exists("revoked:abc"), timeout=60, interval=0.5, what="the revocation survives its server")
        except AssertionError as exc:
            raise AssertionError(f"{exc}; {await _state(cluster, f'KV_{SESSIONS_BUCKET}', sessions)}") from exc
        assert not node.alive
    finally:
        await sessions.close()
        await limits.close()


async def _placed(js: JetStreamContext, settings: Settings) -> bool:
    """The registry's stream made on three servers. Right after the cluster formed, the meta
    leader can still count a peer offline for a moment although /jsz shows it current: a CI run
    met "no suitable peers for placement, peer offline" (10005), which a retry gets past."""
    await ensure_stream(js, producer_stream_config("registry", settings))
    return True


async def test_a_client_moves_to_another_server_when_its_own_dies(cluster: NatsCluster, tmp_path: Path) -> None:
    settings = _settings(cluster, tmp_path)
    nc = await connect_nats(settings.bus("registry"), "test-move", dont_randomize=True)
    try:
        js = nc.jetstream(timeout=10)
        await eventually(lambda: _placed(js, settings), timeout=30, interval=0.5, retrying=(nats.js.errors.BadRequestError,), what="the stream placed on three servers")
        assert nc.connected_url is not None and nc.connected_url.port == cluster.nodes[0].client_port
        first = cluster.nodes[0]
        first.kill()
        # as the outbox relay does: a publish during the stream's election gets no answer and is tried again
        ack = await eventually(
            lambda: js.publish("registry.test.moved.v1", b"{}", timeout=2, headers={"Nats-Msg-Id": "moved-1"}),
            timeout=30,
            retrying=(nats.errors.TimeoutError, nats.js.errors.NoStreamResponseError, nats.js.errors.ServiceUnavailableError),
            what="a publish accepted by the stream's new leader",
        )
        assert ack.stream == "REGISTRY" and ack.seq == 1
        assert nc.connected_url is not None and (nc.connected_url.hostname, nc.connected_url.port) != (first.host, first.client_port)
    finally:
        await nc.close()


async def test_the_production_check_names_a_bucket_kept_on_one_server(cluster: NatsCluster, tmp_path: Path) -> None:
    settings = _settings(cluster, tmp_path, mode="prod")
    nc = await connect_nats(settings.bus("registry"), "test-check")
    try:
        one = msgspec.structs.replace(settings, stream_replicas=1)
        store = session_store(one, "test-r1", "registry")
        assert isinstance(store, NatsKVStore)
        await store.set("x", b"1", expires_in=60)
        await store.close()
        readable = [b.stream for b in platform_plan().buckets if "registry" in (b.owner, *b.readers)]
        facts = await natscheck.gather(nc, settings, ["registry"], readable)
        findings = [(f.code, f.message) for f in natscheck.evaluate(facts, settings)]
        assert ("nats.replicas_not_3", f"stream KV_{SESSIONS_BUCKET} has 1 replica(s); production runs 3 so one server can fail") in findings
    finally:
        await nc.close()


async def test_the_owner_scales_a_bucket_made_with_one_replica(cluster: NatsCluster, tmp_path: Path) -> None:
    """A deployment whose buckets were made before the fix: the owner scales them at start."""
    settings = _settings(cluster, tmp_path)
    old = session_store(msgspec.structs.replace(settings, stream_replicas=1), "test-old", "registry")
    assert isinstance(old, NatsKVStore)
    await old.set("revoked:old", b"1", expires_in=60)
    assert await old.exists("revoked:old"), "the put into the bucket just made was kept"
    await old.close()
    assert await _replicas(cluster, f"KV_{SESSIONS_BUCKET}") == 1
    store = session_store(settings, "test-new", "registry")
    assert isinstance(store, NatsKVStore)
    try:
        assert await store.exists("revoked:old")
        assert await _replicas(cluster, f"KV_{SESSIONS_BUCKET}") == 3
    finally:
        await store.close()
