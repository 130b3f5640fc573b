"""The portal in a real Chromium (Playwright): the order → voucher →
settlement journey of tests/integration/journeys/test_journey.py clicked through by
the user, the unit and the center; a unit's Excel ledger import; a notice
published and read; the public pages. A screenshot of each main page goes to
.xciss/test-artifacts/screenshots/."""

from __future__ import annotations

import io
import re
from collections.abc import Callable
from datetime import date
from typing import Any

import httpx
import pytest
from openpyxl import Workbook

from services.command.demo import create_officer_accounts, load_demo
from services.evaluation import notices as evaluation_notices
from services.evaluation import sources as evaluation_sources
from services.evaluation.domain.measures import Measures
from services.gateway.portal.core import money
from services.gateway.portal.demo_accounts import DEMO_PASSWORD
from services.registry import ledger
from tests.browser.conftest import RunningPortal, screenshot
from tests.support.browser_pages import (
    current_step,
    next_step,
    sign,
    sign_in_as,
    status_of,
    submit,
    until,
    waiting,
)
from tests.support.evidence import documents
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
    committed_before = portal.run(_committed_fen(portal))  # what other tests of the module committed
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
    def applied() -> bool:
        user.goto(order_url)
        if user.locator("#application-status").count():
            return True
        submit(user, "form[action$='/apply']")
        return user.locator("#application-status").count() > 0

    until(applied, "the voucher application")
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
    def settled() -> bool:
        user.goto(order_url)
        if user.locator("#settlement").count():
            return True
        submit(user, "form[action$='/settle']")
        return user.locator("#settlement").count() > 0

    until(settled, "the settlement")
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


def test_unit_claims_the_redemption_of_a_used_voucher(portal: RunningPortal, new_page: Callable[[], Any]) -> None:
    """The demo unit holds a used voucher of ¥300.00 (made over the API here, not left by the
    journey above): inside the year's window (opened by the center over the API) it claims it
    with the invoice, the bank receipt and the results."""
    from tests.support.payouts import open_window, used_vouchers

    portal.run(used_vouchers(portal.platform, 1, fee=100_000, unit=portal.run(_demo_unit_id(portal))), 120)
    portal.run(open_window(portal.platform, date.today().year, days_before=3, days_after=3))
    unit = new_page()
    sign_in_as(unit, "unit")
    unit.get_by_role("link", name="创新券兑现申请").click()
    assert "—" in unit.inner_text("#window")
    form = unit.locator("#claim-form")
    assert form.locator("select[name=voucher_id] option").count() >= 1
    # each voucher offered is said by its order's case number (the helper's orders have none), amount
    # and day of use, never by an id (issue 17)
    offered = form.locator("select[name=voucher_id] option").all_inner_texts()
    assert all(re.fullmatch(r"(服务记录 DD-\d{4}-\d{6} · )?¥[\d,]+\.\d{2} · \d{4}-\d{2}-\d{2} \d{2}:\d{2}", o) and not foreign_text(o) for o in offered), offered
    form.get_by_label("发票号码（数电票20位）").fill("123")
    form.get_by_label("银行回单（PDF/JPG/PNG）").set_input_files({"name": "银行回单.pdf", "mimeType": "application/pdf", "buffer": PDF + b"receipt"})
    form.get_by_label("服务结果（PDF/JPG/PNG）").set_input_files({"name": "检测报告.pdf", "mimeType": "application/pdf", "buffer": RESULT})
    submit(unit, "#claim-form")
    assert unit.locator(".alert").count() == 1
    assert form.locator(".field-error").count() >= 1, unit.inner_text("main")
    chosen = form.locator("select[name=voucher_id]").input_value()
    form.get_by_label("发票号码（数电票20位）").fill("26412000000012345678")
    form.get_by_label("银行回单（PDF/JPG/PNG）").set_input_files({"name": "银行回单.pdf", "mimeType": "application/pdf", "buffer": PDF + b"receipt"})
    form.get_by_label("服务结果（PDF/JPG/PNG）").set_input_files({"name": "检测报告.pdf", "mimeType": "application/pdf", "buffer": RESULT})
    submit(unit, "#claim-form")
    assert unit.locator(".alert").count() == 0, unit.inner_text("main")
    assert "¥300.00" in unit.inner_text("#claims") and "待审核" in unit.inner_text("#claims")
    # each claim is named by its case number
    assert all(re.fullmatch(r"DF-\d{4}-\d{6}", n) for n in unit.locator("#claims td.case-no").all_inner_texts()), unit.inner_text("#claims")
    # the claimed voucher is offered no more (the journey's, when it ran first, still is)
    assert unit.locator(f"#claim-form option[value='{chosen}']").count() == 0, unit.inner_text("main")
    screenshot(unit, "15-unit-redemption-claim")


