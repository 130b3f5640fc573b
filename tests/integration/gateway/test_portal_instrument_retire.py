"""Retiring an instrument on a page (issue 17, ``retireInstrument``): the unit opens it from its
instruments; without a reason it is refused at the reason, without the confirmation at the
checkbox (the reason typed kept), in Chinese; retired, the page and the unit's list say 已退役,
the registry holds it retired and the public catalogue and the instrument's public page no
longer show it; another unit's instrument is refused; the center retires one from the
instrument's public page. SQLite and PostgreSQL, with the registry's event worker (the
catalogue's index follows the retirement's event)."""

from __future__ import annotations

from services.runtime.roles import Role
from tests.support.platform import Platform, running
from tests.support.polling import eventually
from tests.support.registry import approved_unit
from tests.support.portal import csrf_of, error_at, fact, gateway

SERVICES = ["registry"]


async def register(p: Platform, unit: str, name: str) -> str:
    body = {"unit_id": unit, "name": name, "category": "分析仪器", "original_value_fen": 50_000_000, "funding": "fiscal_full", "acceptance_date": "2024-09-20"}
    r = await p.call("registry", "POST", "/v1/instruments/", role=Role.UNIT, org=unit, json=body)
    assert r.status_code == 201, r.text
    iid: str = r.json()["instrument_id"]
    assert (await p.call("registry", "POST", f"/v1/instruments/{iid}/list", role=Role.UNIT, org=unit)).status_code == 200
    return iid


async def test_a_unit_and_the_center_retire_instruments(make_settings) -> None:
    settings = await make_settings(SERVICES)
    async with running(Platform(settings, SERVICES)) as p, gateway(p) as c:
        unit, other = await approved_unit(p), await approved_unit(p, name="许昌某研究所")
        iid, kept, theirs = await register(p, unit, "旧款离心机"), await register(p, unit, "场发射扫描电镜"), await register(p, other, "核磁共振波谱仪")

        async def catalogue() -> str:
            c.cookies.clear()
            return (await c.get("/instruments?page_size=50")).text

        async def shows_all() -> bool:
            page = await catalogue()
            return all(n in page for n in ("旧款离心机", "场发射扫描电镜", "核磁共振波谱仪"))

        await eventually(shows_all, what="the three instruments in the public catalogue")

        c.cookies.set("xciss_session", p.token(Role.UNIT, unit))
        listing = (await c.get("/unit/instruments")).text
        assert f'href="/unit/instruments/{iid}/retire"' in listing
        url = f"/unit/instruments/{iid}/retire"
        page = (await c.get(url)).text
        assert fact(page, "instrument-status") == "在用" and 'id="instrument-retire-form"' in page

        r = await c.post(url, data={"_csrf_token": csrf_of(page), "reason": " ", "confirm": "1"})
        assert r.status_code == 400 and error_at(r.text, "reason") == "请填写退役原因", r.text
        r = await c.post(url, data={"_csrf_token": csrf_of(page), "reason": "设备老化无法修复，已按规定报废"})
        assert r.status_code == 400 and error_at(r.text, "confirm") == "请勾选确认后再办理退役", r.text
        assert "设备老化无法修复，已按规定报废" in r.text
        assert (await p.call("registry", "GET", f"/v1/instruments/{iid}", role=Role.UNIT, org=unit)).json()["status"] == "in_service"

        r = await c.post(url, data={"_csrf_token": csrf_of(page), "reason": "设备老化无法修复，已按规定报废", "confirm": "1"})
        assert r.status_code == 303 and r.headers["location"] == f"{url}?done=1", r.text
        assert (await p.call("registry", "GET", f"/v1/instruments/{iid}", role=Role.UNIT, org=unit)).json()["status"] == "retired"
        page = (await c.get(f"{url}?done=1")).text
        assert "操作成功" in page and fact(page, "instrument-status") == "已退役" and 'id="instrument-retire-form"' not in page
        assert "已从公开目录中撤下" in fact(page, "instrument-retired")
        listing = (await c.get("/unit/instruments")).text
        assert f'href="/unit/instruments/{iid}/retire"' not in listing and "已退役" in listing

        # another unit's instrument: refused
        page = (await c.get(f"/unit/instruments/{theirs}/retire"))
        assert page.status_code == 403
        r = await c.post(f"/unit/instruments/{theirs}/retire", data={"_csrf_token": csrf_of(listing), "reason": "x", "confirm": "1"})
        assert r.status_code == 403
        assert (await p.call("registry", "GET", f"/v1/instruments/{theirs}", role=Role.CENTER)).json()["status"] == "in_service"

        # the center, from the instrument's public page
        c.cookies.set("xciss_session", p.token(Role.CENTER))
        public = (await c.get(f"/instruments/{kept}")).text
        assert f'href="/center/instruments/{kept}/retire"' in public
        page = (await c.get(f"/center/instruments/{kept}/retire")).text
        r = await c.post(f"/center/instruments/{kept}/retire", data={"_csrf_token": csrf_of(page), "reason": "单位已注销该设备资产", "confirm": "1"})
        assert r.status_code == 303, r.text
        assert (await p.call("registry", "GET", f"/v1/instruments/{kept}", role=Role.CENTER)).json()["status"] == "retired"

        async def gone() -> bool:
            page = await catalogue()
            return "核磁共振波谱仪" in page and "旧款离心机" not in page and "场发射扫描电镜" not in page

        await eventually(gone, what="the retired instruments out of the public catalogue")
        assert (await c.get(f"/instruments/{iid}")).status_code == 404
