"""The catalogue's "accepts vouchers" filter, its sorting and the suggestions
on an empty result, in the API and on the portal's catalogue page."""

from __future__ import annotations

import asyncio
from urllib.parse import urlencode

from alembic import command
from sqlalchemy import select

from services.registry.db.search_models import search_docs
from services.registry.domain.synonyms import DEFAULT_SYNONYMS
from services.runtime.db.migrations import alembic_config, upgrade
from services.runtime.roles import Role
from tests.support.platform import Platform, running
from tests.support.polling import eventually
from tests.support.portal import gateway_portal
from tests.support.registry import approved_unit
from tests.support.search import found, ids, instrument, publish_price, settled

ACCEPTANCE = {"full_time_staff": 3, "service_content": "成分分析与结构表征", "service_norms": "按国家标准操作", "fees_published": True, "no_bad_credit": True}


async def test_vouchers_filter_sorting_and_suggestions(make_settings) -> None:
    settings = await make_settings(["registry"])
    async with running(Platform(settings, ["registry"])) as p:
        xu = await approved_unit(p, "许昌学院", "411002", kind="institute")
        yu = await approved_unit(p, "禹州市检测研究院", "411081", kind="institute")
        sem = await instrument(p, xu, "扫描电子显微镜", category="物理性能测试仪器")
        ftir = await instrument(p, xu, "傅里叶红外光谱仪")
        aas = await instrument(p, yu, "原子吸收光谱仪")
        uv = await instrument(p, yu, "紫外可见光谱仪")
        await publish_price(p, ftir, xu, 30_000)
        await publish_price(p, aas, yu, 10_000)
        await publish_price(p, aas, yu, 90_000)
        await publish_price(p, sem, xu, 50_000)
        await settled(p)
        r = await p.call("registry", "POST", f"/v1/units/{xu}/voucher-acceptance", role=Role.CENTER, json=ACCEPTANCE)
        assert r.status_code == 200, r.text

        # accepts vouchers: the instruments of units approved to accept them (R18), marked in the results
        async def xu_only() -> bool:
            return set(ids(await found(p, accepts_vouchers="true"))) == {sem, ftir}

        await eventually(xu_only)
        assert ids(await found(p, q="光谱", accepts_vouchers="true")) == [ftir]
        marks = {i["instrument_id"]: i["accepts_vouchers"] for i in (await found(p, page_size=100))["items"]}
        assert marks == {sem: True, ftir: True, aas: False, uv: False}
        assert set(ids(await found(p, accepts_vouchers="false"))) == {sem, ftir, aas, uv}
        # a unit suspended stops accepting: its instruments leave the filter
        r = await p.call("registry", "POST", f"/v1/units/{xu}/suspend", role=Role.BUREAU, json={"reason": "违规收费，暂停共享"})
        assert r.status_code == 200, r.text

        async def none_accept() -> bool:
            return (await found(p, accepts_vouchers="true"))["total"] == 0

        await eventually(none_accept)
        r = await p.call("registry", "POST", f"/v1/units/{xu}/reinstate", role=Role.BUREAU, json={"reason": "整改完成"})
        assert r.status_code == 200, r.text
        await eventually(xu_only)

        # sorting: by the lowest active price (none last), either way; by name; relevance by default
        assert ids(await found(p, sort="price_asc")) == [aas, ftir, sem, uv]
        assert ids(await found(p, sort="price_desc")) == [sem, ftir, aas, uv]
        assert ids(await found(p, q="光谱", sort="price_asc")) == [aas, ftir, uv]
        by_name = ids(await found(p, sort="name"))
        assert sorted(by_name) == sorted([sem, ftir, aas, uv]) and by_name == ids(await found(p))
        relevance = await found(p, q="光谱", sort="relevance")
        assert ids(relevance) == ids(await found(p, q="光谱"))
        second = await found(p, sort="price_asc", page_size=2, page=2)
        assert ids(second) == [sem, uv] and second["total"] == 4
        r = await p.call("registry", "GET", "/v1/catalogue/instruments", params={"sort": "cheapest"})
        assert r.status_code == 400 and r.json()["code"] == "search.bad_sort", r.text

        # an empty result: the dictionary's closest terms that find something under the same filters
        page = await found(p, q="扫描电竞")
        assert page["total"] == 0 and page["items"] == []
        assert page["suggestions"][0] == {"kind": "term", "text": "扫描电子显微镜", "total": 1}
        assert all(s["kind"] == "term" and s["total"] > 0 for s in page["suggestions"])
        # nothing close: the categories holding instruments, fullest first
        page = await found(p, q="咖啡机")
        assert page["suggestions"] == [{"kind": "category", "text": "分析仪器", "total": 3}, {"kind": "category", "text": "物理性能测试仪器", "total": 1}]
        # under a filter no term finds anything: the categories under that filter
        page = await found(p, q="扫描电竞", county_code="411081")
        assert page["suggestions"] == [{"kind": "category", "text": "分析仪器", "total": 2}]
        # a result, or a later page, carries none
        assert (await found(p, q="光谱"))["suggestions"] == []
        assert (await found(p, q="咖啡机", page=2))["suggestions"] == []

        async with gateway_portal(p) as gw:
            html = (await gw.get("/instruments", params={"q": "扫描电竞"})).text
            assert "您是不是要找" in html and "/instruments?" + urlencode({"q": "扫描电子显微镜"}) in html
            assert "扫描电子显微镜</a>（1 台）" in html
            html = (await gw.get("/instruments", params={"q": "咖啡机", "accepts_vouchers": "1"})).text
            assert "可以按类别浏览" in html and "/instruments?" + urlencode({"accepts_vouchers": "1", "category": "分析仪器"}).replace("&", "&amp;") in html
            # the filter and the order are applied and kept in the form
            html = (await gw.get("/instruments", params={"accepts_vouchers": "1", "sort": "price_asc"})).text
            assert html.index("傅里叶红外光谱仪") < html.index("扫描电子显微镜") and "原子吸收光谱仪" not in html
            assert 'name="accepts_vouchers" value="1" checked' in html and '<option value="price_asc" selected>' in html
            assert '<span class="badge">可用创新券</span>' in html
            html = (await gw.get("/instruments", params={"q": "电镜"})).text
            assert "扫描电子显微镜" in html and "您是不是要找" not in html


