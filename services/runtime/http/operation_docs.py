"""Each OpenAPI operation's description says who may call it and which error
codes it answers (zh + en), so that it stays true:

- **who may call** is read from the route's ``access(...)`` declaration
  (``opt["access"]``, the same one its guard enforces);
- **which errors**: the generic ones by rule (below) and the operation's own
  codes, declared in the service's ``api/operation_errors.py``
  (``ERRORS: operation id -> codes``; ``CODES`` for codes built at run time);
- each code's HTTP status and meaning come from the one catalogue
  (:mod:`services.runtime.http.error_catalogue`, read from the source).

The generic codes by rule:

- every operation: ``request.invalid`` (400), ``auth.invalid_token`` (401, a
  token sent must be valid), ``request.rate_limited`` (429, the gateway);
- a body (POST/PUT/PATCH): ``request.too_deep`` (400), ``request.too_large`` (413);
- a path parameter: ``request.not_found`` (404, an unknown address);
- not public: ``auth.unauthenticated`` (401), ``auth.forbidden`` (403);
- an ``Idempotency-Key`` header: ``request.idempotency_key_invalid`` (400),
  ``request.idempotency_key_reused`` (409);
- an ``If-Match`` header: ``request.if_match_invalid`` (400),
  ``request.precondition_failed`` (412);
- an ``If-None-Match`` header (a ``PUT`` that creates its record): ``request.if_none_match_invalid``
  (400), ``request.record_exists`` (412).
"""

from __future__ import annotations

import importlib
import inspect
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from litestar import Litestar
from litestar.openapi import OpenAPIConfig
from litestar.openapi.spec import OpenAPI

from services.runtime.http.auth import PUBLIC
from services.runtime.http.error_catalogue import CodeEntry, catalogue
from services.runtime.http.preconditions import takes_if_match, takes_if_none_match

#: how each role is called in the description (zh, en)
ROLE_NAMES: dict[str, tuple[str, str]] = {
    PUBLIC: ("任何人（无需登录）", "anyone, no sign-in needed"),
    "user": ("用户", "user"),
    "unit": ("管理单位", "unit"),
    "department": ("主管部门", "department"),
    "center": ("市科技创新公共服务中心", "center"),
    "bureau": ("市科技局", "bureau"),
    "finance": ("市财政局", "finance"),
    "expert": ("评审专家", "expert"),
    "partner": ("合作机构", "partner"),
    "sysadmin": ("系统管理员", "sysadmin"),
    "secadmin": ("安全管理员", "secadmin"),
    "auditor": ("审计管理员", "auditor"),
    "service": ("平台内部服务", "service (another platform service)"),
}
WHO_HEADING = "**谁可以调用 / Who may call:**"
ERRORS_HEADING = "**错误码 / Error codes:**"
_BODY_METHODS = {"POST", "PUT", "PATCH"}


def generic_codes(handler: Any) -> tuple[str, ...]:
    """The codes every operation of this kind answers (the rules above)."""
    codes = ["request.invalid", "auth.invalid_token", "request.rate_limited"]
    if set(handler.http_methods) & _BODY_METHODS:
        codes += ["request.too_deep", "request.too_large"]
    if handler.paths and any("{" in p for p in handler.paths) or _has_path_parameter(handler):
        codes.append("request.not_found")
    if PUBLIC not in (handler.opt.get("access") or ()):
        codes += ["auth.unauthenticated", "auth.forbidden"]
    if _takes_idempotency_key(handler):
        codes += ["request.idempotency_key_invalid", "request.idempotency_key_reused"]
    if _takes_if_match(handler):
        codes += ["request.if_match_invalid", "request.precondition_failed"]
    if _takes_if_none_match(handler):
        codes += ["request.if_none_match_invalid", "request.record_exists"]
    return tuple(codes)


def _has_path_parameter(handler: Any) -> bool:
    owner = handler
    while owner is not None:
        if "{" in str(getattr(owner, "path", "")):
            return True
        owner = getattr(owner, "owner", None)
    return False


def _takes_idempotency_key(handler: Any) -> bool:
    try:
        annotations = inspect.get_annotations(inspect.unwrap(handler.fn))
    except (TypeError, ValueError):
        return False
    return any("IdempotencyKey" in str(a) for a in annotations.values())


def _takes_if_match(handler: Any) -> bool:
    try:
        annotations = inspect.get_annotations(inspect.unwrap(handler.fn))
    except (TypeError, ValueError):
        return False
    return takes_if_match(annotations)