def _xlsx(rows: list[dict[str, Any]]) -> bytes:
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.append(list(ledger.COLUMNS))
    for values in rows:
        ws.append([values.get(c, "") for c in ledger.COLUMNS])
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def _ledger_row(asset: str, name: str, **kw: Any) -> dict[str, Any]:
    return {
        "资产编号": asset,
        "仪器名称": name,
        "类别": "分析仪器",
        "型号": "Nicolet iS50",
        "生产厂家": "赛默飞世尔科技",
        "原值（元）": "260000.00",
        "资金来源": "全部财政",
        "验收日期": "2024-09-20",
        "是否免税进口": "否",
        "是否涉密": "否",
        "存放地点": "理化楼B205",
        "主要技术指标": "光谱范围 7800-350 cm-1",
        "主要功能": "有机物结构鉴定",
        **kw,
    }


def test_unit_imports_an_excel_ledger(portal: RunningPortal, new_page: Callable[[], Any]) -> None:
    unit = new_page()
    sign_in_as(unit, "unit")
    # a file with a bad row is refused whole, every error shown by row and column
    unit.goto("/unit/imports")
    bad = _xlsx([_ledger_row("XC-2024-101", "傅里叶变换红外光谱仪"), _ledger_row("XC-2024-102", "紫外可见分光光度计", **{"类别": "不存在的类别"})])
    unit.get_by_label("台账文件（.xlsx / .csv）").set_input_files({"name": "台账-有误.xlsx", "mimeType": ledger.XLSX_MEDIA_TYPE, "buffer": bad})
    unit.get_by_role("button", name="导入").click()
    unit.wait_for_load_state()
    assert "失败" in unit.inner_text("main") or unit.locator(".alert").count() == 1, unit.inner_text("main")
    screenshot(unit, "15-import-failed")

    good = _xlsx([_ledger_row("XC-2024-101", "傅里叶变换红外光谱仪"), _ledger_row("XC-2024-102", "紫外可见分光光度计")])
    unit.goto("/unit/imports")
    unit.get_by_label("台账文件（.xlsx / .csv）").set_input_files({"name": "台账.xlsx", "mimeType": ledger.XLSX_MEDIA_TYPE, "buffer": good})
    unit.get_by_role("button", name="导入").click()
    # the job page refreshes itself until the import is done
    until(lambda: "已导入" in unit.locator("#job-status").inner_text(), "the import job")
    assert "2 / 2" in unit.inner_text("main")
    screenshot(unit, "16-import-job")
    unit.goto("/unit/instruments")
    text = unit.inner_text("main")
    assert "傅里叶变换红外光谱仪" in text and "紫外可见分光光度计" in text
    screenshot(unit, "17-unit-instruments")


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
    unit_id = portal.run(_demo_unit_id(portal))

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


async def _demo_unit_id(portal: RunningPortal) -> str:
    r = await portal.platform.call("registry", "GET", "/v1/units/", params={"page_size": 100})
    return next(u["unit_id"] for u in r.json()["items"] if u["name"] == "许昌学院")


async def _contracted_order(portal: RunningPortal) -> str:
    """A contracted order of the demo user with the demo unit, set up over the registry API."""
    from tests.support.registry import World

    p = portal.platform
    units = (await p.call("registry", "GET", "/v1/units/", params={"page_size": 100})).json()["items"]
    unit = next(u["unit_id"] for u in units if u["name"] == "许昌学院")
    users = (await p.call("registry", "GET", "/v1/users/", role="center", params={"page_size": 100})).json()["items"]
    user = next(u["user_id"] for u in users if u["name"] == "许昌智造科技有限公司")
    found = (await p.call("registry", "GET", "/v1/catalogue/instruments", params={"q": "衍射", "unit_id": unit})).json()["items"]
    iid = found[0]["instrument_id"]
    pid = (await p.call("registry", "GET", f"/v1/instruments/{iid}/prices")).json()["items"][0]["price_item_id"]
    # World.quoted gives a reason, as a quote above the published list needs one (M11(4))
    return await World(p, unit, user, iid, pid).contracted()


