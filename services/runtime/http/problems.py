"""The error answers of every HTTP app, the gateway's included: their shape (RFC 9457
problem details with a stable ``code`` and a Chinese and an English message),
:func:`problem` that renders one, the exception handlers that turn every error into
one, and their declaration in the OpenAPI documents: every operation documents the problem statuses it can answer with,
as ``application/problem+json``, so a client (and schemathesis) knows that a
400 carries a ``code`` and a Chinese and an English message."""

from __future__ import annotations

import logging
from typing import Any

import msgspec
from litestar import Request, Response
from litestar.exceptions import (
    HTTPException,
    NotAuthorizedException,
    NotFoundException,
    PermissionDeniedException,
    ValidationException,
)
from litestar.openapi.datastructures import ResponseSpec

from services.runtime.errors import DomainError

log = logging.getLogger("xciss.http")

PROBLEM = "application/problem+json"


class Problem(msgspec.Struct, kw_only=True):
    """An error: ``code`` is stable, ``message_zh``/``message_en`` are for people."""

    type: str
    title: str
    status: int
    code: str
    message_zh: str
    message_en: str
    #: the fields a request got wrong (400 ``request.invalid``)
    errors: list[dict[str, Any]] | None = None
    #: what the rule needs to be explained (the object's id, a limit, ...)
    details: dict[str, Any] | None = None


_DESCRIPTIONS = {
    400: "The request is not valid (``request.invalid``): a field is missing, of the wrong type (numbers are never read from strings) or out of range; or the body is nested too deeply (``request.too_deep``)",
    401: "No token, or an invalid or expired one",
    403: "The caller's role or organisation may not do this",
    404: "The object (or the address) does not exist",
    409: "The object is not in a state that allows this",
    413: "The upload is too large",
    415: "The upload's type is not accepted",
    422: "A business rule refuses the request",
    429: "Too many requests (the gateway's rate limit)",
}

#: what any operation can answer: bad input, a bad token, an unknown object,
#: a state or business rule, the gateway's rate limit
COMMON = (400, 401, 404, 409, 422, 429)


class DocumentedResponse(ResponseSpec):
    """A route's documented response, never changed once made. Litestar deep-copies
    every route handler of a controller for each app it builds, with its
    ``responses``; a copy shares these instead (846 of the objects copied for each
    registry app: 8% fewer Python calls to build it, and each test builds its apps)."""

    def __deepcopy__(self, memo: dict[int, Any]) -> DocumentedResponse:
        return self


def problem_responses(*statuses: int, public: bool = False) -> dict[int, ResponseSpec]:
    """``responses=`` for a route: the common problem statuses (403 too unless
    the route is public), and ``statuses`` (413, 415 for an upload)."""
    codes = sorted({*COMMON, *(() if public else (403,)), *statuses})
    return {code: DocumentedResponse(data_container=Problem, description=_DESCRIPTIONS.get(code, "An error"), media_type=PROBLEM, generate_examples=False) for code in codes}


def replayed(model: type, what: str = "the earlier result, when the same request was already carried out (nothing is done again)") -> dict[int, ResponseSpec]:
    """``access(..., responses=replayed(Model))`` for an idempotent POST that
    answers 201 when it acts and 200 with the earlier result on a repeat."""
    return {200: DocumentedResponse(data_container=model, description=what, generate_examples=False)}


#: the documented content type of a stored document's download: its own type
#: (PDF, JPEG, PNG, DOCX), recognised from the bytes at upload
DOCUMENT_MEDIA_TYPES = "*/*"


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
