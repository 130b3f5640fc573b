"""样品要求 (issue 17): a unit states what a sample sent for testing on its
instrument must be like, at registration or later; the public reads it with
the instrument; too long is refused at the field with nothing changed. Runs on
SQLite and PostgreSQL."""

from __future__ import annotations

from services.runtime.roles import Role
from tests.support.platform import Platform, running
from tests.support.registry import approved_unit

SERVICES = ["registry"]
BODY = {"name": "扫描电子显微镜", "category": "分析仪器", "original_value_fen": 20_000_000, "funding": "fiscal_full", "acceptance_date": "2024-09-20"}


async def test_a_unit_states_its_sample_requirements_and_the_public_reads_them(make_settings) -> None:
    settings = await make_settings(SERVICES)
    async with running(Platform(settings, SERVICES), worker=False) as p:
        unit = await approved_unit(p)
        r = await p.call("registry", "POST", "/v1/instruments/", role=Role.UNIT, org=unit, json={**BODY, "unit_id": unit, "sample_requirements": " 块状样品不大于 1 cm³，须干燥、无磁性 "})
        assert r.status_code == 201 and r.json()["sample_requirements"] == "块状样品不大于 1 cm³，须干燥、无磁性", r.text
        iid = r.json()["instrument_id"]
        assert (await p.call("registry", "POST", f"/v1/instruments/{iid}/list", role=Role.UNIT, org=unit)).status_code == 200
        assert (await p.call("registry", "GET", f"/v1/instruments/{iid}")).json()["sample_requirements"] == "块状样品不大于 1 cm³，须干燥、无磁性"

        # changed later by its unit; another unit may not
        r = await p.call("registry", "PATCH", f"/v1/instruments/{iid}", role=Role.UNIT, org=unit, json={"sample_requirements": "粉末样品不少于 50 mg"})
        assert r.status_code == 200 and r.json()["sample_requirements"] == "粉末样品不少于 50 mg", r.text
        version = r.json()["version"]
        other = await approved_unit(p, "许昌职业技术学院")
        r = await p.call("registry", "PATCH", f"/v1/instruments/{iid}", role=Role.UNIT, org=other, json={"sample_requirements": "无"})
        assert r.status_code == 403, r.text

        # too long: refused at its field, nothing changed
        r = await p.call("registry", "PATCH", f"/v1/instruments/{iid}", role=Role.UNIT, org=unit, json={"sample_requirements": "样" * 2001})
        assert r.status_code == 400 and r.json()["code"] == "request.invalid", r.text
        assert any("sample_requirements" in str(e) for e in r.json()["errors"]), r.text
        shown = (await p.call("registry", "GET", f"/v1/instruments/{iid}")).json()
        assert (shown["sample_requirements"], shown["version"]) == ("粉末样品不少于 50 mg", version)

        # blank clears it
        r = await p.call("registry", "PATCH", f"/v1/instruments/{iid}", role=Role.UNIT, org=unit, json={"sample_requirements": "  "})
        assert r.status_code == 200 and r.json()["sample_requirements"] is None, r.text
