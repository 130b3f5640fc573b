"""An order's pages (issue 17), through the gateway and the real services: the unit reads
who placed the order (the enterprise's name, from the registry's order) on the order's
page and in its list of orders; signing a contract takes a ticked confirmation, refused at
the box in Chinese (English with ?lang=en) and not signed; the unit refuses the voucher a
user presents on its order, never without a reason (refused at the reason), and the unit and
the user and the center then read the refusal on the order while the voucher stays valid.
SQLite and PostgreSQL."""

from __future__ import annotations

import re

from sqlalchemy import select

from services.runtime.roles import Role
from services.vouchers.db.models import order_view, unit_view
from tests.support.platform import Platform, running
from tests.support.polling import eventually
from tests.support.registry import World, approved_unit, priced_instrument, verified_user
from tests.support.vouchers import activate, approve, open_programme, submit, verified_here
from tests.support.portal import as_party, error_at, fact, gateway, post, text_of

ENTERPRISE = "许昌市恒信新材料科技有限公司"


async def customer_world(p: Platform) -> World:
    unit = await approved_unit(p)
    iid, pid = await priced_instrument(p, unit)
    return World(p, unit, await verified_user(p, ENTERPRISE), iid, pid)


def listed_customers(html: str) -> dict[str, str]:
    """The orders list: case number → the customer named in its row."""
    return {case: text_of(who).strip() for case, who in re.findall(r'<a href="/orders/[^"]+">([^<]+)</a></td><td class="order-user">(.*?)</td>', html)}


async def test_the_unit_reads_who_ordered_on_the_order_and_in_its_list(make_settings) -> None:
    services = ["registry"]  # the order page asks vouchers for nothing on the unit's side before a contract
    settings = await make_settings(services)
    async with running(Platform(settings, services), worker=False, relay=False) as p, gateway(p) as c:
        w = await customer_world(p)
        oid = await w.order()
        r = await w.as_unit("GET", f"/v1/orders/{oid}")
        assert r.status_code == 200 and r.json()["user_name"] == ENTERPRISE, r.text  # getUser stays closed to the unit
        assert (await w.as_unit("GET", f"/v1/users/{w.user}")).status_code == 403
        case_no = r.json()["case_no"]

        as_party(c, p, Role.UNIT, w.unit)
        assert fact((await c.get(f"/orders/{oid}")).text, "order-user") == ENTERPRISE
        assert listed_customers((await c.get("/orders")).text) == {case_no: ENTERPRISE}
        as_party(c, p, Role.CENTER)
        assert listed_customers((await c.get(f"/orders?case_no={case_no}")).text) == {case_no: ENTERPRISE}
        as_party(c, p, Role.USER, w.user)  # the user's own list keeps its columns
        html = (await c.get("/orders")).text
        assert case_no in html and 'class="order-user"' not in html


async def test_signing_a_contract_takes_the_confirmation_box(make_settings) -> None:
    services = ["registry"]
    settings = await make_settings(services)
    async with running(Platform(settings, services), worker=False, relay=False) as p, gateway(p) as c:
        w = await customer_world(p)
        oid = await w.with_contract()
        as_party(c, p, Role.USER, w.user)
        page = (await c.get(f"/orders/{oid}")).text
        form = re.search(r'<form [^>]*id="sign-form".*?</form>', page, re.DOTALL)
        assert form and 'type="checkbox" name="confirm"' in form.group(0) and "我已阅读并同意合同条款" in form.group(0)

        version = str((await w.as_user("GET", f"/v1/orders/{oid}")).json()["version"])
        r = await post(c, f"/orders/{oid}", f"/orders/{oid}/sign", {"version": version})
        assert r.status_code == 400 and error_at(r.text, "confirm") == "请勾选“我已阅读并同意合同条款”后再签署", r.text
        r = await post(c, f"/orders/{oid}?lang=en", f"/orders/{oid}/sign?lang=en", {"version": version})
        assert r.status_code == 400 and error_at(r.text, "confirm") == "Tick “I have read and agree to the terms of the contract” before signing"
        await c.get(f"/orders/{oid}?lang=zh")
        assert (await w.as_user("GET", f"/v1/orders/{oid}")).json()["contract"]["user_signed_at"] is None  # not signed

        r = await post(c, f"/orders/{oid}", f"/orders/{oid}/sign", {"version": version, "confirm": "1"})
        assert r.status_code == 303, r.text
        assert (await w.as_user("GET", f"/v1/orders/{oid}")).json()["contract"]["user_signed_at"] is not None


