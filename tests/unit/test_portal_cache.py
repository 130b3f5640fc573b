"""The portal's public pages kept a few seconds for visitors without a session
(XCISS_PORTAL_CACHE_S): a new instrument shows once the period is over, a signed-in
user always gets the page made for them, and every visitor gets its own CSRF cookie."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import httpx
import pytest
from litestar.testing import TestClient

from services.gateway.app import create_app
from services.gateway.portal import pagecache
from services.runtime.roles import Role
from services.runtime.http.auth import issue_token
from services.runtime.settings import SERVICES, Settings


def _instrument(name: str) -> dict[str, Any]:
    return {"instrument_id": f"id-{name}", "name": name, "category": "分析仪器", "unit_id": "u1", "unit_name": "许昌学院", "county_code": "411002", "min_price_fen": 20000, "max_price_fen": 30000, "accepts_vouchers": True}


class Registry:
    """The services as the portal sees them: a catalogue the test adds to."""

    def __init__(self) -> None:
        self.instruments = [_instrument("扫描电子显微镜")]
        self.calls = 0

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.calls += 1
        if request.url.path == "/v1/catalogue/instruments":
            return httpx.Response(200, json={"items": self.instruments, "total": len(self.instruments)})
        if request.url.path.startswith("/v1/"):
            return httpx.Response(200, json={"items": [], "total": 0}) if request.url.path.endswith("/") else httpx.Response(404, json={"code": "x.not_found"})
        return httpx.Response(404)


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    now = [1000.0]
    monkeypatch.setattr(pagecache, "now", lambda: now[0])
    return now


def _portal(tmp_path: Path, registry: Registry) -> tuple[TestClient, Settings]:  # type: ignore[type-arg]
    settings = Settings(data_dir=tmp_path, portal_cache_s=5.0)
    app = create_app(settings, transport=httpx.MockTransport(registry), upstreams={s: f"http://{s}.svc" for s in SERVICES})
    return TestClient(app), settings


def test_a_new_instrument_shows_on_the_public_pages_once_the_period_is_over(tmp_path: Path, clock: list[float]) -> None:
    registry = Registry()
    c, _ = _portal(tmp_path, registry)
    with c:
        first = c.get("/")
        assert first.status_code == 200 and "扫描电子显微镜" in first.text
        assert first.headers["cache-control"] == "private, no-cache"  # browsers ask again each time
        registry.instruments.append(_instrument("激光共聚焦显微镜"))
        clock[0] += 4
        assert "激光共聚焦显微镜" not in c.get("/").text  # the kept page, within 5 s
        assert "激光共聚焦显微镜" in c.get("/instruments").text  # another page: rendered now
        clock[0] += 2
        assert "激光共聚焦显微镜" in c.get("/").text  # the home page after its 5 s


def test_a_signed_in_user_never_gets_the_anonymous_page(tmp_path: Path, clock: list[float]) -> None:
    registry = Registry()
    c, settings = _portal(tmp_path, registry)
    with c:
        anonymous = c.get("/").text
        assert "/signout" not in anonymous
        registry.instruments.append(_instrument("激光共聚焦显微镜"))
        c.cookies.set("xciss_session", issue_token(settings, subject="user-1", role=Role.USER, org="user-1"))
        signed_in = c.get("/")
        assert "/signout" in signed_in.text and "激光共聚焦显微镜" in signed_in.text
        assert signed_in.headers["cache-control"] == "private, no-store"
        c.cookies.delete("xciss_session")
        again = c.get("/").text
        assert "/signout" not in again and "激光共聚焦显微镜" not in again  # the signed-in page was not kept for others


def test_every_visitor_gets_its_own_csrf_cookie_from_a_kept_page(tmp_path: Path, clock: list[float]) -> None:
    registry = Registry()
    c, _ = _portal(tmp_path, registry)
    with c:
        c.get("/instruments?q=显微镜")
        calls = registry.calls
        first = c.cookies.get("xciss_csrf")
        c.cookies.clear()
        hit = c.get("/instruments?q=显微镜")
        assert registry.calls == calls  # answered from memory
        second = c.cookies.get("xciss_csrf")
        assert first and second and first != second
        assert "扫描电子显微镜" in hit.text
        assert c.get("/instruments?q=显微镜&lang=en").text != hit.text  # another language, another page


async def test_a_page_not_kept_yet_is_rendered_once_however_many_ask_for_it_meanwhile() -> None:
    cache = pagecache.PageCache(5.0, clock=lambda: 1000.0)
    assert await cache.fetch("/", "csrf-a") is None  # the first renders it
    waiting = [asyncio.create_task(cache.fetch("/", f"csrf-{n}")) for n in "bc"]
    await asyncio.sleep(0.01)
    assert not any(w.done() for w in waiting)  # the others wait for that rendering
    cache.put("/", "<form>csrf-a</form>", "csrf-a")
    # each gets the page with its own CSRF token
    assert await asyncio.gather(*waiting) == ["<form>csrf-b</form>", "<form>csrf-c</form>"]
    assert await cache.fetch("/", "csrf-d") == "<form>csrf-d</form>"


async def test_when_the_first_rendering_fails_or_is_slow_the_waiters_render_their_own() -> None:
    cache = pagecache.PageCache(5.0, clock=lambda: 1000.0, wait_s=0.05)
    assert await cache.fetch("/x", "a") is None
    waiting = asyncio.create_task(cache.fetch("/x", "b"))
    await asyncio.sleep(0.01)
    cache.drop("/x")  # an error page or a failure: nothing kept
    assert await waiting is None
    # a rendering that takes longer than wait_s: the next asks render after waiting that long
    assert await cache.fetch("/y", "a") is None
    assert await asyncio.wait_for(cache.fetch("/y", "b"), 1) is None
    # with the cache off nobody waits
    off = pagecache.PageCache(0.0)
    assert [await off.fetch("/", "a"), await off.fetch("/", "b")] == [None, None]