def _takes_if_none_match(handler: Any) -> bool:
    try:
        annotations = inspect.get_annotations(inspect.unwrap(handler.fn))
    except (TypeError, ValueError):
        return False
    return takes_if_none_match(annotations)


def service_tables(service: str) -> tuple[dict[str, tuple[str, ...]], dict[str, tuple[int, str, str]]]:
    """``ERRORS`` and ``CODES`` of ``services/<service>/api/operation_errors.py``
    with the runtime's own operations (health, ready, metrics, audit)."""
    from services.runtime import operation_errors as shared

    try:
        module = importlib.import_module(f"services.{service}.api.operation_errors")
    except ModuleNotFoundError:
        return dict(shared.ERRORS), {}
    return {**shared.ERRORS, **getattr(module, "ERRORS", {})}, dict(getattr(module, "CODES", {}))


def operation_handlers(app: Litestar) -> Iterable[Any]:
    """The app's route handlers that are operations (not the OpenAPI pages, not CORS pre-flight)."""
    for route in app.routes:
        for handler in getattr(route, "route_handlers", []):
            if isinstance(handler.operation_id, str) and handler.opt.get("access") and handler.include_in_schema is not False:
                yield handler


def describe(handler: Any, declared: tuple[str, ...] | None, codes: dict[str, CodeEntry]) -> str:
    """The description of one operation: its docstring, who may call it, its error codes."""
    doc = handler.description or inspect.getdoc(inspect.unwrap(handler.fn)) or ""
    doc = doc.split(WHO_HEADING, 1)[0]  # a handler shared by two apps is described once
    roles = handler.opt.get("access") or ()
    who = "、".join(ROLE_NAMES.get(r, (r, r))[0] for r in roles) + " / " + ", ".join(ROLE_NAMES.get(r, (r, r))[1] for r in roles)
    wanted = list(dict.fromkeys([*generic_codes(handler), *(declared or ())]))
    rows = []
    for code in wanted:
        entry = codes.get(code)
        status = ", ".join(str(s) for s in sorted(entry.statuses or {entry.status})) if entry else "?"
        zh = _cell(entry.message_zh if entry else "")
        en = _cell(entry.message_en if entry else "")
        rows.append((min(entry.statuses or {entry.status}) if entry else 999, f"| {status} | `{code}` | {zh} | {en} |"))
    table = "\n".join(["| HTTP | code | 含义 | meaning |", "|---|---|---|---|", *(r for _, r in sorted(rows, key=lambda x: x[0]))])
    missing = "" if declared is not None else "\n\n（本操作尚未声明其业务错误码 / this operation has not declared its own error codes yet）"
    parts = [doc.strip(), f"{WHO_HEADING} {who}", f"{ERRORS_HEADING}\n\n{table}{missing}"]
    return "\n\n".join(p for p in parts if p)


def _cell(text: str) -> str:
    text = " ".join(text.split()).removesuffix(": …").removesuffix("：…").replace("|", "\\|")
    return text if len(text) <= 160 else text[:159] + "…"


def describe_operations(app: Litestar, service: str) -> None:
    """Put the description on every operation of ``app``."""
    errors, extra = service_tables(service)
    codes = catalogue(extra)
    for handler in operation_handlers(app):
        handler.description = describe(handler, errors.get(handler.operation_id), codes)


@dataclass
class DescribedOpenAPIConfig(OpenAPIConfig):
    """Litestar's OpenAPI configuration, which runs ``describe`` once, just before the
    first document is built from it (Litestar builds it lazily: on the first request
    for ``/schema``, or the first read of ``app.openapi_schema``). A process that is never
    asked for its document never reads the error catalogue nor holds the descriptions:
    the registry's API, 0.8 MiB of idle memory (issue 19, target 5)."""

    describe: Callable[[], None] | None = None

    def to_openapi_schema(self) -> OpenAPI:
        if self.describe is not None:
            describe, self.describe = self.describe, None
            describe()
        return super().to_openapi_schema()


def describe_when_documented(app: Litestar, service: str) -> Litestar:
    """:func:`describe_operations` on ``app``, when its OpenAPI document is first built;
    ``app`` was built with a :class:`DescribedOpenAPIConfig`."""
    config = app.openapi_config
    if not isinstance(config, DescribedOpenAPIConfig):
        raise TypeError(f"{service}: the app's OpenAPI configuration is not a DescribedOpenAPIConfig")
    config.describe = lambda: describe_operations(app, service)
    return app
