"""Issue 16 in a real Chromium: "find an instrument → see free time → book → unit
confirms → check in / out → results → settle with a voucher", clicked through by
the user, the unit and the center on the real clock; the instrument's week at
390 px. The order → contract → voucher steps are those of test_portal's journey."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import pytest

from services.runtime.clock import POLICY_ZONE
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
)
from tests.support.foreign_text import foreign_text
from tests.support.registry import PROOF, RESULT

pytestmark = pytest.mark.browser

CONTRACT = b"%PDF-1.7\n% contract of the booking journey\n" + b"b" * 1000  # its own bytes: one contract, one voucher
DAYS = ("周一", "周二", "周三", "周四", "周五", "周六", "周日")


def fen_of(text: str) -> list[int]:
    return [int(a.replace(",", "")) * 100 + int(b) for a, b in re.findall(r"¥([\d,]+)\.(\d{2})", text)]


def contract_and_voucher(portal: RunningPortal, user: Any, unit: Any, center: Any, order_url: str) -> None:
    """The unit quotes the list price; contract, proof and terms; both sign; the user applies
    for a voucher and the center approves it; the unit starts the service."""
    unit.goto(order_url)
    unit.get_by_role("button", name="报价").click()
    assert status_of(unit) == "已报价", unit.inner_text("main")
    user.goto(order_url)
    form = user.locator("form[action$='/document']")
    form.get_by_label("类型").select_option("contract")
    form.get_by_label("文件", exact=True).set_input_files({"name": "预约服务合同.pdf", "mimeType": "application/pdf", "buffer": CONTRACT})
    submit(user, "form[action$='/document']")
    unit.goto(order_url)
    form = unit.locator("form[action$='/document']")
    form.get_by_label("类型").select_option("rd_proof")
    form.get_by_label("文件", exact=True).set_input_files({"name": "研发证明.png", "mimeType": "image/png", "buffer": PROOF})
    submit(unit, "form[action$='/document']")
    user.goto(order_url)
    submit(user, "form[action$='/contract']")
    assert user.locator(".alert").count() == 0, user.inner_text("main")
    sign(user)
    unit.goto(order_url)
    sign(unit)
    assert status_of(unit) == "已签约"

    apply_for_voucher(user, order_url)
    center.goto("/review")
    row = center.locator("#queue tbody tr", has=center.locator(f"a[href='{order_url.split(portal.url)[1]}']"))
    row.get_by_role("button", name="通过").click()
    assert center.locator(".flash").count() == 1
    unit.goto(order_url)
    submit(unit, "form[action$='/start']")
    assert status_of(unit) == "服务中"


def test_find_see_free_time_book_confirm_use_deliver_settle(portal: RunningPortal, new_page: Callable[[], Any], browser: Any) -> None:
    user, unit, center = new_page(), new_page(), new_page()
    sign_in_as(user, "user")
    sign_in_as(unit, "unit")
    sign_in_as(center, "center")

    # the unit opens its electron microscope every day 08:00–20:00, bookings need its approval
    unit.goto("/unit/instruments")
    unit.get_by_role("link", name="扫描电子显微镜 开放时间与预约").first.click()
    for day in DAYS:
        unit.get_by_label(day, exact=True).fill("08:00-20:00")
    unit.get_by_label("最短预约（分钟）").fill("60")
    unit.get_by_label("预约审批").select_option("required")
    submit(unit, "form[action$='/schedule']")
    assert unit.locator(".flash").count() == 1 and unit.locator(".alert").count() == 0, unit.inner_text("main")
    screenshot(unit, "50-unit-schedule")

    # the user finds it, orders, and sees next week's free time in Beijing time
    user.goto("/instruments")
    user.get_by_label("关键词").fill("电子显微镜")
    user.get_by_label("关键词").press("Enter")
    user.get_by_role("link", name="扫描电子显微镜").first.click()
    instrument_url = user.url.split("?")[0].split("#")[0]
    user.get_by_label("数量").fill("1")
    user.get_by_label("需求说明").fill("锂电池隔膜孔径观察，需预约机时")
    user.get_by_role("button", name="预约下单").click()
    assert status_of(user) == "已申请"
    order_url = user.url.split("?")[0]
    order_id = order_url.rsplit("/", 1)[1]
    case_no = user.locator("#case-no").inner_text()

    user.goto(instrument_url)
    user.get_by_role("link", name="下一周").click()
    week = user.locator("#availability table")
    assert "北京时间" in week.locator("caption").inner_text()
    assert week.locator("th[scope=row]").count() == 7
    screenshot(user, "51-instrument-week")
    slot = week.locator("li.free a").first
    slot.click()

    # a refused slot is said in Chinese at its field; then the booking goes in
    form = user.locator("#booking-form")
    form.get_by_label("预约所用订单").select_option(order_id)
    start = form.get_by_label("开始时间（时:分）").input_value()
    end = form.get_by_label("结束时间（时:分）").input_value()
    form.get_by_label("结束时间（时:分）").fill(start)
    submit(user, "#booking-form")
    assert user.locator("#booking-form .field-error").inner_text() == "结束时间须晚于开始时间"
    user.locator("#booking-form").get_by_label("结束时间（时:分）").fill(end)
    submit(user, "#booking-form")
    assert user.url.endswith("/bookings?done=1"), user.inner_text("main")
    assert "待确认" in user.locator("#bookings-requested").inner_text()
    # the booking names its order by the case number people say, linked to it (issue 17)
    assert user.locator("#bookings-requested").get_by_role("link", name=case_no).get_attribute("href") == f"/orders/{order_id}"
    assert not foreign_text(user.inner_text("body")), foreign_text(user.inner_text("body"))
    screenshot(user, "52-my-bookings")

    # the unit confirms it in 预约管理; the user sees it confirmed; the week shows it busy, never whose
    unit.goto("/unit/bookings")
    unit.locator("#bookings-requested").get_by_role("button", name="确认预约").first.click()
    unit.wait_for_load_state()
    assert unit.locator("#bookings-confirmed tbody tr").count() >= 1
    assert unit.locator("#bookings-confirmed").get_by_role("link", name=case_no).count() == 1, unit.inner_text("#bookings-confirmed")
    assert not foreign_text(unit.inner_text("body")), foreign_text(unit.inner_text("body"))
    screenshot(unit, "53-unit-bookings")
    user.goto("/bookings")
    assert "已确认" in user.locator("#bookings-confirmed").inner_text()

    # the user is told: 通知, reached by keyboard, shows the notice unread; its link opens the booking's page
    user.locator("header.top nav a[href='/notifications']").focus()
    with user.expect_navigation():
        user.keyboard.press("Enter")
    notice = user.locator("#notifications li.unread", has_text="预约已确认").first
    assert f"{start}" in notice.inner_text() and "未读" in notice.inner_text(), user.inner_text("main")
    unread = user.locator("#unread-count").inner_text()
    notice.get_by_role("link", name="预约详情").click()
    user.wait_for_load_state()
    assert "已确认" in user.locator("#booking").inner_text() and user.locator("#booking-order").inner_text() == case_no
    assert (current_step(user, "#booking-progress"), next_step(user, "#booking-progress")) == ("按时使用", "请在预约时间到场使用仪器；如不能前来，请提前取消")
    assert not foreign_text(user.inner_text("body")), foreign_text(user.inner_text("body"))
    screenshot(user, "52a-booking-page")
    user.go_back()
    user.locator("#notifications li.unread", has_text="预约已确认").first.get_by_role("button", name="标为已读").focus()
    with user.expect_navigation():
        user.keyboard.press("Enter")
    assert user.locator(".flash").count() == 1 and user.locator("#unread-count").inner_text() != unread
    notice_link = user.locator("#notifications a", has_text="预约详情").first.get_attribute("href")
    assert notice_link and notice_link.startswith("/bookings/")
    booking_path = notice_link
    visitor = new_page()
    visitor.goto(re.sub(r"^https?://[^/]+", "", instrument_url))
    visitor.get_by_role("link", name="下一周").click()
    assert f"{start}–{end} 已被预约" in visitor.locator("#availability").inner_text()

    # order → contract → voucher approved → service started
    contract_and_voucher(portal, user, unit, center, order_url)

    # the unit checks the session of use in (two hours ago, Beijing time) and out (now)
    unit.goto(order_url)
    began = (datetime.now(POLICY_ZONE) - timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M")
    unit.locator("form[action$='/check-in']").get_by_label("时间（留空为现在）").fill(began)
    submit(unit, "form[action$='/check-in']")
    assert "使用中" in unit.locator("#usage").inner_text(), unit.inner_text("main")
    submit(unit, "form[action$='/check-out']")
    minutes = int(unit.locator("#usage-total").inner_text())
    assert 119 <= minutes <= 121, minutes
    screenshot(unit, "54-usage")

    # results without typing hours: they come from the usage log
    form = unit.locator("form[action$='/document']")
    form.get_by_label("文件", exact=True).set_input_files({"name": "孔径观察报告.pdf", "mimeType": "application/pdf", "buffer": RESULT})
    assert form.get_by_label("服务机时（小时）").input_value() == ""
    submit(unit, "form[action$='/document']")
    assert status_of(unit) == "已交付结果", unit.inner_text("main")

    # the user settles: the approved voucher is deducted
    settle(user, order_url)
    amounts = fen_of(user.locator("#settlement").inner_text())
    total, voucher = amounts[0], amounts[1]
    assert voucher == total * 30 // 100 and total - voucher in amounts, amounts
    screenshot(user, "55-settled-with-voucher")

    # the week at 390 px: one day a row, nothing scrolls sideways
    phone = browser.new_context(base_url=portal.url, locale="zh-CN", viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    try:
        page = phone.new_page()
        page.goto(re.sub(r"^https?://[^/]+", "", instrument_url))
        assert page.evaluate("document.scrollingElement.scrollWidth") <= 390
        rows = page.locator("#availability tbody tr").all()
        boxes = [r.bounding_box() for r in rows]
        assert all(b and b["width"] <= 390 for b in boxes) and boxes[0]["y"] < boxes[1]["y"]
        screenshot(page, "56-phone-week")
        page.context.add_cookies(user.context.cookies())
        for path in ("/notifications", booking_path):
            page.goto(path)
            assert page.evaluate("document.scrollingElement.scrollWidth") <= 390, path
        screenshot(page, "57-phone-booking-page")
    finally:
        phone.close()
