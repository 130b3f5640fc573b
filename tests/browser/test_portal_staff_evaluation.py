"""The center's and the bureau's evaluation work on pages (issue 17, item 5): the center
registers experts in /experts (a missing name refused at its field), assigns them to the
demo unit's forwarded application in /experts/assignments (an expert of the unit itself
refused at the expert field, as conflict of interest); once the application is graded and
its notice published (over the API), a visitor objects on the notice's page (a missing
phone and a wrong one refused at the phone field), the line is held, the center resolves
the objection on the same page (no reason: refused at the reason; "corrected" before the
case is decided again: refused at the outcome), the bureau only reads. Its own module: the
demo unit applies once a year."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date
from typing import Any

import pytest

from services.evaluation import notices as evaluation_notices
from tests.browser.conftest import RunningPortal, screenshot
from tests.support.browser_pages import sign_in_as, submit
from tests.support.evidence import documents
from tests.support.foreign_text import foreign_text

pytestmark = pytest.mark.browser

PUBLISHED_ON = date(2026, 6, 1)  # a Monday: the window runs to 8 June
UNIT = "许昌学院"
EXPERTS = {"管理专家甲": "management", "技术专家丙": "technical", "财务专家丁": "finance"}
SHEETS = {"management": {"org.rules": 800, "org.staff": 600}, "technical": {"op.condition": 1200, "share.effect": 400}, "finance": {"org.finance": 600, "share.fees": 400}}


async def _call(portal: RunningPortal, method: str, path: str, role: str | None = None, org: str | None = None, json: Any = None, service: str = "evaluation") -> Any:
    r = await portal.platform.call(service, method, path, role=role, org=org, json=json)
    assert r.status_code in (200, 201), r.text
    return r.json()


async def _forwarded(portal: RunningPortal) -> str:
    """The demo unit applies and its department forwards it (their pages are tested elsewhere)."""
    units = (await _call(portal, "GET", "/v1/units/", service="registry"))["items"]
    unit_id = next(u["unit_id"] for u in units if u["name"] == UNIT)
    app = await _call(portal, "POST", "/v1/applications/", "unit", unit_id, {"year": 2026, "documents": await documents(portal.platform, unit_id)})
    await _call(portal, "POST", f"/v1/applications/{app['application_id']}/forward", "department", "魏都区科技局", {})
    return str(app["application_id"])


async def _graded_and_noticed(portal: RunningPortal, application_id: str) -> str:
    """The assigned experts score, the center grades and publishes the grades notice (over the API)."""
    for a in (await _call(portal, "GET", "/v1/assignments/", "center"))["items"]:
        if a["application_id"] == application_id:
            body = {"scores": SHEETS[a["role"]], "onsite_date": "2026-05-20", "findings": "现场核查：仪器运行正常，记录完整"}
            await _call(portal, "POST", f"/v1/assignments/{a['assignment_id']}/scores", "expert", a["expert_id"], body)
    await _call(portal, "POST", f"/v1/applications/{application_id}/grade", "center", json={})
    return str((await _call(portal, "POST", "/v1/notices/", "center", json={"kind": "grades", "year": 2026}))["notice_id"])


def _clean(page: Any) -> None:
    assert not foreign_text(page.inner_text("body")), foreign_text(page.inner_text("body"))


def test_experts_assignments_and_objections(portal: RunningPortal, new_page: Callable[[], Any], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(evaluation_notices, "today", lambda: PUBLISHED_ON)
    application_id = portal.run(_forwarded(portal))

    # the center registers experts; a missing name is refused at its field, the rest kept
    center = new_page()
    sign_in_as(center, "center")
    center.get_by_role("link", name="评审专家库").click()
    form = center.locator("#expert-form")
    form.locator("select[name=role]").select_option("technical")
    submit(center, "#expert-form")
    assert "此项必填" in form.locator("label", has_text="专家姓名").locator(".field-error").inner_text(), center.inner_text("main")
    assert form.locator("select[name=role]").input_value() == "technical"
    _clean(center)
    form.get_by_label("专家姓名").fill("技术专家乙")
    form.get_by_role("searchbox", name="所在单位", exact=True).fill(UNIT)
    submit(center, "#expert-form")
    assert center.locator(".alert").count() == 0, center.inner_text("main")
    for name, role in EXPERTS.items():
        form = center.locator("#expert-form")
        form.get_by_label("专家姓名").fill(name)
        form.locator("select[name=role]").select_option(role)
        submit(center, "#expert-form")
        assert center.locator(".flash").count() == 1, center.inner_text("main")
    row = center.locator("#experts tbody tr", has_text="技术专家乙")
    assert UNIT in row.inner_text() and "技术专家" in row.inner_text()
    center.goto("/experts?role=finance")
    assert center.locator("#experts tbody tr", has_text="财务专家丁").count() == 1
    assert center.locator("#experts tbody tr", has_text="技术专家乙").count() == 0
    _clean(center)
    screenshot(center, "50-expert-pool")

    # assigning an expert of the unit itself is refused at the expert, the others assigned
    center.get_by_role("link", name="指派评审专家").first.click()
    row = center.locator(f"#applications tbody tr[data-application='{application_id}']")
    assert UNIT in row.inner_text() and "已报送" in row.inner_text()
    row.locator("select[name=expert_id]").select_option(label="技术专家乙（技术专家）")
    row.locator("button[type=submit]").click()  # not confirmed: refused at the confirmation
    center.wait_for_load_state()
    row = center.locator(f"#applications tbody tr[data-application='{application_id}']")
    assert "勾选确认" in row.locator(".field-error").inner_text(), center.inner_text("main")
    row.locator("input[name=confirm]").check()
    row.locator("button[type=submit]").click()
    center.wait_for_load_state()
    row = center.locator(f"#applications tbody tr[data-application='{application_id}']")
    assert "回避" in row.locator(".field-error").inner_text(), center.inner_text("main")
    _clean(center)
    for name, role in EXPERTS.items():
        row = center.locator(f"#applications tbody tr[data-application='{application_id}']")
        row.locator("select[name=expert_id]").select_option(label=f"{name}（{ {'management': '管理专家', 'technical': '技术专家', 'finance': '财务专家'}[role] }）")
        row.locator("input[name=confirm]").check()
        row.locator("button[type=submit]").click()
        center.wait_for_load_state()
        assert center.locator(".alert").count() == 0, center.inner_text("main")
    assigned = center.locator(f"#applications tbody tr[data-application='{application_id}'] td.assigned").inner_text()
    assert all(name in assigned for name in EXPERTS) and "技术专家乙" not in assigned and "待评分" in assigned
    screenshot(center, "51-expert-assignments")

    # the bureau reads the pool and the assignments, assigns nothing
    bureau = new_page()
    sign_in_as(bureau, "bureau")
    bureau.get_by_role("link", name="指派评审专家").click()
    assert "管理专家甲" in bureau.inner_text("#applications")
    assert bureau.locator("#applications form").count() == 0
    bureau.goto("/experts")
    assert bureau.locator("#expert-form").count() == 0 and bureau.locator("#experts tbody tr").count() >= 4

    # graded and published (over the API): a visitor objects on the notice's page
    notice_id = portal.run(_graded_and_noticed(portal, application_id))
    visitor = new_page()
    # the notice's case number on its page, and the list finds it as typed (issue 17)
    visitor.goto(f"/notices/{notice_id}")
    case_no = visitor.inner_text("#case-no")
    assert re.fullmatch(r"GS-\d{4}-\d{6}", case_no), case_no
    visitor.goto("/notices")
    visitor.locator("#notice-filter input[name=case_no]").fill(" " + case_no.lower())
    submit(visitor, "#notice-filter")
    rows = visitor.locator("main table.list tbody tr")
    assert rows.count() == 1 and case_no in rows.inner_text(), visitor.inner_text("main")
    rows.locator("a").first.click()
    visitor.wait_for_load_state()
    assert visitor.url.split("?")[0].endswith(f"/notices/{notice_id}")
    assert visitor.locator("#objections").count() == 0  # the list is for staff
    form = visitor.locator("#objection-form")
    form.locator("select[name=ref]").select_option(label=visitor.locator("#objection-form select[name=ref] option").nth(1).inner_text())
    form.get_by_label("真实姓名").fill("王建国")
    form.get_by_label("异议内容").fill("该单位部分仪器全年未对外服务，评定等次偏高")
    submit(visitor, "#objection-form")
    phone = visitor.locator("#objection-form label", has_text="联系电话").locator(".field-error")
    assert "电话" in phone.inner_text(), visitor.inner_text("main")
    assert visitor.locator("#objection-form textarea[name=text]").input_value().startswith("该单位")
    _clean(visitor)
    visitor.locator("#objection-form").get_by_label("联系电话").fill("12")
    submit(visitor, "#objection-form")
    assert "格式不正确" in visitor.locator("#objection-form label", has_text="联系电话").locator(".field-error").inner_text(), visitor.inner_text("main")
    visitor.locator("#objection-form").get_by_label("联系电话").fill("13812345678")
    submit(visitor, "#objection-form")
    assert visitor.locator("#objection-raised").count() == 1, visitor.inner_text("main")
    assert "异议处理中" in visitor.inner_text("#lines")
    _clean(visitor)
    screenshot(visitor, "52-notice-objection")

    # the center sees it masked and resolves it: the reason and the outcome refused at their fields
    center.goto(f"/notices/{notice_id}")
    row = center.locator("#objection-list tbody tr", has_text="王建国")
    assert "138****5678" in row.inner_text() and "待处理" in row.inner_text() and "13812345678" not in row.inner_text()
    row.locator("button[type=submit]").click()
    center.wait_for_load_state()
    row = center.locator("#objection-list tbody tr", has_text="王建国")
    assert "理由" in row.locator("label", has_text="处理理由").locator(".field-error").inner_text(), center.inner_text("main")
    row.locator("select[name=outcome]").select_option("corrected")
    row.get_by_label("处理理由").fill("经核实，等次无误")
    row.locator("button[type=submit]").click()
    center.wait_for_load_state()
    row = center.locator("#objection-list tbody tr", has_text="王建国")
    assert "重新评定" in row.locator("label", has_text="处理结论").locator(".field-error").inner_text(), center.inner_text("main")
    assert row.get_by_label("处理理由").input_value() == "经核实，等次无误"
    _clean(center)
    row.locator("select[name=outcome]").select_option("upheld_line")
    row.locator("button[type=submit]").click()
    center.wait_for_load_state()
    assert center.locator(".flash").count() == 1, center.inner_text("main")
    row = center.locator("#objection-list tbody tr", has_text="王建国")
    assert "已处理" in row.inner_text() and "维持公示内容" in row.inner_text() and "经核实" in row.inner_text()
    assert "公示中" in center.inner_text("#lines")
    screenshot(center, "53-objection-resolved")

    # the bureau reads the objections, resolves nothing; English on request
    bureau.goto(f"/notices/{notice_id}")
    assert "已处理" in bureau.inner_text("#objection-list") and bureau.locator(".resolve-form").count() == 0
    bureau.goto(f"/notices/{notice_id}?lang=en")
    assert "Objections" in bureau.inner_text("#objections") and "line upheld" in bureau.inner_text("#objection-list")
    bureau.goto(f"/notices/{notice_id}?lang=zh")


@pytest.mark.parametrize("role", ["center", "bureau"])
def test_staff_evaluation_pages_fit_a_390px_phone(portal: RunningPortal, browser: Any, role: str) -> None:
    ctx = browser.new_context(base_url=portal.url, locale="zh-CN", viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    try:
        page = ctx.new_page()
        sign_in_as(page, role)
        notices = page.goto("/notices") and page.locator("main table.list tbody a")
        paths = ["/experts", "/experts/assignments?status=all"] + ([str(notices.first.get_attribute("href"))] if notices.count() else [])
        for path in paths:
            page.goto(path)
            assert page.evaluate("document.scrollingElement.scrollWidth") <= 390, path
            _clean(page)
    finally:
        ctx.close()


@pytest.mark.parametrize("role", ["user", "unit", "finance", "expert"])
def test_other_roles_are_refused(portal: RunningPortal, new_page: Callable[[], Any], role: str) -> None:
    page = new_page()
    sign_in_as(page, role)
    for path in ("/experts", "/experts/assignments"):
        assert page.goto(path).status == 403, path
    assert page.locator("header.top nav a[href='/experts']").count() == 0
