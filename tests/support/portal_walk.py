"""The portal's pages as each reader reaches them, for the browser tests that check every
page (foreign text, mobile layout, accessibility, coverage): the roles with a demo button,
the officers, the public pages (with the guide), and the walk through a reader's pages."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from services.command.demo import DEMO_PASSWORD
from services.gateway.portal.guide_topics import TOPICS

ROLES = ("user", "unit", "center", "bureau", "department", "expert", "finance")
#: the three officers: no demo button, their demo accounts sign in with the form
OFFICERS = ("sysadmin", "secadmin", "auditor")
#: the guide (办事指南) and the policy text: public, scanned like every other page
GUIDE = ("/guide", *(f"/guide/{t.slug}" for t in TOPICS), "/guide/policy", "/guide/policy/1", "/guide/policy/2")
PUBLIC = ("/", "/instruments", "/notices", "/blacklist", "/register", "/signin", "/no/such/page", *GUIDE)


def walk(page: Any, visit: Callable[[str, str], None], role: str | None, details: Iterable[str]) -> None:
    """Every main page a visitor (or ``role``) reaches from the navigation, one detail
    page of each list it sees, and the detail pages ``role`` opens (``details``: those of
    tests/support/browser_records.DETAILS of the records made for the module); each of those must answer as it would to its reader
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
    for path in details:
        if path in seen:
            continue
        seen.add(path)
        response = page.goto(path)
        assert response is not None and response.status == 200, (path, role, response and response.status)
        visit(path, role or "visitor")
