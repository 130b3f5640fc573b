"""The portal in a real Chromium (Playwright): the order → voucher →
settlement journey of tests/integration/journeys/test_journey.py clicked through by
the user, the unit and the center; signing in and out; the public pages. A
screenshot of each main page goes to .xciss/test-artifacts/screenshots/. (A
unit's own pages are in test_portal_units.py, the notices in
test_portal_notices.py, a rejection's appeal in test_portal_review.py.)"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from services.command.demo import create_officer_accounts, load_demo
from services.gateway.portal.core import money
from services.gateway.portal.demo_accounts import DEMO_PASSWORD
from tests.browser.conftest import RunningPortal, screenshot
from tests.support.browser_pages import (
    apply_for_voucher,
    current_step,
    next_step,
    settle,
    sign,
    sign_in_as,
    status_of,
    submit,
    until,
    waiting,
)
from tests.support.foreign_text import foreign_text
from tests.support.registry import PROOF, RESULT

pytestmark = pytest.mark.browser

PDF = b"%PDF-1.7\n% contract of the browser journey\n" + b"x" * 1000  # one contract, one voucher (R22): its own bytes


def test_public_pages_and_sign_in(portal: RunningPortal, new_page: Callable[[], Any]) -> None:
    page = new_page()
    page.goto("/")
    assert "许昌市科研设施和仪器开放共享平台" in page.title()
    assert page.locator(".stat b").first.inner_text() != "0"
    screenshot(page, "01-home")

    page.goto("/instruments")
    page.get_by_label("关键词").fill("显微镜")
    page.get_by_label("县（市、区）").select_option(label="魏都区")
    with page.expect_navigation():
        page.get_by_role("button", name="搜索").click()
    rows = page.locator("table.list tbody tr")
    names = [r.inner_text() for r in rows.all()]
    assert any("扫描电子显微镜" in n for n in names), names
    assert all("许昌学院" in n for n in names), names
    screenshot(page, "02-catalogue")

    # filters by category; pagination (5 a page here) keeps the filters
    page.goto("/instruments?category=分析仪器")
    assert page.locator("table.list tbody tr").count() >= 4
    page.goto("/instruments?page_size=5")
    assert page.locator("table.list tbody tr").count() == 5
    page.get_by_role("link", name="下一页").click()
    assert "page=2" in page.url and "page_size=5" in page.url
    assert 1 <= page.locator("table.list tbody tr").count() <= 5
    assert page.get_by_role("link", name="上一页").count() == 1

    page.goto("/instruments?q=质谱")
    page.get_by_role("link", name="液相色谱-质谱联用仪").click()
    assert "农药残留检测" in page.inner_text("main")
    screenshot(page, "03-instrument")

    page.goto("/blacklist")
    assert page.locator("h1").inner_text() == "诚信黑名单"
    page.goto("/notices")
    assert page.locator("h1").inner_text() == "公示公告"

    # English on request, remembered by a cookie
    page.goto("/?lang=en")
    assert "Xuchang Research Instrument Sharing Platform" in page.title()
    page.goto("/instruments")
    assert page.locator("h1").inner_text() == "Instruments"
    page.goto("/?lang=zh")

    # sign-in: local accounts (the sessions endpoint answers its refusal) and demo roles
    page.goto("/signin")
    screenshot(page, "04-signin")
    page.get_by_label("用户名").fill("nobody")
    page.get_by_label("密码").fill("wrong-password")
    page.locator("form[action='/signin']").get_by_role("button").click()
    assert page.locator(".alert").count() == 1
    roles = page.locator("button[data-role]")
    assert sorted(roles.evaluate_all("bs => bs.map(b => b.dataset.role)")) == sorted(["user", "unit", "center", "bureau", "department", "expert", "finance"])

    # the session cookie is HttpOnly and SameSite=Lax; sign-out clears it
    sign_in_as(page, "finance")
    cookie = [c for c in page.context.cookies() if c["name"] == "xciss_session"][0]
    assert cookie["httpOnly"] and cookie["sameSite"] == "Lax"
    page.goto("/finance")
    assert page.locator("h1").inner_text() == "兑付与付款"
    screenshot(page, "05-finance")
    page.locator("form[action='/signout'] button").click()
    assert not [c for c in page.context.cookies() if c["name"] == "xciss_session"]
    for role, path, title in [("department", "/queue", "评价申请（本部门）"), ("expert", "/queue", "评审任务"), ("bureau", "/dashboard", "年度看板")]:
        sign_in_as(page, role)
        page.goto(path)
        assert title in page.locator("h1").inner_text()
        screenshot(page, f"06-{role}")
        page.locator("form[action='/signout'] button").click()


def test_a_demo_account_signs_in_with_its_password_and_sign_out_revokes(portal: RunningPortal, new_page: Callable[[], Any]) -> None:
    """Issue 9: the demo loader made a real local account per business role;
    the form signs in through POST /api/registry/v1/sessions, a wrong
    password is answered next to the form in Chinese, and signing out ends
    the session (its token is then refused by the API)."""
    assert portal.demo_created["accounts"] == 7
    page = new_page()
    page.goto("/signin")
    assert DEMO_PASSWORD in page.locator("#demo-password").inner_text()
    assert "demo-center" in page.locator(".demo").inner_text()

    form = page.locator("form[action='/signin']")
    page.get_by_label("用户名").fill("demo-center")
    page.get_by_label("密码").fill("Wrong-Password-2026")
    form.get_by_role("button").click()
    page.wait_for_load_state()
    error = page.locator("#signin-error")
    assert "用户名或密码错误" in error.inner_text()
    # next to the form (in its section), the username kept, no session
    assert page.locator("section:has(form[action='/signin']) #signin-error").count() == 1
    assert page.get_by_label("用户名").input_value() == "demo-center"
    assert not [c for c in page.context.cookies() if c["name"] == "xciss_session"]
    screenshot(page, "04b-signin-wrong-password")

    page.get_by_label("密码").fill(DEMO_PASSWORD)
    form.get_by_role("button").click()
    page.wait_for_url(re.compile(r".*/workspace$"))
    assert "市科技创新公共服务中心" in page.locator(".who").inner_text()
    token = [c for c in page.context.cookies() if c["name"] == "xciss_session"][0]["value"]
    bearer = {"Authorization": f"Bearer {token}"}
    assert httpx.get(f"{portal.url}/api/registry/v1/users/", headers=bearer).status_code == 200

    page.locator("form[action='/signout'] button").click()
    page.wait_for_url(re.compile(r".*/$"))
    assert not [c for c in page.context.cookies() if c["name"] == "xciss_session"]
    until(lambda: httpx.get(f"{portal.url}/api/registry/v1/users/", headers=bearer).status_code == 401, "the revocation of the signed-out token", 10)

    # another role's account, bound to its party: the unit signs in and sees its own unit
    page.goto("/signin")
    page.get_by_label("用户名").fill("demo-unit")
    page.get_by_label("密码").fill(DEMO_PASSWORD)
    form.get_by_role("button").click()
    page.wait_for_url(re.compile(r".*/workspace$"))
    assert "许昌学院" in page.locator(".who").inner_text()
    page.locator("form[action='/signout'] button").click()

    # idempotent: a second load keeps the accounts (409 account.username_taken); the
    # officers' accounts, as xciss up creates them, likewise, and they sign in too
    assert portal.run(load_demo(portal.settings, portal.url))["accounts"] == 0
    assert portal.run(create_officer_accounts(portal.settings)) == 3
    assert portal.run(create_officer_accounts(portal.settings)) == 0
    r = httpx.post(f"{portal.url}/api/registry/v1/sessions", json={"username": "demo-sysadmin", "password": DEMO_PASSWORD})
    assert r.status_code == 201 and r.json()["role"] == "sysadmin", r.text


def test_a_form_without_the_csrf_token_is_refused(portal: RunningPortal, new_page: Callable[[], Any]) -> None:
    page = new_page()
    sign_in_as(page, "user")
    r = page.request.post(f"{portal.url}/vouchers/account", form={"_csrf_token": "forged"})
    assert r.status == 403 and "表单已过期" in r.text()


def test_order_voucher_settle_pay_rate(portal: RunningPortal, new_page: Callable[[], Any]) -> None:
    committed_before = portal.run(_committed_fen(portal))  # what was committed before this journey (demo data, other tests)
    user, unit, center = new_page(), new_page(), new_page()
    sign_in_as(user, "user")
    sign_in_as(unit, "unit")
    sign_in_as(center, "center")

    # each lands on its workspace: what waits for it, counted
    to_sign, to_quote = waiting(user, "to_sign"), waiting(unit, "to_quote")

    # the user finds the unit's scanning electron microscope and orders 2 samples
    user.goto("/instruments")
    user.get_by_label("关键词").fill("电子显微镜")
    user.get_by_label("关键词").press("Enter")
    user.get_by_role("link", name="扫描电子显微镜").click()
    user.get_by_label("数量").fill("2")
    user.get_by_label("需求说明").fill("锂电池正极材料形貌观察")
    user.get_by_role("button", name="预约下单").click()
    assert status_of(user) == "已申请"
    order_url = user.url.split("?")[0]
    screenshot(user, "07-order-requested")

    # the order is named by a case number people can say on the phone, and found by it as typed
    case_no = user.locator("#case-no").inner_text()
    assert re.fullmatch(r"DD-\d{4}-\d{6}", case_no), case_no
    # where the order stands and what comes next, for whoever looks (issue 17)
    assert (current_step(user), next_step(user)) == ("单位报价", "等待服务单位确认订单并报价")
    # on a 390 px phone the steps stack: the page does not scroll sideways, each step keeps one line
    user.set_viewport_size({"width": 390, "height": 844})
    assert user.evaluate("document.scrollingElement.scrollWidth") <= 390
    heights = [box["height"] for li in user.locator("#order-progress li").all() if (box := li.bounding_box())]
    assert len(heights) == 7 and max(heights) < 40, heights
    user.set_viewport_size({"width": 1280, "height": 900})

    # the unit's workspace counts the new request; after the quote it is the user's turn
    assert waiting(unit, "to_quote") == to_quote + 1

    # the unit quotes 1,000 CNY
    unit.goto("/orders")
    screenshot(unit, "08-unit-orders")
    unit.get_by_label("订单编号").fill(case_no.lower())
    with unit.expect_navigation():
        unit.get_by_role("button", name="搜索").click()
    assert unit.locator("table.list tbody tr").count() == 1 and unit.get_by_role("link", name=case_no).count() == 1, unit.inner_text("main")
    unit.goto(order_url)
    unit.get_by_label("报价金额（元）").fill("一千")  # refused by the service, shown next to the field
    unit.get_by_role("button", name="报价").click()
    assert unit.locator(".alert").count() == 1 and unit.locator(".field-error").count() == 1, unit.inner_text("main")
    unit.get_by_label("报价金额（元）").fill("1000")
    # above the published price list of a fiscally funded instrument: only with a reason (M11(4))
    unit.get_by_label("高于公布收费标准的理由").fill("含加急制样和喷金处理")
    unit.get_by_role("button", name="报价").click()
    assert status_of(unit) == "已报价"
    assert (current_step(unit), next_step(unit)) == ("签订合同", "请上传服务合同和科技研发证明材料，填写合同条款后签署合同")
    assert waiting(unit, "to_quote") == to_quote and waiting(user, "to_sign") == to_sign + 1
    user.locator("li[data-task='to_sign'] a").click()  # the count leads to the orders waiting
    assert user.get_by_role("link", name=case_no).count() == 1, user.inner_text("main")

    # the user uploads the contract, the unit the R&D proof; the user fills the terms; both sign
    user.goto(order_url)
    form = user.locator("form[action$='/document']")
    form.get_by_label("类型").select_option("contract")
    form.get_by_label("文件", exact=True).set_input_files({"name": "服务合同.pdf", "mimeType": "application/pdf", "buffer": PDF})
    submit(user, "form[action$='/document']")
    unit.goto(order_url)
    form = unit.locator("form[action$='/document']")
    form.get_by_label("类型").select_option("rd_proof")
    form.get_by_label("文件", exact=True).set_input_files({"name": "研发证明.png", "mimeType": "image/png", "buffer": PROOF})
    submit(unit, "form[action$='/document']")
    user.goto(order_url)
    assert user.get_by_label("检测费（元）").input_value() == "1000.00"
    submit(user, "form[action$='/contract']")
    assert user.locator(".alert").count() == 0, user.inner_text("main")
    screenshot(user, "09-contract")
    unit.goto(order_url)  # the unit opens the order before the user signs
    # one click does not sign: the box is refused at its place, then ticked
    submit(user, "form[action$='/sign']")
    assert user.locator("#confirm-error").inner_text() == "请勾选“我已阅读并同意合同条款”后再签署"
    sign(user)
    # the unit signs what its page showed, but the order changed since (the user's
    # signature): it is shown the order as it is now and asked to look again
    sign(unit)
    assert "已被他人修改" in unit.inner_text(".alert"), unit.inner_text("main")
    assert status_of(unit) != "已签约"
    sign(unit)
    assert status_of(unit) == "已签约"
    assert (current_step(unit), next_step(unit)) == ("开展服务", "合同已签订，请开始服务")

    # the user applies for a voucher (vouchers learns the contract from the bus)
    apply_for_voucher(user, order_url)
    assert "待审核" in user.locator("#application-status").inner_text()
    assert (current_step(user, "#application-progress"), next_step(user, "#application-progress")) == ("资格审核", "等待服务中心审核创新券申请")
    # the application has a case number of its own, shown in the review queue and found by it as typed
    application_no = user.locator("#application-case-no").inner_text()
    assert re.fullmatch(r"SQ-\d{4}-\d{6}", application_no), application_no

    # the center approves it in its review queue: 30% of 1,000 CNY
    center.goto("/review")
    screenshot(center, "10-review-queue")
    row = center.locator("#queue tbody tr", has=center.locator(f"a[href='{order_url.split(portal.url)[1]}']"))
    assert "¥300.00" in row.inner_text() and application_no in row.inner_text()
    # the applicant is named (the demo user's enterprise) and the order by its case number, never by an id (issue 17)
    assert row.locator("td.applicant").inner_text() == "许昌智造科技有限公司" and row.get_by_role("link", name=case_no).count() == 1, row.inner_text()
    assert not foreign_text(center.inner_text("body")), foreign_text(center.inner_text("body"))
    center.locator("#application-filter").get_by_label("申请编号").fill(" " + application_no.lower())
    with center.expect_navigation():
        center.locator("#application-filter").get_by_role("button", name="搜索").click()
    assert center.locator("#recent tbody tr").count() == 1 and application_no in center.inner_text("#recent"), center.inner_text("main")
    row.get_by_role("button", name="通过").click()
    assert center.locator(".flash").count() == 1
    user.goto(order_url)
    assert "已通过" in user.locator("#application-status").inner_text()
    assert next_step(user, "#application-progress").startswith("创新券已发放，请在 ")
    # on /vouchers the application's row tracks it with its voucher: issued, to be used by its expiry
    user.goto("/vouchers")
    row = user.locator("#applications tbody tr", has_text=application_no)
    assert row.locator("li[aria-current=step]").text_content().endswith("使用创新券"), row.inner_text()
    assert re.fullmatch(r"创新券已发放，请在 \d{4}-\d{2}-\d{2} 前完成服务并结算", row.locator(".next-text").inner_text()), row.inner_text()

    # the unit starts the service and uploads the results
    unit.goto(order_url)
    submit(unit, "form[action$='/start']")
    assert status_of(unit) == "服务中"
    form = unit.locator("form[action$='/document']")
    form.get_by_label("文件", exact=True).set_input_files({"name": "检测报告.pdf", "mimeType": "application/pdf", "buffer": RESULT})
    form.get_by_label("服务机时（小时）").fill("6")
    submit(unit, "form[action$='/document']")
    assert status_of(unit) == "已交付结果"

    # the user settles: the voucher is deducted, 700 CNY remain; pays them
    settle(user, order_url)
    facts = user.locator("#settlement").inner_text()
    assert "¥1,000.00" in facts and "¥300.00" in facts and "¥700.00" in facts, facts
    user.get_by_label("银行流水号").fill("ICBC-20261127-000123")
    submit(user, "form[action$='/pay']")
    assert user.locator(".alert").count() == 0, user.inner_text("main")
    screenshot(user, "11-settlement")

    # registry learns the payment from the bus; then the user rates the service
    def rateable() -> bool:
        user.goto(order_url)
        return status_of(user) == "已结算"

    until(rateable, "the order settled")
    user.get_by_label("评分（1–5）").select_option("5")
    user.get_by_label("评价").fill("数据可靠，服务及时")
    submit(user, "form[action$='/rate']")
    assert status_of(user) == "已评价"
    assert next_step(user) == "订单已完成" and user.locator("#order-progress li[aria-current=step]").count() == 0
    assert next_step(user, "#application-progress") == "创新券已在结算中抵扣使用"  # the voucher, read with the application
    screenshot(user, "12-order-rated")

    user.goto("/vouchers")
    assert "已使用" in user.inner_text("main") and application_no in user.inner_text("#applications")
    row = user.locator("#applications tbody tr", has_text=application_no)
    assert row.locator(".next-text").inner_text() == "创新券已在结算中抵扣使用", row.inner_text()
    # the application and the voucher name the order as people say it, and link to it
    assert user.locator("#applications").get_by_role("link", name=case_no).count() == 1, user.inner_text("#applications")
    assert user.locator("main").get_by_role("link", name=case_no).count() == 2, user.inner_text("main")
    screenshot(user, "13-my-vouchers")
    user.goto("/orders")
    assert "已评价" in user.inner_text("main")

    # the bureau's dashboard shows the budget committed: 300 CNY more than before
    bureau = new_page()
    sign_in_as(bureau, "bureau")
    bureau.goto("/dashboard")
    assert money(committed_before + 30_000) in bureau.inner_text("#budget-form"), bureau.inner_text("main")
    screenshot(bureau, "14-dashboard")


async def _committed_fen(portal: RunningPortal) -> int:
    from tests.support.vouchers import programme

    return int((await programme(portal.platform))["committed_fen"])
