"""The center's voucher redemption work and the programme budget on pages (issue 17,
item 5): the center sets the year's claim window in /redemption/claims (closing before it
opens: refused at the closing day), lists the demo unit's claim (made over the API after
two vouchers were used), opens it, assigns an expert (one of the unit itself refused at the
expert, as conflict of interest), reviews it voucher by voucher (a rejection without a
reason refused at that voucher's reason); the bureau changes the year's budget on the
dashboard (below what is committed: refused at the amount; no reason: at the reason).
Its own module: its own platform. Each test makes what it needs itself (the budget test
its own committed voucher), so each passes alone and in any order."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest

from services.runtime.clock import local_today
from tests.browser.conftest import RunningPortal, screenshot
from tests.support import vouchers as api
from tests.support.browser_pages import sign_in_as, submit, until
from tests.support.foreign_text import foreign_text
from tests.support.payouts import claim_item, upload, used_vouchers
from tests.support.vouchers import YEAR, Registry

pytestmark = pytest.mark.browser

UNIT = "许昌学院"
PDF = b"%PDF-1.7\n% evidence of the redemption browser test\n"


async def _unit_id(portal: RunningPortal) -> str:
    r = await portal.platform.call("registry", "GET", "/v1/units/", params={"page_size": 100})
    return str(next(u["unit_id"] for u in r.json()["items"] if u["name"] == UNIT))


async def _claim(portal: RunningPortal, unit_id: str, vouchers: list[str]) -> str:
    p = portal.platform
    items = []
    for n, vid in enumerate(vouchers):
        receipt = await upload(p, unit_id, PDF + f"receipt {n}".encode())
        results = await upload(p, unit_id, PDF + f"results {n}".encode())
        items.append(claim_item(vid, receipt, results, number=f"2641200000001234567{n}"))
    r = await p.call("vouchers", "POST", "/v1/redemption/claims", role="unit", org=unit_id, json={"year": YEAR, "items": items})
    assert r.status_code == 201, r.text
    return str(r.json()["claim_id"])


async def _committed_voucher(portal: RunningPortal) -> int:
    """A voucher approved for a new user's order (registry facts as the registry
    publishes them): the year's budget has something committed. Its committed fen."""
    p = portal.platform
    reg = Registry(p)
    unit, user = reg.unit(), reg.user()
    order = reg.order(user, unit)
    await reg.flush()
    await api.activate(p, user)
    r = await api.approve(p, (await api.submit(p, user, order))["application_id"])
    assert r.status_code == 200, r.text
    return int((await api.programme(p))["committed_fen"])


def _clean(page: Any) -> None:
    assert not foreign_text(page.inner_text("body")), foreign_text(page.inner_text("body"))


