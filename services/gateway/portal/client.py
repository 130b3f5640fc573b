"""The portal's API client: calls the services the gateway fronts, over HTTP,
with the signed-in user's token. The portal knows no service internals."""

from __future__ import annotations

from typing import Any

import httpx


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
        p = self.problem
        text = p.get("message_en" if lang == "en" else "message_zh") or p.get("title") or p.get("detail") or f"HTTP {self.status}"
        failures = (p.get("details") or {}).get("failures") if isinstance(p.get("details"), dict) else None
        if failures:
            text += " (" + ", ".join(str(f) for f in failures) + ")"
        return str(text)

    def field_errors(self, lang: str = "zh") -> dict[str, str]:
        """Field name → message, from ``errors`` / ``details.errors`` (request.invalid) and
        ``details.missing``; the services word these in English, so Chinese says so first."""
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
                    text = str(e.get("message") or e.get("code") or "")
                    found[key] = text if lang == "en" else f"此项不符合要求（{text}）"
        if isinstance(details, dict):
            if isinstance(details.get("field"), str) and details["field"]:  # a rule's refusal at one field
                found.setdefault(details["field"], self.message(lang))
            for field in details.get("missing") or []:
                found.setdefault(str(field), "missing" if lang == "en" else "此项必填")
        return found


class Api:
    def __init__(self, client: httpx.AsyncClient, upstreams: dict[str, str], token: str | None, *, forwarded_for: str | None = None):
        self.client, self.upstreams, self.token = client, upstreams, token
        self.forwarded_for = forwarded_for

    def _headers(self, extra: dict[str, str] | None = None) -> dict[str, str]:
        h = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        if self.forwarded_for:
            h["X-Forwarded-For"] = self.forwarded_for
        return {**h, **(extra or {})}

    async def raw(self, method: str, service: str, path: str, **kw: Any) -> httpx.Response:
        base = self.upstreams[service].rstrip("/")
        headers = self._headers(kw.pop("headers", None))
        params = {k: v for k, v in (kw.pop("params", None) or {}).items() if v not in (None, "")}
        try:
            return await self.client.request(method, f"{base}{path}", headers=headers, params=params, **kw)
        except httpx.TransportError as exc:
            raise ApiError(503, {"code": "gateway.upstream_unavailable", "message_zh": f"{service} 服务暂时不可用，请稍后重试", "message_en": f"the {service} service is not reachable"}) from exc

    async def call(self, method: str, service: str, path: str, **kw: Any) -> Any:
        r = await self.raw(method, service, path, **kw)
        if r.status_code >= 400:
            try:
                problem = r.json()
            except ValueError:
                problem = {}
            if not isinstance(problem, dict):
                problem = {}
            problem.setdefault("code", f"http.{r.status_code}")
            raise ApiError(r.status_code, problem)
        if not r.content:
            return None
        try:
            return r.json()
        except ValueError:
            return None

    async def get(self, service: str, path: str, **params: Any) -> Any:
        return await self.call("GET", service, path, params=params)

    async def maybe(self, service: str, path: str, **params: Any) -> Any:
        """GET, or None when the service refuses (missing, forbidden, unavailable)."""
        try:
            return await self.get(service, path, **params)
        except ApiError:
            return None

    async def post(self, service: str, path: str, json: Any = None, **kw: Any) -> Any:
        return await self.call("POST", service, path, json=json, **kw)
