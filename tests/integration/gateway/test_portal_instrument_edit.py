"""The unit edits its instrument's public text in the portal (issue 17), at
/unit/instruments/{id}/edit: the sample requirements and model it saves are on the public
page at once, a blank optional field is cleared, a blank name is refused at its field in
Chinese (nothing sent), a save made over a colleague's change is shown again with the record
as it now is, another unit is refused, and a retired instrument has no form. SQLite and
PostgreSQL."""

from __future__ import annotations

from services.runtime.roles import Role
from tests.support.platform import Platform, running
from tests.support.registry import approved_unit, priced_instrument
from tests.support.portal import csrf_of, error_at, gateway

SERVICES = ["registry"]


async def test_a_unit_edits_its_instruments_public_text(make_settings) -> None:
    settings = await make_settings(SERVICES)
    async with running(Platform(settings, SERVICES), worker=False) as p, gateway(p) as c:
        unit = await approved_unit(p)
        iid, _ = await priced_instrument(p, unit)
        before = (await p.call("registry", "GET", f"/v1/instruments/{iid}")).json()
        c.cookies.set("xciss_session", p.token(Role.UNIT, unit))
        assert f'href="/unit/instruments/{iid}/edit"' in (await c.get("/unit/instruments")).text
        url = f"/unit/instruments/{iid}/edit"
        page = (await c.get(url)).text
        assert 'id="instrument-edit-form"' in page and f'name="version" value="{before["version"]}"' in page
        assert f'value="{before["name"]}"' in page and "不能在此修改" in page
        form = {
            "_csrf_token": csrf_of(page), "version": str(before["version"]), "name": before["name"], "category": before["category"],
            "model": "Q Exactive Plus", "manufacturer": "", "location": "", "specifications": "分辨率 140,000", "functions": "",
            "service_content": "", "sample_requirements": "液体样品不少于 2 mL，4 ℃ 冷藏送检", "status": "in_service",
        }
        r = await c.post(url, data=form)
        assert r.status_code == 303 and r.headers["location"] == f"{url}?done=1", r.text
        now = (await p.call("registry", "GET", f"/v1/instruments/{iid}")).json()
        assert now["model"] == "Q Exactive Plus" and now["sample_requirements"] == "液体样品不少于 2 mL，4 ℃ 冷藏送检"
        assert now["location"] is None and now["version"] == before["version"] + 1
        c.cookies.clear()
        assert "液体样品不少于 2 mL" in (await c.get(f"/instruments/{iid}")).text  # the public page shows it

        # a blank name: refused at its field, nothing sent
        c.cookies.set("xciss_session", p.token(Role.UNIT, unit))
        page = (await c.get(url)).text
        r = await c.post(url, data={**form, "_csrf_token": csrf_of(page), "version": str(now["version"]), "name": "  "})
        assert r.status_code == 400 and error_at(r.text, "name") == "此项必填", r.text
        assert (await p.call("registry", "GET", f"/v1/instruments/{iid}")).json()["version"] == now["version"]

        # the form of the version before a colleague's save: shown again with the record as it now is
        r = await p.call("registry", "PATCH", f"/v1/instruments/{iid}", role=Role.UNIT, org=unit, json={"model": "Orbitrap Exploris 480"})
        assert r.status_code == 200, r.text
        r = await c.post(url, data={**form, "_csrf_token": csrf_of(page), "version": str(now["version"]), "model": "我的改动"})
        assert r.status_code == 409 and 'value="Orbitrap Exploris 480"' in r.text and "我的改动" not in r.text, r.text
        assert (await p.call("registry", "GET", f"/v1/instruments/{iid}")).json()["model"] == "Orbitrap Exploris 480"

        # another unit's instrument is not its to edit; a retired one has no form
        other = await approved_unit(p, name="许昌另一单位")
        c.cookies.set("xciss_session", p.token(Role.UNIT, other))
        assert (await c.get(url)).status_code == 403
        r = await p.call("registry", "POST", f"/v1/instruments/{iid}/retire", role=Role.UNIT, org=unit, json={"reason": "报废"})
        assert r.status_code == 200, r.text
        c.cookies.set("xciss_session", p.token(Role.UNIT, unit))
        page = (await c.get(url)).text
        assert 'id="instrument-retired"' in page and 'id="instrument-edit-form"' not in page
