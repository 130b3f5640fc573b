"""Quotes above the published prices on a page (M11(4), issue 17; ``listQuoteDeviations``):
the center and the bureau reach /supervision/quote-deviations from their navigation; 21 quotes
above the list are shown 20 a page, newest first, each with its order's case number (linked to
the order), the unit and the user by name, the published and the quoted amount in yuan, the
difference, the reason and the time in Beijing time; a quote at the list is no deviation;
another year shows none; a unit is refused; one unit's quotes are found by part of its name or
a link, with the picker's refusals at its field. SQLite and PostgreSQL."""

from __future__ import annotations

import re

from services.runtime.clock import local_year
from services.runtime.roles import Role
from tests.support.platform import Platform, running
from tests.support.registry import World, approved_unit, priced_instrument, world
from tests.support.portal import error_at, gateway, text_of

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


async def test_one_units_quotes_by_part_of_its_name_or_a_link(make_settings) -> None:
    """The unit picker on the page: typing part of a unit's name shows that unit's quotes alone
    (the pager's links keep it); a link's ``?unit_id=`` the same; a name two units share asks to
    choose at the field, a name none has says so, and neither lists anyone's quotes."""
    settings = await make_settings(SERVICES)
    async with running(Platform(settings, SERVICES), worker=False) as p, gateway(p) as c:
        w = await world(p)  # 许昌学院
        other_unit = await approved_unit(p, name="许昌市检验检测中心")
        iid, pid = await priced_instrument(p, other_unit)
        other = World(p, other_unit, w.user, iid, pid)
        mine = await w.order(quantity=2)
        theirs = await other.order(quantity=2)
        for world_, oid in ((w, mine), (other, theirs)):
            r = await world_.as_unit("POST", f"/v1/orders/{oid}/quote", json={"amount_fen": 61_000, "reason": "加急检测"})
            assert r.status_code == 200, r.text
        c.cookies.set("xciss_session", p.token(Role.CENTER))
        everyone = await c.get("/supervision/quote-deviations")
        assert {mine, theirs} <= set(re.findall(r'<tr data-order="([^"]+)"', everyone.text))

        typed = await c.get("/supervision/quote-deviations", params={"unit_id_q": "检验检测"})
        assert typed.status_code == 200 and re.findall(r'<tr data-order="([^"]+)"', typed.text) == [theirs]
        assert 'value="许昌市检验检测中心"' in typed.text  # the picker shows the unit chosen
        linked = await c.get("/supervision/quote-deviations", params={"unit_id": w.unit})
        assert re.findall(r'<tr data-order="([^"]+)"', linked.text) == [mine]

        await approved_unit(p, name="许昌市检验检测研究院")  # now two units hold 检验检测
        several = await c.get("/supervision/quote-deviations", params={"unit_id_q": "检验检测"})
        assert several.status_code == 200 and "有 2 个单位符合“检验检测”，请从列表中选择一个" in error_at(several.text, "unit_id")
        assert rows(several.text) == [] and 'name="unit_id" value="' in several.text  # the matches to choose from
        none = await c.get("/supervision/quote-deviations", params={"unit_id_q": "不存在的单位"})
        assert "找不到名称或统一社会信用代码含“不存在的单位”的单位" in error_at(none.text, "unit_id") and rows(none.text) == []
