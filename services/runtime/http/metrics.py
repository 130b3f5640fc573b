"""The API's ``/metrics`` route and litestar's Prometheus middleware settings;
the metrics themselves are in ``services/runtime/metrics.py``."""

from __future__ import annotations

from typing import Any

from litestar import Response, get
from litestar.plugins.prometheus import PrometheusConfig
from prometheus_client import CONTENT_TYPE_LATEST

from services.runtime.http.auth import PUBLIC, access
from services.runtime.metrics import HTTP_PREFIX, ServiceMetrics


def prometheus_config(service: str) -> PrometheusConfig:
    """Request rate, latency and status of the API, labelled by route template
    (``/v1/users/{user_id:str}``), never the raw path, so cardinality stays
    bounded; unknown paths (404 before routing) are not counted."""
    return PrometheusConfig(app_name=service, prefix=HTTP_PREFIX, group_path=True, exclude=["^/metrics$"])


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
