"""Issue 17 in a real Chromium: every main page of every role (and the refusals a
user meets on them) in Chinese shows no raw code, Python repr, English sentence or
record id (a uuid, or the 8 characters of one a page named a record by);
at 390 px wide no page scrolls sideways, the catalogue keeps instrument names on
one line and every navigation link is a 44 px touch target."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from services.command.demo import create_officer_accounts
from tests.browser.conftest import RunningPortal, screenshot
from tests.support.browser_records import Records, detail_paths
from tests.support.foreign_text import foreign_text
from tests.support.portal_walk import OFFICERS, ROLES, walk

pytestmark = pytest.mark.browser


def test_the_scanner_finds_what_users_saw() -> None:
    """The scan's own edge: the texts of issue 17 are caught, ordinary Chinese pages are not."""
    assert foreign_text("该合同已申请过科技创新券 ({'code': 'voucher.contract_already_used'})")
    assert foreign_text("待审核 ¥0.00 voucher.statutory_testing")
    assert foreign_text("价格 此项不符合要求（expected an integer number of fen）")
    assert foreign_text("绩效评价指标 xuchang-2023.1") == []  # a version is caught by name below
    assert foreign_text("状态 None")
    # ids: an order shown as 8 characters of its id, an applicant as its uuid (issue 17)
    assert foreign_text("服务记录 01a24298 ¥300.00") == ["01a24298"]
    assert foreign_text("用户 019b3e7a-6b27-714e-bf1e-5350c5280c7b") == ["019b3e7a-6b27-714e-bf1e-5350c5280c7b"]
    assert foreign_text("订单 0c2f9e1d…") == ["0c2f9e1d"]
    assert foreign_text("订单 0c2f9e1d…", ids=False) == []  # the audit trail's abbreviation
    # … but not a case number, a date, a bank reference, an invoice or phone number, a username or a file's name
    assert foreign_text("DD-2026-000123 · 2026-11-27 · ICBC-01a24298 · 26412000000012345678 · 0374-12345678 · qy01a24298 · 20261127 · beadface") == []
    assert foreign_text("台账 ledger.xlsx · 型号 Sigma 300 · Thermo Fisher Scientific · LC-MS · 2026-11-27 20:15") == []


@pytest.fixture
def phone(browser: Any, portal: RunningPortal) -> Iterator[Callable[[], Any]]:
    contexts: list[Any] = []

    def make() -> Any:
        ctx = browser.new_context(base_url=portal.url, locale="zh-CN", viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
        ctx.set_default_timeout(20_000)
        contexts.append(ctx)
        return ctx.new_page()

    yield make
    for ctx in contexts:
        ctx.close()


@pytest.mark.parametrize("role", [None, *ROLES, *OFFICERS])
def test_chinese_pages_show_no_codes_reprs_or_english(portal: RunningPortal, records: Records, new_page: Callable[[], Any], role: str | None) -> None:
    if role in OFFICERS:
        portal.run(create_officer_accounts(portal.settings))
    page = new_page()
    bad: dict[str, list[str]] = {}

    def visit(path: str, who: str) -> None:
        text = page.inner_text("body")
        found = foreign_text(text, ids=not path.startswith("/audit")) + [w for w in ("xuchang-2023", "http.", "request.") if w in text]
        if found:
            bad[path] = found

    walk(page, visit, role, detail_paths(records, role))
    assert not bad, bad


def test_refusals_on_chinese_pages_are_chinese_at_their_fields(portal: RunningPortal, new_page: Callable[[], Any]) -> None:
    """A price typed wrong (the services say '(expected an integer number of fen)'), an
    unknown address: the words a user reads."""
    unit = new_page()
    unit.goto("/signin")
    unit.locator("button[data-role='unit']").click()
    unit.wait_for_load_state()
    unit.goto("/unit/prices")
    form = unit.locator("#price-form")
    form.get_by_label("收费项目").fill("物相定性分析")
    form.get_by_label("价格（元）").fill("12.345")
    form.locator("button[type=submit]").click()
    unit.wait_for_load_state()
    error = form.locator(".field-error").first.inner_text()
    assert error == "请填写金额（元，最多两位小数）", error
    assert not foreign_text(unit.inner_text("body")), foreign_text(unit.inner_text("body"))
    unit.goto("/no/such/page")
    assert "您访问的页面或记录不存在" in unit.inner_text("main") and unit.locator("header.top nav a").count() > 0
    screenshot(unit, "40-not-found")


@pytest.mark.parametrize("role", [None, *ROLES, *OFFICERS])
def test_pages_fit_a_390px_phone(portal: RunningPortal, records: Records, phone: Callable[[], Any], role: str | None) -> None:
    if role in OFFICERS:
        portal.run(create_officer_accounts(portal.settings))
    page = phone()
    wide: dict[str, int] = {}
    short: dict[str, list[str]] = {}

    def visit(path: str, who: str) -> None:
        width = page.evaluate("document.scrollingElement.scrollWidth")
        if width > 390:
            wide[path] = width
        small = [f"{a.inner_text()}={box['height']:.0f}" for a in page.locator("header.top nav a").all() if (box := a.bounding_box()) and box["height"] < 44]
        if small:
            short[path] = small
        if path == "/instruments":
            name = page.locator("table.list tbody td:first-child a").first
            box = name.bounding_box()
            # one line, and wider than three characters (a name wrapped a character a line is ~14 px
            # wide); the first name is whichever the catalogue lists first: X射线衍射仪 is 55 px
            assert box and box["height"] < 2 * 24 and box["width"] > 3 * 14, (box, name.inner_text())  # one line, not a character a line
            screenshot(page, f"41-phone-catalogue-{who}")
        if path == "/vouchers":
            screenshot(page, "42-phone-vouchers")
        if path in ("/accounts", "/audit"):
            screenshot(page, f"54-phone-{who}")

    walk(page, visit, role, detail_paths(records, role))
    assert not wide, wide
    assert not short, short
