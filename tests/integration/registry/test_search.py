"""The public catalogue search: Chinese two-character words, model numbers,
filters, price range, pagination, relevance, and what the public never sees.
The registry worker keeps the index from the registry's own events."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select, update

from contracts import registry as ev
from services.registry.db.instrument_models import instruments
from services.registry.db.party_models import units
from services.registry.db.search_models import search_docs, search_terms
from services.registry.search_model import reindex_all
from tests.support.platform import Platform, running
from tests.support.polling import eventually
from tests.support.registry import approved_unit
from tests.support.search import URL, found, ids, instrument, publish_price, settled


async def set_status(p: Platform, iid: str, status: str) -> None:
    """What an instrument-maintenance use case does: change the row, emit the event."""
    db = p["registry"].db
    async with db.unit_of_work() as uow:
        s = uow.session
        row = (await s.execute(select(instruments, units.c.county_code).join(units).where(instruments.c.id == iid))).mappings().one()
        await s.execute(update(instruments).where(instruments.c.id == iid).values(status=status, version=row["version"] + 1))
        snap = dict(
            instrument_id=iid,
            unit_id=row["unit_id"],
            version=row["version"] + 1,
            name=row["name"],
            category=row["category"],
            county_code=row["county_code"],
            funding=row["funding"],
            original_value_fen=row["original_value_fen"],
            must_list=row["must_list"],
            listing_deadline=row["listing_deadline"],
            status=status,
            listed_on=row["listed_on"],
        )
        await uow.emit(ev.InstrumentRetired(**snap) if status == "retired" else ev.InstrumentChanged(**snap))


async def test_catalogue_search(make_settings) -> None:
    settings = await make_settings(["registry"])
    async with running(Platform(settings, ["registry"])) as p:
        xu = await approved_unit(p, "许昌学院", "411002", kind="institute")
        yu = await approved_unit(p, "禹州市检测研究院", "411081", kind="institute")
        ftir = await instrument(p, xu, "傅里叶红外光谱仪", model="Nicolet iS50", manufacturer="Thermo Fisher")
        aas = await instrument(p, xu, "原子吸收光谱仪", model="AA-7000", manufacturer="岛津")
        lcms = await instrument(p, yu, "液相色谱质谱联用仪", model="LCMS-8060", manufacturer="岛津")
        sem = await instrument(p, yu, "扫描电子显微镜", category="物理性能测试仪器", functions="配能谱附件，可做元素光谱分析")
        unlisted = await instrument(p, xu, "红外光谱仪", listed=False)
        maint = await instrument(p, xu, "紫外可见光谱仪")
        retired = await instrument(p, yu, "拉曼光谱仪")
        await set_status(p, maint, "maintenance")
        await set_status(p, retired, "retired")
        await settled(p)

        # 光谱: names first, the functions-only match last; hidden ones never
        async def spectra() -> dict[str, Any] | None:
            page = await found(p, q="光谱")
            return page if set(ids(page)) == {ftir, aas, sem} else None

        page = await eventually(spectra)
        assert page["total"] == 3 and ids(page)[-1] == sem
        scores = [i["score"] for i in page["items"]]
        assert scores[0] == scores[1] > scores[2] > 0
        assert set(ids(page)[:2]) == {aas, ftir}  # equal scores: by name (in the database's collation)
        assert not {unlisted, maint, retired} & set(ids(await found(p, q="光谱仪", page_size=100)))
        # the same total on every page, past the last too; the hidden three hold 光谱 and are not counted
        pages = [await found(p, q="光谱", page_size=2, page=n) for n in (1, 2, 3)]
        assert [x["total"] for x in pages] == [3, 3, 3] and ids(pages[0]) + ids(pages[1]) == ids(page) and pages[2]["items"] == []

        # 质谱 is not 光谱; model numbers in any case; every word must match
        assert ids(await found(p, q="质谱")) == [lcms]
        assert ids(await found(p, q="lcms-8060")) == [lcms]
        assert ids(await found(p, q="LCMS8060")) == [lcms]
        assert ids(await found(p, q="光谱 岛津")) == [aas]
        assert (await found(p, q="质谱 thermo"))["total"] == 0
        item = (await found(p, q="质谱"))["items"][0]
        assert item == {
            "instrument_id": lcms,
            "name": "液相色谱质谱联用仪",
            "category": "分析仪器",
            "unit_id": yu,
            "unit_name": "禹州市检测研究院",
            "score": 8,
            "model": "LCMS-8060",
            "county_code": "411081",
            "min_price_fen": None,
            "max_price_fen": None,
            "accepts_vouchers": False,
            "rating_average": None,
            "rating_count": 0,
        }

        # filters
        assert ids(await found(p, q="光谱", category="物理性能测试仪器")) == [sem]
        assert set(ids(await found(p, county_code="411081"))) == {lcms, sem}
        assert set(ids(await found(p, unit_id=xu))) == {ftir, aas}
        assert (await found(p, q="光谱", county_code="411024"))["total"] == 0

        # pagination without keywords: by name, total on every page
        first, second = await found(p, page_size=2), await found(p, page_size=2, page=2)
        assert first["total"] == second["total"] == 4 and len(first["items"]) == len(second["items"]) == 2
        assert len(set(ids(first)) | set(ids(second))) == 4
        beyond = await found(p, page_size=2, page=3)
        assert beyond["items"] == [] and beyond["total"] == 4 and beyond["page"] == 3

        # price range: an instrument's active prices overlap the wanted range
        await publish_price(p, ftir, xu, 10_000)
        await publish_price(p, ftir, xu, 50_000)
        await publish_price(p, ftir, xu, 9_999_999, active=False)
        await publish_price(p, aas, xu, 200_000)

        async def priced() -> bool:
            items = {i["instrument_id"]: i for i in (await found(p, q="光谱"))["items"]}
            return (items[ftir]["min_price_fen"], items[ftir]["max_price_fen"], items[aas]["min_price_fen"]) == (10_000, 50_000, 200_000)

        await eventually(priced)
        assert ids(await found(p, price_min_fen=40_000, price_max_fen=100_000)) == [ftir]
        assert ids(await found(p, price_min_fen=100_000)) == [aas]
        assert set(ids(await found(p, price_max_fen=10_000))) == {ftir}
        assert (await found(p, price_min_fen=60_000, price_max_fen=150_000))["total"] == 0

        # back in service: found again; the read model rebuilds idempotently
        await set_status(p, maint, "in_service")
        await eventually(lambda: _has(p, "紫外", maint))
        db = p["registry"].db
        async with db.read() as s:
            before = (await s.execute(select(search_terms).order_by(search_terms.c.term, search_terms.c.instrument_id))).all()
        assert await reindex_all(db) == 7
        async with db.read() as s:
            after = (await s.execute(select(search_terms).order_by(search_terms.c.term, search_terms.c.instrument_id))).all()
            docs = (await s.execute(select(search_docs.c.instrument_id, search_docs.c.public))).all()
        assert before == after
        assert dict(docs) == {ftir: True, aas: True, lcms: True, sem: True, unlisted: False, maint: True, retired: False}


async def _has(p: Platform, q: str, iid: str) -> bool:
    return iid in ids(await found(p, q=q))


async def test_bad_parameters_are_problems(make_settings) -> None:
    settings = await make_settings(["registry"])
    async with running(Platform(settings, ["registry"]), worker=False, relay=False) as p:
        for params, code in (
            ({"category": "魔法仪器"}, "search.unknown_category"),
            ({"county_code": "110101"}, "search.unknown_county"),
            ({"price_min_fen": 200, "price_max_fen": 100}, "search.bad_price_range"),
            ({"price_min_fen": -1}, "search.bad_price_range"),
            ({"q": "光" * 51}, "search.query_too_long"),
            ({"q": "！？、"}, "search.query_without_words"),
        ):
            r = await p.call("registry", "GET", URL, params=params)
            assert r.status_code == 400, (params, r.text)
            assert r.headers["content-type"].startswith("application/problem+json")
            assert r.json()["code"] == code, r.text
        for params in ({"page_size": 101}, {"page_size": 0}, {"page": 0}, {"price_min_fen": "cheap"}):
            r = await p.call("registry", "GET", URL, params=params)
            assert r.status_code == 400, (params, r.text)
        r = await p.call("registry", "GET", URL, params={"q": "光谱"})
        assert r.status_code == 200 and r.json() == {"items": [], "total": 0, "page": 1, "page_size": 20, "suggestions": []}
