"""R26 隶属 in the registry: parties are linked by credit code across units
and users — the center reading a user sees the units registered under its
code (a university registered as a user is that university and its colleges);
an unrelated enterprise shows none, and the user itself is not shown them."""

from __future__ import annotations

from typing import Any

from services.runtime.roles import Role
from tests.support.codes import credit_code
from tests.support.platform import Platform, running


async def _ok(r: Any, status: int = 200) -> Any:
    assert r.status_code == status, r.text
    return r.json()


async def test_the_center_sees_the_units_a_user_is(make_settings) -> None:
    settings = await make_settings(["registry"])
    async with running(Platform(settings, ["registry"]), worker=False) as p:
        code = credit_code()
        university = (await _ok(await p.call("registry", "POST", "/v1/units/", role=Role.UNIT, json={"name": "许昌大学", "kind": "university", "credit_code": code}), 201))["unit_id"]
        college = (await _ok(await p.call("registry", "POST", "/v1/units/", role=Role.UNIT, json={"name": "许昌大学化学学院", "kind": "college", "parent_unit_id": university}), 201))["unit_id"]
        as_user = (await _ok(await p.call("registry", "POST", "/v1/users/", role=Role.USER, json={"name": "许昌大学", "kind": "enterprise", "classes": ["high_tech"], "credit_code": code}), 201))["user_id"]
        other = (await _ok(await p.call("registry", "POST", "/v1/users/", role=Role.USER, json={"name": "许昌某企业", "kind": "enterprise", "classes": ["high_tech"], "credit_code": credit_code()}), 201))["user_id"]

        seen = await _ok(await p.call("registry", "GET", f"/v1/users/{as_user}", role=Role.CENTER))
        assert sorted(seen["same_party_units"]) == sorted([university, college])
        assert (await _ok(await p.call("registry", "GET", f"/v1/users/{other}", role=Role.BUREAU)))["same_party_units"] == []
        assert (await _ok(await p.call("registry", "GET", f"/v1/users/{as_user}", role=Role.USER, org=as_user)))["same_party_units"] == []
