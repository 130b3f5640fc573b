"""Real records flow from registry, vouchers and payments over the bus into
evaluation's facts and come out as the unit's measures for the year — on
SQLite and PostgreSQL, with real NATS; and who may read them."""

from __future__ import annotations

from typing import Any

import pytest

from services.runtime.roles import Role
from services.runtime.clock import local_year
from tests.support.codes import credit_code
from tests.support.platform import Platform, running
from tests.support.polling import eventually
from tests.support.registry import RESULT, SERVICE_INFO, World, priced_instrument, verified_user
from tests.support.responses import ok
from tests.support.vouchers import applied_and_approved

SERVICES = ["registry", "vouchers", "evaluation", "payments"]
YEAR = local_year()
DEPARTMENT = "禹州市科技局"


pytestmark = pytest.mark.usefixtures("on_the_listing_deadline")


async def unit_with_department(p: Platform) -> str:
    body = {"name": "禹州市检测研究院", "kind": "institute", "credit_code": credit_code(), "county_code": "411081", "department": DEPARTMENT, **SERVICE_INFO}
    unit: str = (await ok(await p.call("registry", "POST", "/v1/units/", role=Role.UNIT, json=body), 201))["unit_id"]
    await ok(await p.call("registry", "POST", f"/v1/units/{unit}/approve", role=Role.BUREAU, json={}))
    acceptance = {"full_time_staff": 3, "service_content": "成分分析", "service_norms": "按国家标准操作", "fees_published": True, "no_bad_credit": True}
    await ok(await p.call("registry", "POST", f"/v1/units/{unit}/voucher-acceptance", role=Role.CENTER, json=acceptance))
    return unit


async def serve(w: World, oid: str, hours: int) -> None:
    await ok(await w.as_unit("POST", f"/v1/orders/{oid}/start"))
    res = await ok(await w.upload(oid, "result", RESULT, by="unit", filename="report.pdf"), 201)
    await ok(await w.as_unit("POST", f"/v1/orders/{oid}/results", json={"document_id": res["document_id"], "service_hours": hours}))


async def settle_pay_rate(p: Platform, w: World, oid: str, rating: int) -> dict[str, Any]:
    async def settled() -> Any:
        r = await p.call("payments", "POST", "/v1/settlements", role=Role.USER, org=w.user, json={"order_id": oid})
        return r.json() if r.status_code in (200, 201) else None

    s = await eventually(settled)
    if s["payable_fen"]:
        pay = {"amount_fen": s["payable_fen"], "bank_reference": f"ICBC-{oid[:8]}", "idempotency_key": f"pay-{oid}"}
        await ok(await p.call("payments", "POST", f"/v1/settlements/{s['settlement_id']}/payments", role=Role.USER, org=w.user, json=pay), 201)

    async def order_settled() -> bool:
        return bool((await w.as_user("GET", f"/v1/orders/{oid}")).json()["status"] == "settled")

    await eventually(order_settled)
    await ok(await w.as_user("POST", f"/v1/orders/{oid}/rate", json={"rating": rating, "comment": "服务及时"}))
    return s


