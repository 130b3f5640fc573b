"""What every service's HTTP side promises: health and readiness, OpenAPI,
bearer tokens, role checks, problem details with stable codes."""

from __future__ import annotations

import time
import uuid

import jwt
import pytest
from litestar import Litestar

from services.runtime.http.auth import PUBLIC, issue_token
from services.runtime.roles import Role
from services.runtime.service import create_app, load_spec
from services.runtime.settings import SERVICES
from tests.support.codes import credit_code, resident_id
from tests.support.platform import Platform, running


@pytest.mark.parametrize("service", SERVICES)
def test_every_endpoint_declares_who_may_call_it_and_an_operation_id(service: str, tmp_path) -> None:
    from services.runtime.settings import Settings

    app: Litestar = create_app(load_spec(service), Settings(data_dir=tmp_path))
    seen = 0
    for route in app.routes:
        for handler in getattr(route, "route_handlers", []):
            if handler.http_methods == {"OPTIONS"} or route.path.startswith("/schema"):  # CORS pre-flight is implicit
                continue
            seen += 1
            assert handler.opt.get("access"), f"{service} {route.path} declares no access"
            assert handler.operation_id, f"{service} {route.path} has no operation_id"
    assert seen >= 2  # at least /health and /ready


async def test_health_ready_and_openapi_on_every_service(make_settings) -> None:
    settings = await make_settings(list(SERVICES))
    async with running(Platform(settings, SERVICES)) as p:
        for s in SERVICES:
            assert (await p.call(s, "GET", "/health")).json() == {"status": "ok"}

            async def ready(s=s):
                r = await p.call(s, "GET", "/ready")
                return r if r.status_code == 200 else None

            from tests.support.polling import eventually

            body = (await eventually(ready)).json()
            assert body == {"status": "ready", "checks": {"database": "ok", "nats": "ok"}}
            doc = (await p.call(s, "GET", "/schema/openapi.json")).json()
            assert doc["info"]["title"] == f"xciss {s}"


async def test_ready_stays_200_when_nats_is_unreachable_and_shows_it(make_settings) -> None:
    """The outbox takes writes while the bus is down: a NATS outage must not take
    every API pod out of its Service; /ready still names NATS as down."""
    from tests.support.ports import free_port

    settings = await make_settings(["registry"], nats_url=f"nats://127.0.0.1:{free_port()}")
    p = Platform(settings, ["registry"])
    await p["registry"].start(worker=False, relay=False)
    try:
        r = await p.call("registry", "GET", "/ready")
        assert r.status_code == 200
        assert r.json()["status"] == "ready"
        assert r.json()["checks"]["database"] == "ok"
        assert r.json()["checks"]["nats"].startswith("error")
    finally:
        await p.stop()


async def test_tokens_and_roles(make_settings) -> None:
    settings = await make_settings(["registry"])
    async with running(Platform(settings, ["registry"]), worker=False, relay=False) as p:
        body = {"name": "许昌学院", "kind": "university", "credit_code": credit_code()}
        r = await p.call("registry", "POST", "/v1/units/", json=body)
        assert r.status_code == 401 and r.json()["code"] == "auth.unauthenticated"
        assert r.headers["content-type"].startswith("application/problem+json")
        r = await p.call("registry", "POST", "/v1/units/", role=Role.USER, json=body)
        assert r.status_code == 403 and r.json()["code"] == "auth.forbidden"
        assert r.json()["message_zh"] and r.json()["message_en"]

        client = p["registry"].client
        assert client is not None
        for bad in ("Bearer nonsense", "Basic abc", f"Bearer {issue_token(settings, subject='x', role=Role.UNIT, ttl_s=-10)}"):
            r = await client.post("/v1/units/", json=body, headers={"Authorization": bad})
            assert r.status_code == 401 and r.json()["code"] == "auth.invalid_token", bad
        forged = jwt.encode({"sub": "x", "role": "bureau", "iss": "xciss", "aud": "xciss", "exp": int(time.time()) + 60}, "another-key-of-sufficient-length-0123456789", algorithm="HS256")
        r = await client.post("/v1/units/", json=body, headers={"Authorization": f"Bearer {forged}"})
        assert r.status_code == 401

        r = await p.call("registry", "POST", "/v1/units/", role=Role.UNIT, json=body)
        assert r.status_code == 201
        assert uuid.UUID(r.headers["x-correlation-id"]).version == 4  # a request without one is given a random id
        r = await p.call("registry", "GET", "/health", headers={"X-Correlation-Id": "from-the-caller"})
        assert r.headers["x-correlation-id"] == "from-the-caller"


