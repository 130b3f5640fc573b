"""The yearly evaluation in the portal (issue 9): the unit applies with its
materials, its department returns the application with a reason, the unit
resubmits, the department forwards it; the center assigns the demo expert
(over the API: assigning is not a portal page) and the expert fills the score
sheet and the on-site check record. Its own module: the demo unit applies once
a year, and tests/browser/test_portal_notices.py grades it over the API."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from services.command.demo import EXPERT
from services.gateway.portal.core import this_year
from tests.browser.conftest import RunningPortal, screenshot
from tests.support.browser_pages import sign_in_as, submit
from tests.support.foreign_text import foreign_text

pytestmark = pytest.mark.browser

REPORT = b"%PDF-1.7\n% self-assessment of the browser test\n" + b"s" * 500


def test_unit_applies_department_returns_and_forwards_expert_scores(portal: RunningPortal, new_page: Callable[[], Any]) -> None:
    unit = new_page()
    sign_in_as(unit, "unit")
    unit.get_by_role("link", name="绩效评价申报").click()
    assert "年度绩效评价" in unit.inner_text("#cycle")
    form = unit.locator("#evaluation-form")
    form.locator("input[name=self_assessment]").set_input_files({"name": "自评报告.pdf", "mimeType": "application/pdf", "buffer": REPORT})
    form.get_by_label("申报说明").fill("本年度开放共享情况见自评报告")
    submit(unit, "#evaluation-form")
    assert unit.locator(".alert").count() == 0, unit.inner_text("main")
    assert unit.locator("#evaluation-status").inner_text() == "待审核"
    assert "自评报告.pdf" in unit.inner_text("#current")
    # the step tracker: where the application stands and what comes next (issue 17)
    assert unit.locator("#evaluation-progress li[aria-current=step]").text_content().endswith("形式审查")
    assert unit.locator("#evaluation-progress .next-text").inner_text() == "等待主管部门形式审查"
    screenshot(unit, "21-evaluation-application")

    # the department returns it with a reason
    dept = new_page()
    sign_in_as(dept, "department")
    dept.get_by_role("link", name="待办").click()
    row = dept.locator("#queue tbody tr", has_text="许昌学院")
    row.get_by_label("退回理由").fill("请补充专职技术人员名单")
    row.locator("form[action$='/return'] button[type=submit]").click()
    dept.wait_for_load_state()
    assert dept.locator(".alert").count() == 0, dept.inner_text("main")
    assert "已退回" in dept.inner_text("#queue")

    # the unit sees the reason and resubmits; the department forwards it
    unit.goto("/unit/evaluation")
    assert unit.locator("#evaluation-status").inner_text() == "已退回"
    assert "专职技术人员" in unit.inner_text("#review-reason")
    assert unit.locator("#evaluation-progress .next-text").inner_text() == "材料被退回，请按审查意见修改后重新提交"
    form = unit.locator("#evaluation-form")
    form.locator("input[name=self_assessment]").set_input_files({"name": "自评报告-修订.pdf", "mimeType": "application/pdf", "buffer": REPORT + b"+staff"})
    screenshot(unit, "22-evaluation-returned")
    submit(unit, "#evaluation-form")
    assert unit.locator("#evaluation-status").inner_text() == "待审核", unit.inner_text("main")
    dept.goto("/queue")
    screenshot(dept, "23-department-queue")
    dept.locator("#queue tbody tr", has_text="许昌学院").locator("form[action$='/forward'] button[type=submit]").click()
    dept.wait_for_load_state()
    assert "已报送" in dept.inner_text("#queue"), dept.inner_text("main")
    assert not foreign_text(dept.inner_text("body")), foreign_text(dept.inner_text("body"))

    # the center assigns the demo expert over the API; the expert scores in the portal
    async def assign() -> None:
        p = portal.platform
        experts = (await p.call("evaluation", "GET", "/v1/experts/", role="center")).json()["items"]
        expert_id = next(e["expert_id"] for e in experts if e["name"] == EXPERT["name"])
        apps = (await p.call("evaluation", "GET", "/v1/applications/", role="center", params={"status": "forwarded"})).json()["items"]
        r = await p.call("evaluation", "POST", f"/v1/applications/{apps[0]['application_id']}/assignments", role="center", json={"expert_id": expert_id})
        assert r.status_code == 201, r.text

    portal.run(assign())
    expert = new_page()
    sign_in_as(expert, "expert")
    expert.get_by_role("link", name="待办").click()
    # each assignment names the unit it evaluates and the year, never an id (issue 17)
    row = expert.locator("#queue tbody tr").first
    assert row.locator("td.unit-name").inner_text() == "许昌学院" and str(this_year()) in row.inner_text(), expert.inner_text("#queue")
    assert not foreign_text(expert.inner_text("body")), foreign_text(expert.inner_text("body"))
    expert.get_by_role("link", name="评分表").first.click()
    assert "许昌学院" in expert.inner_text("dl.facts") and not foreign_text(expert.inner_text("body")), expert.inner_text("main")
    sheet = expert.locator("#scoring-form")
    inputs = sheet.locator("input[name^='score:']")
    assert inputs.count() >= 1
    # a score above the indicator's maximum is refused next to its field
    for i in range(inputs.count()):
        inputs.nth(i).fill("99")
    sheet.get_by_label("核查日期").fill("2026-05-20")
    sheet.get_by_label("核查意见").fill("现场核查：仪器运行正常，使用记录完整")
    submit(expert, "#scoring-form")
    assert expert.locator(".alert").count() == 1
    for i in range(inputs.count()):
        inputs.nth(i).fill("3.5")
    screenshot(expert, "24-expert-scoring")
    submit(expert, "#scoring-form")
    assert expert.locator(".alert").count() == 0, expert.inner_text("main")
    assert expert.locator("#scoring-status").inner_text() == "已评分"
    assert "3.50" in expert.inner_text("#scores") and "仪器运行正常" in expert.inner_text("main")
    screenshot(expert, "25-expert-scored")


def test_unit_sets_its_payee_account_shown_masked(portal: RunningPortal, new_page: Callable[[], Any]) -> None:
    unit = new_page()
    sign_in_as(unit, "unit")
    unit.get_by_role("link", name="收款账户").click()
    assert "尚未设置收款账户" in unit.inner_text("#payee")
    form = unit.locator("#payee-form")
    form.get_by_label("开户银行").fill("中国工商银行许昌分行")
    form.get_by_label("账户名称").fill("许昌学院")
    form.get_by_label("银行账号").fill("12ab-5678")
    submit(unit, "#payee-form")
    assert "8至32位数字" in form.locator(".field-error").inner_text()
    assert form.get_by_label("开户银行").input_value() == "中国工商银行许昌分行"
    form.get_by_label("银行账号").fill("6222 0217 0800 1234 567")
    submit(unit, "#payee-form")
    assert unit.locator(".alert").count() == 0, unit.inner_text("main")
    masked = unit.locator("#account-masked").inner_text()
    assert masked.endswith("4567") and "62220217080012" not in masked.replace(" ", ""), masked
    assert "6222021708001234567" not in unit.content().replace(" ", "")
    screenshot(unit, "26-unit-payee")
    # two colleagues on the form: where the money goes is not overwritten unseen
    colleague = new_page()
    sign_in_as(colleague, "unit")
    colleague.goto("/unit/payee")
    unit.goto("/unit/payee")
    unit.locator("#payee-form").get_by_label("开户银行").fill("中国建设银行许昌分行")
    unit.locator("#payee-form").get_by_label("银行账号").fill("6227 0000 1111 2222")
    submit(unit, "#payee-form")
    assert unit.locator(".alert").count() == 0 and "中国建设银行许昌分行" in unit.inner_text("#payee"), unit.inner_text("main")
    late = colleague.locator("#payee-form")
    late.get_by_label("开户银行").fill("中国农业银行许昌分行")
    late.get_by_label("银行账号").fill("6228 4800 1234 5678")
    submit(colleague, "#payee-form")
    assert "已被他人修改" in colleague.inner_text(".alert"), colleague.inner_text("main")
    assert "中国建设银行许昌分行" in colleague.inner_text("#payee")  # what is there now, shown
    assert late.get_by_label("开户银行").input_value() == "中国农业银行许昌分行"  # its entry kept
    late.get_by_label("银行账号").fill("6228 4800 1234 5678")  # the number is never put back
    submit(colleague, "#payee-form")  # saved knowingly, over the newer details
    assert colleague.locator(".alert").count() == 0 and "中国农业银行许昌分行" in colleague.inner_text("#payee"), colleague.inner_text("main")


def test_unit_lists_its_prices_and_adds_one(portal: RunningPortal, new_page: Callable[[], Any]) -> None:
    unit = new_page()
    sign_in_as(unit, "unit")
    unit.get_by_role("link", name="收费标准管理").click()
    assert "扫描电子显微镜" in unit.inner_text("#prices")
    before = unit.locator("#prices tbody tr").count()
    form = unit.locator("#price-form")
    form.get_by_label("仪器").select_option(label="X射线衍射仪")
    form.get_by_label("收费项目").fill("物相定性分析")
    form.get_by_label("价格（元）").fill("12.345")
    submit(unit, "#price-form")
    assert form.locator(".field-error").count() >= 1, unit.inner_text("main")
    assert form.get_by_label("收费项目").input_value() == "物相定性分析"
    form.get_by_label("价格（元）").fill("260")
    submit(unit, "#price-form")
    assert unit.locator(".alert").count() == 0, unit.inner_text("main")
    assert unit.locator("#prices tbody tr").count() == before + 1
    assert "物相定性分析" in unit.inner_text("#prices") and "¥260.00" in unit.inner_text("#prices")
    screenshot(unit, "27-unit-prices")
