"""Search that finds what people type (issue 17 §4): the center's synonym and
abbreviation dictionary, seeded with the common instruments and applied at
query time; editing it takes effect at once (the result cache's generation is
bumped), is audited and validated; only the center edits it."""

from __future__ import annotations

import asyncio
from typing import Any

from litestar.middleware.csrf import generate_csrf_token
from sqlalchemy import select

from services.gateway.portal.csrf import csrf_config
from services.registry.search import GENERATION_TTL_S
from services.runtime.roles import Role
from tests.support.platform import Platform, running
from tests.support.portal import gateway_portal
from tests.support.registry import approved_unit
from tests.support.search import found, ids, instrument, settled

SYN = "/v1/catalogue/synonyms/"


async def center(p: Platform, method: str, path: str = SYN, **kw: Any) -> Any:
    return await p.call("registry", method, path, role=Role.CENTER, **kw)


async def test_what_people_type_finds_the_instruments(make_settings) -> None:
    settings = await make_settings(["registry"])
    async with running(Platform(settings, ["registry"])) as p:
        unit = await approved_unit(p, "许昌学院", "411002", kind="institute")
        sem = await instrument(p, unit, "扫描电子显微镜", model="SU8010", manufacturer="日立")
        tem = await instrument(p, unit, "透射电子显微镜", model="JEM-2100")
        lcms = await instrument(p, unit, "液相色谱-质谱联用仪", model="Xevo TQ-S")
        gcms = await instrument(p, unit, "气相色谱质谱联用仪", model="GCMS-QP2020")
        xrd = await instrument(p, unit, "X射线衍射仪", model="D8 Advance", manufacturer="Bruker")
        ftir = await instrument(p, unit, "傅里叶红外光谱仪", model="Nicolet iS50")
        lcms_model = await instrument(p, unit, "三重四极杆质谱", model="LCMS-8060")
        await settled(p)

        # the queries, which found nothing before the dictionary
        for q in ("扫描电镜", "SEM", "sem", "ＳＥＭ", "扫描电子显微镜"):
            assert ids(await found(p, q=q)) == [sem], q
        # a partial word through the dictionary: 电镜 → 电子显微镜, in both microscopes' names
        assert set(ids(await found(p, q="电镜"))) == {sem, tem}
        assert ids(await found(p, q="TEM")) == [tem]
        for q in ("色质联用", "LC-MS", "lc-ms", "液质联用"):
            assert set(ids(await found(p, q=q))) == {lcms, lcms_model}, q
        assert set(ids(await found(p, q="质谱仪"))) == {lcms, gcms, lcms_model}
        assert set(ids(await found(p, q="GC-MS"))) == {gcms}
        assert ids(await found(p, q="XRD")) == [xrd]
        assert ids(await found(p, q="FTIR")) == [ftir]
        # a form with other words: every part must match; a model number stays literal
        assert ids(await found(p, q="电镜 日立")) == [sem]
        assert (await found(p, q="SEM bruker"))["total"] == 0
        assert ids(await found(p, q="lcms-8060")) == [lcms_model]

        # the center adds an entry: found at once, without reindexing; the cached
        # empty answer is not served again (the generation was bumped)
        assert (await found(p, q="形貌观察"))["total"] == 0
        r = await center(p, "POST", json={"canonical": "形貌观察仪器", "synonyms": ["形貌观察", "Morphology"]})
        assert r.status_code == 201, r.text
        entry = r.json()
        assert entry["canonical"] == "形貌观察仪器" and entry["synonyms"] == ["形貌观察", "Morphology"]
        await asyncio.sleep(GENERATION_TTL_S + 0.05)
        assert (await found(p, q="形貌观察"))["total"] == 0  # no instrument holds any of its forms yet
        r = await center(p, "POST", json={"canonical": "形貌分析", "synonyms": ["morphology", "扫描电子显微镜"]})
        assert r.status_code == 201, r.text
        second = r.json()["entry_id"]
        await asyncio.sleep(GENERATION_TTL_S + 0.05)
        # MORPHOLOGY is a form of both entries (case-insensitive): any form of either finds
        assert ids(await found(p, q="MORPHOLOGY")) == [sem]
        assert ids(await found(p, q="形貌分析")) == [sem]
        listed = (await center(p, "GET", params={"q": "morph"})).json()
        assert listed["total"] == 2 and {e["canonical"] for e in listed["items"]} == {"形貌观察仪器", "形貌分析"}

        r = await center(p, "DELETE", f"{SYN}{second}", params={"reason": "与扫描电镜词条重复"})
        assert r.status_code == 204, r.text
        await asyncio.sleep(GENERATION_TTL_S + 0.05)
        assert (await found(p, q="形貌分析"))["total"] == 0
        assert (await center(p, "DELETE", f"{SYN}{second}")).json()["code"] == "synonym_entry.not_found"

        # each change is in the audit trail, with who and why
        log = p["registry"].db.metadata.tables["audit_log"]
        async with p["registry"].db.read() as s:
            rows = (await s.execute(select(log.c.action, log.c.object_id, log.c.reason).where(log.c.object_type == "search_synonym").order_by(log.c.seq))).all()
        assert [(a, r) for a, _, r in rows] == [("catalogue.synonym_create", None), ("catalogue.synonym_create", None), ("catalogue.synonym_delete", "与扫描电镜词条重复")]
        assert rows[-1].object_id == second


