"""A competent department sees, in evaluation too, only the units under it
(M10): the unit list, a unit's measures, the applications and their review.
Another county's unit is not there (404, its existence not told)."""

from __future__ import annotations

from typing import Any

from contracts import registry as rg
from services.evaluation import unit_report
from services.evaluation.schemas import EvaluatedUnit
from services.runtime.roles import Role
from tests.support.evaluation_cycle import units_known
from tests.support.evidence import documents
from tests.support.payouts import publish
from tests.support.platform import Platform, running
from tests.support.vouchers import uid

YEAR = 2026
OURS = "魏都区科技局"
THEIRS = "长葛市科技局"


def unit(event: type[rg.UnitSnapshot], unit_id: str, department: str, county: str, status: str) -> rg.UnitSnapshot:
    return event(unit_id=unit_id, version=1 if status == "applied" else 2, name=f"单位{unit_id[:4]}", credit_code="12410000MB0000000X", kind="institute",
                 status=status, department=department, county_code=county)


async def test_a_department_sees_only_its_own_units_in_evaluation(make_settings) -> None:
    settings = await make_settings(["evaluation"])
    ours, theirs, theirs_unapproved = uid(), uid(), uid()
    async with running(Platform(settings, ["evaluation"])) as p:
        await publish(p,
            unit(rg.UnitApproved, ours, OURS, "411002", "approved"),
            unit(rg.UnitApproved, theirs, THEIRS, "411082", "approved"),
            unit(rg.UnitApplied, theirs_unapproved, THEIRS, "411082", "applied"),
        )

        await units_known(p, 3)
        # who the unit is, as the scope check reads it: a struct, None for a unit not heard of
        info = await unit_report.unit_info(p["evaluation"].db, ours)
        assert isinstance(info, EvaluatedUnit) and (info.department, info.county_code, info.status) == (OURS, "411002", "approved")
        assert await unit_report.unit_info(p["evaluation"].db, uid()) is None

        async def call(method: str, path: str, role: Role, org: str | None = None, json: Any = None) -> Any:
            return await p.call("evaluation", method, path, role=role, org=org, json=json)

        # the unit list: the department its own county's units, the center all
        mine = (await call("GET", "/v1/units/", Role.DEPARTMENT, OURS)).json()
        assert [u["unit_id"] for u in mine["items"]] == [ours] and mine["total"] == 1
        other = (await call("GET", "/v1/units/?status=applied", Role.DEPARTMENT, OURS)).json()
        assert other["items"] == [] and other["total"] == 0  # the other county's unapproved unit is not there
        assert {u["unit_id"] for u in (await call("GET", "/v1/units/", Role.DEPARTMENT, THEIRS)).json()["items"]} == {theirs, theirs_unapproved}
        assert (await call("GET", "/v1/units/", Role.CENTER)).json()["total"] == 3
        assert (await call("GET", "/v1/units/", Role.DEPARTMENT)).json()["total"] == 0  # a department token without its org sees nothing

        # a unit's measures: the other county's unit does not exist for this department
        assert (await call("GET", f"/v1/reports/{YEAR}/units/{ours}", Role.DEPARTMENT, OURS)).status_code == 200
        for u in (theirs, theirs_unapproved):
            r = await call("GET", f"/v1/reports/{YEAR}/units/{u}", Role.DEPARTMENT, OURS)
            assert r.status_code == 404 and r.json()["code"] == "unit.not_found", r.text

        # applications: list, read, forward and return stay in the county
        assert (await call("POST", "/v1/cycles/", Role.BUREAU, json={"year": YEAR, "award_budget_fen": 1_000_000})).status_code == 201
        a = (await call("POST", "/v1/applications/", Role.UNIT, ours, {"year": YEAR, "documents": await documents(p, ours)})).json()
        b = (await call("POST", "/v1/applications/", Role.UNIT, theirs, {"year": YEAR, "documents": await documents(p, theirs)})).json()
        listed = (await call("GET", "/v1/applications/", Role.DEPARTMENT, OURS)).json()
        assert [i["application_id"] for i in listed["items"]] == [a["application_id"]] and listed["total"] == 1
        theirs_app = b["application_id"]
        for method, path, body in (
            ("GET", f"/v1/applications/{theirs_app}", None),
            ("POST", f"/v1/applications/{theirs_app}/forward", {}),
            ("POST", f"/v1/applications/{theirs_app}/return", {"reason": "材料不全"}),
        ):
            r = await call(method, path, Role.DEPARTMENT, OURS, body)
            assert r.status_code == 404 and r.json()["code"] == "application.not_found", (path, r.text)
        # nothing changed: the other county's application still awaits its own department
        assert (await call("GET", f"/v1/applications/{theirs_app}", Role.DEPARTMENT, THEIRS)).json()["status"] == "submitted"
        assert (await call("POST", f"/v1/applications/{a['application_id']}/forward", Role.DEPARTMENT, OURS, {})).status_code == 200
