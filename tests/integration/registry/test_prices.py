"""The price catalogue over HTTP (M11(4), R9): fiscal instruments charge on
cost compensation, prices are integer fen, only the owner unit (or the center)
prices, every change is kept with the changer's role, what the public sees,
and PricePublished reaching the stream."""

from __future__ import annotations

from typing import Any

import msgspec
import pytest
from sqlalchemy import update

from contracts.registry import PricePublished
from services.registry.db.instrument_models import instruments
from services.runtime.bus.connect import connect_nats
from services.runtime.roles import Role
from tests.support.platform import Platform, running
from tests.support.polling import eventually
from tests.support.prices import add, item
from tests.support.registry import approved_unit

pytestmark = pytest.mark.usefixtures("on_the_listing_deadline")


async def instrument(p: Platform, unit_id: str, *, funding: str = "fiscal_full", listed: bool = True, **kw: Any) -> str:
    body = {
        "unit_id": unit_id,
        "name": "液相色谱质谱联用仪",
        "category": "分析仪器",
        "original_value_fen": 20_000_000,
        "funding": funding,
        "acceptance_date": "2024-09-20",
        **kw,
    }
    r = await p.call("registry", "POST", "/v1/instruments/", role=Role.UNIT, org=unit_id, json=body)
    assert r.status_code == 201, r.text
    iid: str = r.json()["instrument_id"]
    if listed:
        r = await p.call("registry", "POST", f"/v1/instruments/{iid}/list", role=Role.UNIT, org=unit_id)
        assert r.status_code == 200, r.text
    return iid


async def test_basis_and_amount_rules(make_settings) -> None:
    settings = await make_settings(["registry"])
    async with running(Platform(settings, ["registry"]), worker=False, relay=False) as p:
        unit = await approved_unit(p)
        fiscal = await instrument(p, unit)
        part = await instrument(p, unit, funding="fiscal_part")
        private = await instrument(p, unit, funding="non_fiscal")

        for iid in (fiscal, part):
            r = await p.call("registry", "POST", f"/v1/instruments/{iid}/prices", role=Role.UNIT, org=unit, json=item(basis="negotiable"))
            assert r.status_code == 422 and r.json()["code"] == "price.fiscal_must_be_cost_compensation", r.text
        neg = await add(p, unit, private, basis="negotiable", billing_unit="per_machine_hour")
        assert neg["basis"] == "negotiable" and neg["billing_unit"] == "per_machine_hour" and neg["active"] is True and neg["version"] == 1
        assert neg["unit_id"] == unit and neg["instrument_id"] == private

        free = await add(p, unit, fiscal, name="开放日免费体验", price_fen=0)
        assert free["price_fen"] == 0 and free["basis"] == "cost_compensation"
        for bad in ({"price_fen": -1}, {"price_fen": 1.5}, {"price_fen": None}, {"billing_unit": "per_day"}, {"basis": "profit"}, {"active": False}, {"unit_id": unit}):
            r = await p.call("registry", "POST", f"/v1/instruments/{fiscal}/prices", role=Role.UNIT, org=unit, json=item(**bad))
            assert r.status_code == 400, (bad, r.text)
        # the basis defaults to cost compensation
        r = await p.call("registry", "POST", f"/v1/instruments/{part}/prices", role=Role.UNIT, org=unit, json={"name": "机时", "billing_unit": "per_hour", "price_fen": 8_000})
        assert r.status_code == 201 and r.json()["basis"] == "cost_compensation"
        # one active item per name
        r = await p.call("registry", "POST", f"/v1/instruments/{fiscal}/prices", role=Role.UNIT, org=unit, json=item(name="开放日免费体验"))
        assert r.status_code == 409 and r.json()["code"] == "price.duplicate_name"

        # a change to a negotiable basis on a fiscal instrument is refused too
        r = await p.call("registry", "PATCH", f"/v1/price-items/{free['price_item_id']}", role=Role.UNIT, org=unit, json={"basis": "negotiable"})
        assert r.status_code == 422 and r.json()["code"] == "price.fiscal_must_be_cost_compensation"
        for bad in ({"price_fen": -1, "reason": "x"}, {"price_fen": 2.5, "reason": "x"}, {"version": 3}, {"billing_unit": "per_hour"}):
            r = await p.call("registry", "PATCH", f"/v1/price-items/{free['price_item_id']}", role=Role.UNIT, org=unit, json=bad)
            assert r.status_code == 400, (bad, r.text)
        r = await p.call("registry", "PATCH", f"/v1/price-items/{free['price_item_id']}", role=Role.UNIT, org=unit, json={"price_fen": 100})
        assert r.status_code == 422 and r.json()["code"] == "price.reason_required"
        r = await p.call("registry", "PATCH", "/v1/price-items/nope", role=Role.CENTER, json={"active": False})
        assert r.status_code == 404 and r.json()["code"] == "price_item.not_found"
        r = await p.call("registry", "POST", "/v1/instruments/nope/prices", role=Role.CENTER, json=item())
        assert r.status_code == 404 and r.json()["code"] == "instrument.not_found"

        # a retired instrument takes no new prices and no reactivation; deactivation still works
        async with p["registry"].db.unit_of_work() as uow:
            await uow.session.execute(update(instruments).where(instruments.c.id == private).values(status="retired"))
        r = await p.call("registry", "POST", f"/v1/instruments/{private}/prices", role=Role.UNIT, org=unit, json=item())
        assert r.status_code == 422 and r.json()["code"] == "price.instrument_retired"
        r = await p.call("registry", "PATCH", f"/v1/price-items/{neg['price_item_id']}", role=Role.UNIT, org=unit, json={"active": False})
        assert r.status_code == 200 and r.json()["active"] is False
        r = await p.call("registry", "PATCH", f"/v1/price-items/{neg['price_item_id']}", role=Role.UNIT, org=unit, json={"active": True})
        assert r.status_code == 422 and r.json()["code"] == "price.instrument_retired"


