"""``listUnits?q=``: a unit found by part of its name or of its unified social credit code
(the portal's unit picker asks this way, a page of matches at a time, whatever the number of
units in the city); ``%`` and ``_`` are taken literally; the public still sees approved units only."""

from __future__ import annotations

from services.runtime.roles import Role
from tests.support.codes import credit_code
from tests.support.platform import Platform, running

SERVICES = ["registry"]


async def test_units_are_found_by_part_of_their_name_or_credit_code(make_settings) -> None:
    settings = await make_settings(SERVICES)
    async with running(Platform(settings, SERVICES)) as p:
        made = []
        for name in ("许昌学院", "许昌市检测中心", "长葛100%_实验室"):
            r = await p.call("registry", "POST", "/v1/units/", role=Role.UNIT, json={"name": name, "kind": "university", "credit_code": credit_code(), "county_code": "411002"})
            assert r.status_code == 201, r.text
            made.append(r.json())
        assert (await p.call("registry", "POST", f"/v1/units/{made[0]['unit_id']}/approve", role=Role.BUREAU, json={})).status_code == 200

        async def names(role: Role, **params: object) -> list[str]:
            r = await p.call("registry", "GET", "/v1/units/", role=role, params=params)
            assert r.status_code == 200, r.text
            return [u["name"] for u in r.json()["items"]]

        assert await names(Role.CENTER, q="许昌") == ["许昌学院", "许昌市检测中心"]
        assert await names(Role.CENTER, q="检测") == ["许昌市检测中心"]
        assert await names(Role.CENTER, q=made[1]["credit_code"]) == ["许昌市检测中心"]
        assert await names(Role.CENTER, q=made[2]["credit_code"][-8:].lower()) == ["长葛100%_实验室"]  # a part, in either case
        assert await names(Role.CENTER, q="%") == ["长葛100%_实验室"] and await names(Role.CENTER, q="_") == ["长葛100%_实验室"]
        assert await names(Role.CENTER, q="郑州") == []
        assert await names(Role.CENTER, q="许昌", page_size=1, page=2) == ["许昌市检测中心"]
        assert await names(Role.CENTER, q="许昌", status="approved") == ["许昌学院"]
        assert await names(Role.USER, q="许昌") == ["许昌学院"]  # the public: approved units only
        r = await p.call("registry", "GET", "/v1/units/", role=Role.CENTER, params={"q": "许" * 101})
        assert r.status_code == 400, r.text
