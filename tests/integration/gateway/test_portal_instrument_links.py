"""An instrument's calendar feeds and usage recorders on the unit's page (issues 16, 17): the
unit creates a feed and sees its address once — the address answers the instrument's calendar
through the gateway — gives it a new address (the old one stops answering) and revokes it;
it creates a recorder and sees its token once (never in the list), and revokes it; another
unit is refused. SQLite and PostgreSQL."""

from __future__ import annotations

import re

from services.runtime.roles import Role
from tests.support.platform import Platform, running
from tests.support.registry import approved_unit, priced_instrument
from tests.support.portal import csrf_of, gateway

SERVICES = ["registry"]


def path_of(address: str) -> str:
    """The path of an address the page showed (the test client has its own origin)."""
    return "/" + address.split("://", 1)[1].split("/", 1)[1]


async def test_a_unit_manages_its_instruments_feeds_and_recorders(make_settings) -> None:
    # the portal's public address (behind an ingress the request's own host is an internal one)
    settings = await make_settings(SERVICES, public_url="http://yiqi.example.cn/")
    async with running(Platform(settings, SERVICES), worker=False) as p, gateway(p) as c:
        unit = await approved_unit(p)
        iid, _ = await priced_instrument(p, unit)
        c.cookies.set("xciss_session", p.token(Role.UNIT, unit))
        assert f'href="/unit/instruments/{iid}/connections"' in (await c.get("/unit/instruments")).text
        url = f"/unit/instruments/{iid}/connections"
        page = (await c.get(url)).text
        assert 'id="feed-form"' in page and 'id="secret"' not in page

        r = await c.post(f"{url}/feeds", data={"_csrf_token": csrf_of(page), "label": "前台日历"})
        assert r.status_code == 200, r.text
        address = re.search(r'<code id="feed-url">([^<]+)</code>', r.text).group(1)  # type: ignore[union-attr]
        assert address.startswith("http://yiqi.example.cn/api/registry/v1/calendar/") and address.endswith(".ics"), address
        ics = await c.get(path_of(address))
        assert ics.status_code == 200 and ics.text.startswith("BEGIN:VCALENDAR"), ics.text[:200]
        page = (await c.get(url)).text
        assert "前台日历" in page and address not in page  # the list never shows the address

        feed = (await p.call("registry", "GET", f"/v1/instruments/{iid}/calendar-feeds/", role=Role.UNIT, org=unit)).json()[0]["feed_id"]
        r = await c.post(f"{url}/feeds/{feed}/rotate", data={"_csrf_token": csrf_of(page)})
        assert r.status_code == 200
        fresh = re.search(r'<code id="feed-url">([^<]+)</code>', r.text).group(1)  # type: ignore[union-attr]
        assert fresh != address
        assert (await c.get(path_of(address))).status_code == 404  # the old address is gone
        r = await c.post(f"{url}/feeds/{feed}/revoke", data={"_csrf_token": csrf_of(page)})
        assert r.status_code == 303
        assert (await c.get(path_of(fresh))).status_code == 404

        page = (await c.get(url)).text
        r = await c.post(f"{url}/recorders", data={"_csrf_token": csrf_of(page), "name": "XRD 旁终端"})
        assert r.status_code == 200, r.text
        token = re.search(r'<code id="recorder-token">([^<]+)</code>', r.text).group(1)  # type: ignore[union-attr]
        assert len(token) >= 20
        page = (await c.get(url)).text
        assert "XRD 旁终端" in page and token not in page
        recorder = (await p.call("registry", "GET", "/v1/usage/recorders/", role=Role.UNIT, org=unit)).json()[0]["recorder_id"]
        r = await c.post(f"{url}/recorders/{recorder}/revoke", data={"_csrf_token": csrf_of(page)})
        assert r.status_code == 303
        assert (await p.call("registry", "GET", "/v1/usage/recorders/", role=Role.UNIT, org=unit)).json()[0]["active"] is False

        other = await approved_unit(p, name="许昌另一单位")
        c.cookies.set("xciss_session", p.token(Role.UNIT, other))
        assert (await c.get(url)).status_code == 403


async def test_without_a_public_address_the_feed_is_on_the_host_the_request_came_to(make_settings) -> None:
    settings = await make_settings(SERVICES)
    assert settings.public_url is None
    async with running(Platform(settings, SERVICES), worker=False) as p, gateway(p) as c:
        unit = await approved_unit(p)
        iid, _ = await priced_instrument(p, unit)
        c.cookies.set("xciss_session", p.token(Role.UNIT, unit))
        url = f"/unit/instruments/{iid}/connections"
        page = (await c.get(url)).text
        r = await c.post(f"{url}/feeds", data={"_csrf_token": csrf_of(page), "label": "前台日历"})
        assert r.status_code == 200, r.text
        address = re.search(r'<code id="feed-url">([^<]+)</code>', r.text).group(1)  # type: ignore[union-attr]
        assert address.startswith("http://gateway.local/api/registry/v1/calendar/") and address.endswith(".ics"), address
        assert (await c.get(path_of(address))).status_code == 200
