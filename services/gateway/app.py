"""The gateway app: ``/api/<service>/...`` to the services, one combined
OpenAPI document, authentication at the door, body-size and rate limits.

It holds no data and publishes no events. Every service still checks the
token and the caller's rights itself: the gateway is a door, not the lock.
"""

from __future__ import annotations

import asyncio
import logging
import posixpath
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import httpx
from litestar import Litestar, Request, Response, get, route
from litestar.config.cors import CORSConfig
from litestar.datastructures import State
from litestar.openapi import OpenAPIConfig
from litestar.params import FromPath
from litestar.response.base import ASGIResponse

from services.gateway.http1 import Http1Pool
from services.runtime.http.plain_litestar import PlainLitestar
from services.gateway.openapi import combine
from services.gateway.portal import create_portal_handlers, portal_exception_handlers
from services.gateway.portal.csrf import csrf_config
from services.gateway.proxy import forward_headers, response_headers
from services.gateway.ratelimit import Limiter, rate_limit_middleware
from services.gateway.upstreams import CONNECT_FAILURES, Upstream, Upstreams
from services.runtime import telemetry
from services.runtime.bus import testclock
from services.runtime.http.auth import PUBLIC, Principal, TokenVerifier, access
from services.runtime.bus_identity.permissions import GATEWAY
from services.runtime.bus.plan import GATEWAY_LIMITS_BUCKET
from services.runtime.client_address import client_address, networks
from services.runtime.errors import DomainError
from services.runtime.http.edge import auth_and_trace_middleware, correlation_of
from services.runtime.bus.kvstore import NatsKVStore
from services.runtime.http.security_headers import add_security_headers
from services.runtime.settings import SERVICES, Settings

log = logging.getLogger("xciss.gateway")

METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE"]


class UnknownService(DomainError):
    status = 404

    def __init__(self, service: str):
        super().__init__(
            "gateway.unknown_service",
            f"没有名为 {service} 的服务",
            f"there is no service named {service!r}; services: {', '.join(SERVICES)}",
            service=service,
        )


class UpstreamUnavailable(DomainError):
    status = 503

    def __init__(self, service: str):
        super().__init__(
            "gateway.upstream_unavailable",
            f"{service} 服务暂时不可用，请稍后重试",
            f"the {service} service is not reachable; try again later",
            service=service,
        )


class NotForwarded(DomainError):
    status = 404

    def __init__(self, service: str):
        super().__init__(
            "gateway.not_forwarded",
            "该地址不对外开放",
            "this address is not served through the gateway",
            service=service,
        )


#: a service's operations endpoints: for probes and the scraper on the service's
#: own port, never for the public (``/ready`` names the failing dependency and its error)
INTERNAL_PATHS = frozenset({"metrics", "ready"})


def internal_path(path: str) -> bool:
    """Whether the (decoded) path, once its dot segments and doubled or trailing
    slashes are resolved as an upstream might, names an operations endpoint."""
    first = posixpath.normpath("/" + path.lstrip("/")).lstrip("/").split("/")[0]
    return first.lower() in INTERNAL_PATHS


#: what a partner's page may send and read across origins (the API's own headers)
CORS_REQUEST_HEADERS = ["Authorization", "Content-Type", "Accept-Language", "Idempotency-Key", "If-Match", "If-None-Match", "X-Correlation-Id"]
CORS_EXPOSED_HEADERS = ["Content-Disposition", "ETag", "Idempotent-Replayed", "Link", "Location", "Retry-After", "X-Correlation-Id"]


def cors_config(settings: Settings) -> CORSConfig | None:
    """Cross-origin calls from the deployment's allow-list only (XCISS_CORS_ALLOW_ORIGINS;
    none by default). Tokens travel in the Authorization header, never as cookies
    across origins, so credentials are not allowed."""
    if not settings.cors_allow_origins:
        return None
    return CORSConfig(
        allow_origins=list(settings.cors_allow_origins),
        allow_methods=[*METHODS, "OPTIONS"],  # type: ignore[list-item]
        allow_headers=CORS_REQUEST_HEADERS,
        expose_headers=CORS_EXPOSED_HEADERS,
        allow_credentials=False,
        max_age=600,
    )


