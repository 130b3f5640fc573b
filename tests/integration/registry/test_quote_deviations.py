"""M11(4) 收费标准应向社会公布: a quote for a fiscally funded instrument is priced
from its published cost-compensation items. Above the list it needs a reason,
which the user sees on the order beside the list amount and the quoted amount;
the center and the bureau list every such deviation by unit and year. At or
below the list, or for a non-fiscal (negotiable) instrument, no reason. Audited."""

from __future__ import annotations


import pytest

from services.runtime.roles import Role
from services.runtime.clock import local_year
from tests.support.platform import Platform, running
from tests.support.registry import approved_unit, world

SERVICES = ["registry"]
YEAR = local_year()


pytestmark = pytest.mark.usefixtures("on_the_listing_deadline")


async def test_a_quote_above_the_published_list_needs_a_reason_the_user_and_the_center_see(make_settings) -> None:
    settings = await make_settings(SERVICES)
    async with running(Platform(settings, SERVICES)) as p:
        w = await world(p)  # a fiscal_full instrument, 300 CNY per sample
        oid = await w.order(quantity=2)  # list: 600 CNY

        # one fen above the list without a reason: refused at its field, the order stays requested
        for body in ({"amount_fen": 60_001}, {"amount_fen": 60_001, "reason": "  "}):
            r = await w.as_unit("POST", f"/v1/orders/{oid}/quote", json=body)
            assert r.status_code == 422, r.text
            assert (r.json()["code"], r.json()["details"]["field"]) == ("order.quote_reason_required", "reason")
            assert "收费标准" in r.json()["message_zh"] and r.json()["details"]["list_amount_fen"] == 60_000
        assert (await w.as_user("GET", f"/v1/orders/{oid}")).json()["status"] == "requested"

        # the list amount itself, or below it, needs none (and keeps none)
        equal = await w.order(quantity=2)
        r = await w.as_unit("POST", f"/v1/orders/{equal}/quote", json={"amount_fen": 60_000})
        assert r.status_code == 200 and r.json()["quote_reason"] is None, r.text
        below = await w.order(quantity=2)
        r = await w.as_unit("POST", f"/v1/orders/{below}/quote", json={"amount_fen": 50_000, "reason": "老客户优惠"})
        assert r.status_code == 200 and r.json()["quote_reason"] is None, r.text

        # above, with a reason: the user sees the list amount, the quote and the reason
        reason = "样品需低温前处理，另收耗材费"
        r = await w.as_unit("POST", f"/v1/orders/{oid}/quote", json={"amount_fen": 120_000, "reason": reason})
        assert r.status_code == 200, r.text
        seen = (await w.as_user("GET", f"/v1/orders/{oid}")).json()
        assert (seen["status"], seen["list_amount_fen"], seen["amount_fen"], seen["quote_reason"]) == ("quoted", 60_000, 120_000, reason)

        # a non-fiscal instrument's negotiated price needs no reason and is no deviation
        body = {"unit_id": w.unit, "name": "企业自购电镜", "category": "分析仪器", "original_value_fen": 5_000_000, "funding": "non_fiscal", "acceptance_date": "2024-09-20"}
        iid = (await p.call("registry", "POST", "/v1/instruments/", role=Role.UNIT, org=w.unit, json=body)).json()["instrument_id"]
        assert (await p.call("registry", "POST", f"/v1/instruments/{iid}/list", role=Role.UNIT, org=w.unit)).status_code == 200
        price = {"name": "形貌观察", "billing_unit": "per_hour", "price_fen": 10_000, "basis": "negotiable"}
        r = await p.call("registry", "POST", f"/v1/instruments/{iid}/prices", role=Role.UNIT, org=w.unit, json=price)
        assert r.status_code == 201, r.text
        r = await w.as_user("POST", "/v1/orders/", json={"purpose": "research", "items": [{"price_item_id": r.json()["price_item_id"], "quantity": 1}]})
        negotiated = r.json()["order_id"]
        r = await w.as_unit("POST", f"/v1/orders/{negotiated}/quote", json={"amount_fen": 30_000})
        assert r.status_code == 200 and r.json()["quote_reason"] is None, r.text

        # the center and the bureau list every deviation, by unit and year
        other = await approved_unit(p, name="许昌另一单位")
        for role in (Role.CENTER, Role.BUREAU):
            r = await p.call("registry", "GET", "/v1/quote-deviations/", role=role)
            assert r.status_code == 200, r.text
            page = r.json()
            assert page["total"] == 1
            d = page["items"][0]
            assert (d["order_id"], d["unit_id"], d["user_id"], d["year"]) == (oid, w.unit, w.user, YEAR)
            assert (d["list_amount_fen"], d["amount_fen"], d["excess_fen"], d["reason"]) == (60_000, 120_000, 60_000, reason)
        assert (await p.call("registry", "GET", "/v1/quote-deviations/", role=Role.CENTER, params={"unit_id": w.unit, "year": YEAR})).json()["total"] == 1
        assert (await p.call("registry", "GET", "/v1/quote-deviations/", role=Role.CENTER, params={"unit_id": other})).json()["total"] == 0
        assert (await p.call("registry", "GET", "/v1/quote-deviations/", role=Role.CENTER, params={"year": YEAR - 1})).json()["total"] == 0
        r = await p.call("registry", "GET", "/v1/quote-deviations/", role=Role.CENTER, params={"page": 2, "page_size": 1})
        assert r.json()["items"] == [] and r.json()["total"] == 1
        for role, org in ((Role.UNIT, w.unit), (Role.USER, w.user)):
            assert (await p.call("registry", "GET", "/v1/quote-deviations/", role=role, org=org)).status_code == 403

        # audited: who quoted, the list amount and the reason
        r = await p.call("registry", "GET", "/v1/audit/", role=Role.AUDITOR, params={"action": "order.quote", "object_id": oid})
        entries = r.json()["items"]
        assert len(entries) == 1 and entries[0]["reason"] == reason
        assert entries[0]["after"] == {"status": "quoted", "amount_fen": 120_000, "list_amount_fen": 60_000, "above_list": True}
