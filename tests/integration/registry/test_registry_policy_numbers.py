"""The registry runs on the numbers of its policy file (XCISS_REGISTRY_POLICY_FILE),
year by year: R18's minimum of full-time technical staff for a grant made in that
year, and M11(6)'s complaint deadline for a year the bureau has not set."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from services.runtime import clock
from services.runtime.roles import Role
from tests.support.platform import Platform, running
from tests.support.registry import approved_unit

SERVICES = ["registry"]
#: Friday 27 September 2024, 10:00 in Xuchang: Sunday the 29th is a make-up working day, 1–7 October are holidays
FILED = datetime(2024, 9, 27, 2, 0, tzinfo=UTC)
POLICY = """listing:
  defaults: {must_list_threshold_fen: 20000000, listing_deadline_workdays: 30, due_soon_workdays: 5}
acceptance:
  defaults: {min_full_time_staff: 1}
  years:
    2024: {min_full_time_staff: 3}
complaints:
  defaults: {handling_workdays: 15}
  years:
    2024: {handling_workdays: 10}
"""


def evidence(staff: int) -> dict[str, Any]:
    return {"full_time_staff": staff, "service_content": "成分分析", "service_norms": "按国家标准操作", "fees_published": True, "no_bad_credit": True}


async def test_the_years_own_numbers_decide_acceptance_and_the_complaint_deadline(make_settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "registry-policy.yaml"
    path.write_text(POLICY, encoding="utf-8")
    settings = await make_settings(SERVICES, registry_policy_file=path)
    monkeypatch.setattr(clock, "utc_now", lambda: FILED)
    async with running(Platform(settings, SERVICES)) as p:
        # R18 in 2024: three full-time technicians, not two
        unit = await approved_unit(p)
        r = await p.call("registry", "POST", f"/v1/units/{unit}/voucher-acceptance", role=Role.CENTER, json=evidence(2))
        assert r.status_code == 422 and r.json()["code"] == "acceptance.no_staff", r.text
        r = await p.call("registry", "POST", f"/v1/units/{unit}/voucher-acceptance", role=Role.CENTER, json=evidence(3))
        assert r.status_code == 200 and r.json()["accepts_vouchers"] is True, r.text

        # M11(6): 2024's deadline is the file's 10 working days, other years keep its default 15
        policies = [(await p.call("registry", "GET", f"/v1/complaints/policies/{y}")).json() for y in (2024, 2025)]
        assert [(q["handling_workdays"], q["default"]) for q in policies] == [(10, True), (15, True)]
        r = await p.call("registry", "POST", "/v1/complaints/", json={"category": "fees", "text": "收费高于公布标准", "unit_id": unit})
        assert r.status_code == 201, r.text
        # the 10th working day after Friday 27 September 2024 (29th: 1st; 8 October: 3rd; Saturday 12th: 7th)
        assert (r.json()["handling_workdays"], r.json()["due_on"]) == (10, "2024-10-16")
