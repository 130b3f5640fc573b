"""What every HTTP app of the platform shares, the gateway's included: errors as
RFC 9457 problem details with a stable ``code`` and a Chinese and an English
message, and on each request the bearer token, the server span and the
correlation id. Nothing here needs a database, so the gateway imports it
without SQLAlchemy (the services' app factory is ``app.py``)."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from typing import Any

from litestar import Request, Response
from litestar.datastructures import MutableScopeHeaders
from litestar.exceptions import (
    HTTPException,
    NotAuthorizedException,
    NotFoundException,
    PermissionDeniedException,
    ValidationException,
)
from litestar.types import ASGIApp, Message, Receive, Scope, Send
from opentelemetry.trace import SpanKind, Status, StatusCode

from services.runtime import telemetry
from services.runtime.errors import DomainError
from services.runtime.http.auth import ANONYMOUS, TokenError, TokenVerifier
from services.runtime.http.problems import PROBLEM

log = logging.getLogger("xciss.http")


def problem(status: int, code: str, message_zh: str, message_en: str, **extra: Any) -> Response:
    body = {
        "type": f"https://xciss.cn/problems/{code}",
        "title": message_en,
        "status": status,
        "code": code,
        "message_zh": message_zh,
        "message_en": message_en,
        **extra,
    }
    return Response(content=body, status_code=status, media_type=PROBLEM)


def _domain_error(_: Request, exc: DomainError) -> Response:
    extra = {"details": exc.details} if exc.details else {}
    return problem(exc.status, exc.code, exc.message_zh, exc.message_en, **extra)


def _validation_error(_: Request, exc: ValidationException) -> Response:
    return problem(
        400,
        "request.invalid",
        "请求数据不符合要求，请检查各字段",
        f"the request is not valid: {exc.detail}",
        errors=exc.extra if isinstance(exc.extra, list) else [],
    )


def _http_error(_: Request, exc: HTTPException) -> Response:
    if isinstance(exc, NotAuthorizedException):
        return problem(401, "auth.unauthenticated", "请先登录（缺少或无效的访问令牌）", f"authentication required: {exc.detail}")
    if isinstance(exc, PermissionDeniedException):
        return problem(403, "auth.forbidden", "当前角色无权执行此操作", f"forbidden: {exc.detail}")
    if isinstance(exc, NotFoundException):
        return problem(404, "request.not_found", "请求的地址或对象不存在", "not found")
    status = exc.status_code
    if status == 405:
        return problem(405, "request.method_not_allowed", "不支持该请求方法", "method not allowed")
    if status == 413:
        return problem(413, "request.too_large", "请求内容过大", "request body too large")
    if status == 429:
        resp = problem(429, "request.rate_limited", "请求过于频繁，请稍后再试", "too many requests; slow down and retry later")
        limits = dict(exc.headers or {})  # RateLimit-* from the limiter
        if "RateLimit-Reset" in limits:
            limits["Retry-After"] = str(limits["RateLimit-Reset"])
        resp.headers.update(limits)
        return resp
    if status < 500:
        return problem(status, "request.rejected", "请求被拒绝", str(exc.detail))
    log.error("HTTP %s: %s", status, exc.detail)
    return problem(status, "internal.error", "服务器内部错误，请稍后重试", "internal error; please retry later")


def _unexpected(_: Request, exc: Exception) -> Response:
    log.exception("unhandled error", exc_info=exc)
    return problem(500, "internal.error", "服务器内部错误，请稍后重试", "internal error; please retry later")


EXCEPTION_HANDLERS: dict[Any, Any] = {
    DomainError: _domain_error,
    ValidationException: _validation_error,
    HTTPException: _http_error,
    Exception: _unexpected,
}


#: ``Authorization`` schemes that a route verifies itself (the registry's usage
#: API takes ``Recorder <token>`` from an instrument-side recorder): the request
#: stays anonymous here and only routes that read the header accept it
ROUTE_SCHEMES = frozenset({"recorder"})


def auth_and_trace_middleware(verifier: TokenVerifier, service: str) -> Callable[[ASGIApp], ASGIApp]:
    """Sets ``scope['user']`` from the bearer token, opens the server span and
    stamps a correlation id on request and response."""

    def factory(app: ASGIApp) -> ASGIApp:
        async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
            if scope["type"] != "http":
                await app(scope, receive, send)
                return
            headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
            correlation = headers.get("x-correlation-id") or str(uuid.uuid4())
            scope.setdefault("state", {})["correlation_id"] = correlation
            parent = telemetry.context_from(headers)
            # the route's template, not the path: one span name per operation, however many ids
            # (Litestar routes before the middleware runs; an unrouted path keeps its own)
            route = scope.get("path_template") or scope["path"]
            name = f"{scope['method']} {route}"
            with telemetry.tracer().start_as_current_span(name, context=parent, kind=SpanKind.SERVER) as span:
                span.set_attribute("http.request.method", scope["method"])
                span.set_attribute("url.path", scope["path"])
                if scope.get("path_template"):
                    span.set_attribute("http.route", route)
                span.set_attribute("xciss.service", service)
                span.set_attribute("xciss.correlation_id", correlation)

                async def send_wrapper(message: Message) -> None:
                    if message["type"] == "http.response.start":
                        MutableScopeHeaders.from_message(message)["X-Correlation-Id"] = correlation
                        span.set_attribute("http.response.status_code", message["status"])
                        if message["status"] >= 500:
                            span.set_status(Status(StatusCode.ERROR))
                    await send(message)

                auth = headers.get("authorization")
                scope["user"] = ANONYMOUS
                if auth and auth.partition(" ")[0].lower() not in ROUTE_SCHEMES:
                    scheme, _, token = auth.partition(" ")
                    try:
                        if scheme.lower() != "bearer" or not token:
                            raise TokenError("expected 'Bearer <token>'")
                        scope["user"] = await verifier.authenticate(token.strip())
                    except TokenError as exc:
                        resp = problem(401, "auth.invalid_token", "访问令牌无效或已过期", f"invalid token: {exc}")
                        await resp.to_asgi_response(app=None, request=None)(scope, receive, send_wrapper)  # type: ignore[arg-type]
                        return
                await app(scope, receive, send_wrapper)

        return middleware

    return factory



def correlation_of(request: Request) -> str | None:
    return request.scope.get("state", {}).get("correlation_id")

