"""A competent department sees the units under it, and only those (M10)."""

from __future__ import annotations

from services.runtime.roles import Role
from tests.support.codes import credit_code
from tests.support.platform import Platform, running
from tests.support.registry import priced_instrument


async def _unit(p: Platform, name: str, department: str) -> str:
    r = await p.call("registry", "POST", "/v1/units/", role=Role.UNIT, json={"name": name, "kind": "institute", "credit_code": credit_code(), "department": department})
    assert r.status_code == 201, r.text
    unit_id: str = r.json()["unit_id"]
    assert (await p.call("registry", "POST", f"/v1/units/{unit_id}/approve", role=Role.BUREAU, json={})).status_code == 200
    return unit_id


async def test_a_department_sees_its_units_and_no_other(make_settings) -> None:
    settings = await make_settings(["registry"])
    async with running(Platform(settings, ["registry"]), worker=False) as p:
        ours = await _unit(p, "禹州市钧瓷研究所", "禹州市科技局")
        theirs = await _unit(p, "长葛市机械研究所", "长葛市科技局")
        draft_ours, _ = await priced_instrument(p, ours, listed=False)
        draft_theirs, _ = await priced_instrument(p, theirs, listed=False)

        async def get(path: str, **kw: object) -> int:
            return (await p.call("registry", "GET", path, role=Role.DEPARTMENT, org="禹州市科技局", **kw)).status_code  # type: ignore[arg-type]

        # an unlisted instrument, the unit's compliance and imports: its own units only
        assert await get(f"/v1/instruments/{draft_ours}") == 200
        assert await get(f"/v1/instruments/{draft_theirs}") == 404
        assert await get(f"/v1/compliance/units/{ours}") == 200
        assert await get(f"/v1/compliance/units/{theirs}") == 403
        assert await get(f"/v1/units/{ours}/imports") == 200
        assert await get(f"/v1/units/{theirs}/imports") == 403
        assert await get("/v1/affiliations/", params={"unit_id": ours}) == 200
        assert await get("/v1/affiliations/", params={"unit_id": theirs}) == 403
        assert await get("/v1/affiliations/") == 403
        # the city-wide view is the center's and the bureau's
        assert await get("/v1/compliance/") == 403
        # listing a unit's instruments shows the unlisted ones of its own units only
        mine = (await p.call("registry", "GET", "/v1/instruments/", role=Role.DEPARTMENT, org="禹州市科技局", params={"unit_id": ours})).json()
        other = (await p.call("registry", "GET", "/v1/instruments/", role=Role.DEPARTMENT, org="禹州市科技局", params={"unit_id": theirs})).json()
        assert draft_ours in {i["instrument_id"] for i in mine["items"]}
        assert draft_theirs not in {i["instrument_id"] for i in other["items"]}
