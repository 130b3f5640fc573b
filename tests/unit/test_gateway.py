"""The gateway in front of a recording fake upstream: forwarding, identity and
trace headers, authentication at the door, limits, and the problems a client
sees when something is wrong."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import httpx
import pytest

from services.gateway.app import create_app
from services.gateway.openapi import combine
from services.runtime.roles import Role
from services.runtime.http.auth import issue_token
from services.runtime.settings import Settings
from tests.support.asgi import LifespanClient



class Upstream:
    """Answers like a service and remembers what it was sent."""

    def __init__(self) -> None:
        self.seen: list[httpx.Request] = []
        self.down: set[str] = set()

    def __call__(self, request: httpx.Request) -> httpx.Response:
        host = request.url.host
        if host in self.down:
            raise httpx.ConnectError("connection refused", request=request)
        self.seen.append(request)
        if request.url.path == "/schema/openapi.json":
            return httpx.Response(200, json=_doc(host.split(".")[0]))
        if request.url.path == "/ready":
            return httpx.Response(200, json={"status": "ready"})
        if request.url.path == "/v1/missing":
            return httpx.Response(404, json={"code": "thing.not_found"}, headers={"content-type": "application/problem+json"})
        return httpx.Response(200, json={"path": request.url.path, "query": str(request.url.query, "ascii"), "body": request.content.decode()}, headers={"x-upstream": host})


def _doc(service: str) -> dict[str, Any]:
    return {
        "openapi": "3.1.0",
        "info": {"title": service, "version": "1", "description": f"the {service} service"},
        "paths": {"/v1/things": {"get": {"operationId": "listThings", "responses": {"200": {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/Thing"}}}}}}}},
        "components": {"schemas": {"Thing": {"type": "object"}}, "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}}},
    }


def _settings(tmp_path: Path, **kw: Any) -> Settings:
    return Settings(data_dir=tmp_path, **kw)


async def _gateway(tmp_path: Path, upstream: Upstream, **kw: Any) -> tuple[LifespanClient, Settings]:
    settings = _settings(tmp_path, **kw)
    urls = {s: f"http://{s}.svc" for s in ("registry", "vouchers", "evaluation", "payments")}
    app = create_app(settings, transport=httpx.MockTransport(upstream), upstreams=urls)
    return LifespanClient(app, "http://gateway.test"), settings


async def test_forwards_method_path_query_body_and_identity(tmp_path: Path) -> None:
    upstream = Upstream()
    lc, settings = await _gateway(tmp_path, upstream)
    token = issue_token(settings, subject="alice", role=Role.CENTER)
    async with lc as client:
        r = await client.post(
            "/api/vouchers/v1/applications/?year=2026&status=submitted",
            content=b'{"order_id":"o1"}',
            headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json", "X-Correlation-Id": "corr-1", "traceparent": "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"},
        )
    assert r.status_code == 200
    assert r.json() == {"path": "/v1/applications/", "query": "year=2026&status=submitted", "body": '{"order_id":"o1"}'}
    assert r.headers["x-upstream"] == "vouchers.svc"
    sent = upstream.seen[-1]
    assert sent.method == "POST" and sent.url.host == "vouchers.svc"
    assert sent.headers["authorization"] == f"Bearer {token}"  # services verify it again
    assert sent.headers["x-correlation-id"] == "corr-1"
    # the trace continues: same trace id, the gateway's span as parent
    assert sent.headers["traceparent"].split("-")[1] == "0af7651916cd43dd8448eb211c80319c"
    assert sent.headers["x-forwarded-proto"] == "http"


async def test_service_problems_reach_the_client_unchanged(tmp_path: Path) -> None:
    lc, _ = await _gateway(tmp_path, Upstream())
    async with lc as client:
        r = await client.get("/api/registry/v1/missing")
    assert r.status_code == 404 and r.json() == {"code": "thing.not_found"}


async def test_an_invalid_token_is_refused_at_the_door(tmp_path: Path) -> None:
    upstream = Upstream()
    lc, _ = await _gateway(tmp_path, upstream)
    async with lc as client:
        r = await client.get("/api/registry/v1/units/", headers={"Authorization": "Bearer not-a-token"})
        expired = issue_token(_settings(tmp_path), subject="bob", role=Role.UNIT, ttl_s=-60)
        r2 = await client.get("/api/registry/v1/units/", headers={"Authorization": f"Bearer {expired}"})
    assert r.status_code == 401 and r.json()["code"] == "auth.invalid_token"
    assert r2.status_code == 401
    assert upstream.seen == []  # never reached a service


async def test_unknown_service_and_unreachable_service_are_clear_problems(tmp_path: Path) -> None:
    upstream = Upstream()
    upstream.down.add("payments.svc")
    lc, _ = await _gateway(tmp_path, upstream)
    async with lc as client:
        r = await client.get("/api/ledger/v1/x")
        r2 = await client.get("/api/payments/v1/balances")
        ready = await client.get("/ready")
    assert r.status_code == 404 and r.json()["code"] == "gateway.unknown_service"
    assert r.json()["message_zh"] and r.json()["message_en"]
    assert r2.status_code == 503 and r2.json()["code"] == "gateway.upstream_unavailable"
    assert ready.status_code == 503 and ready.json()["checks"]["payments http://payments.svc"].startswith("error")
    assert ready.json()["checks"]["registry http://registry.svc"] == "ok"


async def test_body_size_limit(tmp_path: Path) -> None:
    upstream = Upstream()
    lc, _ = await _gateway(tmp_path, upstream, gateway_max_body_bytes=1000)
    async with lc as client:
        ok = await client.post("/api/registry/v1/x", content=b"a" * 1000)
        big = await client.post("/api/registry/v1/x", content=b"a" * 1001)
    assert ok.status_code == 200
    assert big.status_code == 413 and big.json()["code"] == "request.too_large"
    assert len(upstream.seen) == 1


async def test_rate_limit_per_caller(tmp_path: Path) -> None:
    lc, settings = await _gateway(tmp_path, Upstream(), gateway_rate_limit_per_minute=3)
    alice = {"Authorization": f"Bearer {issue_token(settings, subject='alice', role=Role.USER)}"}
    bob = {"Authorization": f"Bearer {issue_token(settings, subject='bob', role=Role.USER)}"}
    async with lc as client:
        codes = [(await client.get("/api/registry/v1/x", headers=alice)).status_code for _ in range(4)]
        limited = await client.get("/api/registry/v1/x", headers=alice)
        other = await client.get("/api/registry/v1/x", headers=bob)
        health = [(await client.get("/health")).status_code for _ in range(5)]
    assert codes == [200, 200, 200, 429]
    assert limited.json()["code"] == "request.rate_limited" and "retry-after" in {k.lower() for k in limited.headers}
    assert other.status_code == 200  # the limit is per caller
    assert health == [200] * 5  # probes are never limited


async def test_combined_openapi(tmp_path: Path) -> None:
    lc, _ = await _gateway(tmp_path, Upstream())
    async with lc as client:
        doc = (await client.get("/api/openapi.json")).json()
    assert set(doc["paths"]) == {f"/api/{s}/v1/things" for s in ("registry", "vouchers", "evaluation", "payments")}
    ops = [doc["paths"][p]["get"]["operationId"] for p in doc["paths"]]
    assert len(set(ops)) == 4 and "registry_listThings" in ops
    ref = doc["paths"]["/api/payments/v1/things"]["get"]["responses"]["200"]["content"]["application/json"]["schema"]["$ref"]
    assert ref == "#/components/schemas/payments_Thing" and "payments_Thing" in doc["components"]["schemas"]


def test_combine_keeps_every_ref_resolvable() -> None:
    doc = combine({"a": _doc("a"), "b": _doc("b")})
    text = str(doc)
    for name in ("a_Thing", "b_Thing"):
        assert name in doc["components"]["schemas"]
    assert "#/components/schemas/Thing'" not in text


@pytest.mark.parametrize("header", ["Basic abc", "Bearer"])
async def test_malformed_authorization_header(tmp_path: Path, header: str) -> None:
    lc, _ = await _gateway(tmp_path, Upstream())
    async with lc as client:
        r = await client.get("/api/registry/v1/x", headers={"Authorization": header})
    assert r.status_code == 401


async def test_the_log_level_setting_applies_to_the_gateway(tmp_path: Path) -> None:
    """XCISS_LOG_LEVEL=WARNING (the root logger's level, set by the CLI) holds
    once the gateway has started: Litestar's default logging config set the
    root to INFO, and httpx then logged every upstream request."""
    root = logging.getLogger()
    before = root.level
    root.setLevel(logging.WARNING)
    try:
        lc, _ = await _gateway(tmp_path, Upstream())
        async with lc as client:
            assert (await client.get("/api/registry/v1/things")).status_code == 200
            assert root.level == logging.WARNING
            assert not logging.getLogger("httpx").isEnabledFor(logging.INFO)
    finally:
        root.setLevel(before)
