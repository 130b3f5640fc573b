"""Forwarding ``/api/<service>/<path>`` to a service, unchanged but for the
hop-by-hop headers.

The gateway forwards the caller's identity (the bearer token, which every
service verifies again) and the trace (``traceparent``/``tracestate``, and the
correlation id), and adds ``X-Forwarded-*``. It never rewrites a body: what a
service answers, including its problem details, reaches the client as is.
"""

from __future__ import annotations

from collections.abc import Mapping

import httpx

from services.gateway.http1 import Headers

#: RFC 9110 §7.6.1 hop-by-hop headers, plus those httpx sets itself
HOP_BY_HOP = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-authenticate",
        "proxy-authorization",
        "te",
        "trailer",
        "transfer-encoding",
        "upgrade",
        "host",
        "content-length",
    }
)


def forward_headers(incoming: Mapping[str, str], *, client_ip: str | None, proto: str, host: str | None) -> dict[str, str]:
    headers = {k: v for k, v in incoming.items() if k.lower() not in HOP_BY_HOP}
    previous = incoming.get("x-forwarded-for")
    if client_ip:
        headers["x-forwarded-for"] = f"{previous}, {client_ip}" if previous else client_ip
    headers["x-forwarded-proto"] = proto
    if host:
        headers["x-forwarded-host"] = host
    return headers


def response_headers(upstream: httpx.Headers | Headers) -> list[tuple[str, str]]:
    return [(k, v) for k, v in upstream.multi_items() if k.lower() not in HOP_BY_HOP and k.lower() != "content-encoding"]
