"""Complaints clicked through (issue 17; M11(6) 接受社会监督): the user orders, then
complains from the order's page (no category: refused at the field, the text kept),
reads the TS case number, the status and the deadline, and finds it in 我的投诉; the
unit reads it without who complained; the center counts it on its workspace, finds it
by its case number, is refused without a reason, and upholds it; the user reads the
decision. Its own module: its own platform."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest

from tests.browser.conftest import RunningPortal, screenshot
from tests.support.browser_pages import (
    current_step,
    next_step,
    sign_in_as,
    submit,
    waiting,
)
from tests.support.foreign_text import foreign_text

pytestmark = pytest.mark.browser

TEXT = "检测收费高于平台公布的收费标准"
CONTACT = "李经理 13900000000"
REASON = "经核实，收费高于公布标准，责令退还差价"


def _clean(page: Any) -> None:
    assert not foreign_text(page.inner_text("body")), foreign_text(page.inner_text("body"))


def test_a_user_complains_about_its_order_and_the_center_decides(portal: RunningPortal, new_page: Callable[[], Any]) -> None:
    user, unit, center = new_page(), new_page(), new_page()
    sign_in_as(user, "user")
    sign_in_as(unit, "unit")
    sign_in_as(center, "center")
    open_before = waiting(center, "complaints_open")

    # the user orders a sample's observation, then complains from the order's page
    user.goto("/instruments")
    user.get_by_label("关键词").fill("电子显微镜")
    user.get_by_label("关键词").press("Enter")
    user.get_by_role("link", name="扫描电子显微镜").click()
    user.get_by_role("button", name="预约下单").click()
    order_case = user.locator("#case-no").inner_text()
    user.locator("#complain").click()
    assert order_case in user.inner_text("#complaint-subject") and "许昌学院" in user.inner_text("#complaint-subject")
    form = user.locator("#complaint-form")
    form.get_by_label("投诉内容").fill(TEXT)
    form.get_by_label("联系方式").fill(CONTACT)
    submit(user, "#complaint-form")
    assert user.inner_text("#category-error") == "请选择投诉类别"
    assert user.locator("#complaint-form textarea[name=text]").input_value() == TEXT
    _clean(user)
    user.locator("#complaint-form select[name=category]").select_option(label="收费")
    submit(user, "#complaint-form")
    case_no = user.inner_text("#case-no")
    assert re.fullmatch(r"TS-\d{4}-\d{6}", case_no), case_no
    assert user.inner_text("#complaint-status") == "待处理" and re.match(r"\d{4}-\d{2}-\d{2}（\d+ 个工作日）", user.inner_text("#complaint-due"))
    due_on = user.inner_text("#complaint-due")[:10]
    assert (current_step(user, "#complaint-progress"), next_step(user, "#complaint-progress")) == ("服务中心处理", f"服务中心将在{due_on}前核实处理并答复您")
    _clean(user)
    screenshot(user, "70-complaint-filed")
    user.get_by_role("link", name="我的投诉").first.click()
    assert case_no in user.inner_text("#complaints")

    # the unit reads what it is accused of, not who complained
    unit.get_by_role("link", name="本单位被投诉事项").click()
    unit.get_by_role("link", name=case_no).click()
    assert unit.inner_text("#complaint-text") == TEXT and CONTACT not in unit.inner_text("main")
    assert unit.locator("#decision-form").count() == 0

    # the center: one more to handle; found by its case number as typed; a reason is required
    assert waiting(center, "complaints_open") == open_before + 1
    center.get_by_role("link", name="投诉处理").click()
    center.get_by_label("受理编号").fill(case_no.lower())
    with center.expect_navigation():
        center.get_by_role("button", name="搜索").click()
    assert center.locator("#complaints tbody tr").count() == 1
    center.get_by_role("link", name=case_no).click()
    assert center.inner_text("#complaint-contact") == CONTACT
    assert next_step(center, "#complaint-progress") == f"请在{due_on}前核实投诉并作出处理决定"
    center.locator("#decision-form input[name=outcome][value=upheld]").check()
    submit(center, "#decision-form")
    assert center.inner_text("#reason-error") == "处理投诉须填写理由"
    _clean(center)
    center.locator("#decision-form").get_by_label("处理理由").fill(REASON)
    center.locator("#decision-form input[name=outcome][value=upheld]").check()
    submit(center, "#decision-form")
    assert center.inner_text("#complaint-status") == "投诉成立" and center.locator("#decision-form").count() == 0
    screenshot(center, "71-complaint-decided")
    assert waiting(center, "complaints_open") == open_before

    # the user reads the decision
    user.reload()
    user.get_by_role("link", name=case_no).click()
    assert user.inner_text("#complaint-status") == "投诉成立" and user.inner_text("#complaint-reason") == REASON
    assert next_step(user, "#complaint-progress") == "投诉成立，处理意见见上"
    _clean(user)
