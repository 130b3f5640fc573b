"""One instrument registered by form (M5, M11(3), issue 17; ``registerInstrument``): the unit
opens the form from its instruments; the required fields left blank are refused each at its
field, a malformed original value at the value (what was typed kept), in Chinese; registered,
the page says it must be listed and by when (accepted Friday 2024-09-20 → Wednesday 2024-11-06)
and the registry holds it as typed; the same asset number again is refused at the asset number.
The center registers one for a unit from the unit's record (the unit picker), a unit not found
refused at the unit. SQLite and PostgreSQL."""

from __future__ import annotations

import re

from services.runtime.roles import Role
from tests.support.platform import Platform, running
from tests.support.registry import approved_unit
from tests.support.portal import csrf_of, error_at, fact, gateway

SERVICES = ["registry"]
FORM = {
    "name": "液相色谱质谱联用仪", "category": "分析仪器", "model": "LCMS-8060", "manufacturer": "岛津", "original_value": "1,250,000.50",
    "funding": "fiscal_full", "acceptance_date": "2024-09-20", "location": "许昌学院化学楼 305", "service_content": "小分子定性定量分析",
    "sample_requirements": "液体样品 1 mL 以上", "asset_number": "ZC-2024-001",
}


def registered_id(location: str) -> str:
    found = re.search(r"registered=([^&]+)", location)
    assert found, location
    return found.group(1)


async def test_a_unit_and_the_center_register_an_instrument_by_form(make_settings) -> None:
    settings = await make_settings(SERVICES)
    async with running(Platform(settings, SERVICES), worker=False) as p, gateway(p) as c:
        unit = await approved_unit(p, name="许昌学院")
        c.cookies.set("xciss_session", p.token(Role.UNIT, unit))
        assert 'href="/unit/instruments/new"' in (await c.get("/unit/instruments")).text
        page = (await c.get("/unit/instruments/new")).text
        token = csrf_of(page)

        r = await c.post("/unit/instruments/new", data={"_csrf_token": token, "name": "液相色谱质谱联用仪", "model": "LCMS-8060"})
        assert r.status_code == 400, r.text
        for field in ("category", "original_value", "funding", "acceptance_date"):
            assert error_at(r.text, field) == "此项必填", field
        assert 'value="LCMS-8060"' in r.text
        r = await c.post("/unit/instruments/new", data={"_csrf_token": token, **FORM, "original_value": "125万"})
        assert r.status_code == 400 and error_at(r.text, "original_value") == "请填写金额（元，最多两位小数）", r.text
        assert 'value="125万"' in r.text and "小分子定性定量分析" in r.text

        r = await c.post("/unit/instruments/new", data={"_csrf_token": token, **FORM})
        assert r.status_code == 303, r.text
        iid = registered_id(r.headers["location"])
        page = (await c.get(r.headers["location"])).text
        assert "已登记：液相色谱质谱联用仪" in page and fact(page, "registered-listing") == "该仪器必须纳入平台（第五条），请于 2024-11-06 前上线（第十一条第三项）。"
        got = (await p.call("registry", "GET", f"/v1/instruments/{iid}", role=Role.UNIT, org=unit)).json()
        assert (got["unit_id"], got["original_value_fen"], got["funding"], got["must_list"], got["listing_deadline"]) == (unit, 125_000_050, "fiscal_full", True, "2024-11-06")
        assert (got["model"], got["sample_requirements"], got["classified"]) == ("LCMS-8060", "液体样品 1 mL 以上", False)

        r = await c.post("/unit/instruments/new", data={"_csrf_token": token, **FORM, "name": "另一台质谱仪"})
        assert r.status_code == 409 and error_at(r.text, "asset_number") == "本单位已登记资产编号为“ZC-2024-001”的仪器", r.text

        # the center, for the unit, from the unit's record
        c.cookies.set("xciss_session", p.token(Role.CENTER))
        record = (await c.get(f"/review/units/{unit}")).text
        assert f'href="/center/instruments/new?unit_id={unit}"' in record
        page = (await c.get(f"/center/instruments/new?unit_id={unit}")).text
        assert 'value="许昌学院"' in page
        small = {"_csrf_token": csrf_of(page), "name": "台式离心机", "category": "工艺试验仪器", "original_value": "50000", "funding": "non_fiscal", "acceptance_date": "2024-09-20"}
        r = await c.post("/center/instruments/new", data={**small, "unit_id_q": "郑州某大学"})
        assert r.status_code == 400 and error_at(r.text, "unit_id") == "找不到名称或统一社会信用代码含“郑州某大学”的单位", r.text
        r = await c.post("/center/instruments/new", data={**small, "unit_id": unit, "unit_id_q": "许昌学院"})
        assert r.status_code == 303, r.text
        page = (await c.get(r.headers["location"])).text
        assert fact(page, "registered-listing") == "该仪器不属于必须纳入平台的仪器，鼓励自愿上线（第五条）。"
        got = (await p.call("registry", "GET", f"/v1/instruments/{registered_id(r.headers['location'])}", role=Role.CENTER)).json()
        assert (got["unit_id"], got["name"], got["must_list"]) == (unit, "台式离心机", False)

        c.cookies.set("xciss_session", p.token(Role.USER))
        assert (await c.get("/unit/instruments/new")).status_code == 403
