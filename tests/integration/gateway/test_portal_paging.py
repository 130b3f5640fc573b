"""No silent truncation (issue 17): the portal's lists are paged, never cut at the
services' largest page without a word. With the page size set to 2, /finance's payouts
due and the payouts of one payment order (searched by its FK- number) each show
"第 1 页，共 3 条" and a 下一页 link; page 2 holds the last payout; each list pages by its
own query parameter and keeps the search; a page number that is not one (letters, 0,
beyond the services' last) is page 1, never a refusal. Runs on SQLite and PostgreSQL."""

from __future__ import annotations

import re

import pytest

from services.gateway.portal import staff
from services.runtime.roles import Role
from tests.support.payout_orders import due_award, save_payee
from tests.support.platform import Platform, running
from tests.support.portal import as_party, gateway, pager, payouts_found, post
from tests.support.vouchers import uid

SERVICES = ["registry", "payments"]


def due_rows(html: str) -> list[str]:
    """The case numbers of the payouts due on the page."""
    found = re.search(r"<h2>待付款项</h2>\s*<table[^>]*>.*?<tbody>(.*?)</tbody>", html, re.DOTALL)
    assert found, "no payouts due table"
    return re.findall(r"<tr><td>([A-Z]{2}-\d{4}-\d{6})</td>", found.group(1))


async def test_finance_pages_the_payouts_due_and_an_orders_payouts(make_settings, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(staff, "REVIEW_PAGE_SIZE", 2)
    settings = await make_settings(SERVICES)
    async with running(Platform(settings, SERVICES), worker=False, relay=False) as p, gateway(p) as c:
        unit = uid()
        await save_payee(p, unit)
        ids = [await due_award(p, unit) for _ in range(3)]
        numbers = [(await p.call("payments", "GET", f"/v1/payouts/{i}", role=Role.FINANCE)).json()["case_no"] for i in ids]
        as_party(c, p, Role.FINANCE)

        first = await c.get("/finance")
        assert first.status_code == 200 and due_rows(first.text) == numbers[:2]
        words, links = pager(first.text, "due-pages")
        assert words == "第 1 页，共 3 条 下一页" and links == {"下一页": "?page=2"}
        second = await c.get("/finance" + links["下一页"])
        assert due_rows(second.text) == numbers[2:]  # the last one, on page 2
        assert pager(second.text, "due-pages") == ("上一页 第 2 页，共 3 条", {"上一页": "?page=1"})
        english = await c.get("/finance", params={"page": 2, "lang": "en"})
        assert pager(english.text, "due-pages")[0] == "Previous Page 2, 3 in all"
        for bad in ("abc", "0", "-1", "100001", "2.5"):
            shown = await c.get("/finance", params={"page": bad, "lang": "zh"})  # the language is remembered
            assert shown.status_code == 200 and due_rows(shown.text) == numbers[:2], bad

        # one payment order of the three; its payouts searched by its number: paged by fpage, the search kept
        r = await post(c, "/finance", "/finance/payment-orders", {})
        assert r.status_code in (302, 303), r.text
        order = (await p.call("payments", "GET", "/v1/payment-orders/", role=Role.FINANCE)).json()["items"][0]
        of_order = (await p.call("payments", "GET", f"/v1/payment-orders/{order['payment_order_id']}", role=Role.FINANCE)).json()["payouts"]
        assert len(of_order) == 3
        found = await c.get("/finance", params={"case_no": order["case_no"]})
        words, links = pager(found.text, "payout-found-pages")
        assert words == "第 1 页，共 3 条 下一页" and links == {"下一页": f"?case_no={order['case_no']}&fpage=2"}
        on_second = payouts_found((await c.get("/finance" + links["下一页"])).text)
        seen = [row[0] for row in payouts_found(found.text)] + [row[0] for row in on_second]
        assert len(on_second) == 1 and sorted(seen) == sorted(x["case_no"] for x in of_order)
        assert on_second[0][6] == order["case_no"]
        # the payouts due are none now: one page, no link
        assert pager(found.text, "due-pages") == ("第 1 页，共 0 条", {})