def upstream_addresses(settings: Settings) -> dict[str, tuple[str, ...]]:
    return {s: settings.upstream_addresses(s) for s in SERVICES}


def client_id(settings: Settings) -> Callable[[Request[Any, Any, Any]], str]:
    """Rate-limit key: the signed-in subject, else the client address (``X-Forwarded-For``
    believed only as far as the trusted proxies, e.g. the ingress, wrote it)."""
    trusted = networks(settings.trusted_proxies)

    def identify(request: Request[Any, Any, Any]) -> str:
        user = request.scope.get("user")
        if isinstance(user, Principal) and user.authenticated:
            return f"sub:{user.subject}"
        peer = request.client.host if request.client else None
        return f"ip:{client_address(peer, request.headers.get('x-forwarded-for'), trusted)}"

    return identify


def create_app(
    settings: Settings, *, transport: httpx.AsyncBaseTransport | None = None, upstreams: Mapping[str, str | Sequence[str]] | None = None
) -> Litestar:
    """``upstreams``: service -> its address or addresses (a list or a comma-separated
    string); default: the settings' (``XCISS_<SVC>_URL``)."""
    urls = Upstreams(upstreams or upstream_addresses(settings))
    state: dict[str, Any] = {}
    store = NatsKVStore(settings.bus(GATEWAY), GATEWAY_LIMITS_BUCKET, name="xciss-gateway", create=True, replicas=settings.stream_replicas) if settings.nats_url else None

    # the test clock (dev and staging): the portal shows a banner while time is simulated
    follower = testclock.ClockFollower(lambda: store.connection, settings.clock_poll_s, "gateway") if store is not None and testclock.allowed(settings) else None

    async def _start() -> None:
        state["client"] = httpx.AsyncClient(transport=transport, timeout=httpx.Timeout(settings.gateway_timeout_s), follow_redirects=False)
        # forwarding on the gateway's own HTTP/1.1 pool; through httpx when a transport is given (tests, in-process services)
        state["forwarder"] = Http1Pool(settings.gateway_timeout_s, fallback=state["client"]) if transport is None else state["client"]
        if store is not None:
            await store.start()
        if follower is not None:
            await follower.start()

    async def _stop() -> None:
        if follower is not None:
            await follower.stop()
        await state["client"].aclose()
        if state["forwarder"] is not state["client"]:
            await state["forwarder"].aclose()
        if store is not None:
            await store.close()

    @route("/api/{service:str}/{path:path}", http_method=METHODS, operation_id="gateway_forward", include_in_schema=False, **access(PUBLIC))
    async def forward(request: Request[Any, Any, Any], service: FromPath[str], path: FromPath[str]) -> ASGIResponse:
        # the service's name as sent: "/api/%72egistry/..." decodes to "registry", but
        # cutting the raw path at that name's length would give the upstream a broken URL
        # (some ASGI clients put the query into raw_path too; a "?" of the path itself is "%3F")
        raw_path = request.scope.get("raw_path", request.scope["path"].encode()).decode("latin-1").partition("?")[0]
        sent = raw_path.split("/")[2] if raw_path.count("/") >= 2 else ""
        target = urls.get(service) if sent == service else None
        if target is None:
            raise UnknownService(sent)
        if internal_path(path):
            raise NotForwarded(service)
        headers = forward_headers(
            dict(request.headers),
            client_ip=request.client.host if request.client else None,
            proto=request.url.scheme,
            host=request.headers.get("host"),
        )
        headers.update(telemetry.current_carrier())  # the gateway's span is the parent
        if (correlation := correlation_of(request)) is not None:
            headers["x-correlation-id"] = correlation
        body = await request.body()
        # the path and query exactly as the client sent them (trailing slash,
        # order and encoding of parameters included)
        rest = raw_path[len(f"/api/{service}") :] or "/"
        query = request.scope.get("query_string", b"").decode("latin-1")
        try:
            upstream = await target.request(state["forwarder"], request.method, rest + (f"?{query}" if query else ""), content=body, headers=headers)
        except httpx.TransportError as exc:
            log.warning("gateway: %s %s -> %s: %s", request.method, path, service, type(exc).__name__)
            raise UpstreamUnavailable(service) from exc
        # as an ASGI answer: every header kept (two Set-Cookie stay two), no re-encoding
        return ASGIResponse(body=upstream.content, status_code=upstream.status_code, headers=response_headers(upstream.headers))

    @get("/api/openapi.json", operation_id="gateway_openapi", **access(PUBLIC))
    async def openapi() -> dict[str, Any]:
        """The services' OpenAPI documents combined under /api/<service>."""
        documents: dict[str, dict[str, Any]] = {}
        for service, target in urls.items():
            try:
                r = await target.request(state["client"], "GET", "/schema/openapi.json")
                r.raise_for_status()
            except httpx.HTTPError as exc:
                raise UpstreamUnavailable(service) from exc
            documents[service] = r.json()
        return combine(documents)

    @get("/health", operation_id="gateway_health", **access(PUBLIC))
    async def health() -> dict[str, str]:
        return {"status": "ok"}

    @get("/ready", operation_id="gateway_ready", **access(PUBLIC))
    async def ready() -> Response[dict[str, Any]]:
        """Ready when every service has an address whose own /ready answers 200.
        ``checks`` names each address's state, flat like every process's /ready
        (``{"registry http://a:8101": "ok", "registry http://b:8101": "error: ConnectError"}``),
        so "every check ok" still means everything is up."""
        states = await asyncio.gather(*(_address_state(target, address) for target in urls.values() for address in target.addresses))
        checks = {f"{service} {address}": state_of for service, address, state_of in states}
        ok = all(any(state_of == "ok" for service, _, state_of in states if service == s) for s in urls)
        return Response({"status": "ready" if ok else "not_ready", "checks": checks}, status_code=200 if ok else 503)

    async def _address_state(target: Upstream, address: str) -> tuple[str, str, str]:
        try:
            r = await state["client"].get(f"{address}/ready")
        except httpx.HTTPError as exc:
            if isinstance(exc, CONNECT_FAILURES):
                target.picker.refused(address)
            return target.service, address, f"error: {type(exc).__name__}"
        target.picker.answered(address)
        return target.service, address, "ok" if r.status_code == 200 else f"status {r.status_code}"

    # with NATS the limit is one per caller across every gateway replica, counted in the
    # background (services/gateway/ratelimit.py): no request waits for the bus but a caller's first of a minute
    limiter = Limiter(settings.gateway_rate_limit_per_minute, store)
    return PlainLitestar(
        # the web portal at / (server-rendered pages); the API stays at /api/...
        route_handlers=[forward, openapi, health, ready, *create_portal_handlers(settings, urls, lambda: state["client"])],
        # authentication first, so a bad token is refused before it costs a
        # request of the caller's allowance; then the limit
        middleware=[auth_and_trace_middleware(TokenVerifier(settings), "gateway"), rate_limit_middleware(limiter, client_id(settings), ("^/health$", "^/ready$"))],
        # problem details for the API; the portal's Chinese 404/500 pages for its own paths
        exception_handlers=portal_exception_handlers(settings, urls, lambda: state["client"]),
        # every answer, refusals and unknown paths included
        before_send=[add_security_headers],
        cors_config=cors_config(settings),
        # the portal's forms: Litestar's double-submit cookie (portal/csrf.py); the API is not guarded by it
        csrf_config=csrf_config(settings),
        on_startup=[_start],
        on_shutdown=[_stop],
        request_max_body_size=settings.gateway_max_body_bytes,
        # no logging config of Litestar's own: its default sets the root logger
        # to INFO at start-up, overriding XCISS_LOG_LEVEL (every upstream request
        # then logged by httpx at INFO); the process's configuration applies
        logging_config=None,
        openapi_config=OpenAPIConfig(title="xciss gateway", version="1.0.0", path="/schema"),
        debug=False,
        state=State({"rate_limit": limiter}),
    )
