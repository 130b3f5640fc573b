"""The platform for the browser tests: the four services (API, worker, relay)
in-process against a real nats-server and SQLite, the gateway with the portal
served by uvicorn on a free port, the demo data loaded over HTTP — all in a
background thread with its own event loop, so Playwright's sync API drives a
real Chromium against a real socket from the test's thread."""

from __future__ import annotations

import asyncio
import contextlib
import os
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn

from services.gateway.app import create_app
from services.command.demo import load_demo
from services.command.natsserver import EmbeddedNats
from services.runtime.settings import SERVICES, Settings
from tests.support.browser_records import Records, make_records
from tests.support.databases import SqliteDatabases
from tests.support.platform import Platform, reset_streams
from tests.support.ports import free_port

CHROMIUM = "/usr/bin/chromium"
ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / ".xciss" / "test-artifacts" / "screenshots"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if os.path.exists(CHROMIUM):
        return
    skip = pytest.mark.skip(reason=f"{CHROMIUM} is absent: install Debian's chromium (`apt-get install -y chromium`; `make test` does) to run the browser tests")
    for item in items:
        if "browser" in item.keywords:
            item.add_marker(skip)


class _Server(uvicorn.Server):
    @contextlib.contextmanager
    def capture_signals(self):  # type: ignore[no-untyped-def]
        yield  # the test process owns its signals


class RunningPortal:
    """The platform in a background thread; ``url`` is the gateway's origin."""

    def __init__(self, nats: EmbeddedNats, sqlite: SqliteDatabases, directory: Path):
        self.nats, self.sqlite, self.directory = nats, sqlite, directory
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.settings: Settings | None = None
        self.demo_created: dict[str, int] = {}
        self._ready = threading.Event()
        self._error: BaseException | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._thread = threading.Thread(target=self._run, name="portal-platform", daemon=True)

    def start(self, timeout_s: float = 120.0) -> None:
        self._thread.start()
        if not self._ready.wait(timeout_s):
            raise RuntimeError("the platform did not start in time")
        if self._error is not None:
            raise RuntimeError(f"the platform did not start: {self._error!r}") from self._error

    def stop(self) -> None:
        if self._loop is not None and self._stop is not None:
            self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(60)

    def run(self, coro: Any, timeout_s: float = 60.0) -> Any:
        """Run a coroutine on the platform's loop (set-up steps the portal does not offer)."""
        assert self._loop is not None
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result(timeout_s)

    def _run(self) -> None:
        try:
            asyncio.run(self._main())
        except BaseException as exc:  # noqa: BLE001 - reported to the test thread
            self._error = exc
            self._ready.set()

    async def _main(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        urls = {s: await self.sqlite.fresh(s, self.directory) for s in SERVICES}
        await reset_streams(self.nats.access("operator"))
        self.settings = Settings(
            data_dir=self.directory,
            nats_url=self.nats.url,
            nats_credentials_dir=self.nats.credentials_dir,
            database_urls=urls,
            outbox_poll_s=0.02,
            consumer_backoff_s=(0.1, 0.2, 0.3),
            consumer_max_attempts=3,
            consumer_ack_wait_s=5.0,
            graceful_timeout_s=5.0,
            pii_secret="test-pii-key",
            demo=True,
            gateway_rate_limit_per_minute=10_000,
            # every party signs in from 127.0.0.1: the default 10 attempts a minute per address
            # would refuse a test's sign-ins by how many the tests before it made that minute
            login_rate_limit_per_minute=1_000,
        )
        platform = Platform(self.settings, SERVICES)
        await platform.start()
        mounts = {f"http://{s}.local": httpx.ASGITransport(app=platform[s]._lifespan.app) for s in SERVICES}  # type: ignore[union-attr]

        class ByHost(httpx.AsyncBaseTransport):
            async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
                return await mounts[f"http://{request.url.host}"].handle_async_request(request)

        app = create_app(self.settings, transport=ByHost(), upstreams={s: f"http://{s}.local" for s in SERVICES})
        server = _Server(uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning", lifespan="on", access_log=False))
        serving = asyncio.create_task(server.serve())
        try:
            while not server.started:
                if serving.done():
                    serving.result()
                await asyncio.sleep(0.05)
            self.demo_created = await load_demo(self.settings, self.url)
            self.platform = platform
            self._ready.set()
            await self._stop.wait()
        finally:
            server.should_exit = True
            with contextlib.suppress(Exception):
                await asyncio.wait_for(serving, 15)
            await platform.stop()


@pytest.fixture(scope="module")
def portal(nats_server: EmbeddedNats, sqlite_templates: SqliteDatabases, tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningPortal]:
    if not os.path.exists(CHROMIUM):
        pytest.skip(f"{CHROMIUM} is absent")
    running = RunningPortal(nats_server, sqlite_templates, tmp_path_factory.mktemp("portal"))
    running.start()
    try:
        yield running
    finally:
        running.stop()


@pytest.fixture(scope="module")
def records(portal: RunningPortal) -> Records:
    """One record of each kind the demo data lacks (tests/support/browser_records.py), made once per module."""
    return portal.run(make_records(portal), 300)


def _settle_after_click() -> None:
    """Every click waits for the page it opened to be parsed. Playwright's ``click`` returns once
    a navigation it started has committed, not once the new document is read: a ``count()`` at
    once could see a half-parsed page (stop 29's CI counted 0 rows of a filtered list whose row
    the page then showed). After a click that opened nothing the page is already loaded and
    ``wait_for_load_state`` returns at once."""
    from playwright.sync_api import Locator

    if getattr(Locator.click, "settles", False):
        return
    click = Locator.click

    def click_and_settle(self: Any, *args: Any, **kwargs: Any) -> None:
        click(self, *args, **kwargs)
        if not self.page.is_closed():
            self.page.wait_for_load_state("domcontentloaded")

    click_and_settle.settles = True  # type: ignore[attr-defined]
    Locator.click = click_and_settle  # type: ignore[method-assign]


@pytest.fixture(scope="module")
def browser(portal: RunningPortal) -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    _settle_after_click()

    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            yield b
        finally:
            b.close()


@pytest.fixture
def new_page(browser: Any, portal: RunningPortal) -> Iterator[Any]:
    """A fresh browser context (its own cookies) per call: one per party of a journey."""
    contexts: list[Any] = []

    def make() -> Any:
        ctx = browser.new_context(base_url=portal.url, locale="zh-CN", viewport={"width": 1280, "height": 900})
        ctx.set_default_timeout(20_000)
        contexts.append(ctx)
        return ctx.new_page()

    yield make
    for ctx in contexts:
        ctx.close()


def screenshot(page: Any, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)