async def test_who_may_price_and_the_history(make_settings) -> None:
    settings = await make_settings(["registry"])
    async with running(Platform(settings, ["registry"]), worker=False, relay=False) as p:
        mine, other = await approved_unit(p, "许昌学院"), await approved_unit(p, "许昌职业技术学院")
        iid = await instrument(p, mine)

        r = await p.call("registry", "POST", f"/v1/instruments/{iid}/prices", role=Role.UNIT, org=other, json=item())
        assert r.status_code == 403 and r.json()["code"] == "auth.forbidden"
        for role in (Role.USER, Role.BUREAU, Role.EXPERT):
            r = await p.call("registry", "POST", f"/v1/instruments/{iid}/prices", role=role, org=mine, json=item())
            assert r.status_code == 403 and r.json()["code"] == "auth.forbidden", role
        assert (await p.call("registry", "POST", f"/v1/instruments/{iid}/prices", json=item())).status_code == 401

        created = await add(p, mine, iid)
        pid = created["price_item_id"]
        r = await p.call("registry", "PATCH", f"/v1/price-items/{pid}", role=Role.UNIT, org=other, json={"price_fen": 1, "reason": "降价"})
        assert r.status_code == 403 and r.json()["code"] == "auth.forbidden"
        r = await p.call("registry", "PATCH", f"/v1/price-items/{pid}", role=Role.USER, org=mine, json={"active": False})
        assert r.status_code == 403

        r = await p.call("registry", "PATCH", f"/v1/price-items/{pid}", role=Role.UNIT, org=mine, json={"price_fen": 35_000, "reason": "耗材价格上涨"})
        assert r.status_code == 200, r.text
        assert r.json()["price_fen"] == 35_000 and r.json()["version"] == 2
        # nothing changes: no new version, no history row
        r = await p.call("registry", "PATCH", f"/v1/price-items/{pid}", role=Role.UNIT, org=mine, json={"price_fen": 35_000})
        assert r.status_code == 200 and r.json()["version"] == 2
        r = await p.call("registry", "PATCH", f"/v1/price-items/{pid}", role=Role.CENTER, json={"price_fen": 32_000, "reason": "中心核定成本", "name": "常规样品检测（含前处理）"})
        assert r.status_code == 200 and r.json()["name"] == "常规样品检测（含前处理）" and r.json()["version"] == 3
        r = await p.call("registry", "PATCH", f"/v1/price-items/{pid}", role=Role.UNIT, org=mine, json={"active": False})
        assert r.status_code == 200 and r.json()["active"] is False and r.json()["version"] == 4
        deactivated = r.json()
        trail = (await p.call("registry", "GET", "/v1/audit/", role=Role.AUDITOR, params={"object_id": pid})).json()["items"]
        assert [e["action"] for e in trail] == ["price.change"] * 3 + ["price.add"]  # newest first
        assert trail[0]["after"] == deactivated and trail[-1]["after"] == created  # the auditor reads the item as the unit was answered
        assert trail[0]["before"] == {**deactivated, "active": True, "version": 3, "updated_at": trail[0]["before"]["updated_at"]}

        r = await p.call("registry", "GET", f"/v1/price-items/{pid}/history")
        assert r.status_code == 200, r.text
        h = r.json()
        assert h["price_item_id"] == pid
        changes = h["changes"]
        assert [(c["old_price_fen"], c["new_price_fen"]) for c in changes] == [(None, 30_000), (30_000, 35_000), (35_000, 32_000), (32_000, 32_000)]
        assert [c["changed_by_role"] for c in changes] == ["unit", "unit", "center", "unit"]
        assert [(c["old_active"], c["new_active"]) for c in changes] == [(None, True), (True, True), (True, True), (True, False)]
        assert [c["reason"] for c in changes] == [None, "耗材价格上涨", "中心核定成本", None]
        assert all(c["new_basis"] == "cost_compensation" for c in changes) and changes[0]["old_basis"] is None
        times = [c["changed_at"] for c in changes]
        assert times == sorted(times) and all(t.endswith(("Z", "+00:00")) for t in times)
        assert "test-" not in r.text and "changed_by\"" not in r.text  # the role, never the person
        assert (await p.call("registry", "GET", "/v1/price-items/nope/history")).status_code == 404

        # an unlisted instrument's prices and history are not public
        hidden = await instrument(p, mine, listed=False)
        hp = (await add(p, mine, hidden))["price_item_id"]
        r = await p.call("registry", "GET", f"/v1/price-items/{hp}/history")
        assert r.status_code == 404 and r.json()["code"] == "price_item.not_found"
        assert (await p.call("registry", "GET", f"/v1/price-items/{hp}/history", role=Role.UNIT, org=other)).status_code == 404
        assert (await p.call("registry", "GET", f"/v1/price-items/{hp}/history", role=Role.UNIT, org=mine)).status_code == 200
        assert (await p.call("registry", "GET", f"/v1/price-items/{hp}/history", role=Role.BUREAU)).status_code == 200