async def test_orders_vouchers_settlements_and_ratings_become_the_units_measures(make_settings) -> None:
    settings = await make_settings(SERVICES)
    async with running(Platform(settings, SERVICES)) as p:
        unit = await unit_with_department(p)
        iid, pid = await priced_instrument(p, unit, price_fen=30_000)
        outsider, partner = await verified_user(p, "许昌甲企业"), await verified_user(p, "许昌乙企业")
        # the partner is tied to the unit (R26): served, but not an outside user
        await ok(await p.call("registry", "POST", "/v1/affiliations/", role=Role.CENTER, json={"user_id": partner, "unit_id": unit, "kind": "co_construction"}), 201)
        await ok(await p.call("vouchers", "POST", "/v1/programmes/", role=Role.BUREAU, json={"year": YEAR, "budget_fen": 100_000_000}), 201)
        wa, wb = World(p, unit, outsider, iid, pid), World(p, unit, partner, iid, pid)

        # the outsider's order with a voucher (30% of the 600 CNY testing fee)
        oa = await wa.contracted()

        async def account() -> bool:
            return (await p.call("vouchers", "POST", f"/v1/accounts/{YEAR}", role=Role.USER, org=outsider)).status_code == 201

        await eventually(account)

        await applied_and_approved(p, outsider, oa)
        voucher = (await ok(await p.call("vouchers", "GET", "/v1/vouchers/", role=Role.USER, org=outsider)))["items"][0]
        # the unit refuses it once, with a reason (R19(2)); it stays valid and is used at settlement
        await ok(await p.call("vouchers", "POST", f"/v1/vouchers/{voucher['voucher_id']}/refuse", role=Role.UNIT, org=unit, json={"reason": "设备检修，暂不能受理"}))
        await serve(wa, oa, hours=6)
        sa = await settle_pay_rate(p, wa, oa, rating=5)
        assert (sa["fee_fen"], sa["voucher_fen"]) == (60_000, 18_000)

        # the partner's order, no voucher
        ob = await wb.contracted()
        await serve(wb, ob, hours=4)
        sb = await settle_pay_rate(p, wb, ob, rating=3)
        assert (sb["fee_fen"], sb["voucher_fen"]) == (60_000, 0)

        expected = {
            "instruments_must_list": 1,
            "instruments_listed": 1,
            "instruments_listed_on_time": 1,
            "instruments_listed_voluntarily": 0,
            "listed_value_fen": 20_000_000,
            "instruments_overdue": 0,
            "orders_contracted": 2,
            "orders_served": 2,
            "service_hours_centi": 1_000,
            "outside_users_served": 1,
            "voucher_orders": 1,
            "revenue_fen": 120_000,
            "revenue_voucher_fen": 18_000,
            "ratings_count": 2,
            "ratings_sum": 8,
            "vouchers_refused": 1,
            "complaints": 0,
        }

        async def measured() -> Any:
            r = await p.call("evaluation", "GET", f"/v1/reports/{YEAR}/units/{unit}", role=Role.CENTER)
            if r.status_code != 200:
                return None
            m = r.json()["measures"]
            return m if all(m[k] == v for k, v in expected.items()) else None

        m = await eventually(measured, timeout=30)
        assert m["unit_id"] == unit and m["year"] == YEAR

        # the unit itself and its department read the same; others may not
        own = await ok(await p.call("evaluation", "GET", f"/v1/reports/{YEAR}/units/{unit}", role=Role.UNIT, org=unit))
        assert own["measures"] == m and own["unit"]["county_name"] == "禹州市" and own["unit"]["department"] == DEPARTMENT
        assert (await ok(await p.call("evaluation", "GET", f"/v1/reports/{YEAR}/units/{unit}", role=Role.DEPARTMENT, org=DEPARTMENT)))["measures"] == m
        assert (await ok(await p.call("evaluation", "GET", f"/v1/reports/{YEAR}/units/{unit}", role=Role.BUREAU)))["measures"] == m
        # another unit and another county's department are told nothing exists; a user may not ask
        for role, org in ((Role.UNIT, "another-unit"), (Role.DEPARTMENT, "长葛市科技局")):
            r = await p.call("evaluation", "GET", f"/v1/reports/{YEAR}/units/{unit}", role=role, org=org)
            assert r.status_code == 404 and r.json()["code"] == "unit.not_found", (role, r.text)
        r = await p.call("evaluation", "GET", f"/v1/reports/{YEAR}/units/{unit}", role=Role.USER, org=outsider)
        assert r.status_code == 403 and r.json()["code"] == "auth.forbidden", r.text
        r = await p.call("evaluation", "GET", f"/v1/reports/{YEAR}/units/no-such-unit", role=Role.CENTER)
        assert r.status_code == 404 and r.json()["code"] == "unit.not_found"

        # the year before and after have none of it
        before = await ok(await p.call("evaluation", "GET", f"/v1/reports/{YEAR - 1}/units/{unit}", role=Role.CENTER))
        assert before["measures"]["orders_served"] == 0 and before["measures"]["revenue_fen"] == 0

        # the bureau's reports carry the same numbers
        units = await ok(await p.call("evaluation", "GET", f"/v1/reports/{YEAR}/units", role=Role.BUREAU))
        assert units["total"] == 1 and units["items"][0]["measures"] == m
        assert units["totals"] == {k: v for k, v in m.items() if k not in ("unit_id", "year")}
        counties = await ok(await p.call("evaluation", "GET", f"/v1/reports/{YEAR}/counties", role=Role.BUREAU))
        assert [(c["county_code"], c["county_name"], c["units"], c["measures"]["revenue_fen"]) for c in counties["items"]] == [("411081", "禹州市", 1, 120_000)]
        categories = await ok(await p.call("evaluation", "GET", f"/v1/reports/{YEAR}/categories", role=Role.BUREAU))
        [cat] = categories["items"]
        assert cat["category"] == "分析仪器"
        assert (cat["measures"]["orders_served"], cat["measures"]["service_hours_centi"], cat["measures"]["revenue_fen"], cat["measures"]["instruments_listed"]) == (2, 1_000, 120_000, 1)
