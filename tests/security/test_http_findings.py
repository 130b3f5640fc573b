"""The HTTP findings of the probe (issue 14, item 6), each as the attacker
tried it: the sign-in's ``next`` sent off-site, JSON nested thousands deep, a
percent-encoded service name in the gateway's path, missing security headers,
the services' ``/metrics`` and ``/ready`` through the gateway, and integers
accepted as strings or decimals."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import httpx
import pytest
from litestar.testing import TestClient

from services.gateway.app import create_app
from services.gateway.portal.session import safe_next
from services.runtime.http.auth import issue_token
from services.runtime.http.request_body import MAX_DEPTH
from services.runtime.roles import Role
from services.runtime.settings import SERVICES, Settings
from tests.support.platform import Platform, running
from tests.support.polling import eventually
from tests.support.portal import gateway as real_gateway

TEMPLATES = Path(__file__).resolve().parents[2] / "services" / "gateway" / "portal" / "templates"


class Upstream:
    """A service that answers every request with JSON (no headers of its own) and records it."""

    def __init__(self, settings: Settings) -> None:
        self.seen: list[httpx.Request] = []
        self.token = issue_token(settings, subject="demo-center", role="center", ttl_s=600, session_id="s1")

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.seen.append(request)
        if request.method == "POST" and request.url.path == "/v1/sessions":
            return httpx.Response(201, json={"token": self.token, "expires_at": "2099-01-01T00:00:00Z", "role": "center", "org": None})
        if request.url.path == "/v1/units/":
            return httpx.Response(200, json={"path": request.url.path, "items": [], "total": 0})
        return httpx.Response(404, json={"code": "test.not_here"})  # the portal's pages show what they can


def _unit_gateway(tmp_path: Path) -> tuple[Any, Upstream, Settings]:
    settings = Settings(data_dir=tmp_path)  # dev mode: token keys made under tmp_path
    upstream = Upstream(settings)
    app = create_app(settings, transport=httpx.MockTransport(upstream), upstreams={s: f"http://127.0.0.1:{8101 + i}" for i, s in enumerate(SERVICES)})
    return app, upstream, settings


# --- 1. the sign-in's next --------------------------------------------------

OFF_SITE = [
    "/\\evil.example/",  # what "/signin?next=/%5Cevil.example/" decodes to
    "/%5Cevil.example/",
    "/%5cevil.example/",
    "//evil.example/",
    "/%2F/evil.example/",
    "\\\\evil.example/",
    "https://evil.example/",
    "javascript:alert(1)",
    "/\t/evil.example/",
    "/%09/evil.example/",
    "/\r\nSet-Cookie: x=1",
    "evil.example",
    "",
]


@pytest.mark.parametrize("target", OFF_SITE)
def test_next_outside_this_site_falls_back_to_the_landing_page(target: str) -> None:
    assert safe_next(target) == "/"


@pytest.mark.parametrize("target", ["/", "/orders", "/orders/o-1?done=1", "/instruments?q=%E6%98%BE%E5%BE%AE%E9%95%9C&page=2"])
def test_next_within_this_site_is_kept(target: str) -> None:
    assert safe_next(target) == target


def test_a_sign_in_from_a_hostile_link_stays_on_this_site(tmp_path: Path) -> None:
    """The attack: a link to /signin?next=/%5Cevil.example/ put "/\\evil.example/" into the
    form, and the browser followed "Location: /\\evil.example/" to evil.example."""
    app, _, _ = _unit_gateway(tmp_path)
    with TestClient(app) as c:
        page = c.get("/signin?next=/%5Cevil.example/")
        assert page.status_code == 200
        carried = re.search(r'name="next" value="([^"]*)"', page.text)
        assert carried and carried.group(1) == "/"
        csrf = c.cookies.get("xciss_csrf")
        for sent in ("/\\evil.example/", "/%5Cevil.example/", "//evil.example/", "/orders"):
            r = c.post("/signin", data={"_csrf_token": csrf, "username": "demo-center", "password": "right", "next": sent}, follow_redirects=False)
            assert r.status_code == 303, r.text
            # a hostile next falls back to the landing page, which sends the center to its workspace: this site either way
            assert r.headers["location"] == ("/orders" if sent == "/orders" else "/workspace"), sent


# --- 3. a percent-encoded service name ----------------------------------------


@pytest.mark.parametrize("path", ["/api/%72egistry/v1/units/", "/api/REGISTRY/v1/units/", "/api/registry%2Fv1/units/", "/api/ledger/v1/x"])
def test_a_service_name_not_spelled_as_is_is_404_and_forwards_nothing(tmp_path: Path, path: str) -> None:
    """"/api/%72egistry/v1/units/" was forwarded to "http://127.0.0.1:8101ry/v1/units/"."""
    app, upstream, _ = _unit_gateway(tmp_path)
    with TestClient(app) as c:
        r = c.get(path)
    assert r.status_code == 404, r.text
    assert r.json()["code"] in ("gateway.unknown_service", "request.not_found")
    assert r.json()["message_zh"] and r.json()["message_en"]
    assert upstream.seen == []


def test_the_encoded_name_is_named_in_the_problem(tmp_path: Path) -> None:
    app, upstream, _ = _unit_gateway(tmp_path)
    with TestClient(app) as c:
        r = c.get("/api/%72egistry/v1/units/")
        ok = c.get("/api/registry/v1/units/?page=2")
    assert r.status_code == 404 and r.json()["code"] == "gateway.unknown_service" and r.json()["details"]["service"] == "%72egistry"
    assert ok.status_code == 200 and str(upstream.seen[-1].url) == "http://127.0.0.1:8101/v1/units/?page=2"


# --- 5. operations endpoints are not forwarded -------------------------------

INTERNAL = [
    "/api/registry/metrics",
    "/api/registry/ready",
    "/api/payments/ready/",
    "/api/vouchers//metrics",
    "/api/evaluation/%6detrics",
    "/api/registry/v1/%2e%2e/ready",
    "/api/registry/Metrics",
]


@pytest.mark.parametrize("path", INTERNAL)
def test_a_services_metrics_and_readiness_are_not_forwarded(tmp_path: Path, path: str) -> None:
    app, upstream, _ = _unit_gateway(tmp_path)
    with TestClient(app) as c:
        r = c.get(path)
    assert r.status_code == 404 and r.json()["code"] == "gateway.not_forwarded", r.text
    assert upstream.seen == []


# --- 4. security headers ------------------------------------------------------


def _secured(r: httpx.Response) -> str:
    assert r.headers["x-content-type-options"] == "nosniff"
    assert r.headers["x-frame-options"] == "DENY"
    assert r.headers["referrer-policy"] == "no-referrer"
    csp = r.headers["content-security-policy"]
    assert "frame-ancestors 'none'" in csp
    return csp


def test_the_portal_and_the_api_answer_with_security_headers(tmp_path: Path) -> None:
    app, _, settings = _unit_gateway(tmp_path)
    with TestClient(app) as c:
        for path in ("/", "/signin", "/instruments"):
            page = c.get(path)
            assert page.headers["content-type"].startswith("text/html")
            csp = _secured(page)
            # the portal's own stylesheet only: no script, no inline style, forms post to the portal
            assert "default-src 'none'" in csp and "style-src 'self'" in csp and "form-action 'self'" in csp
            assert "unsafe-inline" not in csp and "script-src" not in csp
        _secured(c.get("/static/portal.css"))
        for r in (
            c.get("/api/registry/v1/units/"),  # forwarded
            c.get("/api/registry/v1/units/", headers={"Authorization": "Bearer forged"}),  # refused at the door
            c.get("/no/such/page"),  # 404 before any route
            c.get("/api/%72egistry/x"),
        ):
            assert "default-src 'none'" in _secured(r), r.request.url


def test_the_portal_pages_need_nothing_their_policy_forbids() -> None:
    """The portal's CSP admits no script and no inline style: a template with
    either would break in the browser."""
    found = []
    for template in sorted(TEMPLATES.glob("*.html")):
        text = template.read_text(encoding="utf-8")
        for pattern in (r"<script", r"<style", r"\sstyle=", r"\son[a-z]+=", r"javascript:", r"https?://"):
            found += [f"{template.name}: {m.group(0)!r}" for m in re.finditer(pattern, text, re.IGNORECASE)]
    assert found == []


# --- on the real services: depth, strict integers, headers, operations --------


def _deep(levels: int) -> bytes:
    return b'{"reason": ' + b"[" * levels + b"]" * levels + b"}"


#: one JSON endpoint of each service, with a role it admits
ENDPOINTS = {
    "registry": ("/v1/orders/", Role.USER),
    "vouchers": ("/v1/programmes/", Role.BUREAU),
    "evaluation": ("/v1/notices/", Role.CENTER),
    "payments": ("/v1/settlements", Role.USER),
}


async def test_json_nested_thousands_deep_is_400_on_every_service_and_through_the_gateway(make_settings) -> None:
    """A body nested 5,000 deep answered 500 (msgspec's RecursionError)."""
    settings = await make_settings(list(SERVICES))
    async with running(Platform(settings, SERVICES), worker=False, relay=False) as p, real_gateway(p) as gw:
        json_type = {"Content-Type": "application/json"}
        for service, (path, role) in ENDPOINTS.items():
            for levels in (5_000, MAX_DEPTH + 1):
                r = await p.call(service, "POST", path, role=role, content=_deep(levels), headers=json_type)
                assert r.status_code == 400, (service, levels, r.text)
                assert r.json()["code"] == "request.too_deep" and r.json()["message_zh"] and r.json()["message_en"]
            r = await gw.post(f"/api/{service}{path}", content=_deep(5_000), headers={**json_type, **p.headers(role)})
            assert r.status_code == 400 and r.json()["code"] == "request.too_deep", (service, r.text)
        # Litestar decodes a handler's JSON whatever the content type claims
        r = await p.call("vouchers", "POST", "/v1/programmes/", role=Role.BUREAU, content=_deep(5_000), headers={"Content-Type": "text/plain"})
        assert r.status_code == 400 and r.json()["code"] == "request.too_deep", r.text
        # nesting a request really has is untouched: the ordinary refusal of a wrong field
        r = await p.call("vouchers", "POST", "/v1/programmes/", role=Role.BUREAU, content=_deep(3), headers=json_type)
        assert r.status_code == 400 and r.json()["code"] == "request.invalid", r.text


async def test_integers_are_not_taken_from_strings_or_decimals(make_settings) -> None:
    """"5", 2.0 and "1e2" were accepted as an order's quantity (and as a year)."""
    settings = await make_settings(["registry", "vouchers", "evaluation"])
    async with running(Platform(settings, ["registry", "vouchers", "evaluation"]), worker=False, relay=False) as p:
        for loose in ("5", 2.0, "1e2", "2"):
            order = {"purpose": "research", "items": [{"price_item_id": "no-such-item", "quantity": loose}]}
            r = await p.call("registry", "POST", "/v1/orders/", role=Role.USER, org="u1", json=order)
            assert r.status_code == 400, (loose, r.text)
            body = r.json()
            assert body["code"] == "request.invalid" and body["message_zh"] and body["message_en"]
            assert body["details"]["errors"][0]["key"] == "items[0].quantity" and body["details"]["errors"][0]["source"] == "body"
        # a JSON integer gets as far as the order's own rules (the price item does not exist)
        r = await p.call("registry", "POST", "/v1/orders/", role=Role.USER, org="u1", json={"purpose": "research", "items": [{"price_item_id": "no-such-item", "quantity": 2}]})
        assert r.status_code != 400 or r.json()["details"]["errors"][0]["key"] != "items[0].quantity", r.text
        for field, loose in (("year", "2026"), ("year", 2026.0), ("rate_bp", "3000"), ("appeal_window_days", 1e1)):
            opening = {"year": 2026, "budget_fen": 100_000_000, field: loose}
            r = await p.call("vouchers", "POST", "/v1/programmes/", role=Role.BUREAU, json=opening)
            assert r.status_code == 400 and r.json()["details"]["errors"][0]["key"] == field, (field, loose, r.text)
        r = await p.call("evaluation", "POST", "/v1/notices/", role=Role.CENTER, json={"kind": "grades", "year": "2026"})
        assert r.status_code == 400 and r.json()["details"]["errors"][0]["key"] == "year", r.text
        r = await p.call("vouchers", "POST", "/v1/programmes/", role=Role.BUREAU, json={"year": 2026, "budget_fen": 100_000_000})
        assert r.status_code == 201, r.text


async def test_metrics_and_readiness_only_on_the_service_ports(make_settings) -> None:
    settings = await make_settings(list(SERVICES))
    async with running(Platform(settings, SERVICES), worker=False, relay=False) as p, real_gateway(p) as gw:
        for service in SERVICES:
            # the API connects to NATS in the background: ready once it has
            async def ready(service: str = service) -> bool:
                return (await p.call(service, "GET", "/ready")).status_code == 200

            await eventually(ready, timeout=15)
            assert (await p.call(service, "GET", "/metrics")).status_code == 200
            for path in ("/ready", "/metrics"):
                r = await gw.get(f"/api/{service}{path}")
                assert r.status_code == 404 and r.json()["code"] == "gateway.not_forwarded", (service, path, r.text)
                assert "checks" not in r.text and "xciss_" not in r.text
        assert (await gw.get("/ready")).status_code == 200  # the gateway's own probe stays


async def test_service_answers_carry_security_headers_directly_and_through_the_gateway(make_settings) -> None:
    settings = await make_settings(list(SERVICES))
    async with running(Platform(settings, SERVICES), worker=False, relay=False) as p, real_gateway(p) as gw:
        for service in SERVICES:
            for r in (await p.call(service, "GET", "/health"), await p.call(service, "GET", "/no/such/path"), await gw.get(f"/api/{service}/no/such/path")):
                assert "default-src 'none'" in _secured(r)
        docs = await p.call("registry", "GET", "/schema/swagger")
        assert docs.status_code == 200 and "frame-ancestors 'none'" in _secured(docs)
