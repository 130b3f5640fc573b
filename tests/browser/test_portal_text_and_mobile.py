"""Issue 17 in a real Chromium: every main page of every role (and the refusals a
user meets on them) in Chinese shows no raw code, Python repr, English sentence or
record id (a uuid, or the 8 characters of one a page named a record by);
at 390 px wide no page scrolls sideways, the catalogue keeps instrument names on
one line and every navigation link is a 44 px touch target."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from services.command.demo import DEMO_PASSWORD, create_officer_accounts
from services.gateway.portal.guide_topics import TOPICS
from tests.browser.conftest import RunningPortal, screenshot
from tests.browser.records import Records, detail_paths

pytestmark = pytest.mark.browser

ROLES = ("user", "unit", "center", "bureau", "department", "expert", "finance")
#: the three officers: no demo button, their demo accounts sign in with the form
OFFICERS = ("sysadmin", "secadmin", "auditor")
#: the guide (办事指南) and the policy text: public, scanned like every other page
GUIDE = ("/guide", *(f"/guide/{t.slug}" for t in TOPICS), "/guide/policy", "/guide/policy/1", "/guide/policy/2")
PUBLIC = ("/", "/instruments", "/notices", "/blacklist", "/register", "/signin", "/no/such/page", *GUIDE)

#: a stable error code (voucher.contract_already_used), not a file name or a web address
CODE = re.compile(r"(?<![\w@/.-])[a-z_]+\.[a-z_]+(?![\w.@/-])")
NOT_CODES = re.compile(r"\.(xlsx|xls|csv|pdf|png|jpe?g|docx?|txt|zip|com|cn|org|net)$")
REPR = re.compile(r"\{'|'\}|\bNone\b|\bTrue\b|\bFalse\b|\[\]|Traceback")
#: a record's id (a uuid) or a fragment of one (``id[:8]``: 8 hex digits, letters and digits
#: among them, standing alone): parties are named by name, records by case number (issue 17)
UUID = re.compile(r"\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b")
ID_FRAGMENT = re.compile(r"(?<![\w@/.:#-])(?=[a-f]*[0-9])(?=[0-9]*[a-f])[0-9a-f]{8}(?![\w@/.:-])")
#: three or more English words in a row that read as a sentence (names of makers and models do not)
ENGLISH_RUN = re.compile(r"[A-Za-z][A-Za-z'’]*(?:[ ,:;]+[A-Za-z][A-Za-z'’]*){2,}")
ENGLISH_WORDS = re.compile(r"\b(the|is|are|not|must|expected|please|your|has|have|was|cannot|should|of|to|an|be|number|invalid|required|missing)\b")


def foreign_text(text: str, *, ids: bool = True) -> list[str]:
    """What a Chinese page must not show: codes, Python reprs, English sentences, ids
    (``ids=False``: the audit trail, which names each record by its abbreviated id on purpose)."""
    found = [m.group(0) for m in CODE.finditer(text) if not NOT_CODES.search(m.group(0))]
    found += [m.group(0) for m in REPR.finditer(text)]
    if ids:
        found += [m.group(0) for m in UUID.finditer(text)] + [m.group(0) for m in ID_FRAGMENT.finditer(text)]
    found += [m.group(0) for m in ENGLISH_RUN.finditer(text) if ENGLISH_WORDS.search(m.group(0))]
    return found


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


def _walk(page: Any, visit: Callable[[str, str], None], role: str | None, records: Records) -> None:
    """Every main page a visitor (or ``role``) reaches from the navigation, one detail
    page of each list it sees, and the detail pages ``role`` opens (records.DETAILS) of
    the records made for the module; each of those must answer as it would to its reader
    (200), not with a refusal that would leave the page itself unchecked."""
    seen: set[str] = set()
    queue = list(PUBLIC)
    page.goto("/instruments")
    first = page.locator("table.list tbody a").first
    if first.count():
        queue.append(str(first.get_attribute("href")))
    queue += [h.split("#")[0] for a in page.locator("header.top nav a").all() if (h := str(a.get_attribute("href"))).startswith("/")]  # a visitor's own (注册账号)
    if role:
        page.goto("/signin")
        if role in OFFICERS:
            form = page.locator("form[action='/signin']")
            form.locator("input[name=username]").fill(f"demo-{role}")
            form.locator("input[name=password]").fill(DEMO_PASSWORD)
            form.locator("button[type=submit]").click()
        else:
            page.locator(f"button[data-role='{role}']").click()
        page.wait_for_load_state()
        hrefs = [str(a.get_attribute("href")) for a in page.locator("header.top nav a").all()]
        queue = [h.split("#")[0] for h in hrefs if h.startswith("/")] + ["/no/such/page"]
        if role == "auditor":  # every service's trail
            queue += [f"/audit?service={s}" for s in ("vouchers", "evaluation", "payments")]
    for path in queue:
        if path in seen:
            continue
        seen.add(path)
        page.goto(path)
        visit(path, role or "visitor")
        if role and path in ("/orders", "/review", "/queue"):  # one record from the list
            link = page.locator("main table.list tbody a").first
            if link.count() and (href := str(link.get_attribute("href"))) not in seen and href.startswith("/"):
                seen.add(href)
                page.goto(href)
                visit(href, role)
    for path in detail_paths(records, role):
        if path in seen:
            continue
        seen.add(path)
        response = page.goto(path)
        assert response is not None and response.status == 200, (path, role, response and response.status)
        visit(path, role or "visitor")


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

    _walk(page, visit, role, records)
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

    _walk(page, visit, role, records)
    assert not wide, wide
    assert not short, short
