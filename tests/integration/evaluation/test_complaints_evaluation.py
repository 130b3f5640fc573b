"""M11(6) → R11: a complaint the center upheld counts against its unit in the
year it was filed: evaluation consumes registry.complaint.upheld.v1 and the
``share.complaints`` indicator takes its points off; a dismissed or open
complaint costs nothing. Registry and evaluation with real NATS, both databases."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from services.evaluation.domain.scoring import computed_scores
from services.evaluation.domain.measures import Measures
from services.evaluation.policy import load_policy
from services.runtime import clock
from services.runtime.roles import Role
from tests.support.platform import Platform, running
from tests.support.polling import eventually
from tests.support.registry import approved_unit
from tests.support.responses import ok

SERVICES = ["registry", "evaluation"]
#: 31 December 2025, 23:59 in Xuchang: still 2025 (a filing at 00:00 on 1 January would count in 2026)
FILED = datetime(2025, 12, 31, 15, 59, tzinfo=UTC)


async def test_a_unit_with_an_upheld_complaint_scores_lower_on_the_complaints_indicator(make_settings, monkeypatch: pytest.MonkeyPatch) -> None:
    settings = await make_settings(SERVICES)
    async with running(Platform(settings, SERVICES)) as p:
        complained, clean = await approved_unit(p, name="许昌甲研究院"), await approved_unit(p, name="许昌乙研究院")
        monkeypatch.setattr(clock, "utc_now", lambda: FILED)

        async def complain(unit: str, outcome: str | None) -> None:
            body = {"category": "refusal", "text": "无正当理由拒绝开放共享", "unit_id": unit}
            c = await ok(await p.call("registry", "POST", "/v1/complaints/", json=body), 201)
            if outcome is not None:
                decision = {"outcome": outcome, "reason": "经核实"}
                await ok(await p.call("registry", "POST", f"/v1/complaints/{c['complaint_id']}/decision", role=Role.CENTER, json=decision))

        await complain(complained, "upheld")
        await complain(clean, "dismissed")
        await complain(clean, None)  # open: not counted

        async def measures(unit: str, year: int) -> dict[str, Any] | None:
            r = await p.call("evaluation", "GET", f"/v1/reports/{year}/units/{unit}", role=Role.CENTER)
            return r.json()["measures"] if r.status_code == 200 else None

        async def counted() -> Any:
            m = await measures(complained, 2025)
            return m if m is not None and m["complaints"] == 1 else None

        m_complained = await eventually(counted)
        m_clean = await eventually(lambda: measures(clean, 2025))
        assert m_clean["complaints"] == 0
        assert (await eventually(lambda: measures(complained, 2026)))["complaints"] == 0

        policy = load_policy(settings)
        scores = [computed_scores(policy, Measures(**m))["share.complaints"] for m in (m_complained, m_clean)]
        assert scores[0] < scores[1] == 400  # 2 of 4 points off per upheld complaint; full marks without
        assert scores[0] == 200