async def test_the_migration_fills_the_filter_from_the_units(make_settings) -> None:
    """Migration a5e1c7d93b42 on a database with instruments: accepts_vouchers is
    filled from their units (approved and accepting), the dictionary seeded."""
    settings = await make_settings(["registry"])
    async with running(Platform(settings, ["registry"])) as p:
        xu = await approved_unit(p, "许昌学院", "411002", kind="institute")
        yu = await approved_unit(p, "禹州市检测研究院", "411081", kind="institute")
        accepted = await instrument(p, xu, "扫描电子显微镜")
        await instrument(p, yu, "傅里叶红外光谱仪")  # its unit does not accept vouchers
        assert (await p.call("registry", "POST", f"/v1/units/{xu}/voucher-acceptance", role=Role.CENTER, json=ACCEPTANCE)).status_code == 200
        await eventually(lambda: _accepting(p, {accepted}))
        await p.call("registry", "DELETE", f"/v1/catalogue/synonyms/{(await _seeded(p))[0]}", role=Role.CENTER)
    url = settings.database_url("registry")
    await asyncio.to_thread(command.downgrade, alembic_config("registry", url), "c4a9e2f17b30")
    await asyncio.to_thread(upgrade, "registry", url)
    async with running(Platform(settings, ["registry"]), worker=False, relay=False) as p:
        assert await _accepting(p, {accepted})
        assert len(await _seeded(p)) == len(DEFAULT_SYNONYMS)


async def _accepting(p: Platform, expected: set[str]) -> bool:
    async with p["registry"].db.read() as s:
        return set((await s.execute(select(search_docs.c.instrument_id).where(search_docs.c.accepts_vouchers.is_(True)))).scalars()) == expected


async def _seeded(p: Platform) -> list[str]:
    r = await p.call("registry", "GET", "/v1/catalogue/synonyms/", role=Role.CENTER, params={"page_size": 100})
    return [e["entry_id"] for e in r.json()["items"]]
