"""M11(3) in the portal: the unit lists an unlisted instrument from its
instruments page (the page the listing reminder links to); a listed,
classified or retired one has no button; listing one twice (a stale page)
is refused in Chinese, nothing changed. Runs on SQLite and PostgreSQL."""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from services.registry.domain.listing import due_soon_from, listing_deadline
from services.registry.policy import packaged
from services.runtime import clock
from services.runtime.roles import Role
from services.runtime.workdays import WorkdayCalendar
from tests.support.platform import Platform, running
from tests.support.registry import approved_unit
from tests.support.portal import csrf_of, gateway

SERVICES = ["registry"]
CAL = WorkdayCalendar()
PACKAGED = packaged().listing
BEIJING = ZoneInfo("Asia/Shanghai")


async def register(p: Platform, unit: str, name: str, **kw: Any) -> str:
    body = {"unit_id": unit, "name": name, "category": "分析仪器", "original_value_fen": 20_000_000, "funding": "fiscal_full", "acceptance_date": "2024-09-20", **kw}
    r = await p.call("registry", "POST", "/v1/instruments/", role=Role.UNIT, org=unit, json=body)
    assert r.status_code == 201, r.text
    iid: str = r.json()["instrument_id"]
    return iid


def listings_due(workspace: str) -> str:
    found = re.search(r'data-task="listings_due"><a href="/unit/instruments"><b class="count">([^<]+)</b><span>已逾期或即将到期、尚未上线的仪器', workspace)
    assert found, "no listings due on the unit's workspace"
    return found.group(1)


def list_actions(html: str) -> set[str]:
    return set(re.findall(r'action="/unit/instruments/([^/"]+)/list"', html))


async def test_a_unit_lists_an_instrument_from_its_instruments_page(make_settings) -> None:
    settings = await make_settings(SERVICES)
    async with running(Platform(settings, SERVICES), worker=False) as p, gateway(p) as c:
        unit = await approved_unit(p)
        iid, secret, retired = await register(p, unit, "液相色谱质谱联用仪"), await register(p, unit, "涉密分析仪", classified=True), await register(p, unit, "旧离心机")
        r = await p.call("registry", "POST", f"/v1/instruments/{retired}/retire", role=Role.UNIT, org=unit, json={"reason": "报废"})
        assert r.status_code == 200, r.text
        c.cookies.set("xciss_session", p.token(Role.UNIT, unit))
        # the workspace counts the must-list instrument past its deadline (M11(3)), not the classified or retired ones
        assert listings_due((await c.get("/workspace")).text) == "1"
        page = (await c.get("/unit/instruments")).text
        assert list_actions(page) == {iid} and 'aria-label="液相色谱质谱联用仪 上线"' in page
        csrf = csrf_of(page)
        r = await c.post(f"/unit/instruments/{iid}/list", data={"_csrf_token": csrf})
        assert r.status_code == 303 and r.headers["location"] == "/unit/instruments?done=1"
        listed = (await p.call("registry", "GET", f"/v1/instruments/{iid}", role=Role.UNIT, org=unit)).json()
        assert listed["listed_on"] is not None
        after = (await c.get("/unit/instruments?done=1")).text
        assert list_actions(after) == set() and "操作成功" in after
        assert listings_due((await c.get("/workspace")).text) == "0"
        # the stale page's button again: refused in Chinese, no code or id shown
        again = await c.post(f"/unit/instruments/{iid}/list", data={"_csrf_token": csrf})
        assert again.status_code == 409 and "该仪器已纳入平台" in again.text and "instrument.already_listed" not in again.text
        assert secret not in list_actions(again.text)


async def test_the_workspace_counts_an_instrument_from_the_first_day_it_is_due_soon(make_settings, monkeypatch: pytest.MonkeyPatch) -> None:
    """M11(3), at the edge of ``due_soon_workdays`` (the year's registry policy): accepted Fri
    2024-09-20, listing deadline Wed 2024-11-06, due soon from Wed 2024-10-30 (the 5th working
    day before it) — the day before, the unit's workspace shows no listing due; from that day
    to the deadline, one; after it (overdue), still one."""
    deadline = listing_deadline(date(2024, 9, 20), CAL, PACKAGED.defaults)
    first = due_soon_from(date(2024, 9, 20), deadline, CAL, PACKAGED)
    assert (first, deadline) == (date(2024, 10, 30), date(2024, 11, 6))
    settings = await make_settings(SERVICES)
    async with running(Platform(settings, SERVICES), worker=False) as p, gateway(p) as c:
        unit = await approved_unit(p)
        await register(p, unit, "液相色谱质谱联用仪")
        c.cookies.set("xciss_session", p.token(Role.UNIT, unit))
        for day, due in ((first - timedelta(days=1), "0"), (first, "1"), (deadline, "1"), (deadline + timedelta(days=1), "1")):
            noon = datetime.combine(day, time(12), tzinfo=BEIJING)
            monkeypatch.setattr(clock, "utc_now", lambda noon=noon: noon)
            assert listings_due((await c.get("/workspace")).text) == due, day
