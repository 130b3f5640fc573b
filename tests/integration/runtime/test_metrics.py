"""What an operator scrapes from /metrics, and the NATS safety checks against
a real nats-server."""

from __future__ import annotations

import asyncio
import os
import re
import subprocess
import sys
from pathlib import Path

from prometheus_client.parser import text_string_to_metric_families

from contracts import registry as ev
from contracts.envelope import encode
from services.runtime.bus import natscheck
from services.runtime.roles import Role
from services.runtime.bus.consumers import Subscription, Worker
from services.runtime.metrics import ServiceMetrics, outbox_probe
from services.command.natsserver import nats_server_binary, port_open
from services.runtime.db.unit_of_work import UnitOfWork
from services.runtime.bus.connect import connect_nats
from services.runtime.service import create_relay, declare_streams
from services.runtime.db.service_db import ServiceDatabase
from services.vouchers.db.models import metadata as vouchers_metadata
from tests.support.codes import credit_code
from tests.support.platform import Platform, running
from tests.support.polling import eventually
from tests.support.ports import free_port
from tests.support.vouchers import YEAR, open_programme

DURABLE = "vouchers-registry_user_registered-v1"


def sample(text: str, name: str, **labels: str) -> float | None:
    """The value of one sample in a Prometheus exposition, None when absent."""
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            if s.name == name and all(s.labels.get(k) == v for k, v in labels.items()):
                return s.value
    return None


def samples(text: str, name: str) -> list[dict[str, str]]:
    return [s.labels for f in text_string_to_metric_families(text) for s in f.samples if s.name == name]


async def scrape(p: Platform, service: str) -> str:
    r = await p.call(service, "GET", "/metrics")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/plain")
    return r.text


def _user(**kw: object) -> ev.UserRegistered:
    return ev.UserRegistered(**{"user_id": "u-1", "version": 1, "name": "许昌某公司", "kind": "enterprise", "credit_code": credit_code(), "in_xuchang": True, "verified": False, **kw})  # type: ignore[arg-type]


async def test_api_metrics_show_requests_by_route_template_and_the_budget_left(make_settings) -> None:
    settings = await make_settings(["vouchers"], metrics_cache_s=0.0)
    async with running(Platform(settings, ["vouchers"])) as p:
        await open_programme(p, budget_fen=123_456_700)
        label = {"app_name": "vouchers", "method": "GET", "status_code": "200"}
        before = await scrape(p, "vouchers")
        for _ in range(2):
            assert (await p.call("vouchers", "GET", f"/v1/programmes/{YEAR}", role=Role.CENTER)).status_code == 200
        assert (await p.call("vouchers", "GET", "/v1/programmes/1999", role=Role.CENTER)).status_code == 404
        after = await scrape(p, "vouchers")
        paths = {s["path"] for s in samples(after, "xciss_http_requests_total") if s["app_name"] == "vouchers"}
        # the route's template (other tests in this process may have counted /v1/programmes/{year}/budget too)
        template = next(x for x in paths if re.fullmatch(r"/v1/programmes/\{\w+\}", x))
        assert not any(str(YEAR) in x or "1999" in x for x in paths)  # never the raw path
        counted = sample(after, "xciss_http_requests_total", path=template, **label)
        assert counted == (sample(before, "xciss_http_requests_total", path=template, **label) or 0) + 2
        assert sample(after, "xciss_http_requests_total", path=template, app_name="vouchers", method="GET", status_code="404") is not None
        assert sample(after, "xciss_http_request_duration_seconds_count", path=template, **label) == counted
        assert sample(after, "xciss_voucher_budget_remaining_fen", year=str(YEAR)) == 123_456_700
        assert "/metrics" not in paths  # scrapes are not requests of the service


async def test_outbox_backlog_and_relay_publishes(make_settings) -> None:
    settings = await make_settings(["registry"], metrics_cache_s=0.0)
    async with running(Platform(settings, ["registry"])) as p:
        reg = p["registry"]
        await reg.stop_relay()
        metrics = ServiceMetrics("registry", cache_s=0.0)
        metrics.add("outbox", outbox_probe("registry", reg.db.engine, reg.db.metadata))
        for i in range(2):
            body = {"name": f"许昌指标企业{i}", "kind": "enterprise", "classes": ["tech_sme"], "credit_code": credit_code()}
            assert (await p.call("registry", "POST", "/v1/users/", role=Role.USER, json=body)).status_code == 201
        text = (await metrics.exposition()).decode()
        assert sample(text, "xciss_outbox_backlog", service="registry") == 2
        assert sample(text, "xciss_outbox_oldest_age_seconds", service="registry") > 0
        published_before = sample(text, "xciss_relay_published_total", service="registry") or 0

        relay = create_relay(reg.spec, settings, reg.db, metrics)
        stop = asyncio.Event()
        task = asyncio.create_task(relay.run(stop))
        try:

            async def drained() -> str | None:
                t = (await metrics.exposition()).decode()
                return t if sample(t, "xciss_outbox_backlog", service="registry") == 0 else None

            text = await eventually(drained)
            assert sample(text, "xciss_outbox_oldest_age_seconds", service="registry") == 0
            assert sample(text, "xciss_relay_published_total", service="registry") == published_before + 2
        finally:
            stop.set()
            await task


