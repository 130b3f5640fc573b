"""Issue 17's accessibility check in a real Chromium: axe-core (the npm package's
``axe.min.js``, pinned in tests/browser/package-lock.json, installed by
``make axe-deps``) runs on every page a visitor and each role reaches from the
navigation (the walk of test_portal_text_and_mobile), the first record of each
list those pages show, the detail pages of the records made for the module
(tests/support/browser_records.py: an order, a booking, a complaint, a claim, a notice,
an expert's assignment, an import job, a reset link …), and a catalogue search,
at 1366 px and at 390 px, with the WCAG 2.0/2.1/2.2 A and AA rules: no
violation of impact ``serious`` or ``critical`` may remain. A failure names the
rule, its impact, the page, the role, the width and the first elements, so it
can be fixed where it is."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from services.command.demo import create_officer_accounts
from tests.browser.conftest import RunningPortal
from tests.support.browser_records import Records, detail_paths
from tests.support.portal_walk import OFFICERS, ROLES, walk

pytestmark = pytest.mark.browser

AXE = Path(__file__).resolve().parent / "node_modules" / "axe-core" / "axe.min.js"
WIDTHS = ((1366, 768), (390, 844))
TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
BLOCKING = ("serious", "critical")
#: a list's link that downloads a file (a ledger, an export, a claim's or an order's document) rather than opening a page
DOWNLOAD = re.compile(r"\.(xlsx|csv|pdf|zip)\b|/download|/export|/documents/|format=")
#: axe.run in the page: each violation as its rule, impact, help and the first targets
RUN = """async (tags) => {
  const result = await axe.run(document, {runOnly: {type: 'tag', values: tags}, resultTypes: ['violations']});
  return result.violations.map(v => ({
    id: v.id, impact: v.impact, help: v.help,
    targets: v.nodes.slice(0, 3).map(n => n.target.join(' ')),
    count: v.nodes.length,
  }));
}"""


@pytest.fixture
def axe_page(browser: Any, portal: RunningPortal) -> Iterator[Callable[[], Any]]:
    """A fresh context whose every page has axe loaded (an init script runs before the
    page's own, and the portal's Content-Security-Policy does not apply to it)."""
    if not AXE.exists():
        pytest.fail(f"{AXE} is missing: run `make axe-deps` (npm ci in tests/browser; `make test` does)")
    contexts: list[Any] = []

    def make() -> Any:
        ctx = browser.new_context(base_url=portal.url, locale="zh-CN", viewport={"width": WIDTHS[0][0], "height": WIDTHS[0][1]})
        ctx.set_default_timeout(20_000)
        ctx.add_init_script(path=str(AXE))
        contexts.append(ctx)
        return ctx.new_page()

    yield make
    for ctx in contexts:
        ctx.close()


def violations(page: Any) -> list[dict[str, Any]]:
    """The serious and critical violations on the page as it is now."""
    return [v for v in page.evaluate(RUN, TAGS) if v["impact"] in BLOCKING]


def test_axe_finds_what_it_should(axe_page: Callable[[], Any], portal: RunningPortal) -> None:
    """The check's own edge: a page with an unlabelled field, grey-on-white text and an
    image without a name fails it; so the empty list below means something."""
    page = axe_page()  # about:blank: the portal's Content-Security-Policy would drop the inline style
    page.set_content(
        '<!doctype html><html lang="zh-CN"><head><title>t</title></head><body><main>'
        '<input name="q"><p style="color:#bbb;background:#fff">浅灰色的字</p><img src="x.png"></main></body></html>'
    )
    found = {v["id"] for v in violations(page)}
    assert {"label", "color-contrast", "image-alt"} <= found, found


@pytest.mark.parametrize("role", [None, *ROLES, *OFFICERS])
def test_pages_have_no_serious_accessibility_violation(portal: RunningPortal, records: Records, axe_page: Callable[[], Any], role: str | None) -> None:
    if role in OFFICERS:
        portal.run(create_officer_accounts(portal.settings))
    page = axe_page()
    found: list[str] = []
    checked: list[str] = []
    paths: set[str] = set()

    def visit(path: str, who: str) -> None:
        paths.add(path.split("?")[0])
        for width, height in WIDTHS:
            page.set_viewport_size({"width": width, "height": height})
            checked.append(f"{path}@{width}")
            for v in violations(page):
                found.append(f"{v['id']} ({v['impact']}, {v['count']}×) on {page.url} as {who} at {width}px: {v['help']} — {'; '.join(v['targets'])}")
        page.set_viewport_size({"width": WIDTHS[0][0], "height": WIDTHS[0][1]})

    listed: dict[str, str] = {}  # one record of each list the walk saw: its detail page

    def visit_and_note(path: str, who: str) -> None:
        visit(path, who)
        link = page.locator("main table.list tbody a[href^='/']").first
        if link.count() and not DOWNLOAD.search(href := str(link.get_attribute("href"))):
            listed.setdefault(href.split("#")[0], path)

    walk(page, visit_and_note, role, detail_paths(records, role))
    for href in [h for h in listed if h.split("?")[0] not in paths]:
        page.goto(href)
        visit(href, role or "visitor")
    if role is None:  # a catalogue search, with its results and filters
        page.goto("/instruments?q=%E8%A1%8D%E5%B0%84")
        visit("/instruments?q=衍射", "visitor")
    assert len(checked) >= 2 * 6, checked  # the walk reached the pages (not an empty pass)
    assert not found, "\n".join(found)