def test_rejection_appeal_and_overturn(portal: RunningPortal, new_page: Callable[[], Any]) -> None:
    """The center rejects an application with a reason, the user appeals, the bureau overturns (R19(2))."""
    oid = portal.run(_contracted_order(portal))
    user, center, bureau = new_page(), new_page(), new_page()
    sign_in_as(user, "user")
    sign_in_as(center, "center")
    sign_in_as(bureau, "bureau")

    def applied() -> bool:
        user.goto(f"/orders/{oid}")
        if user.locator("#application-status").count():
            return True
        submit(user, "form[action$='/apply']")
        return user.locator("#application-status").count() > 0

    until(applied, "the voucher application")
    center.goto("/review")
    row = center.locator("#queue tbody tr", has=center.locator(f"a[href='/orders/{oid}']"))
    row.get_by_label("理由").fill("研发证明材料不清晰")
    row.get_by_role("button", name="驳回").click()
    assert center.locator(".flash").count() == 1

    user.goto("/vouchers")
    row = user.locator("table.list tbody tr", has=user.locator(f"a[href='/orders/{oid}']")).first
    assert "已驳回" in row.inner_text() and "研发证明材料不清晰" in row.inner_text()
    row.get_by_label("理由").fill("已补充完整的研发项目立项文件")
    row.get_by_role("button", name="申请复议").click()
    assert user.locator(".flash").count() == 1

    bureau.goto("/review")
    row = bureau.locator("table.list tbody tr", has=bureau.locator(f"a[href='/orders/{oid}']")).first
    assert "已补充完整的研发项目立项文件" in row.inner_text()
    screenshot(bureau, "21-appeals")
    row.get_by_label("理由").first.fill("材料齐全，予以支持")
    row.get_by_role("button", name="撤销驳回").click()
    assert bureau.locator(".flash").count() == 1, bureau.inner_text("main")
    user.goto(f"/orders/{oid}")
    assert "已通过" in user.locator("#application-status").inner_text()


def test_unit_publishes_its_service_and_contact(portal: RunningPortal, new_page: Callable[[], Any]) -> None:
    """R18: the unit's service content and contact, published from its page and shown with its instruments."""
    unit = new_page()
    sign_in_as(unit, "unit")
    unit.goto("/unit/service-info")
    assert unit.get_by_label("联系人").input_value()  # the demo unit published its contact
    unit.get_by_label("联系电话").fill("0374-123")
    unit.get_by_role("button", name="发布服务信息").click()
    unit.wait_for_load_state()
    # the service's refusal, in Chinese, at the phone field; what was typed is kept
    assert unit.locator(".alert").count() == 1 and "联系电话格式不正确" in unit.inner_text("main")
    assert unit.get_by_label("联系电话").input_value() == "0374-123"
    unit.get_by_label("联系电话").fill("0374 2968123")
    unit.get_by_label("地址").fill("许昌市魏都区八一路88号分析测试中心一楼")
    unit.get_by_role("button", name="发布服务信息").click()
    unit.wait_for_load_state()
    assert unit.get_by_label("联系电话").input_value() == "0374-2968123"
    screenshot(unit, "30-unit-service-info")
    # two colleagues on one form: the one who saves second is told, with its entries kept
    colleague = new_page()
    sign_in_as(colleague, "unit")
    colleague.goto("/unit/service-info")
    unit.goto("/unit/service-info")
    unit.get_by_label("联系人").fill("王老师")
    unit.get_by_role("button", name="发布服务信息").click()
    unit.wait_for_load_state()
    colleague.get_by_label("联系人").fill("赵老师")
    colleague.get_by_role("button", name="发布服务信息").click()
    colleague.wait_for_load_state()
    assert "已被他人修改" in colleague.inner_text(".alert"), colleague.inner_text("main")
    assert colleague.get_by_label("联系人").input_value() == "赵老师"
    colleague.get_by_role("button", name="发布服务信息").click()  # saved knowingly, over the newer version
    colleague.wait_for_load_state()
    assert colleague.locator(".alert").count() == 0 and colleague.get_by_label("联系人").input_value() == "赵老师"
    unit.goto("/unit/instruments")
    unit.locator("main table a").first.click()
    unit.wait_for_load_state()
    contact = unit.locator("#unit-contact").inner_text()
    assert "0374-2968123" in contact and "许昌市魏都区八一路88号分析测试中心一楼" in contact
    assert unit.locator("#instrument-service").inner_text() != "—"
