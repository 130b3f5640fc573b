"""Notices in the portal: publishing a grades notice before anything is graded
shows the evaluation service's refusal; the center publishes the grades notice,
and once it is final the bureau proposes the award plan, which goes on its own
public notice (R14(4)). Its own module and platform (split from test_portal.py;
tests/browser/test_portal_evaluation.py has the demo unit apply in its own)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

import pytest

from services.evaluation import notices as evaluation_notices
from services.evaluation import sources as evaluation_sources
from services.evaluation.domain.measures import Measures
from tests.browser.conftest import RunningPortal, screenshot
from tests.support.browser_pages import sign_in_as, submit
from tests.support.evidence import documents
from tests.support.registry import unit_named

pytestmark = pytest.mark.browser


def test_publishing_a_notice_shows_the_services_refusal(portal: RunningPortal, new_page: Callable[[], Any]) -> None:
    """Before any application is graded there is nothing to publish: the
    evaluation service's own message is shown on the form. The year is last
    year, its cycle opened here: nothing is graded in it whichever test ran
    before (test_grades_and_award_plan_notices grades this year)."""
    year = date.today().year - 1

    async def cycle() -> None:
        r = await portal.platform.call("evaluation", "POST", "/v1/cycles/", role="bureau", json={"year": year, "award_budget_fen": 1_000_000})
        assert r.status_code == 201 or r.json()["code"] == "cycle.already_open", r.text

    portal.run(cycle())
    staff = new_page()
    sign_in_as(staff, "center")
    staff.goto("/notices")
    form = staff.locator("form[action='/notices']")
    form.get_by_label("类型").select_option("grades")
    form.get_by_label("年度").fill(str(year))
    submit(staff, "form[action='/notices']")
    assert "没有可公示的内容" in staff.locator(".alert").inner_text()
    screenshot(staff, "18-notice-refused")
    # the bureau's notice is the award plan, after the grades notice is final
    bureau = new_page()
    sign_in_as(bureau, "bureau")
    bureau.get_by_role("link", name="发布公示").click()
    bureau.locator("form[action='/award-plans']").get_by_label("年度").fill(str(year))
    submit(bureau, "form[action='/award-plans']")
    assert bureau.locator(".alert").count() == 1


PUBLISHED_ON = date(2026, 6, 1)  # a Monday: the 5-working-day window runs 2 to 8 June
AFTER = date(2026, 6, 9)
SHEETS = {"management": {"org.rules": 800, "org.staff": 600}, "technical": {"op.condition": 1200, "share.effect": 400}, "finance": {"org.finance": 600, "share.fees": 400}}


async def _graded(portal: RunningPortal, unit_id: str, year: int) -> None:
    """The evaluation of the demo unit up to its grade, over the evaluation API
    (the portal lists these queues; scoring sheets are not pages yet)."""
    p = portal.platform

    async def call(method: str, path: str, role: str | None = None, org: str | None = None, json: Any = None) -> Any:
        r = await p.call("evaluation", method, path, role=role, org=org, json=json)
        assert r.status_code in (200, 201), r.text
        return r.json()

    experts = {e["role"]: e["expert_id"] for e in (await call("GET", "/v1/experts/", "center"))["items"]}
    for role in SHEETS:
        if role not in experts:
            experts[role] = (await call("POST", "/v1/experts/", "center", json={"name": f"{role}专家", "role": role}))["expert_id"]
    app = await call("POST", "/v1/applications/", "unit", unit_id, {"year": year, "documents": await documents(p, unit_id)})
    await call("POST", f"/v1/applications/{app['application_id']}/forward", "department", "魏都区科技局", {})
    for role, expert in experts.items():
        if role not in SHEETS:
            continue
        a = await call("POST", f"/v1/applications/{app['application_id']}/assignments", "center", json={"expert_id": expert})
        await call("POST", f"/v1/assignments/{a['assignment_id']}/scores", "expert", expert, {"scores": SHEETS[role], "onsite_date": "2026-05-20", "findings": "现场核查：仪器运行正常，记录完整"})
    await call("POST", f"/v1/applications/{app['application_id']}/grade", "center", json={})


def test_grades_and_award_plan_notices(portal: RunningPortal, new_page: Callable[[], Any], monkeypatch: pytest.MonkeyPatch) -> None:
    """The center publishes the grades notice; once it is final the bureau
    proposes the award plan, which goes on its own public notice (R14(4))."""
    monkeypatch.setattr(evaluation_notices, "today", lambda: PUBLISHED_ON)
    unit_id = portal.run(unit_named(portal.platform, "许昌学院"))

    # a year's worth of service on record (the demo has only days of it), so the unit earns an award
    async def measured(session: Any, year: int, unit_ids: Any = None) -> dict[str, Measures]:
        best = dict(orders_served=50, service_hours_centi=100000, effective_minutes=96000, outside_minutes=48000, outside_users_served=20, voucher_orders=20, revenue_fen=50_000_000, ratings_count=4, ratings_sum=20)
        return {unit_id: Measures(unit_id=unit_id, year=year, **best)} if unit_ids is None or unit_id in unit_ids else {}

    monkeypatch.setattr(evaluation_sources, "MEASURES_SOURCE", measured)
    portal.run(_graded(portal, unit_id, 2026))

    center = new_page()
    sign_in_as(center, "center")
    center.goto("/notices")
    form = center.locator("form[action='/notices']")
    form.get_by_label("类型").select_option("grades")
    submit(center, "form[action='/notices']")
    assert center.locator(".alert").count() == 0, center.inner_text("main")
    assert "许昌学院" in center.inner_text("main")
    grades_url = center.url.split("?")[0]
    screenshot(center, "18-grades-notice")

    # after the objection window the center finalizes it (over the API), then the bureau proposes the plan
    monkeypatch.setattr(evaluation_notices, "today", lambda: AFTER)
    notice_id = grades_url.rsplit("/", 1)[1]

    async def finalize() -> None:
        r = await portal.platform.call("evaluation", "POST", f"/v1/notices/{notice_id}/finalize", role="center", json={})
        assert r.status_code == 200, r.text

    portal.run(finalize())
    monkeypatch.setattr(evaluation_notices, "today", lambda: PUBLISHED_ON)
    bureau = new_page()
    sign_in_as(bureau, "bureau")
    bureau.get_by_role("link", name="发布公示").click()
    submit(bureau, "form[action='/award-plans']")  # proposed; no notice before the approval (R14(4))
    assert bureau.locator(".alert").count() == 0, bureau.inner_text("main")
    assert "/notices/" not in bureau.url
    for step in ("approve", "notice"):
        bureau.locator("form[action='/award-plans'] select[name=step]").select_option(step)
        submit(bureau, "form[action='/award-plans']")
        assert bureau.locator(".alert").count() == 0, bureau.inner_text("main")
    assert "许昌学院" in bureau.inner_text("main") and "/notices/" in bureau.url
    screenshot(bureau, "19-award-plan-notice")

    public = new_page()
    public.goto("/notices")
    assert public.locator("table.list tbody tr").count() == 2
    screenshot(public, "20-notices")
