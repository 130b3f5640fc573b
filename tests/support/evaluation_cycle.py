"""Evaluation's year through its HTTP API, for the tests that drive it (evaluation's
own and the portal's and journeys' that need graded units): the year's dates and
department, the registry's unit fact published as the registry would, the calls
as a client makes them, the events evaluation wrote to its outbox, full and zero
score sheets, one unit's application driven to a grade, and the year's grades notice
and award plan up to the unqualified units' rectification deadline."""

from __future__ import annotations

from datetime import date
from typing import Any, TypeVar

import pytest
from sqlalchemy import select

from contracts import registry as rg
from contracts.envelope import Event
from services.evaluation import notices, sources
from services.evaluation.db.models import unit_view
from services.evaluation.domain.measures import Measures
from services.runtime.roles import Role
from tests.support import outbox
from tests.support.evidence import documents
from tests.support.payouts import publish
from tests.support.platform import Platform
from tests.support.polling import eventually

E = TypeVar("E", bound=Event)

YEAR = 2026
PUBLISHED_ON = date(2026, 6, 1)  # Monday: the 5-working-day window runs 2 June to 8 June
AFTER = date(2026, 6, 9)
DEADLINE = date(2026, 9, 7)  # three months after the award plan's notice became final on 9 June (indicators-2023)
DEPT = "魏都区科技局"


def unit_event(unit_id: str, *, parent: str | None = None, department: str = DEPT) -> rg.UnitApproved:
    return rg.UnitApproved(unit_id=unit_id, version=2, name=f"单位{unit_id[:4]}", credit_code="12410000MB0000000X", kind="college" if parent else "institute",
                           parent_unit_id=parent, status="approved", department=department, county_code="411002")


async def call(p: Platform, method: str, path: str, role: Role | None = None, org: str | None = None, json: Any = None, status: int | None = None) -> Any:
    r = await p.call("evaluation", method, path, role=role, org=org, json=json)
    if status is not None:
        assert r.status_code == status, r.text
    return r.json() if r.content else None


BEST = dict(orders_served=50, service_hours_centi=100000, effective_minutes=96000, outside_minutes=48000, outside_users_served=20, voucher_orders=20, revenue_fen=50_000_000, ratings_count=4, ratings_sum=20)


async def units_known(p: Platform, n: int) -> None:
    """Waits until evaluation's read model holds ``n`` units (the registry's facts applied)."""

    async def known() -> bool:
        async with p["evaluation"].db.read() as s:
            return len((await s.execute(select(unit_view.c.unit_id))).all()) == n

    await eventually(known)


async def emitted(p: Platform, event_type: type[E]) -> list[E]:
    """The events of ``event_type`` evaluation wrote to its outbox, in order."""
    return await outbox.emitted(p, "evaluation", event_type)


class Year:
    """Drives one unit's application to a grade."""

    def __init__(self, p: Platform, experts: dict[str, str]):
        self.p = p
        self.experts = experts

    async def apply_and_forward(self, unit: str) -> str:
        app = await call(self.p, "POST", "/v1/applications/", Role.UNIT, unit, {"year": YEAR, "documents": await documents(self.p, unit)}, 201)
        await call(self.p, "POST", f"/v1/applications/{app['application_id']}/forward", Role.DEPARTMENT, DEPT, {}, 200)
        return app["application_id"]

    async def assign_all(self, app_id: str) -> dict[str, str]:
        out = {}
        for role, expert in self.experts.items():
            out[role] = (await call(self.p, "POST", f"/v1/applications/{app_id}/assignments", Role.CENTER, json={"expert_id": expert}, status=201))["assignment_id"]
        return out

    async def score(self, assignment_id: str, role: str, sheet: dict[str, int]) -> dict[str, Any]:
        body = {"scores": sheet, "onsite_date": "2026-05-20", "findings": "现场核查：仪器运行正常，记录完整"}
        return await call(self.p, "POST", f"/v1/assignments/{assignment_id}/scores", Role.EXPERT, self.experts[role], body, 200)


FULL = {"management": {"org.rules": 800, "org.staff": 600}, "technical": {"op.condition": 1200, "share.effect": 400}, "finance": {"org.finance": 600, "share.fees": 400}}
ZERO = {role: {k: 0 for k in sheet} for role, sheet in FULL.items()}


async def scored(p: Platform, sheets: dict[str, dict[str, dict[str, int]]]) -> dict[str, str]:
    """The units of ``sheets`` known to evaluation, the year opened (10,000,000 fen of awards) with
    three experts, and each unit applied, forwarded, scored by its sheets and graded: the
    applications by unit."""
    await publish(p, *(unit_event(u) for u in sheets))
    await units_known(p, len(sheets))
    await call(p, "POST", "/v1/cycles/", Role.BUREAU, json={"year": YEAR, "award_budget_fen": 10_000_000}, status=201)
    experts = {r: (await call(p, "POST", "/v1/experts/", Role.CENTER, json={"name": r, "role": r}, status=201))["expert_id"] for r in ("management", "technical", "finance")}
    y = Year(p, experts)
    apps = {}
    for unit, by_role in sheets.items():
        apps[unit] = await y.apply_and_forward(unit)
        for role, assignment in (await y.assign_all(apps[unit])).items():
            await y.score(assignment, role, by_role[role])
        await call(p, "POST", f"/v1/applications/{apps[unit]}/grade", Role.CENTER, json={}, status=200)
    return apps


def measured(monkeypatch: pytest.MonkeyPatch, good: str) -> None:
    """The year's measures: ``good`` at its best, every other unit at nothing."""

    async def fake_source(session, year, unit_ids=None):  # noqa: ANN001
        return {u: Measures(unit_id=u, year=year, **BEST) for u in (good,) if unit_ids is None or u in unit_ids}

    monkeypatch.setattr(sources, "MEASURES_SOURCE", fake_source)
    monkeypatch.setattr(notices, "today", lambda: PUBLISHED_ON)


async def graded(p: Platform, monkeypatch: pytest.MonkeyPatch, good: str, bad: str) -> dict[str, str]:
    """Both units evaluated, ``bad`` unqualified, the grades notice final and the award
    plan drafted (not approved); their applications by unit."""
    apps = await scored(p, {good: FULL, bad: ZERO})
    grades = await call(p, "POST", "/v1/notices/", Role.CENTER, json={"kind": "grades", "year": YEAR}, status=201)
    monkeypatch.setattr(notices, "today", lambda: AFTER)
    await call(p, "POST", f"/v1/notices/{grades['notice_id']}/finalize", Role.CENTER, json={}, status=200)
    monkeypatch.setattr(notices, "today", lambda: PUBLISHED_ON)
    plan = await call(p, "POST", f"/v1/award-plans/{YEAR}", Role.BUREAU, json={}, status=201)
    assert {line["unit_id"]: line["grade"] for line in plan["lines"]}[bad] == "unqualified"
    return apps


async def plan_final(p: Platform, monkeypatch: pytest.MonkeyPatch) -> None:
    """The drafted award plan approved and its notice final: the unqualified have their deadline."""
    await call(p, "POST", f"/v1/award-plans/{YEAR}/approve", Role.BUREAU, json={}, status=200)
    plan = await call(p, "POST", f"/v1/award-plans/{YEAR}/notice", Role.BUREAU, json={}, status=201)
    monkeypatch.setattr(notices, "today", lambda: AFTER)
    await call(p, "POST", f"/v1/notices/{plan['notice']['notice_id']}/finalize", Role.CENTER, json={}, status=200)