async def test_what_the_public_sees(make_settings) -> None:
    settings = await make_settings(["registry"])
    async with running(Platform(settings, ["registry"]), worker=False, relay=False) as p:
        unit, other = await approved_unit(p, "许昌学院"), await approved_unit(p, "许昌职业技术学院")
        listed = await instrument(p, unit)
        unlisted = await instrument(p, unit, listed=False)
        second = await instrument(p, unit, funding="non_fiscal")
        elsewhere = await instrument(p, other)
        a = await add(p, unit, listed, name="常规样品检测")
        b = await add(p, unit, listed, name="机时", billing_unit="per_machine_hour", price_fen=50_000)
        c = await add(p, unit, second, name="议价服务", basis="negotiable", billing_unit="per_item")
        await add(p, unit, unlisted, name="未公开项目")
        await add(p, other, elsewhere, name="别家项目")
        r = await p.call("registry", "PATCH", f"/v1/price-items/{b['price_item_id']}", role=Role.UNIT, org=unit, json={"active": False})
        assert r.status_code == 200

        r = await p.call("registry", "GET", f"/v1/instruments/{listed}/prices")
        assert r.status_code == 200, r.text
        assert [i["price_item_id"] for i in r.json()["items"]] == [a["price_item_id"]]
        assert r.json()["items"][0]["instrument_name"] == "液相色谱质谱联用仪"
        # the owner and staff see the inactive item too; another unit sees what the public sees
        for role, org in ((Role.UNIT, unit), (Role.CENTER, None), (Role.BUREAU, None)):
            r = await p.call("registry", "GET", f"/v1/instruments/{listed}/prices", role=role, org=org)
            assert [i["price_item_id"] for i in r.json()["items"]] == [a["price_item_id"], b["price_item_id"]], role
        r = await p.call("registry", "GET", f"/v1/instruments/{listed}/prices", role=Role.UNIT, org=other)
        assert len(r.json()["items"]) == 1

        r = await p.call("registry", "GET", f"/v1/instruments/{unlisted}/prices")
        assert r.status_code == 404 and r.json()["code"] == "instrument.not_found"
        assert (await p.call("registry", "GET", f"/v1/instruments/{unlisted}/prices", role=Role.UNIT, org=other)).status_code == 404
        r = await p.call("registry", "GET", f"/v1/instruments/{unlisted}/prices", role=Role.UNIT, org=unit)
        assert r.status_code == 200 and len(r.json()["items"]) == 1
        assert (await p.call("registry", "GET", "/v1/instruments/nope/prices")).status_code == 404

        r = await p.call("registry", "GET", f"/v1/units/{unit}/price-list")
        assert r.status_code == 200, r.text
        page = r.json()
        assert page["total"] == 2 and page["page"] == 1 and page["page_size"] == 20
        assert [i["price_item_id"] for i in page["items"]] == [a["price_item_id"], c["price_item_id"]]
        page = (await p.call("registry", "GET", f"/v1/units/{unit}/price-list?page=2&page_size=1")).json()
        assert page["total"] == 2 and [i["price_item_id"] for i in page["items"]] == [c["price_item_id"]]
        assert (await p.call("registry", "GET", f"/v1/units/{unit}/price-list?page_size=101")).status_code == 400
        r = await p.call("registry", "GET", "/v1/units/nope/price-list")
        assert r.status_code == 404 and r.json()["code"] == "unit.not_found"

        # a retired instrument leaves the public list
        async with p["registry"].db.unit_of_work() as uow:
            await uow.session.execute(update(instruments).where(instruments.c.id == second).values(status="retired"))
        page = (await p.call("registry", "GET", f"/v1/units/{unit}/price-list")).json()
        assert page["total"] == 1 and page["items"][0]["price_item_id"] == a["price_item_id"]
        assert (await p.call("registry", "GET", f"/v1/instruments/{second}/prices")).status_code == 404


