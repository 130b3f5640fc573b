"""Payment orders by their case numbers on /finance (issue 17), through the gateway:
finance creates a payment order with the page's button and the list names each
order by its number (FK-<year>-<n>), never by a fragment of its id; the list's
search box finds one as typed; a number nobody has shows "暂无记录"; the export
link downloads the file named by the number. The payouts searched by an order's
number are that order's, each naming it (as does a payout found by its own number).
The center reads the same list, without the export (its address answers the center the
portal's 403 page); the bureau finds an order's
payouts. Runs on SQLite and PostgreSQL."""

from __future__ import annotations

import re

from services.runtime.roles import Role
from tests.support.payout_orders import due_award, save_payee
from tests.support.platform import Platform, running
from tests.support.portal import as_party, gateway, payouts_found, post, text_of
from tests.support.vouchers import uid

SERVICES = ["registry", "payments"]


def orders_table(html: str) -> str:
    found = re.search(r'<table class="list"[^>]* id="payment-orders">(.*?)</table>', html, re.DOTALL)
    assert found, "no payment orders table"
    return found.group(1)


async def test_finance_names_and_finds_payment_orders_by_their_case_numbers(make_settings) -> None:
    settings = await make_settings(SERVICES)
    async with running(Platform(settings, SERVICES), worker=False, relay=False) as p, gateway(p) as c:
        unit = uid()
        await save_payee(p, unit)
        as_party(c, p, Role.FINANCE)
        created = []
        for _ in range(2):
            await due_award(p, unit)
            r = await post(c, "/finance", "/finance/payment-orders", {})
            assert r.status_code in (302, 303) and r.headers["location"] == "/finance?done=1", r.text
            listed = (await p.call("payments", "GET", "/v1/payment-orders/", role=Role.FINANCE)).json()["items"]
            created.append(next(o for o in listed if o["payment_order_id"] not in {x["payment_order_id"] for x in created}))
        first, second = created
        assert re.fullmatch(r"FK-\d{4}-000001", first["case_no"]) and second["case_no"][-6:] == "000002"

        page = await c.get("/finance")
        table = orders_table(page.text)
        assert "付款单编号" in page.text and 'name="order_case_no"' in page.text
        for o in created:
            assert f'<td class="case-no"><a href="/finance/payment-orders/{o["payment_order_id"]}">{o["case_no"]}</a></td>' in table and o["payment_order_id"][:8] not in text_of(table)
            assert f'href="/finance/payment-orders/{o["payment_order_id"]}/export"' in table

        # the search box: as typed, only that order; a number nobody has, nothing
        found = orders_table((await c.get("/finance", params={"order_case_no": " " + second["case_no"].lower() + " "})).text)
        assert second["case_no"] in found and first["case_no"] not in found
        nobody = await c.get("/finance", params={"order_case_no": "FK-1999-000001"})
        assert "暂无记录" in text_of(orders_table(nobody.text)) and first["case_no"] not in orders_table(nobody.text)
        assert 'value="FK-1999-000001"' in nobody.text  # the box keeps what was typed

        # the payouts searched by an order's number: that order's payouts, each naming its order; a link from the order
        assert f'href="/finance?case_no={first["case_no"]}#payout-found"' in table
        of_first = payouts_found((await c.get("/finance", params={"case_no": " " + first["case_no"].lower()})).text)
        first_payouts = (await p.call("payments", "GET", f"/v1/payment-orders/{first['payment_order_id']}", role=Role.FINANCE)).json()["payouts"]
        assert [r[0] for r in of_first] == [x["case_no"] for x in first_payouts] and first_payouts
        assert all(r[6] == first["case_no"] for r in of_first), of_first
        # a payout found by its own number names the order it is on
        assert payouts_found((await c.get("/finance", params={"case_no": first_payouts[0]["case_no"]})).text)[0][6] == first["case_no"]

        # the export through the portal: the file named by the number
        xlsx = await c.get(f"/finance/payment-orders/{first['payment_order_id']}/export")
        assert xlsx.status_code == 200 and f'filename="payment-order-{first["case_no"]}.xlsx"' in xlsx.headers["content-disposition"]

        # the center reads the numbers, without the export
        as_party(c, p, Role.CENTER)
        seen = orders_table((await c.get("/finance", params={"order_case_no": first["case_no"]})).text)
        assert first["case_no"] in seen and second["case_no"] not in seen and "/export" not in seen
        # … and the export's address answers the center the portal's 403 page, not the service's problem as a file
        refused = await c.get(f"/finance/payment-orders/{first['payment_order_id']}/export")
        assert refused.status_code == 403 and refused.headers["content-type"].startswith("text/html") and "content-disposition" not in refused.headers

        # the bureau finds an order's payouts by its number too
        as_party(c, p, Role.BUREAU)
        assert [r[6] for r in payouts_found((await c.get("/finance", params={"case_no": second["case_no"]})).text)] == [second["case_no"]]
