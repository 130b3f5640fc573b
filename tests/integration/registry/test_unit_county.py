"""A unit's county (issue 18): the application takes one of the city's counties and
districts (the city file, XCISS_CITY_FILE) and refuses any other code at its field,
in the search's words, writing nothing."""

from __future__ import annotations

from services.runtime.roles import Role
from tests.support.codes import credit_code
from tests.support.platform import Platform, running
from tests.support.registry import SERVICE_INFO

SERVICES = ["registry"]
XUCHANG = ["411002", "411003", "411024", "411025", "411081", "411082"]


async def test_a_unit_county_outside_the_city_is_refused_at_its_field(make_settings) -> None:
    settings = await make_settings(SERVICES)
    async with running(Platform(settings, SERVICES)) as p:

        def body(county: str) -> dict[str, object]:
            return {"name": "许昌某研究院", "kind": "institute", "credit_code": credit_code(), "county_code": county, **SERVICE_INFO}

        for county, words in (("411099", "“411099”不是许昌市的县（市、区）代码"), ("410102", "“410102”不是许昌市的县（市、区）代码")):
            r = await p.call("registry", "POST", "/v1/units/", role=Role.UNIT, json=body(county))
            assert r.status_code == 422, r.text
            problem = r.json()
            assert problem["code"] == "unit.unknown_county"
            assert problem["details"] == {"field": "county_code", "allowed": XUCHANG}
            assert problem["message_zh"] == words
            assert problem["message_en"] == f"'{county}' is not a county code of Xuchang"
        # nothing was written
        assert (await p.call("registry", "GET", "/v1/units/", role=Role.CENTER)).json()["items"] == []

        r = await p.call("registry", "POST", "/v1/units/", role=Role.UNIT, json=body("411081"))
        assert r.status_code == 201, r.text
        units = (await p.call("registry", "GET", "/v1/units/", role=Role.CENTER)).json()["items"]
        assert [(u["name"], u["county_code"]) for u in units] == [("许昌某研究院", "411081")]
