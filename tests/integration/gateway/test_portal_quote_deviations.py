"""Quotes above the published prices on a page (M11(4), issue 17; ``listQuoteDeviations``):
the center and the bureau reach /supervision/quote-deviations from their navigation; 21 quotes
above the list are shown 20 a page, newest first, each with its order's case number (linked to
the order), the unit and the user by name, the published and the quoted amount in yuan, the
difference, the reason and the time in Beijing time; a quote at the list is no deviation;
another year shows none; a unit is refused. SQLite and PostgreSQL."""

from __future__ import annotations

import re

from services.runtime.clock import local_year
from services.runtime.roles import Role
from tests.support.platform import Platform, running
from tests.support.registry import world
from tests.support.portal import gateway, text_of

SERVICES = ["registry"]


def rows(html: str) -> list[str]:
    table = re.search(r'<table class="list"[^>]* id="deviations">.*?<tbody>(.*?)</tbody>', html, re.DOTALL)
    assert table, "no deviations table"
    return [text_of(r) for r in re.findall(r"<tr data-order=[^>]*>(.*?)</tr>", table.group(1), re.DOTALL)]


async def test_the_center_and_the_bureau_read_the_quotes_above_the_published_prices(make_settings) -> None:
    settings = await make_settings(SERVICES)
    async with running(Platform(settings, SERVICES), worker=False) as p, gateway(p) as c:
        w = await world(p)  # 许昌学院, a fiscal instrument at 300 CNY a sample, 许昌测试企业
        orders = []
        for n in range(21):  # list 600 CNY; quoted 600 + n + 1 CNY
            oid = await w.order(quantity=2)
            r = await w.as_unit("POST", f"/v1/orders/{oid}/quote", json={"amount_fen": 60_000 + (n + 1) * 100, "reason": f"加急检测 {n + 1}"})
            assert r.status_code == 200, r.text
            orders.append((oid, r.json()["case_no"]))
        at_list = await w.order(quantity=2)
        assert (await w.as_unit("POST", f"/v1/orders/{at_list}/quote", json={"amount_fen": 60_000})).status_code == 200

        for role in (Role.CENTER, Role.BUREAU):
            c.cookies.set("xciss_session", p.token(role))
            assert 'href="/supervision/quote-deviations"' in (await c.get("/workspace")).text
            page = (await c.get("/supervision/quote-deviations")).text
            first = rows(page)
            assert len(first) == 20 and "第 1 页，共 21 条" in text_of(page), text_of(page)[-400:]
            newest_oid, newest_case = orders[-1]
            assert f'<a href="/orders/{newest_oid}">{newest_case}</a>' in page
            assert re.search(rf"{newest_case}\s*许昌学院\s*许昌测试企业\s*¥600\.00\s*¥621\.00\s*¥21\.00\s*加急检测 21\s*{local_year()}-\d\d-\d\d \d\d:\d\d", first[0]), first[0]
            assert at_list not in page
            second = rows((await c.get("/supervision/quote-deviations?page=2")).text)
            assert len(second) == 1 and orders[0][1] in second[0] and "¥601.00" in second[0]
            assert rows((await c.get(f"/supervision/quote-deviations?year={local_year() - 1}")).text) == []

        c.cookies.set("xciss_session", p.token(Role.UNIT, w.unit))
        assert (await c.get("/supervision/quote-deviations")).status_code == 403
