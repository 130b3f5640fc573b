"""A payment order's own page and finance's confirmation that the bank paid (issue 17), through
the gateway with the real registry and payments services, their workers and relays: finance
creates a payment order on /finance, whose list links to the order's page (FK-…, when created,
the total, each payout's BF-…, its unit by name, amount and state); the workspace counts the
payout to confirm and leads to the list of them; a confirmation without the bank's reference is
refused at that field in Chinese and changes nothing; with it the payout reads 已支付 with the
reference and the Beijing time payments recorded, the count goes to zero, and the unit's message
centre shows the payout-paid notice. The center and the bureau read the order's page without
the form or the export; a unit is refused it. A payout not on an order is refused in payments'
words. SQLite and PostgreSQL."""

from __future__ import annotations

import re

from services.gateway.portal.messages import local_time
from services.runtime.roles import Role
from tests.support.platform import Platform, running
from tests.support.polling import eventually
from tests.support.registry import approved_unit
from tests.support.portal import as_party, error_at, gateway, post, text_of
from tests.support.payout_orders import due_award, save_payee

SERVICES = ["registry", "payments"]


def row_of(html: str, payout_id: str) -> str:
    found = re.search(rf'<tr id="payout-{payout_id}">(.*?)</tr>', html, re.DOTALL)
    assert found, f"no row for payout {payout_id}"
    return found.group(1)


def todo(html: str, key: str) -> tuple[str, str]:
    """The workspace's count of ``key`` and where it leads."""
    found = re.search(rf'data-task="{key}"><a href="([^"]+)"><b class="count">([^<]+)</b>', html)
    assert found, f"no to-do {key}"
    return found.group(2), found.group(1)


async def payout(p: Platform, payout_id: str) -> dict:
    r = await p.call("payments", "GET", f"/v1/payouts/{payout_id}", role=Role.FINANCE)
    assert r.status_code == 200, r.text
    return dict(r.json())


