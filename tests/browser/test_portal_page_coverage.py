"""Issue 17's "every page": the accessibility check (test_portal_accessibility) and the
foreign-text check (test_portal_text_and_mobile) open every GET page of the portal. A page
is reached by their walk (the public pages they list, and every link of a role's
navigation in base.html, which the walk follows for each role) or named in
tests/support/browser_records.py's ``DETAILS`` (the detail pages each role opens of the records
made for the module). A new page that is neither fails here, so it cannot be forgotten.
No browser: the routes are read from the portal's handlers, the navigation from its
template."""

from __future__ import annotations

import re
import string
from pathlib import Path
from typing import Any

from services.gateway.portal.routes import create_portal_handlers
from services.runtime.settings import Settings
from tests.support.browser_records import DETAILS
from tests.support.portal_walk import OFFICERS, PUBLIC, ROLES

BASE = Path(__file__).resolve().parents[2] / "services" / "gateway" / "portal" / "templates" / "base.html"
#: pages the checks cannot open, each with why: none today (the password-reset link's token
#: is planted as the mail would carry it, records._reset_token)
UNCHECKED: dict[str, str] = {}


def page_routes(tmp_path: Path) -> list[str]:
    """Every GET route of the portal that answers with an HTML page (not a file, an image or
    the style sheet), as declared: ``/orders/{order_id:str}``."""
    handlers: list[Any] = create_portal_handlers(Settings(data_dir=tmp_path), None, lambda: None)  # type: ignore[arg-type]
    return sorted(path for h in handlers if "GET" in (h.http_methods or ()) and h.media_type == "text/html" for path in h.paths)


def navigation() -> set[str]:
    """Every link of the main navigation, for whichever role base.html shows it to."""
    nav = re.search(r'<nav aria-label="main">(.*?)</nav>', BASE.read_text(encoding="utf-8"), re.S)
    assert nav, "base.html has no main navigation"
    return {href.split("#")[0] for href in re.findall(r'href="(/[^"{]*)"', nav.group(1))}


def _pattern(route: str) -> re.Pattern[str]:
    return re.compile("^" + re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(route)) + "$")


def _filled(path: str) -> str:
    """A DETAILS path with each ``{field}`` filled in, without its query."""
    fields = {name: "1" for _, name, _, _ in string.Formatter().parse(path) if name}
    return path.format(**fields).split("?")[0]


def test_every_page_is_walked_or_listed(tmp_path: Path) -> None:
    routes = page_routes(tmp_path)
    assert len(routes) > 50 and "/orders/{order_id:str}" in routes, routes  # the routes were read
    walked = {p.split("?")[0] for p in PUBLIC} | navigation()
    listed = {_filled(p) for paths in DETAILS.values() for p in paths}
    missed = [r for r in routes if r not in UNCHECKED and not any(_pattern(r).match(p) for p in walked | listed)]
    assert not missed, f"pages neither reached from the navigation nor in tests/support/browser_records.py DETAILS: {missed}"


def test_the_list_names_pages_the_portal_has() -> None:
    """No typo in DETAILS (it would check a not-found page), and a list for every role the checks walk."""
    routes = page_routes(Path("/nonexistent"))
    unknown = [p for paths in DETAILS.values() for p in paths if not any(_pattern(r).match(_filled(p)) for r in routes)]
    assert not unknown, unknown
    assert set(DETAILS) == {None, *ROLES, *OFFICERS}
    assert set(UNCHECKED) <= set(routes)
