"""The API's ``/metrics`` route and its HTTP metrics middleware (``RouteMetrics``);
the metrics themselves are in ``services/runtime/metrics.py``."""

from __future__ import annotations

import time
from typing import Any

from litestar import Response, get
from litestar.plugins.prometheus import PrometheusConfig, PrometheusMiddleware
from litestar.types import ASGIApp, Message, Receive, Scope, Send
from prometheus_client import CONTENT_TYPE_LATEST

from services.runtime.http.auth import PUBLIC, access
from services.runtime.metrics import HTTP_PREFIX, ServiceMetrics


def prometheus_config(service: str) -> PrometheusConfig:
    """Request rate, latency and status of the API, labelled by route template
    (``/v1/users/{user_id:str}``), never the raw path, so cardinality stays
    bounded; unknown paths (404 before routing) are not counted."""
    return PrometheusConfig(app_name=service, prefix=HTTP_PREFIX, group_path=True, exclude=["^/metrics$"], middleware_class=RouteMetrics)


class RouteMetrics(PrometheusMiddleware):
    """Litestar's Prometheus middleware — the same four metrics, labels and values — at
    less cost a request (issue 19: ~8% of a catalogue search's time went to it): the
    labels come from the scope, without a ``Request`` and its URL; each label set's
    series are looked up once, not through ``labels()`` on every request; the wrapped
    ``send`` is a plain closure (no ``functools.wraps``). Configurations it does not
    cover (extra labels, exemplars, excluded methods, ungrouped paths) go to Litestar's."""

    def __init__(self, app: ASGIApp, config: PrometheusConfig) -> None:
        super().__init__(app, config)
        self._lean = config.group_path and not (config.labels or config.exemplars or config.excluded_http_methods)
        self._series: dict[tuple[str, str, int], tuple[Any, Any, Any]] = {}
        self._in_progress: dict[tuple[str, str], Any] = {}

    def _labels(self, method: str, path: str, status: int) -> dict[str, str | int | float]:
        # the order of Litestar's default labels, which names the metrics' label names
        return {"method": method, "path": path, "status_code": status, "app_name": self._config.app_name}

    def _done(self, method: str, path: str, status: int) -> tuple[Any, Any, Any]:
        key = (method, path, status)
        series = self._series.get(key)
        if series is None:
            labels = self._labels(method, path, status)
            values = [*labels.values()]
            error = self.requests_error_count(labels).labels(*values) if status >= 500 else None
            series = self._series[key] = (self.request_count(labels).labels(*values), self.request_time(labels).labels(*values), error)
        return series

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if not self._lean:
            await super().__call__(scope, receive, send)
            return
        method = scope["method"] if scope["type"] == "http" else scope["type"]
        path = scope["path_template"]
        in_progress = self._in_progress.get((method, path))
        if in_progress is None:
            labels = self._labels(method, path, 200)
            in_progress = self._in_progress[(method, path)] = self.requests_in_progress(labels).labels(*labels.values())
        status, started, duration = 200, time.perf_counter(), 0.0

        async def timed_send(message: Message) -> None:
            nonlocal status, duration
            if message["type"] == "http.response.start":
                status = message["status"]
            elif message["type"] == "http.response.body":
                duration = time.perf_counter() - started
            await send(message)

        in_progress.inc()
        try:
            await self.app(scope, receive, timed_send)
        finally:
            in_progress.dec()
            count, seconds, error = self._done(method, path, status)
            if error is not None:
                error.inc()
            count.inc()
            seconds.observe(duration)


def metrics_handler(metrics: ServiceMetrics) -> Any:
    @get(
        "/metrics",
        operation_id="metrics",
        tags=["operations"],
        include_in_schema=False,
        **access(PUBLIC),
    )
    async def prometheus_metrics() -> Response[bytes]:
        """Prometheus exposition. Public like /health: no token, no personal
        data; NetworkPolicies keep it to the monitoring system."""
        return Response(await metrics.exposition(), media_type=CONTENT_TYPE_LATEST)

    return prometheus_metrics