async def test_problem_details_for_bad_input(make_settings) -> None:
    settings = await make_settings(["registry"])
    async with running(Platform(settings, ["registry"]), worker=False, relay=False) as p:
        code = credit_code()
        bad = code[:-1] + ("0" if code[-1] != "0" else "1")
        r = await p.call("registry", "POST", "/v1/units/", role=Role.UNIT, json={"name": "许昌学院", "kind": "university", "credit_code": bad})
        assert r.status_code == 422 and r.json()["code"] == "registry.credit_code_invalid", r.text
        r = await p.call("registry", "POST", "/v1/units/", role=Role.UNIT, json={"name": "许昌学院", "kind": "castle", "credit_code": code})
        assert r.status_code == 400 and r.json()["code"] == "request.invalid"
        r = await p.call("registry", "POST", "/v1/units/", role=Role.UNIT, json={"name": "许昌学院", "kind": "university", "credit_code": code, "status": "approved"})
        assert r.status_code == 400, "a client may not set the status"
        r = await p.call("registry", "POST", "/v1/units/", role=Role.UNIT, content=b"{not json", headers={"content-type": "application/json"})
        assert r.status_code == 400
        ok = await p.call("registry", "POST", "/v1/units/", role=Role.UNIT, json={"name": "许昌学院", "kind": "university", "credit_code": code.lower()})
        assert ok.status_code == 201 and ok.json()["credit_code"] == code
        dup = await p.call("registry", "POST", "/v1/units/", role=Role.UNIT, json={"name": "另一个学院", "kind": "university", "credit_code": code})
        assert dup.status_code == 409 and dup.json()["code"] == "unit.duplicate_credit_code"
        r = await p.call("registry", "GET", "/v1/units/nope", role=Role.CENTER)
        assert r.status_code == 404 and r.json()["code"] == "unit.not_found"
        r = await p.call("registry", "GET", "/v1/units/?page=0")
        assert r.status_code == 400
        r = await p.call("registry", "GET", "/v1/units/?page_size=1000")
        assert r.status_code == 400


async def test_unit_decisions_keep_who_when_why(make_settings) -> None:
    settings = await make_settings(["registry"])
    async with running(Platform(settings, ["registry"]), worker=False, relay=False) as p:
        r = await p.call("registry", "POST", "/v1/units/", role=Role.UNIT, json={"name": "许昌某研究院", "kind": "institute", "credit_code": credit_code()})
        unit_id = r.json()["unit_id"]
        # the public does not see an application
        assert (await p.call("registry", "GET", f"/v1/units/{unit_id}")).status_code == 404
        assert (await p.call("registry", "GET", "/v1/units/")).json()["total"] == 0
        r = await p.call("registry", "POST", f"/v1/units/{unit_id}/reject", role=Role.BUREAU, json={})
        assert r.status_code == 422 and r.json()["code"] == "decision.reason_required"
        r = await p.call("registry", "POST", f"/v1/units/{unit_id}/approve", role=Role.CENTER, json={})
        assert r.status_code == 403
        r = await p.call("registry", "POST", f"/v1/units/{unit_id}/reject", role=Role.BUREAU, json={"reason": "缺少共享制度材料"})
        assert r.status_code == 200 and r.json()["status"] == "rejected"
        r = await p.call("registry", "POST", f"/v1/units/{unit_id}/approve", role=Role.BUREAU, json={})
        assert r.status_code == 409 and r.json()["code"] == "unit.already_decided"
        from sqlalchemy import select

        audit = p["registry"].db.metadata.tables["audit_log"]
        async with p["registry"].db.read() as s:
            rows = (await s.execute(select(audit).where(audit.c.object_id == unit_id).order_by(audit.c.id))).mappings().all()
        assert [r["action"] for r in rows] == ["unit.apply", "unit.reject"]
        assert rows[1]["actor"] == "test-bureau" and rows[1]["actor_role"] == "bureau"
        assert rows[1]["reason"] == "缺少共享制度材料"
        assert rows[1]["before"]["status"] == "applied" and rows[1]["after"]["status"] == "rejected"


