"""The bureau's and the center's supervision pages (issue 17, item 5): city-wide listing
compliance; the bureau records a provincial award (no decision number: refused at its
field; the same unit and year again: refused at the unit) and a fraud finding (a user
cannot be disqualified: refused at the sanctions; no reason: at the reason); the center
reads both lists and records nothing. Its own module: its own platform."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest

from tests.browser.conftest import RunningPortal, screenshot
from tests.support.browser_pages import sign_in_as, submit
from tests.support.foreign_text import foreign_text

pytestmark = pytest.mark.browser

UNIT = "许昌学院"


def _clean(page: Any) -> None:
    assert not foreign_text(page.inner_text("body")), foreign_text(page.inner_text("body"))


def test_compliance_provincial_awards_and_fraud_findings(portal: RunningPortal, new_page: Callable[[], Any]) -> None:
    bureau = new_page()
    sign_in_as(bureau, "bureau")
    bureau.get_by_role("link", name="仪器上线合规情况（全市）").click()
    assert bureau.locator("#compliance-counts tbody tr").count() >= 1 and "台套" in bureau.inner_text("#compliance-total")
    _clean(bureau)
    screenshot(bureau, "57-compliance")

    # a provincial award: the decision number is required, a unit's year once
    bureau.get_by_role("link", name="省级奖补登记").click()
    form = bureau.locator("#provincial-form")
    # the unit picker: a search field named in Chinese; 查找单位 offers the matches, saving nothing
    form.get_by_role("searchbox", name="管理单位", exact=True).fill("许昌")
    form.get_by_role("button", name="查找单位").click()
    bureau.wait_for_load_state()
    matches = bureau.locator("#provincial-form").get_by_role("group", name="符合“许昌”的单位")
    ours = matches.get_by_role("radio", name=re.compile(rf"^{UNIT} [0-9A-Z]{{18}}$"))
    assert ours.count() == 1 and bureau.locator(".flash").count() == 0, bureau.inner_text("main")
    ours.check()
    submit(bureau, "#provincial-form")
    assert "必填" in bureau.locator("#provincial-form label", has_text="省级文件文号").locator(".field-error").inner_text(), bureau.inner_text("main")
    _clean(bureau)
    bureau.locator("#provincial-form").get_by_label("省级文件文号").fill("豫科〔2026〕12号")
    submit(bureau, "#provincial-form")  # not confirmed: refused at the confirmation
    assert "勾选确认" in bureau.locator("#provincial-form .field-error").inner_text(), bureau.inner_text("main")
    assert bureau.locator("#provincial-form input[name=reference]").input_value() == "豫科〔2026〕12号"
    assert bureau.locator("#provincial-form input[name=unit_id_q]").input_value() == UNIT  # the unit chosen stays, by name
    bureau.locator("#provincial-form input[name=confirm]").check()
    submit(bureau, "#provincial-form")
    assert bureau.locator(".flash").count() == 1, bureau.inner_text("main")
    assert "豫科〔2026〕12号" in bureau.locator("#provincial-awards tbody tr", has_text=UNIT).inner_text()
    form = bureau.locator("#provincial-form")
    form.locator("input[name=unit_id_q]").fill(UNIT)
    form.get_by_label("省级文件文号").fill("豫科〔2026〕13号")
    form.locator("input[name=confirm]").check()
    submit(bureau, "#provincial-form")
    assert "已登记" in bureau.locator("#provincial-form #unit_id-error").inner_text(), bureau.inner_text("main")
    _clean(bureau)

    # a fraud finding against a user: no disqualification for a user, a reason required
    bureau.get_by_role("link", name="弄虚作假认定").click()
    form = bureau.locator("#fraud-form")
    form.locator("input[name=party_type][value=user]").check()
    user_name = "许昌高新电气股份有限公司"  # a demo enterprise, found by part of its name (the picker lists no city's worth of users)
    form.locator("input[name=user_id_q]").fill("高新电气")
    form.get_by_label("认定理由").fill("伪造检测合同骗取创新券")
    submit(bureau, "#fraud-form")
    assert "管理单位" in bureau.locator("#fraud-form fieldset", has_text="处理措施").locator(".field-error").inner_text(), bureau.inner_text("main")
    assert bureau.locator("#fraud-form textarea[name=reason]").input_value() == "伪造检测合同骗取创新券"
    _clean(bureau)
    form = bureau.locator("#fraud-form")
    form.locator("input[name=sanctions][value=disqualification]").uncheck()
    form.locator("input[name=sanctions][value=blacklist]").uncheck()
    form.get_by_label("认定理由").fill("")
    submit(bureau, "#fraud-form")
    assert "理由" in bureau.locator("#fraud-form label", has_text="认定理由").locator(".field-error").inner_text(), bureau.inner_text("main")
    assert not bureau.locator("#fraud-form input[name=sanctions][value=blacklist]").is_checked()
    form = bureau.locator("#fraud-form")
    form.get_by_label("认定理由").fill("伪造检测合同骗取创新券")
    form.get_by_label("涉及年度（逗号分隔，不填为全部）").fill("2026")
    submit(bureau, "#fraud-form")
    assert bureau.locator(".flash").count() == 1, bureau.inner_text("main")
    row = bureau.locator("#fraud-findings tbody tr", has_text=user_name)
    assert "通报批评" in row.inner_text() and "2026" in row.inner_text() and "诚信黑名单" not in row.inner_text()
    _clean(bureau)
    screenshot(bureau, "58-fraud-findings")

    # the center reads, records nothing
    center = new_page()
    sign_in_as(center, "center")
    center.get_by_role("link", name="弄虚作假认定").click()
    assert center.locator("#fraud-form").count() == 0 and center.locator("#fraud-findings tbody tr", has_text=user_name).count() == 1
    center.get_by_role("link", name="省级奖补登记").click()
    assert center.locator("#provincial-form").count() == 0 and center.locator("#provincial-awards tbody tr", has_text=UNIT).count() == 1
    center.goto("/supervision/fraud?lang=en")
    assert "Fraud findings" in center.inner_text("h1") and "public criticism" in center.inner_text("#fraud-findings")
    center.goto("/supervision/fraud?lang=zh")


@pytest.mark.parametrize("role", ["user", "unit", "finance", "expert", "department"])
def test_other_roles_are_refused(portal: RunningPortal, new_page: Callable[[], Any], role: str) -> None:
    page = new_page()
    sign_in_as(page, role)
    for path in ("/supervision/compliance", "/supervision/provincial-awards", "/supervision/fraud"):
        assert page.goto(path).status == 403, path
    assert page.locator("header.top nav a[href^='/supervision']").count() == 0
