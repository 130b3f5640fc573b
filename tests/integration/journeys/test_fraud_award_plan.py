"""Fraud findings and the award plan (R27), in the evaluation service alone:
a unit blacklisted or disqualified after the grades (registry's events,
published as the registry would) is left out of the next award plan and costs
no budget; a clean unit is funded."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from contracts import registry as ev
from services.evaluation import notices, sources
from services.evaluation.db.models import unit_view
from services.evaluation.domain.measures import Measures
from services.evaluation.readmodel import excluded_units
from services.runtime.roles import Role
from tests.support.evaluation_cycle import AFTER, BEST, FULL, PUBLISHED_ON, YEAR as EVAL_YEAR, Year, call, unit_event
from tests.support.payouts import publish
from tests.support.platform import Platform, running
from tests.support.polling import eventually
from tests.support.vouchers import uid


async def test_a_blacklisted_or_disqualified_unit_is_not_in_the_next_award_plan(make_settings, monkeypatch: pytest.MonkeyPatch) -> None:
    """R27: from the finding on, the unit fails the award check; evaluation learns it
    from registry's events (published here as the registry would)."""
    settings = await make_settings(["evaluation"])
    listed, disqualified, clean = uid(), uid(), uid()

    async def fake_source(session, year, unit_ids=None):  # noqa: ANN001
        return {u: Measures(unit_id=u, year=year, **BEST) for u in (listed, disqualified, clean) if unit_ids is None or u in unit_ids}

    monkeypatch.setattr(sources, "MEASURES_SOURCE", fake_source)
    monkeypatch.setattr(notices, "today", lambda: PUBLISHED_ON)
    async with running(Platform(settings, ["evaluation"])) as p:
        await publish(p, *(unit_event(u) for u in (listed, disqualified, clean)))

        async def units_known() -> bool:
            async with p["evaluation"].db.read() as s:
                return len((await s.execute(select(unit_view.c.unit_id).where(unit_view.c.unit_id.in_([listed, disqualified, clean])))).all()) == 3

        await eventually(units_known)
        await call(p, "POST", "/v1/cycles/", Role.BUREAU, json={"year": EVAL_YEAR, "award_budget_fen": 20_000_000}, status=201)
        experts = {r: (await call(p, "POST", "/v1/experts/", Role.CENTER, json={"name": r, "role": r}, status=201))["expert_id"] for r in ("management", "technical", "finance")}
        y = Year(p, experts)
        for unit in (listed, disqualified, clean):
            app_id = await y.apply_and_forward(unit)
            for role, assignment in (await y.assign_all(app_id)).items():
                await y.score(assignment, role, FULL[role])
            await call(p, "POST", f"/v1/applications/{app_id}/grade", Role.CENTER, json={}, status=200)
        grades = await call(p, "POST", "/v1/notices/", Role.CENTER, json={"kind": "grades", "year": EVAL_YEAR}, status=201)
        monkeypatch.setattr(notices, "today", lambda: AFTER)
        await call(p, "POST", f"/v1/notices/{grades['notice_id']}/finalize", Role.CENTER, json={}, status=200)

        # the bureau's findings, after the grades: one unit blacklisted, one disqualified
        before = unit_event(disqualified)
        fields = {f: getattr(before, f) for f in ev.UnitSnapshot.__struct_fields__ if f not in ("event_id", "occurred_at", "version", "status")}
        await publish(p,
            ev.BlacklistAdded(entry_id=uid(), party_type="unit", party_id=listed, party_name="某单位", reason="弄虚作假"),
            ev.UnitDisqualified(**fields, version=3, status="disqualified", reason="弄虚作假"),
        )

        async def known() -> bool:
            async with p["evaluation"].db.read() as s:
                return await excluded_units(s, [listed, disqualified, clean]) == {listed: "blacklisted", disqualified: "disqualified"}

        await eventually(known)
        monkeypatch.setattr(notices, "today", lambda: PUBLISHED_ON)
        plan = await call(p, "POST", f"/v1/award-plans/{EVAL_YEAR}", Role.BUREAU, json={}, status=201)
        lines = {line["unit_id"]: (line["outcome"], line["amount_fen"]) for line in plan["lines"]}
        assert lines[listed] == ("blacklisted", 0) and lines[disqualified] == ("disqualified", 0)
        assert lines[clean][0] == "funded" and lines[clean][1] > 0
        assert plan["planned_fen"] == lines[clean][1]
