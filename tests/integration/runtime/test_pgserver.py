"""The fault harness's own PostgreSQL server (``tests/support/pgserver.py``):
a crash loses nothing committed, loses what was not, breaks open connections,
and the server answers again on the same URL."""

from __future__ import annotations

import asyncio
from pathlib import Path

import asyncpg
import pytest

from tests.support.pgserver import PgServer

pytestmark = pytest.mark.skipif(not PgServer.available(), reason=f"no PostgreSQL server of our own: {PgServer.why_unavailable()}")

BROKEN = (asyncpg.PostgresConnectionError, asyncpg.InterfaceError, asyncpg.AdminShutdownError, ConnectionError, OSError)


async def test_a_crash_keeps_committed_rows_and_breaks_open_connections(tmp_path: Path) -> None:
    server = PgServer(tmp_path)
    await server.astart()
    try:
        admin = await asyncpg.connect(server.url)
        await admin.execute("CREATE DATABASE crashdb")
        await admin.close()
        db_url = server.url_for("crashdb")

        writer = await asyncpg.connect(db_url)
        await writer.execute("CREATE TABLE notes (id int PRIMARY KEY, body text NOT NULL)")
        await writer.execute("INSERT INTO notes VALUES (1, 'committed')")
        open_tx = writer.transaction()
        await open_tx.start()
        await writer.execute("INSERT INTO notes VALUES (2, 'never committed')")

        outage = await server.arestart("immediate")

        assert outage.mode == "immediate"
        assert outage.recovered, "an immediate stop is a crash: the next start replays the WAL"
        assert 0 < outage.down_s < 60
        assert server.outages == [outage]
        with pytest.raises(BROKEN):
            await writer.fetchval("SELECT count(*) FROM notes")
        writer.terminate()

        reader = await asyncpg.connect(db_url)
        try:
            rows = await reader.fetch("SELECT id, body FROM notes ORDER BY id")
        finally:
            await reader.close()
        assert [tuple(r) for r in rows] == [(1, "committed")]
    finally:
        await server.aclose()
    assert server.home is None
    with pytest.raises(BROKEN):
        await asyncio.wait_for(asyncpg.connect(server.url, timeout=5), 10)


def test_a_fast_restart_keeps_the_url_and_close_removes_the_files(tmp_path: Path) -> None:
    with PgServer(tmp_path) as server:
        home = server.home
        assert home is not None and (home / "data" / "PG_VERSION").exists()
        url = server.url
        assert url == f"postgresql://postgres@127.0.0.1:{server.port}/postgres"

        outage = server.restart("fast")

        assert outage.mode == "fast"
        assert not outage.recovered, "a fast stop writes a checkpoint: nothing to replay"
        assert server.url == url
        assert asyncio.run(_select_one(url)) == 1
    assert not home.exists()
    assert not (tmp_path / "pgserver").exists()


async def _select_one(url: str) -> int:
    conn = await asyncpg.connect(url)
    try:
        return await conn.fetchval("SELECT 1")
    finally:
        await conn.close()
