"""The instrument page (issue 17) shows its sample requirements and its users'
ratings: the average with stars, how many, the latest comments, never who
rated; with none it says 暂无评价. Chinese and English. Runs on SQLite and
PostgreSQL."""

from __future__ import annotations

import re

from services.runtime.roles import Role
from tests.support.order_settlement import rated
from tests.support.platform import Platform, running
from tests.support.polling import eventually
from tests.support.portal import gateway
from tests.support.registry import world

SERVICES = ["registry"]


def section(html: str, start: str, end: str) -> str:
    found = re.search(re.escape(start) + r"(.*?)" + re.escape(end), html, re.S)
    assert found, html
    return found.group(1)


async def test_the_instrument_page_shows_sample_requirements_and_ratings(make_settings) -> None:
    settings = await make_settings(SERVICES)
    async with running(Platform(settings, SERVICES)) as p, gateway(p) as c:
        w = await world(p)
        r = await w.as_unit("PATCH", f"/v1/instruments/{w.iid}", json={"sample_requirements": "液体样品不少于 2 mL，注明溶剂"})
        assert r.status_code == 200, r.text

        page = (await c.get(f"/instruments/{w.iid}")).text
        assert "样品要求" in page and "液体样品不少于 2 mL，注明溶剂" in section(page, 'id="instrument-samples"', "</dd>")
        assert "用户评价" in page and "暂无评价" in section(page, 'id="no-ratings"', "</p>")
        assert "No ratings yet" in (await c.get(f"/instruments/{w.iid}?lang=en")).text

        await rated(w, 5, "数据可靠，出报告快")
        await rated(w, 4, "服务及时")
        page = (await c.get(f"/instruments/{w.iid}?lang=zh")).text  # the English page above set the language cookie
        assert "暂无评价" not in page
        average = section(page, 'id="rating-average"', "</p>")
        assert "<b>4.5</b> / 5" in average and "2 条评价" in average and "★★★★★" in average
        comments = section(page, 'id="rating-comments"', "</ul>")
        assert comments.index("服务及时") < comments.index("数据可靠，出报告快")  # newest first
        assert 'aria-label="4 星"' in comments
        # R23: the page does not say who rated
        assert "许昌测试企业" not in page and w.user not in page
        en = (await c.get(f"/instruments/{w.iid}?lang=en")).text
        assert "2 ratings" in en and "Sample requirements" in en and "User ratings" in en

        # the catalogue shows the average and the count beside the instrument
        async def catalogue() -> bool:
            return "4.5 · 2 条评价" in (await c.get("/instruments?lang=zh")).text

        await eventually(catalogue, what="the rating in the catalogue")

        # signed in as the unit, the same
        c.cookies.set("xciss_session", p.token(Role.UNIT, w.unit))
        assert "服务及时" in (await c.get(f"/instruments/{w.iid}?lang=zh")).text