async def test_finance_confirms_a_payout_paid_on_its_payment_orders_page(make_settings) -> None:
    settings = await make_settings(SERVICES)
    async with running(Platform(settings, SERVICES)) as p, gateway(p) as c:
        unit = await approved_unit(p, name="许昌市农业科学研究所")
        await save_payee(p, unit)
        payout_id = await due_award(p, unit)
        as_party(c, p, Role.FINANCE)
        r = await post(c, "/finance", "/finance/payment-orders", {})
        assert r.status_code == 303, r.text
        order = (await p.call("payments", "GET", "/v1/payment-orders/", role=Role.FINANCE)).json()["items"][0]
        oid, fk = order["payment_order_id"], order["case_no"]
        bf = (await payout(p, payout_id))["case_no"]

        # /finance's list of payment orders leads to the order's page
        assert f'<a href="/finance/payment-orders/{oid}">{fk}</a>' in (await c.get("/finance")).text

        # the workspace counts the payout to confirm and leads to the list of them
        count, link = todo((await c.get("/workspace")).text, "payouts_to_confirm")
        assert (count, link) == ("1", "/finance/payouts/to-confirm")
        listed = (await c.get(link)).text
        work = (await c.get("/workspace")).text
        assert "已列入付款单、待确认支付的付款" in work and '<a href="/guide/finance" id="guide-link">' in work
        assert bf in text_of(row_of(listed, payout_id)) and "许昌市农业科学研究所" in row_of(listed, payout_id)
        assert f'<a href="/finance/payment-orders/{oid}">{fk}</a>' in row_of(listed, payout_id)

        # the order's page: its number, when, the total, the payout by its number and its unit's name, with the form
        page = await c.get(f"/finance/payment-orders/{oid}")
        assert page.status_code == 200
        facts = text_of(re.search(r'<dl class="facts" id="payment-order">(.*?)</dl>', page.text, re.DOTALL).group(1))
        assert fk in facts and local_time(order["created_at"]) in facts and "¥50,000.00" in facts and "已支付 0 / 1 笔" in facts
        row = row_of(page.text, payout_id)
        assert bf in text_of(row) and "许昌市农业科学研究所" in row and "¥50,000.00" in row and "已列入付款单" in row
        assert f'action="/finance/payouts/{payout_id}/paid"' in row and "确认已支付" in row and unit[:8] not in text_of(page.text)
        assert f'href="/finance/payment-orders/{oid}/export"' in page.text

        # no reference: refused at its field, in Chinese; nothing changes
        refused = await post(c, f"/finance/payment-orders/{oid}", f"/finance/payouts/{payout_id}/paid", {"bank_reference": "  ", "payment_order_id": oid, "page": "1"})
        assert refused.status_code == 422 and error_at(refused.text, "bank_reference") == "请填写银行流水号"
        assert fk in refused.text and (await payout(p, payout_id))["status"] == "ordered"
        english = await post(c, f"/finance/payment-orders/{oid}?lang=en", f"/finance/payouts/{payout_id}/paid", {"bank_reference": "", "payment_order_id": oid})
        assert error_at(english.text, "bank_reference") == "Enter the bank's reference"
        await c.get("/finance?lang=zh")

        # with the bank's reference: paid, as payments records it, shown with the reference and Beijing time
        done = await post(c, f"/finance/payment-orders/{oid}", f"/finance/payouts/{payout_id}/paid", {"bank_reference": "ICBC-2026-0815", "payment_order_id": oid, "page": "1"})
        assert done.status_code == 303 and done.headers["location"] == f"/finance/payment-orders/{oid}?page=1&done=1#payout-{payout_id}", done.text
        paid = await payout(p, payout_id)
        assert paid["status"] == "paid" and paid["bank_reference"] == "ICBC-2026-0815"
        page = await c.get(done.headers["location"])
        row = text_of(row_of(page.text, payout_id))
        assert "已支付" in row and "ICBC-2026-0815" in row and local_time(paid["paid_at"]) in row and "确认已支付" not in row
        assert "操作成功" in page.text and "已支付 1 / 1 笔" in text_of(page.text)
        assert todo((await c.get("/workspace")).text, "payouts_to_confirm")[0] == "0"
        assert payout_id not in (await c.get("/finance/payouts/to-confirm")).text

        # the unit's message centre: the payout-paid notice, by its number
        as_party(c, p, Role.UNIT, unit)

        async def told() -> str:
            html = (await c.get("/notifications")).text
            assert bf in html and "已支付至贵单位登记的收款账户" in text_of(html)
            return html

        html = await eventually(told, what="the unit's payout-paid notice")
        assert '<a href="/unit/payee" class="notification-link">查看拨付记录</a>' in html and "¥50,000.00" in text_of(html)
        # a unit may not open the payment order
        assert (await c.get(f"/finance/payment-orders/{oid}")).status_code == 403

        # the center and the bureau read the order's page, without the form or the export
        for role in (Role.CENTER, Role.BUREAU):
            as_party(c, p, role)
            seen = await c.get(f"/finance/payment-orders/{oid}")
            assert seen.status_code == 200 and fk in seen.text and "ICBC-2026-0815" in seen.text
            assert "/paid" not in seen.text and "/export" not in seen.text
            assert (await c.get("/finance/payouts/to-confirm")).status_code == 403

        # a payout not on a payment order: payments' refusal in its words, nothing paid
        as_party(c, p, Role.FINANCE)
        due = await due_award(p, unit)
        refused = await post(c, "/finance/payouts/to-confirm", f"/finance/payouts/{due}/paid", {"bank_reference": "ICBC-2026-0816"})
        assert refused.status_code == 409 and "付款尚未列入付款单" in text_of(refused.text) and "payout.not_ordered" not in text_of(refused.text)
        assert (await payout(p, due))["status"] == "due"
        # an order nobody has: the portal's own 404 page
        assert (await c.get("/finance/payment-orders/no-such-order")).status_code == 404
