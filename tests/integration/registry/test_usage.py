"""The usage log (issue 16) over HTTP, on SQLite and PostgreSQL: staff check in
and out, the rules (future, order, overlap, length), an instrument-side
recorder with its own credential and idempotent posts, corrections that keep
the original, the events in the outbox, and an order's service hours taken
from its usage records at delivery."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from sqlalchemy import select

from contracts.registry import OrderResultsDelivered
from contracts.registry_usage import UsageCorrected, UsageRecorded
from services.gateway.app import create_app as create_gateway
from services.runtime.roles import Role
from tests.support.asgi import LifespanClient
from tests.support.outbox import emitted
from tests.support.platform import Platform, running
from tests.support.registry import (
    RESULT,
    World,
    approved_unit,
    priced_instrument,
    world,
)

SESSIONS = "/v1/usage/sessions/"


pytestmark = pytest.mark.usefixtures("on_the_listing_deadline")


def ago(**kw: float) -> str:
    """An instant before now in whole minutes, written in Asia/Shanghai time with its offset."""
    t = (datetime.now(UTC) - timedelta(**kw)).replace(second=0, microsecond=0)
    return t.astimezone(ZoneInfo("Asia/Shanghai")).isoformat()


async def in_service(w: World) -> str:
    oid = await w.contracted()
    r = await w.as_unit("POST", f"/v1/orders/{oid}/start")
    assert r.status_code == 200, r.text
    return oid


async def deliver(w: World, oid: str, **body: Any) -> Any:
    r = await w.upload(oid, "result", RESULT, by="unit", filename="report.pdf")
    assert r.status_code == 201, r.text
    return await w.as_unit("POST", f"/v1/orders/{oid}/results", json={"document_id": r.json()["document_id"], **body})


async def test_check_in_and_out_make_the_orders_service_hours(make_settings) -> None:
    settings = await make_settings(["registry"])
    async with running(Platform(settings, ["registry"])) as p:
        w = await world(p)
        oid = await in_service(w)
        start = ago(hours=3)
        r = await w.as_unit("POST", SESSIONS + "check-in", json={"instrument_id": w.iid, "kind": "outside", "order_id": oid, "at": start})
        assert r.status_code == 201, r.text
        s = r.json()
        assert s["status"] == "open" and s["ended_at"] is None and s["minutes"] is None
        assert s["user_id"] == w.user and s["unit_id"] == w.unit and s["source"] == "staff"
        # the instrument is in use: a second check-in overlaps, and nothing is published yet
        r = await w.as_unit("POST", SESSIONS + "check-in", json={"instrument_id": w.iid, "kind": "internal", "researcher": "材料课题组"})
        assert r.status_code == 422 and r.json()["code"] == "usage.overlap", r.text
        assert await emitted(p, "registry", UsageRecorded) == []
        # results cannot be delivered while a session of the order is open
        r = await deliver(w, oid)
        assert r.status_code == 409 and r.json()["code"] == "order.usage_open", r.text

        r = await w.as_unit("POST", f"{SESSIONS}{s['session_id']}/check-out", json={"at": ago(minutes=30)})
        assert r.status_code == 200, r.text
        assert r.json()["status"] == "closed" and r.json()["minutes"] == 150 and r.json()["version"] == 2
        r = await w.as_unit("POST", f"{SESSIONS}{s['session_id']}/check-out", json={})
        assert r.status_code == 409 and r.json()["code"] == "usage.not_open"
        # the audit trail keeps what the check-in opened and what the check-out closed
        audit = p["registry"].db.metadata.tables["audit_log"]
        async with p["registry"].db.read() as db:
            rows = (await db.execute(select(audit).where(audit.c.object_id == s["session_id"]).order_by(audit.c.id))).mappings().all()
        assert [r["action"] for r in rows] == ["usage.check_in", "usage.check_out"]
        assert rows[0]["after"] == {"instrument_id": w.iid, "kind": "outside", "order_id": oid, "source": "staff", "started_at": s["started_at"]}
        assert rows[1]["after"]["minutes"] == 150 and rows[1]["after"]["source"] == "staff"

        [recorded] = await emitted(p, "registry", UsageRecorded)
        assert (recorded.session_id, recorded.instrument_id, recorded.unit_id, recorded.kind) == (s["session_id"], w.iid, w.unit, "outside")
        assert (recorded.order_id, recorded.user_id, recorded.minutes, recorded.source) == (oid, w.user, 150, "staff")
        assert recorded.ended_at - recorded.started_at == timedelta(minutes=150)

        # the order's hours come from its usage: a typed-in number that disagrees is refused
        r = await deliver(w, oid, service_hours=4)
        assert r.status_code == 422 and r.json()["code"] == "order.service_hours_mismatch", r.text
        assert r.json()["details"]["service_minutes"] == 150
        r = await deliver(w, oid)
        assert r.status_code == 200, r.text
        assert (r.json()["service_minutes"], r.json()["service_hours"]) == (150, 3)
        [delivered] = await emitted(p, "registry", OrderResultsDelivered)
        assert (delivered.service_minutes, delivered.service_hours) == (150, 3)
        # after delivery the order takes no more time
        r = await w.as_unit("POST", SESSIONS, json={"instrument_id": w.iid, "kind": "outside", "order_id": oid, "started_at": ago(hours=6), "ended_at": ago(hours=5)})
        assert r.status_code == 422 and r.json()["code"] == "usage.order_not_in_service"


async def test_an_order_without_usage_still_states_its_hours(make_settings) -> None:
    settings = await make_settings(["registry"])
    async with running(Platform(settings, ["registry"])) as p:
        w = await world(p)
        oid = await in_service(w)
        r = await deliver(w, oid)
        assert r.status_code == 422 and r.json()["code"] == "order.service_hours_required"
        r = await deliver(w, oid, service_hours=4)
        assert r.status_code == 200 and (r.json()["service_hours"], r.json()["service_minutes"]) == (4, 240), r.text


async def test_the_rules_of_a_session(make_settings) -> None:
    settings = await make_settings(["registry"], usage_max_session_h=12)
    async with running(Platform(settings, ["registry"])) as p:
        w = await world(p)
        contracted = await w.contracted()
        internal = {"instrument_id": w.iid, "kind": "internal", "researcher": "分析测试中心"}

        async def refused(body: dict[str, Any], code: str, status: int = 422, path: str = SESSIONS) -> None:
            r = await w.as_unit("POST", path, json=body)
            assert r.status_code == status and r.json()["code"] == code, r.text

        await refused({**internal, "started_at": ago(hours=2), "ended_at": ago(hours=-1)}, "usage.in_future")
        await refused({**internal, "at": ago(minutes=-10)}, "usage.in_future", path=SESSIONS + "check-in")
        await refused({**internal, "started_at": ago(hours=2), "ended_at": ago(hours=3)}, "usage.end_before_start")
        await refused({**internal, "started_at": ago(hours=14), "ended_at": ago(hours=1)}, "usage.too_long")
        await refused({**internal, "researcher": "  ", "started_at": ago(hours=2), "ended_at": ago(hours=1)}, "usage.researcher_required")
        await refused({"instrument_id": w.iid, "kind": "outside", "started_at": ago(hours=2), "ended_at": ago(hours=1)}, "usage.order_required")
        await refused({"instrument_id": w.iid, "kind": "outside", "order_id": contracted, "started_at": ago(hours=2), "ended_at": ago(hours=1)}, "usage.order_not_in_service")
        # a time without its offset is not a time
        await refused({**internal, "started_at": "2024-11-05T08:00:00", "ended_at": "2024-11-05T09:00:00"}, "request.invalid", status=400)
        # another unit's instrument does not exist for this unit
        other_unit = await approved_unit(p, name="许昌职业技术学院")
        other_iid, _ = await priced_instrument(p, other_unit)
        await refused({**internal, "instrument_id": other_iid, "started_at": ago(hours=2), "ended_at": ago(hours=1)}, "instrument.not_found", status=404)

        r = await w.as_unit("POST", SESSIONS, json={**internal, "started_at": ago(hours=5), "ended_at": ago(hours=3)})
        assert r.status_code == 201 and r.json()["minutes"] == 120, r.text
        # overlapping it (either end inside, or around it) is refused; touching it is not
        await refused({**internal, "started_at": ago(hours=4), "ended_at": ago(hours=2)}, "usage.overlap")
        await refused({**internal, "started_at": ago(hours=6), "ended_at": ago(hours=2)}, "usage.overlap")
        await refused({**internal, "at": ago(hours=4)}, "usage.overlap", path=SESSIONS + "check-in")
        r = await w.as_unit("POST", SESSIONS, json={**internal, "started_at": ago(hours=3), "ended_at": ago(hours=2)})
        assert r.status_code == 201, r.text
        # the other unit sees none of it; staff see all
        r = await p.call("registry", "GET", SESSIONS, role=Role.UNIT, org=other_unit)
        assert r.json()["total"] == 0
        r = await p.call("registry", "GET", SESSIONS, role=Role.CENTER, params={"instrument_id": w.iid})
        assert r.json()["total"] == 2


async def test_concurrent_check_ins_open_one_session(make_settings) -> None:
    settings = await make_settings(["registry"])
    async with running(Platform(settings, ["registry"])) as p:
        w = await world(p)
        body = {"instrument_id": w.iid, "kind": "internal", "researcher": "课题组"}
        answers = await asyncio.gather(*(w.as_unit("POST", SESSIONS + "check-in", json=body) for _ in range(6)))
        assert sorted(r.status_code for r in answers) == [201] + [422] * 5, [r.text for r in answers]
        assert {r.json()["code"] for r in answers if r.status_code == 422} == {"usage.overlap"}


async def test_a_recorder_posts_with_its_own_credential(make_settings) -> None:
    settings = await make_settings(["registry"])
    async with running(Platform(settings, ["registry"])) as p:
        w = await world(p)
        oid = await in_service(w)
        r = await w.as_unit("POST", "/v1/usage/recorders/", json={"instrument_id": w.iid, "name": "色谱仪继电器"})
        assert r.status_code == 201, r.text
        rec = r.json()
        token = rec["token"]
        assert token.startswith("xr_") and rec["active"] and rec["instrument_id"] == w.iid
        r = await w.as_unit("GET", "/v1/usage/recorders/")
        assert [x["recorder_id"] for x in r.json()] == [rec["recorder_id"]] and "token" not in r.json()[0]
        client = p["registry"].client
        assert client is not None

        async def post(path: str, body: dict[str, Any], key: str | None = None, auth: str = f"Recorder {token}") -> Any:
            headers = {"Authorization": auth, **({"Idempotency-Key": key} if key else {})}
            return await client.post(f"/v1/usage/recorder/{path}", json=body, headers=headers)

        finished = {"kind": "outside", "order_id": oid, "started_at": ago(hours=5), "ended_at": ago(hours=4, minutes=15)}
        first = await post("sessions", finished, key="run-1")
        assert first.status_code == 201, first.text
        assert first.json()["source"] == "recorder" and first.json()["recorder_id"] == rec["recorder_id"] and first.json()["minutes"] == 45
        again = await post("sessions", finished, key="run-1")
        assert again.status_code == 201 and again.headers.get("Idempotent-Replayed") == "true" and again.json() == first.json()
        r = await post("sessions", {**finished, "ended_at": ago(hours=4)}, key="run-1")
        assert r.status_code == 409 and r.json()["code"] == "request.idempotency_key_reused"
        r = await post("sessions", finished, key="run-2")
        assert r.status_code == 422 and r.json()["code"] == "usage.overlap"

        r = await post("stop", {})
        assert r.status_code == 409 and r.json()["code"] == "usage.nothing_open"
        r = await post("start", {"kind": "internal", "researcher": "课题组", "at": ago(hours=2)}, key="start-1")
        assert r.status_code == 201 and r.json()["status"] == "open", r.text
        r = await post("stop", {"at": ago(hours=1)}, key="stop-1")
        assert r.status_code == 200 and r.json()["minutes"] == 60, r.text
        r = await post("stop", {"at": ago(hours=1)}, key="stop-1")
        assert r.status_code == 200 and r.headers.get("Idempotent-Replayed") == "true"
        assert [(e.source, e.minutes) for e in await emitted(p, "registry", UsageRecorded)] == [("recorder", 45), ("recorder", 60)]

        # no credential, another scheme, a unit's bearer token, an unknown token: 401
        for auth in ("", "Basic abc", f"Bearer {p.token(Role.UNIT, w.unit)}", "Recorder xr_unknown"):
            r = await post("sessions", {**finished, "started_at": ago(hours=9), "ended_at": ago(hours=8)}, auth=auth)
            assert r.status_code == 401, (auth, r.text)
        r = await w.as_unit("POST", f"/v1/usage/recorders/{rec['recorder_id']}/revoke")
        assert r.status_code == 200 and not r.json()["active"]
        r = await post("start", {"kind": "internal", "researcher": "课题组"})
        assert r.status_code == 401 and r.json()["code"] == "usage.recorder_unauthenticated"
        r = await w.as_unit("POST", f"/v1/usage/recorders/{rec['recorder_id']}/revoke")
        assert r.status_code == 409 and r.json()["code"] == "usage.recorder_revoked"


async def test_a_correction_keeps_the_original(make_settings) -> None:
    settings = await make_settings(["registry"])
    async with running(Platform(settings, ["registry"])) as p:
        w = await world(p)
        body = {"instrument_id": w.iid, "kind": "internal", "researcher": "课题组", "started_at": ago(hours=5), "ended_at": ago(hours=4)}
        r = await w.as_unit("POST", SESSIONS, json=body)
        sid = r.json()["session_id"]
        fixed = {"started_at": ago(hours=5), "ended_at": ago(hours=3, minutes=30)}
        r = await w.as_unit("POST", f"{SESSIONS}{sid}/correct", json=fixed)
        assert r.status_code == 422 and r.json()["code"] == "usage.reason_required"
        other = await approved_unit(p, name="许昌职业技术学院")
        r = await p.call("registry", "POST", f"{SESSIONS}{sid}/correct", role=Role.UNIT, org=other, json={**fixed, "reason": "x"})
        assert r.status_code == 404
        r = await w.as_unit("POST", f"{SESSIONS}{sid}/correct", json={**fixed, "reason": "记录器断电，按值班记录补正"})
        assert r.status_code == 200, r.text
        s = r.json()
        assert s["minutes"] == 90 and s["version"] == 2
        [c] = s["corrections"]
        assert (c["before_minutes"], c["after_minutes"], c["reason"]) == (60, 90, "记录器断电，按值班记录补正")
        [e] = await emitted(p, "registry", UsageCorrected)
        assert (e.session_id, e.minutes, e.previous_minutes, e.version) == (sid, 90, 60, 2)

        r = await w.as_unit("POST", SESSIONS + "check-in", json={"instrument_id": w.iid, "kind": "internal", "researcher": "课题组", "at": ago(hours=1)})
        r = await w.as_unit("POST", f"{SESSIONS}{r.json()['session_id']}/correct", json={**fixed, "reason": "改"})
        assert r.status_code == 409 and r.json()["code"] == "usage.not_closed"


async def test_a_recorder_posts_through_the_gateway(make_settings) -> None:
    """The gateway passes the Recorder scheme on (it is not a bearer token it could check)."""
    settings = await make_settings(["registry"])
    async with running(Platform(settings, ["registry"]), worker=False, relay=False) as p:
        w = await world(p)
        r = await w.as_unit("POST", "/v1/usage/recorders/", json={"instrument_id": w.iid, "name": "计时器"})
        token = r.json()["token"]
        transport = httpx.ASGITransport(app=p["registry"]._lifespan.app)  # type: ignore[union-attr]
        gateway = create_gateway(settings, transport=transport, upstreams={"registry": "http://registry.local"})
        async with LifespanClient(gateway, "http://gateway.local") as gw:
            body = {"kind": "internal", "researcher": "课题组", "started_at": ago(hours=2), "ended_at": ago(hours=1)}
            r = await gw.post("/api/registry/v1/usage/recorder/sessions", headers={"Authorization": f"Recorder {token}"}, json=body)
            assert r.status_code == 201 and r.json()["minutes"] == 60, r.text
            r = await gw.post("/api/registry/v1/usage/recorder/sessions", headers={"Authorization": "Recorder xr_wrong"}, json=body)
            assert r.status_code == 401 and r.json()["code"] == "usage.recorder_unauthenticated"
