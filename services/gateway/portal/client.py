"""The portal's API client: calls the services the gateway fronts, over HTTP,
with the signed-in user's token. The portal knows no service internals."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import msgspec

from services.gateway.portal.i18n import said_problem, translate
from services.gateway.portal.i18n_audit import SERVICES
from services.gateway.portal.messages import field_text, own_words, problem_text
from services.gateway.upstreams import Upstreams


class ApiError(Exception):
    """A problem answered by a service (RFC 9457 with code, message_zh, message_en)."""

    def __init__(self, status: int, problem: dict[str, Any]):
        super().__init__(problem.get("code", status))
        self.status = status
        self.problem = problem

    @property
    def code(self) -> str:
        return str(self.problem.get("code") or f"http.{self.status}")

    def message(self, lang: str) -> str:
        """What the user reads: the service's message in ``lang`` (the catalogue's for a
        bare code or status), never the code, a dict or English on a Chinese page."""
        return problem_text(self.problem, self.status, lang)

    def field_errors(self, lang: str = "zh") -> dict[str, str]:
        """Field name → message, from ``errors`` / ``details.errors`` (request.invalid),
        ``details.field`` (a rule's refusal at one field) and ``details.missing``; the
        validation errors in the catalogue's words."""
        found: dict[str, str] = {}
        details = self.problem.get("details")
        listed = list(self.problem.get("errors") or [])
        if isinstance(details, dict) and isinstance(details.get("errors"), list):
            listed += details["errors"]
        for e in listed:
            if isinstance(e, dict):
                key = str(e.get("key") or e.get("field") or "")
                key = key.removeprefix("$.").split(".")[-1].split("[")[0]
                if key:
                    found[key] = own_words(e, lang) or field_text(e.get("message") or e.get("code"), key, lang)
        if isinstance(details, dict):
            if isinstance(details.get("field"), str) and details["field"]:  # a rule's refusal at one field
                found.setdefault(details["field"], self.message(lang))
        if self.code.endswith((".reason_required", ".reason_too_long")) and not (isinstance(details, dict) and details.get("field")):
            found.setdefault("reason", self.message(lang))
        if isinstance(details, dict):
            for field in details.get("missing") or []:
                found.setdefault(str(field), translate("field_required", lang))
        return found


def at_field(err: ApiError, field: str, *, source: str = "reason") -> ApiError:
    """The refusal with its ``source`` field error moved to ``field`` (a page with two
    fields of one name, e.g. an order's quote reason and its cancellation reason)."""
    if source not in err.field_errors("zh"):
        return err
    details = dict(err.problem.get("details") or {}) if isinstance(err.problem.get("details"), dict) else {}
    details["field"] = field
    details.pop("errors", None)
    return ApiError(err.status, {**{k: v for k, v in err.problem.items() if k != "errors"}, "details": details})


def reason_required(key: str, field: str = "reason") -> ApiError:
    """The portal's own refusal of a decision without its reason, shaped as the services' are;
    ``key``: its words in the catalogues (msgctxt "portal_refusal")."""
    return ApiError(400, {"code": "decision.reason_required", **said_problem(key), "details": {"field": field}})


def confirmed(form: dict[str, Any], key: str = "tick_the_confirmation_first", *, field: str = "confirm") -> None:
    """An action the API cannot undo: its form's confirmation box (``field``, ``confirm`` unless
    the form has several) ticked, else the portal's refusal at the box in the catalogue's words
    of ``key``."""
    if not form.get(field):
        raise ApiError(400, {"code": "portal.confirm", **said_problem(key), "details": {"field": field}})


def refused_at(code: str, key: str, field: str) -> ApiError:
    """The portal's own refusal at one field (422, ``code``), in the catalogue's words of ``key``."""
    return ApiError(422, {"code": code, **said_problem(key), "details": {"field": field}})


def missing(*fields: str) -> ApiError:
    """The portal's own refusal of a form without a required field, shaped as the services' are."""
    return ApiError(400, {"code": "request.invalid", **said_problem("fill_in_the_required_fields"), "details": {"missing": list(fields)}})


def with_field(err: ApiError, key: str, words: Callable[[str], str]) -> ApiError:
    """The error, with ``words(lang)`` shown next to the form's field ``key``."""
    err.problem.setdefault("errors", []).append({"key": key, "message_zh": words("zh"), "message_en": words("en")})
    return err


def _unavailable(service: str) -> ApiError:
    """A service that does not answer, named in the catalogues' words (``svc_*``, as the audit trail's
    chooser names it); one the portal has no words for, the catalogues' 503 ("服务暂时不可用")."""
    problem: dict[str, Any] = {"code": "gateway.upstream_unavailable"}
    if key := dict(SERVICES).get(service):
        problem |= {f"message_{lang}": translate("service_unavailable", lang, service=translate(key, lang)) for lang in ("zh", "en")}
    return ApiError(503, problem)


class Api:
    def __init__(self, client: httpx.AsyncClient, upstreams: Upstreams, token: str | None, *, forwarded_for: str | None = None):
        self.client, self.upstreams, self.token = client, upstreams, token
        self.forwarded_for = forwarded_for

    def _headers(self, extra: dict[str, str] | None = None) -> dict[str, str]:
        h = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        if self.forwarded_for:
            h["X-Forwarded-For"] = self.forwarded_for
        return {**h, **(extra or {})}

    async def raw(self, method: str, service: str, path: str, **kw: Any) -> httpx.Response:
        try:
            upstream = self.upstreams[service]
        except KeyError:  # a gateway without that service's address: unavailable to this page, as if down
            raise _unavailable(service) from None
        headers = self._headers(kw.pop("headers", None))
        params = {k: v for k, v in (kw.pop("params", None) or {}).items() if v not in (None, "")}
        try:
            return await upstream.request(self.client, method, path, headers=headers, params=params, **kw)
        except httpx.TransportError as exc:
            raise _unavailable(service) from exc

    async def call(self, method: str, service: str, path: str, **kw: Any) -> Any:
        r = await self.raw(method, service, path, **kw)
        if r.status_code >= 400:
            try:
                problem = msgspec.json.decode(r.content)
            except msgspec.DecodeError:
                problem = {}
            if not isinstance(problem, dict):
                problem = {}
            problem.setdefault("code", f"http.{r.status_code}")
            raise ApiError(r.status_code, problem)
        if not r.content:
            return None
        try:
            return msgspec.json.decode(r.content)
        except msgspec.DecodeError:
            return None

    async def get(self, service: str, path: str, **params: Any) -> Any:
        return await self.call("GET", service, path, params=params)

    async def answer(self, service: str, path: str, **params: Any) -> Any:
        """GET, or the refusal as an :class:`ApiError` returned, not raised (for ``asyncio.gather``)."""
        try:
            return await self.get(service, path, **params)
        except ApiError as err:
            return err

    async def maybe(self, service: str, path: str, **params: Any) -> Any:
        """GET, or None when the service refuses (missing, forbidden, unavailable)."""
        try:
            return await self.get(service, path, **params)
        except ApiError:
            return None

    async def post(self, service: str, path: str, json: Any = None, **kw: Any) -> Any:
        return await self.call("POST", service, path, json=json, **kw)
