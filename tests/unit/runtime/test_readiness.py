"""Readiness means "this pod can serve": an API is ready when its own database
answers (NATS is reported in the detail, not required: the outbox takes writes
while the bus is down); worker and relay answer the probes on their metrics port."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx
from litestar.testing import TestClient

from services.runtime.metrics import ServiceMetrics, serve_metrics
from services.runtime.service import create_app, load_spec
from services.runtime.db.service_db import ServiceDatabase
from services.runtime.settings import Settings
from tests.support.polling import eventually
from tests.support.ports import free_port


def test_api_without_nats_is_ready_and_says_nats_is_down(tmp_path: Path) -> None:
    spec = load_spec("vouchers")
    settings = Settings(data_dir=tmp_path, nats_url=f"nats://127.0.0.1:{free_port()}")
    with TestClient(create_app(spec, settings)) as client:
        r = client.get("/ready")
        assert r.status_code == 200, r.text
        body = r.json()
        assert body["status"] == "ready" and body["checks"]["database"] == "ok"
        assert body["checks"]["nats"].startswith("error")
        assert client.get("/health").status_code == 200


def test_api_whose_database_is_down_is_not_ready(tmp_path: Path) -> None:
    spec = load_spec("vouchers")
    settings = Settings(data_dir=tmp_path)
    db = ServiceDatabase("vouchers", f"postgresql+asyncpg://nobody:x@127.0.0.1:{free_port()}/vouchers", spec.metadata)
    with TestClient(create_app(spec, settings, db)) as client:
        r = client.get("/ready")
        assert r.status_code == 503
        assert r.json()["status"] == "not_ready" and r.json()["checks"]["database"].startswith("error")
        assert client.get("/health").status_code == 200  # alive: no restart for a database outage


async def test_worker_and_relay_answer_health_and_ready_on_the_metrics_port() -> None:
    database_up = True

    async def ping() -> None:
        if not database_up:
            raise ConnectionRefusedError("database down")

    port, stop = free_port(), asyncio.Event()
    server = asyncio.create_task(serve_metrics(ServiceMetrics("test", cache_s=0), "127.0.0.1", port, stop, ready=ping))
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as client:
            health = await eventually(lambda: client.get("/health"), timeout=5, retrying=(httpx.ConnectError,), what="the metrics server listening")
            assert health.status_code == 200 and health.json() == {"status": "ok"}
            assert (await client.get("/ready")).json() == {"status": "ready"}
            database_up = False
            r = await client.get("/ready")
            assert r.status_code == 503 and r.json() == {"status": "not_ready"}
            assert (await client.get("/health")).status_code == 200
            assert (await client.get("/metrics")).status_code == 200
            assert (await client.get("/other")).status_code == 404
    finally:
        stop.set()
        await server