async def test_the_dictionary_is_seeded_validated_and_the_centers(make_settings) -> None:
    settings = await make_settings(["registry"])
    async with running(Platform(settings, ["registry"]), worker=False, relay=False) as p:
        seeded = (await center(p, "GET", params={"page_size": 100})).json()
        by_canonical = {e["canonical"]: e["synonyms"] for e in seeded["items"]}
        assert seeded["total"] >= 20
        assert {"扫描电镜", "SEM", "电镜"} <= set(by_canonical["扫描电子显微镜"] + by_canonical["电子显微镜"])
        assert {"色质联用", "LC-MS", "液质联用"} <= set(by_canonical["液相色谱-质谱联用仪"])
        assert "XRD" in by_canonical["X射线衍射仪"] and "NMR" in by_canonical["核磁共振波谱仪"]
        assert (await center(p, "GET", params={"q": "ＸＲＤ"})).json()["items"][0]["canonical"] == "X射线衍射仪"

        for body, code, field, status in (
            ({"canonical": "扫描电子显微镜", "synonyms": ["电子扫描镜"]}, "synonyms.duplicate_canonical", "canonical", 409),
            ({"canonical": "x射线衍射仪", "synonyms": ["衍射"]}, "synonyms.duplicate_canonical", "canonical", 409),
            ({"canonical": "激光粒度仪", "synonyms": []}, "synonyms.bad_synonym_count", "synonyms", 422),
            ({"canonical": "激光粒度仪", "synonyms": [f"粒度{i}" for i in range(21)]}, "synonyms.bad_synonym_count", "synonyms", 422),
            ({"canonical": "激光粒度仪", "synonyms": ["PSA", "psa"]}, "synonyms.duplicate_form", "synonyms", 422),
            ({"canonical": "激光粒度仪", "synonyms": ["激光粒度仪"]}, "synonyms.duplicate_form", "synonyms", 422),
            ({"canonical": "  ", "synonyms": ["PSA"]}, "synonyms.empty_form", "canonical", 422),
            ({"canonical": "激光粒度仪", "synonyms": ["！？"]}, "synonyms.form_without_words", "synonyms", 422),
            ({"canonical": "粒" * 51, "synonyms": ["PSA"]}, "synonyms.form_too_long", "canonical", 422),
        ):
            r = await center(p, "POST", json=body)
            assert r.status_code == status, (body, r.text)
            assert r.json()["code"] == code and r.json()["details"]["field"] == field, r.text
        # the longest form allowed, trimmed
        r = await center(p, "POST", json={"canonical": " " + "粒" * 50 + " ", "synonyms": [" PSA "]})
        assert r.status_code == 201 and r.json()["canonical"] == "粒" * 50 and r.json()["synonyms"] == ["PSA"], r.text

        # the center only
        for role in (Role.UNIT, Role.BUREAU, Role.USER):
            assert (await p.call("registry", "GET", SYN, role=role)).status_code == 403
            assert (await p.call("registry", "POST", SYN, role=role, json={"canonical": "激光粒度仪", "synonyms": ["PSA"]})).status_code == 403
        assert (await p.call("registry", "GET", SYN)).status_code == 401
        entry = seeded["items"][0]["entry_id"]
        assert (await p.call("registry", "DELETE", f"{SYN}{entry}", role=Role.UNIT)).status_code == 403


async def test_the_center_edits_the_dictionary_on_the_portal(make_settings) -> None:
    settings = await make_settings(["registry"])
    async with running(Platform(settings, ["registry"]), worker=False, relay=False) as p, gateway_portal(p) as gw:
        t0k3n = generate_csrf_token(csrf_config(settings).secret)  # a form's token, as a page would carry it
        as_center = {"Cookie": f"xciss_session={p.token(Role.CENTER)}; xciss_csrf={t0k3n}"}
        page = await gw.get("/synonyms", headers=as_center)
        assert page.status_code == 200 and "扫描电子显微镜" in page.text and "扫描电镜、SEM" in page.text

        # a refusal is shown at its field, with what was typed
        r = await gw.post("/synonyms", headers=as_center, data={"_csrf_token": t0k3n, "canonical": "扫描电子显微镜", "synonyms": "电子扫描镜"})
        assert r.status_code == 409 and "词典中已有该标准名称的词条" in r.text and 'value="扫描电子显微镜"' in r.text
        r = await gw.post("/synonyms", headers=as_center, data={"_csrf_token": t0k3n, "canonical": "激光粒度仪", "synonyms": "PSA，psa"})
        assert r.status_code == 422 and "在本词条中重复出现" in r.text

        r = await gw.post("/synonyms", headers=as_center, data={"_csrf_token": t0k3n, "canonical": "激光粒度仪", "synonyms": "粒度仪、PSA\nLaser diffraction"})
        assert r.status_code == 303 and r.headers["location"] == "/synonyms?done=1", r.text
        entry = next(e for e in (await center(p, "GET", params={"q": "粒度"})).json()["items"] if e["canonical"] == "激光粒度仪")
        assert entry["synonyms"] == ["粒度仪", "PSA", "Laser diffraction"]
        assert "粒度仪、PSA、Laser diffraction" in (await gw.get("/synonyms", headers=as_center, params={"q": "粒度"})).text

        r = await gw.post(f"/synonyms/{entry['entry_id']}/delete", headers=as_center, data={"_csrf_token": t0k3n, "reason": "录入有误"})
        assert r.status_code == 303, r.text
        assert (await center(p, "GET", params={"q": "粒度"})).json()["total"] == 0

        # the center's page only
        as_unit = {"Cookie": f"xciss_session={p.token(Role.UNIT)}; xciss_csrf={t0k3n}"}
        assert (await gw.get("/synonyms", headers=as_unit)).status_code == 403
        r = await gw.post("/synonyms", headers=as_unit, data={"_csrf_token": t0k3n, "canonical": "激光粒度仪", "synonyms": "PSA"})
        assert r.status_code == 403
        assert (await gw.get("/synonyms")).status_code == 303
