"""The gateway in front of the real services: a client works through one
origin, and the combined OpenAPI document describes every service."""

from __future__ import annotations

import uuid
from typing import Any

from services.runtime.roles import Role
from services.runtime.settings import SERVICES
from tests.support.codes import credit_code
from tests.support.platform import Platform, running
from tests.support.portal import gateway


def _refs(node: Any) -> set[str]:
    if isinstance(node, dict):
        found = {node["$ref"]} if isinstance(node.get("$ref"), str) else set()
        return found.union(*(_refs(v) for v in node.values())) if node else found
    if isinstance(node, list):
        return set().union(*(_refs(v) for v in node)) if node else set()
    return set()


async def test_a_client_works_through_the_gateway(make_settings) -> None:
    settings = await make_settings(list(SERVICES))
    async with running(Platform(settings, SERVICES), worker=False, relay=False) as p, gateway(p) as gw:
        unit = {"Authorization": f"Bearer {p.token(Role.UNIT)}"}
        r = await gw.post("/api/registry/v1/units/", headers=unit, json={"name": "许昌学院", "kind": "university", "credit_code": credit_code(), "county_code": "411002"})
        assert r.status_code == 201, r.text
        unit_id = r.json()["unit_id"]
        # the same object read directly and through the gateway
        direct = await p.call("registry", "GET", f"/v1/units/{unit_id}", role=Role.BUREAU)
        via = await gw.get(f"/api/registry/v1/units/{unit_id}", headers={"Authorization": f"Bearer {p.token(Role.BUREAU)}"})
        assert via.status_code == 200 and via.json() == direct.json()
        # a service's own refusal comes back as its problem, not the gateway's
        r = await gw.post("/api/registry/v1/units/", headers=unit, json={"name": "x", "kind": "university", "credit_code": "not-a-code"})
        assert r.status_code in (400, 422) and r.json()["code"] != "gateway.upstream_unavailable"
        assert (await gw.get("/ready")).status_code == 200


async def test_combined_openapi_covers_every_service(make_settings) -> None:
    settings = await make_settings(list(SERVICES))
    async with running(Platform(settings, SERVICES), worker=False, relay=False) as p, gateway(p) as gw:
        doc = (await gw.get("/api/openapi.json")).json()
        for s in SERVICES:
            direct = (await p.call(s, "GET", "/schema/openapi.json")).json()
            assert {f"/api/{s}{path}" for path in direct["paths"]} <= set(doc["paths"])
        ops = [op["operationId"] for item in doc["paths"].values() for op in item.values() if isinstance(op, dict) and "operationId" in op]
        assert len(ops) == len(set(ops)), "operation ids must be unique across services"
        schemas = doc["components"]["schemas"]
        dangling = {r for r in _refs(doc) if r.rsplit("/", 1)[1] not in schemas}
        assert not dangling


PARTNER = "https://partner.example.cn"


async def test_a_partner_page_on_the_allow_list_calls_the_api_across_origins(make_settings) -> None:
    settings = await make_settings(list(SERVICES), cors_allow_origins=(PARTNER,))
    async with running(Platform(settings, SERVICES), worker=False, relay=False) as p, gateway(p) as gw:
        # the browser's preflight for a signed-in POST with an idempotency key
        asks = {"Origin": PARTNER, "Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "authorization,content-type,idempotency-key"}
        r = await gw.options("/api/registry/v1/units/", headers=asks)
        assert r.status_code in (200, 204), r.text
        assert r.headers["access-control-allow-origin"] == PARTNER
        assert {"authorization", "content-type", "idempotency-key"} <= {h.strip().lower() for h in r.headers["access-control-allow-headers"].split(",")}
        assert "POST" in r.headers["access-control-allow-methods"]
        assert "access-control-allow-credentials" not in r.headers  # tokens in the header, never cookies across origins
        # the first save of a record a PUT creates goes with If-None-Match: * (a later one with If-Match)
        asks = {"Origin": PARTNER, "Access-Control-Request-Method": "PUT", "Access-Control-Request-Headers": "authorization,content-type,if-none-match"}
        r = await gw.options(f"/api/registry/v1/instruments/{uuid.uuid4()}/schedule", headers=asks)
        assert r.status_code in (200, 204), r.text
        assert {"if-match", "if-none-match"} <= {h.strip().lower() for h in r.headers["access-control-allow-headers"].split(",")}
        # the call itself: the page may read the answer and the headers it needs
        unit = {"Authorization": f"Bearer {p.token(Role.UNIT)}", "Origin": PARTNER}
        r = await gw.post("/api/registry/v1/units/", headers=unit, json={"name": "许昌学院", "kind": "university", "credit_code": credit_code(), "county_code": "411002"})
        assert r.status_code == 201, r.text
        assert r.headers["access-control-allow-origin"] == PARTNER
        assert "x-correlation-id" in r.headers["access-control-expose-headers"].lower()
        # a page of any other origin gets no permission: its browser withholds the answer
        other = {"Origin": "https://evil.example.com", "Access-Control-Request-Method": "POST"}
        r = await gw.options("/api/registry/v1/units/", headers=other)
        assert r.headers.get("access-control-allow-origin") not in ("https://evil.example.com", "*")
        r = await gw.get("/api/registry/v1/instruments/", headers={"Origin": "https://evil.example.com"})
        assert "access-control-allow-origin" not in r.headers


async def test_no_origin_is_allowed_across_origins_by_default(make_settings) -> None:
    settings = await make_settings(list(SERVICES))
    assert settings.cors_allow_origins == ()
    async with running(Platform(settings, SERVICES), worker=False, relay=False) as p, gateway(p) as gw:
        r = await gw.options("/api/registry/v1/units/", headers={"Origin": PARTNER, "Access-Control-Request-Method": "POST"})
        assert "access-control-allow-origin" not in r.headers
        r = await gw.get("/api/registry/v1/instruments/", headers={"Origin": PARTNER})
        assert r.status_code == 200 and "access-control-allow-origin" not in r.headers
