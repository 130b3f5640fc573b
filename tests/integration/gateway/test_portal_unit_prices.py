"""The unit's price items on /unit/prices (issue 17): it stops offering an item and offers it
again, changes a price with a reason (refused at the reason without one, in Chinese), and a
change made from a page shown before a colleague's change is refused, not written over.
SQLite and PostgreSQL."""

from __future__ import annotations

from services.runtime.roles import Role
from tests.support.platform import Platform, running
from tests.support.registry import approved_unit, priced_instrument
from tests.support.portal import csrf_of, error_at, gateway

SERVICES = ["registry"]


async def test_a_unit_stops_offering_a_price_and_changes_another(make_settings) -> None:
    settings = await make_settings(SERVICES)
    async with running(Platform(settings, SERVICES), worker=False) as p, gateway(p) as c:
        unit = await approved_unit(p)
        iid, item = await priced_instrument(p, unit, price_fen=30_000)

        async def read() -> dict:
            found = (await p.call("registry", "GET", f"/v1/instruments/{iid}/prices", role=Role.UNIT, org=unit)).json()["items"]
            return next(x for x in found if x["price_item_id"] == item)

        c.cookies.set("xciss_session", p.token(Role.UNIT, unit))
        page = (await c.get("/unit/prices")).text
        action = f"/unit/prices/{item}"
        assert f'action="{action}"' in page
        v = (await read())["version"]
        r = await c.post(action, data={"_csrf_token": csrf_of(page), "version": str(v), "op": "deactivate"})
        assert r.status_code == 303 and r.headers["location"] == "/unit/prices?page=1&done=1", r.text
        assert (await read())["active"] is False
        page = (await c.get("/unit/prices")).text
        assert "重新启用" in page
        r = await c.post(action, data={"_csrf_token": csrf_of(page), "version": str(v + 1), "op": "activate"})
        assert r.status_code == 303 and (await read())["active"] is True

        page = (await c.get("/unit/prices")).text
        r = await c.post(action, data={"_csrf_token": csrf_of(page), "version": str(v + 2), "op": "price", "new_price": "350"})
        assert r.status_code == 422 and error_at(r.text, "change_reason") == "调整价格须说明理由", r.text
        assert 'value="350"' in r.text and (await read())["price_fen"] == 30_000
        r = await c.post(action, data={"_csrf_token": csrf_of(page), "version": str(v + 2), "op": "price", "new_price": "350", "change_reason": "试剂涨价"})
        assert r.status_code == 303, r.text
        assert (await read())["price_fen"] == 35_000

        # a page shown before that change: refused, the page shows the current price
        r = await c.post(action, data={"_csrf_token": csrf_of(page), "version": str(v + 2), "op": "deactivate"})
        assert r.status_code == 409 and "已被他人修改" in r.text and (await read())["active"] is True