async def test_worker_metrics_show_lag_outcomes_and_dead_letters(make_settings) -> None:
    settings = await make_settings(["vouchers"], metrics_cache_s=0.0)
    db = ServiceDatabase("vouchers", settings.database_url("vouchers"), vouchers_metadata)
    await declare_streams(settings, ["registry", "vouchers", "evaluation", "payments"])
    gate = asyncio.Event()

    async def held(uow: UnitOfWork, e: ev.UserRegistered) -> None:
        await gate.wait()
        await uow.audit("test.effect", "user", e.user_id)

    worker = Worker("vouchers", settings, db, [Subscription(ev.UserRegistered, held)], settings.bus("vouchers"))
    metrics = ServiceMetrics("vouchers", cache_s=0.0)
    metrics.add("consumers", worker.probe_metrics)
    await worker.start()
    nc = await connect_nats(settings.bus("operator"), "test-publisher")
    try:
        base = (await metrics.exposition()).decode()

        def delta(text: str, outcome: str) -> float:
            name, labels = "xciss_consumer_messages_total", {"service": "vouchers", "durable": DURABLE, "outcome": outcome}
            return (sample(text, name, **labels) or 0) - (sample(base, name, **labels) or 0)

        js = nc.jetstream()
        for i in range(3):
            e = _user(user_id=f"u-lag-{i}")
            await js.publish(ev.UserRegistered.subject, encode(e), headers={"Nats-Msg-Id": e.event_id})

        async def lag_is(n: int) -> str | None:
            t = (await metrics.exposition()).decode()
            return t if sample(t, "xciss_consumer_lag_messages", service="vouchers", durable=DURABLE) == n else None

        await eventually(lambda: lag_is(3))  # held by the handler: nothing acknowledged yet
        gate.set()
        text = await eventually(lambda: lag_is(0))
        assert delta(text, "handled") == 3

        await js.publish(ev.UserRegistered.subject, b'{"not": "an event"}', headers={"Nats-Msg-Id": "junk-metrics"})

        async def parked() -> str | None:
            t = (await metrics.exposition()).decode()
            return t if sample(t, "xciss_deadletter_messages", service="vouchers") == 1 else None

        text = await eventually(parked)
        assert delta(text, "dead_lettered") == 1
        assert delta(text, "handled") == 3 and delta(text, "retried") == 0
    finally:
        await nc.close()
        await worker.stop()
        await db.dispose()


async def _start_server(tmp: Path) -> tuple[subprocess.Popen[bytes], str, str]:
    port, http = free_port(), free_port()
    store = tmp / "js"
    conf = tmp / "nats.conf"
    sync = "sync_interval: always"
    conf.write_text(f'listen: 127.0.0.1:{port}\nhttp: 127.0.0.1:{http}\njetstream {{\n  store_dir: "{store}"\n  {sync}\n}}\n')
    proc = subprocess.Popen([nats_server_binary(), "-c", str(conf)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def listening() -> bool:
        if proc.poll() is not None:
            raise RuntimeError("nats-server did not start")
        return port_open("127.0.0.1", port) and port_open("127.0.0.1", http)

    await eventually(listening, timeout=10, what="nats-server listening")
    return proc, f"nats://127.0.0.1:{port}", f"http://127.0.0.1:{http}"


async def test_nats_checks_against_a_real_server(tmp_path: Path, nats_server) -> None:
    from services.runtime.settings import Settings

    proc, url, monitor = await _start_server(tmp_path)
    try:
        settings = Settings(data_dir=tmp_path, nats_url=url, mode="prod", nats_monitor_url=monitor)
        await declare_streams(settings, ["registry"])
        nc = await connect_nats(settings.bus("operator"), "test-check")
        try:
            facts = await natscheck.gather(nc, settings, ["registry"])
            assert facts.varz is not None and {s.name for s in facts.streams} == {"REGISTRY", "DEADLETTER"}
            findings = natscheck.evaluate(facts, settings)
            # the server is safe (recent, JetStream, fsync always); a single server cannot hold 3 replicas
            assert {f.code for f in findings} == {"nats.replicas_not_3"}
            assert natscheck.evaluate(facts, Settings(data_dir=tmp_path, nats_url=url)) == []  # dev mode
        finally:
            await nc.close()
    finally:
        proc.terminate()
        proc.wait(10)

    # the test suite's server: default periodic fsync, no monitoring endpoint configured
    env = {**os.environ, "XCISS_NATS_URL": nats_server.url, "XCISS_NATS_CREDENTIALS_DIR": str(nats_server.credentials_dir), "XCISS_DATA_DIR": str(tmp_path), "XCISS_LOG_LEVEL": "WARNING"}
    cli = [sys.executable, "-m", "services.command.cli", "streams", "--check", "registry"]
    prod = subprocess.run(cli, env={**env, "XCISS_MODE": "prod"}, capture_output=True, text=True, timeout=60)
    assert prod.returncode == 1, prod.stdout + prod.stderr
    assert "UNSAFE nats.replicas_not_3" in prod.stdout and "UNVERIFIED nats.sync_unverified" in prod.stdout
    # the start-up refusals are part of the diagnosis: this bus is not encrypted
    assert "UNSAFE bus.no_tls" in prod.stdout and "keys." not in prod.stdout  # the operator holds no data key
    assert "[nats.replicas_not_3]" in prod.stderr  # logged as a WARNING with its code
    dev = subprocess.run(cli, env={**env, "XCISS_MODE": "dev"}, capture_output=True, text=True, timeout=60)
    assert dev.returncode == 0 and "NATS checks passed" in dev.stdout, dev.stdout + dev.stderr
