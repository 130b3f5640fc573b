"""The tests' SQLite databases: a fresh copy at a path an earlier database used
starts empty. Found by the long model run: its platform restarts in the same
directory, and the earlier database's write-ahead log was replayed onto the
copy, so a "fresh" database still held the earlier programme."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from tests.support.databases import SqliteDatabases


async def test_a_fresh_copy_does_not_replay_an_earlier_write_ahead_log(tmp_path: Path) -> None:
    dbs = SqliteDatabases(tmp_path / "templates")
    (tmp_path / "templates").mkdir()
    url = await dbs.fresh("vouchers", tmp_path)
    path = url.removeprefix("sqlite+aiosqlite:///")
    held = sqlite3.connect(path)  # the earlier platform, still holding its log when the copy is made
    held.execute("PRAGMA journal_mode=WAL")
    held.execute("PRAGMA wal_autocheckpoint=0")
    held.execute("CREATE TABLE earlier (note TEXT)")
    held.execute("INSERT INTO earlier VALUES ('the 2031 programme')")
    held.commit()
    assert Path(path + "-wal").stat().st_size > 0
    await dbs.fresh("vouchers", tmp_path)
    again = sqlite3.connect(path)
    try:
        assert again.execute("SELECT count(*) FROM sqlite_master WHERE name = 'earlier'").fetchone() == (0,)
    finally:
        again.close()
        held.close()
