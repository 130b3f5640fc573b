"""The HTTP side every service shares: app factory plumbing, request checks,
the actor of a request, ``/health`` and ``/ready``; problem details are
``problems.py``'s, authentication, tracing and correlation ids ``edge.py``'s.

Handlers stay thin: they translate the request, call a use case, translate the
result. Errors become RFC 9457 problem details with a stable ``code`` and a
Chinese and an English message.
"""

from __future__ import annotations

import asyncio
import weakref
import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from litestar import Litestar, Request, Response, get
from litestar.di import Provide
from litestar.handlers import BaseRouteHandler
from litestar.openapi.spec import Components, SecurityScheme

from services.runtime.http.audit_api import audit_controller
from services.runtime.http.auth import ANONYMOUS, PUBLIC, Principal, TokenVerifier, access
from services.runtime.http.edge import auth_and_trace_middleware
from services.runtime.http.problems import EXCEPTION_HANDLERS
from services.runtime.errors import DomainError
from services.runtime.bus.kvstore import NatsKVStore
from services.runtime.metrics import ServiceMetrics
from services.runtime.http.metrics import metrics_handler, prometheus_config
from services.runtime.http.operation_docs import DescribedOpenAPIConfig
from services.runtime.http.plain_litestar import PlainLitestar
from services.runtime.db.unit_of_work import Actor
from services.runtime.http.request_body import body_nesting, strict_integers
from services.runtime.http.security_headers import add_security_headers
from services.runtime.db.service_db import ServiceDatabase
from services.runtime.http.sessions import Revocations, session_store
from services.runtime.settings import Settings

log = logging.getLogger("xciss.http")



MONEY_SUFFIX = "_fen"


def _loose_money(node: Any, path: str = "") -> list[str]:
    """Paths of ``*_fen`` values that are not JSON integers ("100", 100.0, true)."""
    found: list[str] = []
    if isinstance(node, dict):
        for key, value in node.items():
            here = f"{path}.{key}" if path else str(key)
            if isinstance(key, str) and key.endswith(MONEY_SUFFIX) and value is not None and (type(value) is not int):
                found.append(here)
            else:
                found += _loose_money(value, here)
    elif isinstance(node, list):
        for i, value in enumerate(node):
            found += _loose_money(value, f"{path}[{i}]")
    return found


async def strict_money(request: Request) -> None:
    """Money is integer fen, exactly: the HTTP layer would turn ``"100"`` or
    ``100.0`` into 100 on its way to a Struct; a client that sends a string
    or a float for an ``*_fen`` field gets 400 ``request.invalid`` instead."""
    if request.method not in ("POST", "PUT", "PATCH") or request.content_type[0] != "application/json":
        return
    try:
        body = await request.json()
    except Exception:  # not JSON at all: the handler's own decoding says so
        return
    loose = _loose_money(body)
    if loose:
        raise DomainError(
            "request.invalid",
            "金额必须是以“分”为单位的整数（不能是字符串或小数）：" + "、".join(loose),
            f"amounts are integers of fen, not strings or decimals: {', '.join(loose)}",
            status=400,
            errors=[{"key": k, "message": "expected an integer number of fen", "source": "body"} for k in loose],
        )


#: what an SQL BIGINT (and SQLite's INTEGER) holds
INT64 = (-(2**63), 2**63 - 1)


#: each handler's integer parameters, read once; weakly held, so that an app
#: dropped (tests build hundreds in one process) takes its handlers with it
_int_names: weakref.WeakKeyDictionary[BaseRouteHandler, tuple[str, ...]] = weakref.WeakKeyDictionary()


def _int_query_names(handler: BaseRouteHandler) -> tuple[str, ...]:
    """A handler's integer parameters, as the query names them."""
    names = _int_names.get(handler)
    if names is None:
        names = _int_names[handler] = tuple(
            getattr(fd.kwarg_definition, "query", None) or fd.name
            for fd in handler.parsed_fn_signature.parameters.values()
            if fd.is_subclass_of(int) or (fd.is_optional and fd.has_inner_subclass_of(int))
        )
    return names


def _beyond_int64(text: str) -> bool:
    try:
        value = int(text)
    except ValueError:
        return False  # not a number at all: the parameter's own parsing says so
    return not INT64[0] <= value <= INT64[1]


async def int64_parameters(request: Request) -> None:
    """An integer in the path (``/v1/programmes/{year:int}``) or the query
    (``?price_min_fen=``) is parsed to a Python int of any size; one beyond 64
    bits would reach the database and fail there (500). It gets 400
    ``request.invalid`` instead: no such object or amount can exist."""
    wide = [(k, "path") for k, v in request.path_params.items() if type(v) is int and not INT64[0] <= v <= INT64[1]]
    query = request.query_params
    wide += [(k, "query") for k in _int_query_names(request.route_handler) if any(_beyond_int64(v) for v in query.getall(k, []))]
    if wide:
        names = [k for k, _ in wide]
        raise DomainError(
            "request.invalid",
            "数字超出范围：" + "、".join(names),
            f"a number is out of range: {', '.join(names)}",
            status=400,
            errors=[{"key": k, "message": "expected an integer of at most 64 bits", "source": where} for k, where in wide],
        )