async def test_team_leader_identity_is_never_stored_or_shown_in_clear(make_settings) -> None:
    settings = await make_settings(["registry"])
    async with running(Platform(settings, ["registry"]), worker=False, relay=False) as p:
        id_number = resident_id()
        body = {"name": "许昌青年创客团队", "kind": "team", "classes": ["startup_team"], "leader_name": "张三", "leader_id_number": id_number, "incubator_credit_code": credit_code("411081")}
        r = await p.call("registry", "POST", "/v1/users/", role=Role.USER, json=body)
        assert r.status_code == 201, r.text
        user = r.json()
        assert user["in_xuchang"] is True
        assert id_number not in r.text
        r = await p.call("registry", "GET", f"/v1/users/{user['user_id']}", role=Role.CENTER)
        assert r.json()["leader_id_masked"].endswith(id_number[-4:]) and id_number not in r.text
        dup = await p.call("registry", "POST", "/v1/users/", role=Role.USER, json={**body, "name": "同一负责人的另一个团队"})
        assert dup.status_code == 409
        other = await p.call("registry", "GET", f"/v1/users/{user['user_id']}", role=Role.USER, org="someone-else")
        assert other.status_code == 403
        own = await p.call("registry", "GET", f"/v1/users/{user['user_id']}", role=Role.USER, org=user["user_id"])
        assert own.status_code == 200


def test_public_marker_is_distinct_from_roles() -> None:
    assert PUBLIC not in {r.value for r in Role}


async def test_money_is_integer_fen_exactly(make_settings) -> None:
    """ "100", 100.0 or true for an amount is refused, not coerced (the HTTP
    layer's lenient decoding would otherwise accept them)."""
    from services.runtime.roles import Role
    from tests.support.platform import Platform, running
    from tests.support.vouchers import YEAR

    settings = await make_settings(["vouchers"])
    async with running(Platform(settings, ["vouchers"]), worker=False, relay=False) as p:
        for loose in ("100000000", 100000000.0, True):
            r = await p.call("vouchers", "POST", "/v1/programmes/", role=Role.BUREAU, json={"year": YEAR, "budget_fen": loose})
            assert r.status_code == 400, (loose, r.text)
            body = r.json()
            assert body["code"] == "request.invalid" and body["details"]["errors"][0]["key"] == "budget_fen"
            assert "分" in body["message_zh"]
        r = await p.call("vouchers", "POST", "/v1/programmes/", role=Role.BUREAU, json={"year": YEAR, "budget_fen": 100_000_000})
        assert r.status_code == 201, r.text


async def test_an_integer_beyond_64_bits_in_the_path_or_query_is_400_not_500(make_settings) -> None:
    """Found by the fuzz (issue 5): ``GET /v1/programmes/1026389179022341832704``
    and ``GET /v1/catalogue/instruments?price_min_fen=411582584407762272256``
    reached the database with a number no column holds and answered 500."""
    settings = await make_settings(["vouchers"])
    async with running(Platform(settings, ["vouchers"]), worker=False, relay=False) as p:
        for path in ("/v1/programmes/1026389179022341832704", "/v1/redemption/windows/-99999999999999999999"):
            r = await p.call("vouchers", "GET", path)
            assert r.status_code == 400, (path, r.text)
            body = r.json()
            assert body["code"] == "request.invalid" and body["details"]["errors"][0]["key"] == "year"
            assert body["message_zh"] and body["message_en"]
        r = await p.call("vouchers", "POST", "/v1/accounts/9223372036854775808", role=Role.USER, org="u1")
        assert r.status_code == 400, r.text
        r = await p.call("vouchers", "GET", "/v1/programmes/2026")  # in range: the ordinary answer
        assert r.status_code == 404, r.text
    settings = await make_settings(["registry"])
    async with running(Platform(settings, ["registry"]), worker=False, relay=False) as p:
        r = await p.call("registry", "GET", "/v1/catalogue/instruments", params={"price_min_fen": "411582584407762272256"})
        assert r.status_code == 400 and r.json()["details"]["errors"] == [{"key": "price_min_fen", "message": "expected an integer of at most 64 bits", "source": "query"}], r.text
        r = await p.call("registry", "GET", "/v1/catalogue/instruments", params={"price_min_fen": "9223372036854775807"})
        assert r.status_code == 200, r.text  # the largest BIGINT is fine


@pytest.mark.parametrize("service", SERVICES)
def test_every_operation_documents_its_problem_responses(service: str, tmp_path) -> None:
    """Found by the fuzz (issue 5): the documents declared only the success
    status and litestar's own 400 body as application/json, while every error
    is a problem+json (400, 401, 403, 404, 409, 422) with ``code`` and zh/en
    messages."""
    from services.runtime.settings import Settings

    doc = create_app(load_spec(service), Settings(data_dir=tmp_path)).openapi_schema.to_schema()
    assert {"code", "message_zh", "message_en", "status"} <= set(doc["components"]["schemas"]["Problem"]["required"])
    for path, item in doc["paths"].items():
        for method, op in item.items():
            if path in ("/health", "/ready", "/metrics") or method not in ("get", "post", "put", "patch", "delete"):
                continue
            for status in ("400", "401", "404", "409", "422"):
                assert "application/problem+json" in op["responses"][status]["content"], (method, path, status)