async def voucher_on(p: Platform, w: World, oid: str) -> str:
    """The user's voucher on the contracted order ``oid``: vouchers learns the unit, the user and
    the contract from the registry's events, then the user applies and the center approves."""
    db = p["vouchers"].db

    async def known() -> bool:
        async with db.read() as s:
            accepts = (await s.execute(select(unit_view.c.accepts_vouchers).where(unit_view.c.unit_id == w.unit))).scalar_one_or_none()
            return bool(accepts) and (await s.execute(select(order_view.c.order_id).where(order_view.c.order_id == oid))).scalar_one_or_none() is not None

    await eventually(known, timeout=60)
    await verified_here(p, w.user)
    await open_programme(p)
    await activate(p, w.user)
    approved = await approve(p, (await submit(p, w.user, oid))["application_id"])
    assert approved.status_code == 200 and approved.json()["status"] == "approved", approved.text
    return str(approved.json()["voucher_id"])


async def test_the_unit_refuses_a_voucher_on_its_order_only_with_a_reason(make_settings) -> None:
    services = ["registry", "vouchers"]
    settings = await make_settings(services)
    async with running(Platform(settings, services)) as p, gateway(p) as c:
        w = await customer_world(p)
        r = await p.call("registry", "POST", f"/v1/units/{w.unit}/voucher-acceptance", role=Role.CENTER,
                         json={"full_time_staff": 3, "service_content": "检测", "service_norms": "规范", "fees_published": True, "no_bad_credit": True})
        assert r.status_code == 200 and r.json()["accepts_vouchers"] is True, r.text
        oid = await w.contracted()
        vid = await voucher_on(p, w, oid)

        as_party(c, p, Role.UNIT, w.unit)
        page = (await c.get(f"/orders/{oid}")).text
        assert fact(page, "voucher-status") == "已发放" and 'id="refuse-voucher-form"' in page
        r = await post(c, f"/orders/{oid}", f"/orders/{oid}/refuse-voucher", {"reason": "  "})
        assert r.status_code == 400 and error_at(r.text, "refuse_reason") == "拒绝接收创新券须填写理由", r.text
        assert (await p.call("vouchers", "GET", f"/v1/vouchers/{vid}", role=Role.CENTER)).json()["refusals"] == []

        r = await post(c, f"/orders/{oid}", f"/orders/{oid}/refuse-voucher", {"reason": "该订单检测项目不在本单位创新券服务范围内"})
        assert r.status_code == 303, r.text
        voucher = (await p.call("vouchers", "GET", f"/v1/vouchers/{vid}", role=Role.CENTER)).json()
        assert voucher["status"] == "issued" and [x["reason"] for x in voucher["refusals"]] == ["该订单检测项目不在本单位创新券服务范围内"]
        refused = fact((await c.get(f"/orders/{oid}")).text, "voucher-refusals")
        assert "拒绝接收" in refused and "该订单检测项目不在本单位创新券服务范围内" in refused

        as_party(c, p, Role.CENTER)  # the center, which reviews refusals, reads it on the order
        assert "该订单检测项目不在本单位创新券服务范围内" in fact((await c.get(f"/orders/{oid}")).text, "voucher-refusals")
        as_party(c, p, Role.USER, w.user)  # the user reads the refusal beside its application; it has no form
        page = (await c.get(f"/orders/{oid}")).text
        assert "该订单检测项目不在本单位创新券服务范围内" in fact(page, "voucher-refusals") and 'id="refuse-voucher-form"' not in page
        r = await post(c, f"/orders/{oid}", f"/orders/{oid}/refuse-voucher", {"reason": "x"})
        assert r.status_code == 403 and len((await p.call("vouchers", "GET", f"/v1/vouchers/{vid}", role=Role.CENTER)).json()["refusals"]) == 1