async def test_price_events_reach_the_registry_stream(make_settings) -> None:
    settings = await make_settings(["registry"])
    async with running(Platform(settings, ["registry"])) as p:
        unit = await approved_unit(p)
        iid = await instrument(p, unit)
        created = await add(p, unit, iid)
        pid = created["price_item_id"]
        r = await p.call("registry", "PATCH", f"/v1/price-items/{pid}", role=Role.UNIT, org=unit, json={"price_fen": 28_000, "reason": "成本核减"})
        assert r.status_code == 200, r.text
        r = await p.call("registry", "PATCH", f"/v1/price-items/{pid}", role=Role.UNIT, org=unit, json={"active": False})
        assert r.status_code == 200, r.text

        assert settings.nats_url
        nc = await connect_nats(settings.bus("operator"), "test-price-events")
        try:
            js = nc.jetstream()

            async def seven() -> bool:
                # unit applied, approved; instrument registered, listed; three prices
                return (await js.stream_info("REGISTRY")).state.messages == 7

            await eventually(seven)
            sub = await js.subscribe(PricePublished.subject, ordered_consumer=True)
            events = [msgspec.json.decode((await sub.next_msg(timeout=5)).data, type=PricePublished) for _ in range(3)]
            await sub.unsubscribe()
            assert [(e.version, e.price_fen, e.active) for e in events] == [(1, 30_000, True), (2, 28_000, True), (3, 28_000, False)]
            assert all(e.price_item_id == pid and e.instrument_id == iid and e.unit_id == unit for e in events)
            assert events[0].basis == "cost_compensation" and events[0].billing_unit == "per_sample" and events[0].name == "常规样品检测"
        finally:
            await nc.close()