def test_center_sets_the_window_and_reviews_a_claim(portal: RunningPortal, new_page: Callable[[], Any]) -> None:
    unit_id = portal.run(_unit_id(portal))

    async def tied_expert() -> None:
        r = await portal.platform.call("evaluation", "POST", "/v1/experts/", role="center", json={"name": "本校专家", "role": "finance", "unit_id": unit_id})
        assert r.status_code == 201, r.text

    portal.run(tied_expert())
    _, vouchers = portal.run(used_vouchers(portal.platform, 2, unit=unit_id), 120)

    # the window: closing before it opens is refused at the closing day
    center = new_page()
    sign_in_as(center, "center")
    center.get_by_role("link", name="创新券兑付审核").click()
    assert "尚未设置" in center.inner_text("#window")
    today = local_today()
    form = center.locator("#window-form")
    form.locator("input[name=opens_on]").fill((today + timedelta(days=3)).isoformat())
    form.locator("input[name=closes_on]").fill((today - timedelta(days=3)).isoformat())
    submit(center, "#window-form")
    assert "截止日期早于开始日期" in center.locator("#window-form label", has_text="截止日期").locator(".field-error").inner_text(), center.inner_text("main")
    _clean(center)
    form.locator("input[name=opens_on]").fill((today - timedelta(days=3)).isoformat())
    form.locator("input[name=closes_on]").fill((today + timedelta(days=3)).isoformat())
    submit(center, "#window-form")
    assert center.locator(".flash").count() == 1, center.inner_text("main")
    assert (today + timedelta(days=3)).isoformat() in center.inner_text("#window-days")

    # the unit claims (over the API); the center finds it and opens it
    claim_id = portal.run(_claim(portal, unit_id, vouchers))
    center.goto("/redemption/claims")
    row = center.locator("#claims tbody tr", has_text=UNIT)
    assert "待审核" in row.inner_text()
    _clean(center)
    screenshot(center, "54-redemption-claims")
    # the claim is named by its case number, and found by it as typed
    case_no = row.locator("td.case-no").inner_text()
    assert re.fullmatch(r"DF-\d{4}-\d{6}", case_no), case_no
    center.locator("#claim-filter").get_by_label("兑付申请编号").fill(f" {case_no.lower()} ")
    submit(center, "#claim-filter")
    assert center.locator("#claims tbody tr").count() == 1, center.inner_text("main")
    row = center.locator("#claims tbody tr", has_text=UNIT)
    row.get_by_role("link").click()
    assert claim_id in center.url and UNIT in center.inner_text("h1") and center.locator("#claim-case-no").inner_text() == case_no
    assert center.locator("#claim-items tbody tr").count() == 2
    # the step tracker tells the center its turn (issue 17)
    assert center.locator("#claim-progress li[aria-current=step]").text_content().endswith("中心审核")
    assert center.locator("#claim-progress .next-text").inner_text() == "请审核兑现材料，逐券作出审核结论"

    # an expert of the unit itself is refused at the expert; the demo expert is assigned
    def assigned_tied() -> bool:
        center.goto(f"/redemption/claims/{claim_id}")
        center.locator("#assign-form select[name=expert_id]").select_option(label="本校专家（财务专家）")
        center.locator("#assign-form input[name=confirm]").check()
        submit(center, "#assign-form")
        return center.locator("#assign-form .field-error").count() == 1 and "回避" in center.locator("#assign-form .field-error").inner_text()

    until(assigned_tied, "the conflict of interest refused (the vouchers service learns of the expert by its event)")
    _clean(center)
    center.locator("#assign-form select[name=expert_id]").select_option(label="李建华（技术专家）")
    submit(center, "#assign-form")  # not confirmed: refused at the confirmation
    assert "勾选确认" in center.locator("#assign-form .field-error").inner_text(), center.inner_text("main")
    center.locator("#assign-form select[name=expert_id]").select_option(label="李建华（技术专家）")
    center.locator("#assign-form input[name=confirm]").check()
    submit(center, "#assign-form")
    assert center.locator(".alert").count() == 0, center.inner_text("main")
    assert "李建华" in center.inner_text("#claim-experts")

    # the review: a rejected voucher without a reason is refused at its reason
    second = center.locator("#claim-items tbody tr").nth(1)
    second.locator("input[value=reject]").check()
    submit(center, "#review-form")
    second = center.locator("#claim-items tbody tr").nth(1)
    assert "理由" in second.locator(".field-error").inner_text(), center.inner_text("main")
    assert second.locator("input[value=reject]").is_checked()
    _clean(center)
    second.get_by_label("核减或驳回理由").fill("发票与服务合同不符")
    center.locator("#review-form input[name=confirm]").check()
    submit(center, "#review-form")
    assert center.locator(".flash").count() == 1, center.inner_text("main")
    assert "发票与服务合同不符" in center.inner_text("#claim-items") and center.locator("#review-form button").count() == 0
    screenshot(center, "55-redemption-reviewed")
    assert center.locator("#claim-progress .next-text").inner_text() == "审核已通过，等待兑现公示"  # approved in part

    # the unit follows its claim on its own list: the same step and next step
    unit = new_page()
    sign_in_as(unit, "unit")
    unit.goto("/unit/redemption")
    mine = unit.locator("#claims tbody tr", has_text=case_no)
    assert mine.locator(".next-text").inner_text() == "审核已通过，等待兑现公示", unit.inner_text("main")
    assert mine.locator("li[aria-current=step]").count() == 1
    # the rejected voucher's reason names it by its order's case number or, as here (a voucher
    # whose order the registry does not hold), by the invoice the unit typed; never by its id
    reasons = mine.locator("td").nth(6).inner_text()
    assert re.fullmatch(r"(服务记录 DD-\d{4}-\d{6}|发票号码 \S+)：发票与服务合同不符", reasons), reasons

    # the bureau reads the claims, reviews nothing
    bureau = new_page()
    sign_in_as(bureau, "bureau")
    bureau.get_by_role("link", name="创新券兑付审核").click()
    assert bureau.locator("#window-form").count() == 0
    bureau.goto(f"/redemption/claims/{claim_id}")
    assert bureau.locator("#review-form button").count() == 0


def test_bureau_changes_the_budget_on_the_dashboard(portal: RunningPortal, new_page: Callable[[], Any]) -> None:
    committed_fen = portal.run(_committed_voucher(portal), 120)
    assert committed_fen > 100  # more than the 1 yuan typed below
    bureau = new_page()
    sign_in_as(bureau, "bureau")
    bureau.get_by_role("link", name="年度看板").click()
    form = bureau.locator("#budget-form")
    form.get_by_label("调整后预算（元）").fill("1")
    submit(bureau, "#budget-form")
    assert "理由" in bureau.locator("#budget-form label", has_text="调整理由").locator(".field-error").inner_text(), bureau.inner_text("main")
    form = bureau.locator("#budget-form")
    assert form.get_by_label("调整后预算（元）").input_value() == "1"
    form.get_by_label("调整理由").fill("年中调整")
    submit(bureau, "#budget-form")
    assert "不能低于" in bureau.locator("#budget-form label", has_text="调整后预算").locator(".field-error").inner_text(), bureau.inner_text("main")
    _clean(bureau)
    form = bureau.locator("#budget-form")
    form.get_by_label("调整后预算（元）").fill("12.345")
    submit(bureau, "#budget-form")
    assert "元" in bureau.locator("#budget-form label", has_text="调整后预算").locator(".field-error").inner_text(), bureau.inner_text("main")
    form = bureau.locator("#budget-form")
    form.get_by_label("调整后预算（元）").fill("2,000,000")
    form.get_by_label("调整理由").fill("市财政追加预算")
    submit(bureau, "#budget-form")
    assert bureau.locator(".flash").count() == 1 and "/dashboard" in bureau.url, bureau.inner_text("main")
    assert "¥2,000,000.00" in bureau.inner_text("#budget-form")
    screenshot(bureau, "56-budget-changed")

    finance = new_page()
    sign_in_as(finance, "finance")
    finance.goto("/dashboard")
    assert finance.locator("#budget-form").count() == 1
    center = new_page()
    sign_in_as(center, "center")
    center.goto("/dashboard")
    assert center.locator("#budget-form").count() == 0
    assert center.goto("/programme/budget").status == 403


@pytest.mark.parametrize("role", ["user", "unit", "finance", "expert", "department"])
def test_other_roles_see_no_claims(portal: RunningPortal, new_page: Callable[[], Any], role: str) -> None:
    page = new_page()
    sign_in_as(page, role)
    assert page.goto("/redemption/claims").status == 403
    assert page.locator("header.top nav a[href='/redemption/claims']").count() == 0
