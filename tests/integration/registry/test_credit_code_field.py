"""A credit code (统一社会信用代码) that fails its check names the field that
carried it (``details.field``), like every other field error, for users
(enterprise and team) and units."""

from __future__ import annotations

from services.runtime.roles import Role
from tests.support.codes import credit_code, resident_id
from tests.support.platform import Platform, running

SERVICES = ["registry"]


def _bad(code: str) -> str:
    """The same code with a wrong check character."""
    return code[:-1] + ("0" if code[-1] != "0" else "1")


async def test_an_invalid_credit_code_names_its_field(make_settings) -> None:
    settings = await make_settings(SERVICES)
    async with running(Platform(settings, SERVICES)) as p:

        async def refused(path: str, role: Role, body: dict[str, object]) -> dict[str, object]:
            r = await p.call("registry", "POST", path, role=role, json=body)
            assert r.status_code == 422, r.text
            return r.json()  # type: ignore[no-any-return]

        user = await refused("/v1/users/", Role.USER, {"name": "许昌某科技", "kind": "enterprise", "classes": ["tech_sme"], "credit_code": _bad(credit_code())})
        assert user["code"] == "registry.credit_code_invalid"
        assert user["details"] == {"field": "credit_code", "reason": "checksum"}
        assert "统一社会信用代码" in user["message_zh"] and "check character" in user["message_en"]

        missing = await refused("/v1/users/", Role.USER, {"name": "许昌某科技", "kind": "enterprise", "classes": ["tech_sme"]})
        assert (missing["code"], missing["details"]["field"]) == ("user.credit_code_required", "credit_code")

        team = {"name": "某团队", "kind": "team", "classes": ["startup_team"], "leader_name": "张三", "leader_id_number": resident_id(), "incubator_credit_code": "9141100200000000000"}
        r = await refused("/v1/users/", Role.USER, team)
        assert (r["code"], r["details"]) == ("registry.credit_code_invalid", {"field": "incubator_credit_code", "reason": "length"})
        r = await refused("/v1/users/", Role.USER, {**team, "incubator_credit_code": credit_code(), "leader_id_number": "411002199001010000"})
        assert (r["code"], r["details"]["field"]) == ("registry.identity_number_invalid", "leader_id_number")

        unit = await refused("/v1/units/", Role.UNIT, {"name": "许昌学院", "kind": "university", "credit_code": _bad(credit_code()), "county_code": "411002"})
        assert (unit["code"], unit["details"]) == ("registry.credit_code_invalid", {"field": "credit_code", "reason": "checksum"})
        # nothing was written
        assert (await p.call("registry", "GET", "/v1/units/", role=Role.CENTER)).json()["items"] == []
