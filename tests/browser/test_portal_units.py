"""A unit's own pages in the portal: it claims the redemption of a used voucher
inside the year's window (the invoice number refused at its field first), imports
its Excel ledger, and publishes its service content and contact (R18), a second
colleague saving the same form told. Its own module and platform (split from
test_portal.py)."""

from __future__ import annotations

import io
import re
from collections.abc import Callable
from datetime import date
from typing import Any

import pytest
from openpyxl import Workbook

from services.registry import ledger
from tests.browser.conftest import RunningPortal, screenshot
from tests.support.browser_pages import sign_in_as, submit, until
from tests.support.foreign_text import foreign_text
from tests.support.registry import RESULT, unit_named

pytestmark = pytest.mark.browser

RECEIPT = b"%PDF-1.7\n% the bank receipt of a redemption claim\n" + b"x" * 1000


def test_unit_claims_the_redemption_of_a_used_voucher(portal: RunningPortal, new_page: Callable[[], Any]) -> None:
    """The demo unit holds a used voucher of ¥300.00 (made over the API
    here): inside the year's window (opened by the center over the API) it claims it
    with the invoice, the bank receipt and the results."""
    from tests.support.payouts import open_window, used_vouchers

    portal.run(used_vouchers(portal.platform, 1, fee=100_000, unit=portal.run(unit_named(portal.platform, "许昌学院"))), 120)
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
    form.get_by_label("银行回单（PDF/JPG/PNG）").set_input_files({"name": "银行回单.pdf", "mimeType": "application/pdf", "buffer": RECEIPT})
    form.get_by_label("服务结果（PDF/JPG/PNG）").set_input_files({"name": "检测报告.pdf", "mimeType": "application/pdf", "buffer": RESULT})
    submit(unit, "#claim-form")
    assert unit.locator(".alert").count() == 1
    assert form.locator(".field-error").count() >= 1, unit.inner_text("main")
    chosen = form.locator("select[name=voucher_id]").input_value()
    form.get_by_label("发票号码（数电票20位）").fill("26412000000012345678")
    form.get_by_label("银行回单（PDF/JPG/PNG）").set_input_files({"name": "银行回单.pdf", "mimeType": "application/pdf", "buffer": RECEIPT})
    form.get_by_label("服务结果（PDF/JPG/PNG）").set_input_files({"name": "检测报告.pdf", "mimeType": "application/pdf", "buffer": RESULT})
    submit(unit, "#claim-form")
    assert unit.locator(".alert").count() == 0, unit.inner_text("main")
    assert "¥300.00" in unit.inner_text("#claims") and "待审核" in unit.inner_text("#claims")
    # each claim is named by its case number
    assert all(re.fullmatch(r"DF-\d{4}-\d{6}", n) for n in unit.locator("#claims td.case-no").all_inner_texts()), unit.inner_text("#claims")
    # the claimed voucher is offered no more
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
