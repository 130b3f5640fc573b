"""Scale-out on one machine: real OS processes against one NATS and one
PostgreSQL database per service.

* Two ``xciss worker vouchers`` processes share the durable consumer: every
  event is handled once (one read-model row, one inbox row, and the workers'
  own ``handled`` counters add up to N), and both take part.
* Two ``xciss relay registry`` processes publish each outbox row once: their
  own publish counters add up to N (so JetStream's Nats-Msg-Id de-duplication
  cannot hide a double publish) and the stream holds N messages, one per event.

PostgreSQL only: two processes on one SQLite file is not a deployment.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from contracts import registry as ev
from contracts.envelope import encode
from services.command.natsserver import EmbeddedNats
from services.registry.db.models import metadata as registry_metadata
from services.runtime.bus.connect import connect_nats
from services.runtime.db.service_db import ServiceDatabase
from services.runtime.service import declare_streams
from services.runtime.settings import Settings
from services.vouchers.db.models import metadata as vouchers_metadata
from tests.support.codes import credit_code
from tests.support.delivery import count_rows
from tests.support.platform import reset_streams
from tests.support.polling import eventually
from tests.support.ports import free_port

DURABLE = "vouchers-registry_user_registered-v1"
N = 240


@pytest.fixture
def pg(pg_databases):
    if pg_databases is None:
        pytest.skip("XCISS_TEST_POSTGRES_URL is not set (CI sets it)")
    return pg_databases


class Proc:
    """One ``xciss <role> <service>`` process with /metrics on its own port."""

    def __init__(self, role: str, service: str, env: dict[str, str], log: Path):
        self.port = free_port()
        self.log = log
        self.popen = subprocess.Popen(
            [sys.executable, "-m", "services.command.cli", role, service],
            env={**env, "XCISS_METRICS_PORT": str(self.port), "XCISS_PARENT_PID": str(os.getpid())},
            stdout=log.open("wb"),
            stderr=subprocess.STDOUT,
        )

    async def metric(self, name: str, **labels: str) -> float | None:
        assert self.popen.poll() is None, self.log.read_text()[-3000:]
        try:
            async with httpx.AsyncClient(timeout=5.0) as client:
                text = (await client.get(f"http://127.0.0.1:{self.port}/metrics")).text
        except httpx.HTTPError:
            return None
        for family in text_string_to_metric_families(text):
            for s in family.samples:
                if s.name == name and all(s.labels.get(k) == v for k, v in labels.items()):
                    return s.value
        return 0.0

    def stop(self) -> int:
        if self.popen.poll() is None:
            self.popen.send_signal(signal.SIGTERM)
            try:
                self.popen.wait(30)
            except subprocess.TimeoutExpired:
                self.popen.kill()
                self.popen.wait()
        return self.popen.returncode


@pytest.fixture
def procs() -> Iterator[list[Proc]]:
    started: list[Proc] = []
    yield started
    for p in started:
        p.stop()


def _env(tmp_path: Path, nats: EmbeddedNats, **extra: str) -> dict[str, str]:
    return {
        **os.environ,
        "XCISS_NATS_URL": nats.url,
        "XCISS_NATS_CREDENTIALS_DIR": str(nats.credentials_dir),
        "XCISS_DATA_DIR": str(tmp_path),
        "XCISS_MODE": "dev",
        "XCISS_LOG_LEVEL": "WARNING",
        "XCISS_METRICS_CACHE_S": "0",
        "XCISS_OUTBOX_POLL_S": "0.02",
        **extra,
    }


def _user(i: int) -> ev.UserRegistered:
    return ev.UserRegistered(
        user_id=f"u-scale-{i:04d}", version=1, name=f"许昌扩展企业{i}", kind="enterprise", credit_code=credit_code(), in_xuchang=True, verified=False
    )


async def test_two_worker_processes_share_the_durable_and_handle_each_event_once(tmp_path, nats_server, pg, procs) -> None:
    url = await pg.fresh("vouchers")
    await reset_streams(nats_server.access("operator"))
    await declare_streams(Settings(data_dir=tmp_path, nats_url=nats_server.url, nats_credentials_dir=nats_server.credentials_dir), ["registry", "vouchers", "evaluation", "payments"])
    env = _env(tmp_path, nats_server, XCISS_VOUCHERS_DATABASE_URL=url)
    workers = [Proc("worker", "vouchers", env, tmp_path / f"worker{i}.log") for i in range(2)]
    procs.extend(workers)
    nc = await connect_nats(nats_server.access("operator"), "test-scaleout")
    db = ServiceDatabase("vouchers", url, vouchers_metadata)
    try:
        js = nc.jetstream()

        async def both_pulling() -> bool:
            try:
                info = await js.consumer_info("REGISTRY", DURABLE)
            except Exception:
                return False
            return (info.num_waiting or 0) >= 2

        await eventually(both_pulling, timeout=60)
        events = [_user(i) for i in range(N)]
        for e in events:
            await js.publish(ev.UserRegistered.subject, encode(e), headers={"Nats-Msg-Id": e.event_id})

        async def handled() -> list[float] | None:
            counts = [await w.metric("xciss_consumer_messages_total", durable=DURABLE, outcome="handled") for w in workers]
            return counts if None not in counts and sum(counts) >= N else None  # type: ignore[arg-type]

        split = await eventually(handled, timeout=60)
        assert sum(split) == N  # each event handled by exactly one worker, once
        assert all(c > 0 for c in split), split  # and both took part
        assert await count_rows(db, "user_view") == N
        assert await count_rows(db, "inbox", consumer=DURABLE) == N
        for w in workers:
            assert await w.metric("xciss_consumer_messages_total", durable=DURABLE, outcome="dead_lettered") == 0
        assert [w.stop() for w in workers] == [0, 0]  # SIGTERM drains and exits cleanly
    finally:
        await nc.close()
        await db.dispose()


async def test_two_relay_processes_publish_each_event_once(tmp_path, nats_server, pg, procs) -> None:
    url = await pg.fresh("registry")
    await reset_streams(nats_server.access("operator"))
    env = _env(tmp_path, nats_server, XCISS_REGISTRY_DATABASE_URL=url)
    relays = [Proc("relay", "registry", env, tmp_path / f"relay{i}.log") for i in range(2)]
    procs.extend(relays)
    db = ServiceDatabase("registry", url, registry_metadata)
    nc = await connect_nats(nats_server.access("operator"), "test-scaleout")
    try:

        async def up() -> bool:
            return all([await r.metric("xciss_relay_published_total", service="registry") is not None for r in relays])

        await eventually(up, timeout=60)
        ids: list[str] = []
        for batch in range(N // 12):  # many small transactions while both relays poll
            async with db.unit_of_work() as uow:
                for i in range(12):
                    e = await uow.emit(_user(batch * 12 + i))
                    ids.append(e.event_id)
            await asyncio.sleep(0.005)

        async def drained() -> bool:
            return await count_rows(db, "outbox", published_at=None) == 0

        await eventually(drained, timeout=60)
        published = [await r.metric("xciss_relay_published_total", service="registry") for r in relays]
        duplicates = [await r.metric("xciss_relay_duplicates_total", service="registry") for r in relays]
        assert sum(published) == N, published  # the relays' own count: no row published twice
        assert duplicates == [0, 0]
        js = nc.jetstream()
        info = await js.stream_info("REGISTRY")
        assert info.state.messages == N
        stored = [(await js.get_msg("REGISTRY", seq)).headers["Nats-Msg-Id"] for seq in range(info.state.first_seq, info.state.last_seq + 1)]
        assert sorted(stored) == sorted(ids)  # one message per event, none missing
        assert [r.stop() for r in relays] == [0, 0]
    finally:
        await nc.close()
        await db.dispose()
