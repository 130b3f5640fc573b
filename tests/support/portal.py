"""The portal as a browser-less client sees it, for the gateway's integration
tests: a gateway in front of a :class:`Platform`'s apps, signing in as a party,
posting a form with its page's CSRF token, and reading what a page shows (its
text, the error at a field, an element's text, a step tracker, the version a form
carries, a pager, the payouts found)."""

from __future__ import annotations

import html as markup
import re
from typing import Any

import httpx

from services.gateway.app import create_app as create_gateway
from services.runtime.roles import Role
from services.runtime.settings import SERVICES
from tests.support.asgi import LifespanClient
from tests.support.platform import Platform


def gateway(p: Platform) -> LifespanClient:
    """The gateway app in front of ``p``'s service apps (in process, by host name)."""
    mounts = {f"http://{s}.local": httpx.ASGITransport(app=p[s]._lifespan.app) for s in p.services}  # type: ignore[union-attr]

    class ByHost(httpx.AsyncBaseTransport):
        async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
            return await mounts[f"http://{request.url.host}"].handle_async_request(request)

    # reached the way XCISS_PUBLIC_URL says (https: the form token's cookie is Secure)
    scheme = "https" if (p.settings.public_url or "").startswith("https://") else "http"
    return LifespanClient(create_gateway(p.settings, transport=ByHost(), upstreams={s: f"http://{s}.local" for s in p.services}), f"{scheme}://gateway.local")


def as_party(c: httpx.AsyncClient, p: Platform, role: Role | None, org: str | None = None) -> None:
    """Signed in as ``role`` (of ``org``), or signed out with ``None``."""
    c.cookies.delete("xciss_session")
    if role is not None:
        c.cookies.set("xciss_session", p.token(role, org))


def csrf_of(html: str) -> str:
    found = re.search(r'name="_csrf_token" value="([^"]+)"', html)
    assert found, html
    return found.group(1)


async def post(c: httpx.AsyncClient, page: str, path: str, data: dict[str, Any]) -> httpx.Response:
    """Opens ``page`` and posts ``data`` to ``path`` with the page's form token, as the browser would."""
    html = (await c.get(page)).text
    return await c.post(path, data={"_csrf_token": csrf_of(html), **data})


def text_of(html: str) -> str:
    return re.sub(r"<[^>]+>", "", html)


def field_error(html: str, field: str) -> str:
    """The error shown inside the label of the input named ``field``."""
    found = re.search(rf'<input name="{field}"[^>]*>(?:<span class="muted"[^>]*>[^<]*</span>)?<span class="field-error" role="alert">([^<]+)</span>', html)
    assert found, f"no error at {field}"
    return found.group(1)


def error_at(html: str, field: str) -> str:
    """The error the page shows at ``field`` (the ``ferr`` with the id ``<field>-error``)."""
    found = re.search(rf'<span class="field-error" role="alert" id="{field}-error">([^<]+)</span>', html)
    assert found, f"no error at {field}"
    return markup.unescape(found.group(1))


def fact(html: str, element_id: str) -> str:
    """The text of the element with the id ``element_id`` (up to its closing tag)."""
    found = re.search(rf'<(\w+)[^>]*\bid="{element_id}"[^>]*>(.*?)</\1>', html, re.DOTALL)
    assert found, f"no {element_id}"
    return text_of(found.group(2)).strip()


def tracked(html: str, element_id: str) -> tuple[str | None, str]:
    """A page's step tracker ``element_id`` as a reader sees it: the current (or failed)
    step's label, None when the case is complete, and the next-step sentence."""
    found = re.search(rf'id="{element_id}" data-kind="\w+">(.*?)</div>', html, re.DOTALL)
    assert found, f"no step tracker {element_id} on the page"
    current = re.findall(r'aria-current="step">(.*?)</li>', found.group(1))
    next_text = re.search(r'<span class="next-text">([^<]+)</span>', found.group(1))
    assert next_text and len(current) <= 1, found.group(1)
    return (text_of(current[0]).split("：", 1)[1] if current else None), markup.unescape(next_text.group(1))


def version_of(html: str, form_id: str) -> str:
    """The version the form ``form_id`` carries (its hidden field)."""
    form = re.search(rf'<form[^>]*id="{form_id}".*?</form>', html, re.DOTALL)
    assert form, f"no form {form_id}"
    found = re.search(r'<input type="hidden" name="version" value="(\d+)">', form.group(0))
    assert found, f"no version in {form_id}"
    return found.group(1)


def pager(html: str, nav_id: str) -> tuple[str, dict[str, str]]:
    """The pager's words and its links (their words → their hrefs)."""
    found = re.search(rf'<nav class="pager"[^>]* id="{nav_id}">(.*?)</nav>', html, re.DOTALL)
    assert found, f"no pager {nav_id}"
    links = {text_of(words).strip(): href.replace("&amp;", "&") for href, words in re.findall(r'<a href="([^"]*)"[^>]*>(.*?)</a>', found.group(1))}
    return " ".join(text_of(found.group(1)).split()), links


def payouts_found(html: str) -> list[list[str]]:
    """The rows of the payouts found by the search box, each a list of its cells' texts."""
    found = re.search(r'<table class="list"[^>]* id="payout-found">.*?<tbody>(.*?)</tbody>', html, re.DOTALL)
    assert found, "no payouts found table"
    rows = re.findall(r"<tr>(.*?)</tr>", found.group(1), re.DOTALL)
    return [[text_of(cell).strip() for cell in re.findall(r"<td[^>]*>(.*?)</td>", row, re.DOTALL)] for row in rows if "colspan" not in row]


def gateway_portal(p: Platform) -> LifespanClient:
    """The gateway (and its portal) in front of the registry alone."""
    registry = httpx.ASGITransport(app=p["registry"]._lifespan.app)  # type: ignore[union-attr]

    class Registry(httpx.AsyncBaseTransport):
        async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
            if request.url.host != "registry.local":
                return httpx.Response(503)
            return await registry.handle_async_request(request)

    app = create_gateway(p.settings, transport=Registry(), upstreams={s: f"http://{s}.local" for s in SERVICES})
    return LifespanClient(app, "http://gateway.local")
