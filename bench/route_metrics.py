"""Benchmark (issue 19): what the HTTP metrics middleware costs a request.

One Litestar app per middleware, the same route (``GET /items/{item_id:int}``
answering ``ok``), called in-process as ASGI apps (no server, no socket), 20,000
requests a round, five rounds alternating: without metrics (the floor), with
Litestar's ``PrometheusMiddleware`` (the baseline), and with ``RouteMetrics``
(services/runtime/http/metrics.py: the same series and values,
tests/unit/runtime/test_route_metrics.py). Prints the median microseconds a
request of each, and the machine's load before.

    .venv/bin/python -W ignore bench/route_metrics.py
"""

from __future__ import annotations

import asyncio
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from litestar import Litestar, get  # noqa: E402
from litestar.plugins.prometheus import PrometheusConfig, PrometheusMiddleware  # noqa: E402

from services.runtime.http.metrics import RouteMetrics  # noqa: E402

REQUESTS, ROUNDS = 20_000, 5


def app_with(middleware: type[PrometheusMiddleware] | None, name: str) -> Litestar:
    @get("/items/{item_id:int}", sync_to_thread=False)
    def item(item_id: int) -> bytes:
        return b"ok"

    config = PrometheusConfig(app_name=name, prefix="bench_http", group_path=True, exclude=["^/metrics$"], middleware_class=middleware or PrometheusMiddleware)
    return Litestar([item], middleware=[config.middleware] if middleware else [])


async def per_request_us(app: Litestar, n: int = REQUESTS) -> float:
    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: Any) -> None:
        pass

    def scope() -> dict[str, Any]:
        return {
            "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "GET", "scheme": "http",
            "path": "/items/7", "raw_path": b"/items/7", "query_string": b"", "root_path": "",
            "headers": [(b"host", b"bench")], "client": ("127.0.0.1", 1), "server": ("127.0.0.1", 80), "state": {},
        }

    for _ in range(500):  # warm: routes, series created
        await app(scope(), receive, send)  # type: ignore[arg-type]
    started = time.perf_counter()
    for _ in range(n):
        await app(scope(), receive, send)  # type: ignore[arg-type]
    return (time.perf_counter() - started) / n * 1e6


async def main() -> None:
    apps = {"no metrics": app_with(None, "a"), "Litestar's middleware": app_with(PrometheusMiddleware, "b"), "RouteMetrics": app_with(RouteMetrics, "c")}
    runs: dict[str, list[float]] = {name: [] for name in apps}
    for _ in range(ROUNDS):
        for name, app in apps.items():
            runs[name].append(await per_request_us(app))
    for name, values in runs.items():
        print(f"  {name:<22} {statistics.median(values):6.1f} µs a request  (rounds: {', '.join(f'{v:.1f}' for v in values)})")
    floor = statistics.median(runs["no metrics"])
    theirs, ours = statistics.median(runs["Litestar's middleware"]) - floor, statistics.median(runs["RouteMetrics"]) - floor
    print(f"  the metrics' own cost: {ours:.1f} µs against {theirs:.1f} µs with Litestar's middleware")


if __name__ == "__main__":
    print(f"machine: {os.cpu_count()} cores, load before: {os.getloadavg()[0]:.2f}")
    asyncio.run(main())
