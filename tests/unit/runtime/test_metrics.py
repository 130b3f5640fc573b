"""The metrics plumbing: scrape-time probes and their cache, the stand-alone
/metrics listener of worker and relay processes, and the operators' alert
rules (deploy/components/monitoring/prometheusrule.yaml) naming only metrics that exist."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

import httpx
import yaml
from litestar.testing import TestClient
from prometheus_client import REGISTRY, Gauge

from services.runtime.metrics import ServiceMetrics, serve_metrics
from services.runtime.service import create_app, load_spec
from services.runtime.settings import Settings
from tests.support.polling import eventually
from tests.support.ports import free_port

ROOT = Path(__file__).resolve().parents[3]
PROBED = Gauge("xciss_test_probed", "set by a test probe")


async def test_probes_run_at_scrape_time_at_most_once_per_cache_period() -> None:
    runs = []

    async def probe() -> None:
        runs.append(1)
        PROBED.set(len(runs))

    async def broken() -> None:
        raise RuntimeError("database down")

    metrics = ServiceMetrics("test", cache_s=3600)
    metrics.add("broken", broken)
    metrics.add("counting", probe)
    first = (await metrics.exposition()).decode()
    await asyncio.gather(metrics.exposition(), metrics.exposition())
    assert len(runs) == 1  # scrapes within the cache period reuse the figures
    assert "xciss_test_probed 1.0" in first  # a failing probe does not stop the others or the scrape
    metrics.cache_s = 0
    assert "xciss_test_probed 2.0" in (await metrics.exposition()).decode()


async def test_worker_and_relay_processes_serve_metrics_on_their_own_port() -> None:
    metrics = ServiceMetrics("test", cache_s=0)
    port, stop = free_port(), asyncio.Event()
    server = asyncio.create_task(serve_metrics(metrics, "127.0.0.1", port, stop))
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as client:
            r = await eventually(lambda: client.get("/metrics"), timeout=5, retrying=(httpx.ConnectError,), what="the metrics server listening")
            assert r.status_code == 200 and r.headers["content-type"].startswith("text/plain")
            assert "xciss_outbox_backlog" in r.text
            assert (await client.get("/other")).status_code == 404
    finally:
        stop.set()
        await server


def _exposed_names(tmp_path: Path) -> set[str]:
    app = create_app(load_spec("vouchers"), Settings(data_dir=tmp_path))
    with TestClient(app) as client:  # the HTTP metrics exist once a request was counted
        assert client.get("/health").status_code == 200
    suffixes = {"counter": ("_total",), "histogram": ("_bucket", "_count", "_sum"), "gauge": ("",)}
    names: set[str] = set()
    for family in REGISTRY.collect():
        names.update(family.name + s for s in suffixes.get(family.type, ("",)))
    return names


def test_every_metric_in_the_alert_rules_exists(tmp_path: Path) -> None:
    rules = yaml.safe_load((ROOT / "deploy" / "components" / "monitoring" / "prometheusrule.yaml").read_text(encoding="utf-8"))["spec"]
    exprs = [r["expr"] for g in rules["groups"] for r in g["rules"]]
    assert len(exprs) >= 8 and all(r.get("alert") and r.get("labels", {}).get("severity") for g in rules["groups"] for r in g["rules"])
    # metric names (xciss_io_service is the pod label the PodMonitor adds to every target, not a metric)
    referenced = {m for e in exprs for m in re.findall(r"\bxciss_[a-z_]+", e)} - {"xciss_io_service"}
    exposed = _exposed_names(tmp_path)
    assert referenced - exposed == set()
    # and the catalogue documents every xciss metric family
    doc = (ROOT / "docs" / "observability.md").read_text(encoding="utf-8")
    families = {f.name for f in REGISTRY.collect() if f.name.startswith("xciss_") and f.name != "xciss_test_probed"}
    assert {f for f in families if f"`{f}" not in doc} == set()