async def validate_request(request: Request) -> None:
    """Shared checks before any handler runs."""
    await body_nesting(request)  # first: the depth, before anything decodes the body
    await int64_parameters(request)
    await strict_money(request)  # amounts first, in the words of money
    await strict_integers(request)


def actor_of(request: Request) -> Actor:
    p: Principal = request.scope.get("user") or ANONYMOUS
    return Actor(subject=p.subject, role=str(p.role), org=p.org)


ReadyCheck = Callable[[], Awaitable[None]]

#: a reported check answers within this or counts as failed, so a hanging
#: dependency never makes the readiness probe itself time out
REPORTED_CHECK_TIMEOUT_S = 1.0


async def _run_check(check: ReadyCheck, timeout: float | None = None) -> str:
    try:
        await (asyncio.wait_for(check(), timeout) if timeout else check())
        return "ok"
    except Exception as exc:  # a failing dependency is the answer, not an error
        return f"error: {type(exc).__name__}: {exc}"[:300]


def health_handlers(db: ServiceDatabase, checks: dict[str, ReadyCheck], reported: dict[str, ReadyCheck] | None = None) -> list[Any]:
    """``/health`` (liveness: the process answers) and ``/ready`` (readiness:
    the service's own database and ``checks`` answer). ``reported`` checks
    (NATS: the outbox takes writes while the bus is down) appear in ``/ready``'s
    detail without failing it, so a bus outage does not take every API pod out
    of its Service at once."""

    @get("/health", operation_id="health", tags=["operations"], **access(PUBLIC))
    async def health() -> dict[str, str]:
        """Liveness: the process answers."""
        return {"status": "ok"}

    @get("/ready", operation_id="ready", tags=["operations"], **access(PUBLIC))
    async def ready() -> Response:
        """Readiness: the database answers; NATS is reported, not required."""
        results = {name: await _run_check(check) for name, check in {"database": db.ping, **checks}.items()}
        ok = all(v == "ok" for v in results.values())
        for name, check in (reported or {}).items():
            results[name] = await _run_check(check, REPORTED_CHECK_TIMEOUT_S)
        return Response({"status": "ready" if ok else "not_ready", "checks": results}, status_code=200 if ok else 503)

    return [health, ready]


def build_app(
    service: str,
    settings: Settings,
    db: ServiceDatabase,
    route_handlers: Sequence[Any],
    *,
    ready_checks: dict[str, ReadyCheck] | None = None,
    reported_checks: dict[str, ReadyCheck] | None = None,
    on_startup: Sequence[Callable[[], Awaitable[None]]] = (),
    on_shutdown: Sequence[Callable[[], Awaitable[None]]] = (),
    dependencies: dict[str, Provide] | None = None,
    description: str = "",
    metrics: ServiceMetrics | None = None,
) -> Litestar:
    store = session_store(settings, f"xciss-{service}-sessions", service)
    revocations = Revocations(store)
    verifier = TokenVerifier(settings, revocations)
    metrics = metrics or ServiceMetrics(service, cache_s=settings.metrics_cache_s)

    async def _dispose() -> None:
        await db.dispose()
        if isinstance(store, NatsKVStore):
            await store.close()

    return PlainLitestar(
        route_handlers=[*health_handlers(db, ready_checks or {}, reported_checks), metrics_handler(metrics), audit_controller(db), *route_handlers],
        middleware=[prometheus_config(service).middleware, auth_and_trace_middleware(verifier, service)],
        before_request=validate_request,
        exception_handlers=EXCEPTION_HANDLERS,
        before_send=[add_security_headers],
        dependencies={
            "db": Provide(lambda: db, use_cache=True, sync_to_thread=False),
            "session_store": Provide(lambda: store, use_cache=True, sync_to_thread=False),
            "revocations": Provide(lambda: revocations, use_cache=True, sync_to_thread=False),
            **(dependencies or {}),
        },
        openapi_config=DescribedOpenAPIConfig(
            title=f"xciss {service}",
            version="1.0.0",
            description=description or f"The {service} service of the xciss platform.",
            path="/schema",
            components=Components(security_schemes={"bearer": SecurityScheme(type="http", scheme="bearer", bearer_format="JWT")}),
            security=[{"bearer": []}],
        ),
        on_startup=list(on_startup),
        on_shutdown=[*on_shutdown, _dispose],
        request_max_body_size=10_000_000,
        debug=False,
        # the CLI configures logging (XCISS_LOG_LEVEL); Litestar's default config would reset the
        # root logger. Unhandled errors are logged by EXCEPTION_HANDLERS (``xciss.http``).
        logging_config=None,
        state=None,
    )
