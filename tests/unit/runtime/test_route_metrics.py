"""Every API's HTTP metrics come from ``RouteMetrics`` (services/runtime/http/metrics.py),
a leaner Litestar Prometheus middleware: the same requests through Litestar's own
middleware and through it give the same series and the same values — requests by
method, route template and status, errors, durations counted, requests in progress
while one runs — so dashboards and alerts read it as before."""

from __future__ import annotations

from typing import Any

from litestar import Litestar, get, post
from litestar.exceptions import NotFoundException
from litestar.plugins.prometheus import PrometheusConfig, PrometheusMiddleware
from litestar.testing import TestClient
from prometheus_client import REGISTRY

from services.runtime.http.metrics import RouteMetrics

PREFIX = "xciss_test_route_http"


def _in_progress(app_name: str) -> float | None:
    return REGISTRY.get_sample_value(f"{PREFIX}_requests_in_progress", {"method": "GET", "path": "/items/{item_id}", "status_code": "200", "app_name": app_name})


def _app(app_name: str, middleware: type[PrometheusMiddleware]) -> Litestar:
    @get("/items/{item_id:int}")
    async def item(item_id: int) -> dict[str, Any]:
        if item_id == 0:
            raise NotFoundException("no such item")
        if item_id == 13:
            raise RuntimeError("unlucky")
        return {"item_id": item_id, "in_progress": _in_progress(app_name)}

    @post("/items")
    async def create(data: dict[str, int]) -> dict[str, int]:
        return data

    config = PrometheusConfig(app_name=app_name, prefix=PREFIX, group_path=True, exclude=["^/metrics$"], middleware_class=middleware)
    return Litestar([item, create], middleware=[config.middleware])


def _series(app_name: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample of the test's metrics for one app, but what depends on how long a
    request took (the durations' sums and buckets; their counts stay)."""
    out = {}
    for family in REGISTRY.collect():
        if not family.name.startswith(PREFIX):
            continue
        for s in family.samples:
            if s.labels.get("app_name") == app_name and not s.name.endswith(("_sum", "_bucket", "_created")):
                out[(s.name, tuple(sorted((k, v) for k, v in s.labels.items() if k != "app_name")))] = s.value
    return out


def _requests(app_name: str, middleware: type[PrometheusMiddleware]) -> list[tuple[int, Any]]:
    answers = []
    with TestClient(_app(app_name, middleware), raise_server_exceptions=False) as client:
        for _ in range(2):
            for method, path, body in (("GET", "/items/7", None), ("GET", "/items/0", None), ("GET", "/items/13", None), ("POST", "/items", {"n": 1}), ("GET", "/nowhere", None), ("GET", "/metrics", None)):
                r = client.request(method, path, json=body)
                answers.append((r.status_code, r.json().get("in_progress") if r.status_code == 200 else None))
    return answers


def test_route_metrics_count_what_litestars_middleware_counts() -> None:
    litestars = _requests("litestars", PrometheusMiddleware)
    ours = _requests("ours", RouteMetrics)
    assert ours == litestars
    assert (200, 1.0) in ours  # a request sees itself in progress
    theirs, mine = _series("litestars"), _series("ours")
    assert mine == theirs
    # what the series hold: each route by method and status, twice; a 500 an error; none in progress now
    assert mine[(f"{PREFIX}_requests_total", (("method", "GET"), ("path", "/items/{item_id}"), ("status_code", "200")))] == 2
    assert mine[(f"{PREFIX}_requests_total", (("method", "GET"), ("path", "/items/{item_id}"), ("status_code", "404")))] == 2
    assert mine[(f"{PREFIX}_requests_error_total", (("method", "GET"), ("path", "/items/{item_id}"), ("status_code", "500")))] == 2
    assert mine[(f"{PREFIX}_requests_total", (("method", "POST"), ("path", "/items"), ("status_code", "201")))] == 2
    assert mine[(f"{PREFIX}_request_duration_seconds_count", (("method", "POST"), ("path", "/items"), ("status_code", "201")))] == 2
    assert _in_progress("ours") == 0
