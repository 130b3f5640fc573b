"""Point-in-time recovery of a test's own PostgreSQL server (``PgServer(...,
wal_archive=True)``): a base backup, the WAL archive, and a restore of the
whole server — every database in it — to one moment.

This is what CloudNativePG's Barman backups do in the cluster (a base backup
plus continuous WAL archiving; a recovery bootstraps a new cluster from them
with a ``recoveryTarget.targetTime``), done here with PostgreSQL's own tools
so the restore drill (``tests/faults/restore.py``) runs on a laptop and in CI.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import time
from datetime import datetime
from pathlib import Path

import asyncpg

from tests.support.pgserver import (
    PgServer,
    _as_root,
    _bin_dir,
    _child_env,
    _postgres_ids,
    _user_args,
)


def _run(args: list[str], cwd: Path) -> None:
    done = subprocess.run(args, check=False, capture_output=True, env=_child_env(), cwd=cwd, **_user_args())  # type: ignore[call-overload]
    if done.returncode != 0:
        raise RuntimeError(f"{args[0]} failed: {done.stderr.decode(errors='replace')}")


def base_backup(server: PgServer) -> Path:
    """``pg_basebackup`` of the running server (plain format, the WAL it needs streamed alongside)."""
    assert server.wal_archive, "a base backup is only restorable to a point in time with the WAL archive"
    home = server.data_dir.parent
    target = home / "base"
    bin_dir = _bin_dir()
    assert bin_dir is not None
    _run([str(bin_dir / "pg_basebackup"), "-h", "127.0.0.1", "-p", str(server.port), "-U", "postgres",
          "-D", str(target), "-Fp", "-X", "stream", "-c", "fast", "--no-sync"], cwd=home)
    return target


async def archive_current_wal(server: PgServer, timeout_s: float = 30.0) -> str:
    """Close the current WAL segment and wait until the archiver has copied it
    (what ``archive_timeout`` does in production, at most every few minutes)."""
    conn = await asyncpg.connect(server.url)
    try:
        segment = await conn.fetchval("SELECT pg_walfile_name(pg_switch_wal())")
        deadline = time.monotonic() + timeout_s
        while True:
            archived = await conn.fetchval("SELECT last_archived_wal FROM pg_stat_archiver")
            if archived is not None and archived >= segment:
                return str(segment)
            if time.monotonic() > deadline:
                raise TimeoutError(f"WAL segment {segment} not archived within {timeout_s:.0f}s (last {archived})")
            await asyncio.sleep(0.1)
    finally:
        await conn.close()


def _restore_files(server: PgServer, base: Path, target: datetime) -> None:
    data = server.data_dir
    shutil.rmtree(data, ignore_errors=True)  # gone already after destroy()
    shutil.copytree(base, data, symlinks=True)
    with (data / "postgresql.auto.conf").open("a", encoding="utf-8") as conf:
        conf.write(
            "\n# tests/support/pgarchive.py: recover to a point in time\n"
            f"restore_command = 'cp {server.archive_dir}/%f %p'\n"
            f"recovery_target_time = '{target.isoformat(sep=' ')}'\n"
            "recovery_target_action = 'promote'\n"
        )
    (data / "recovery.signal").touch()
    if _as_root():
        uid, gid = _postgres_ids()
        for path in [data, *data.rglob("*")]:
            os.lchown(path, uid, gid)
    data.chmod(0o700)


async def destroy(server: PgServer) -> None:
    """The disaster: the server crashes and its data directory is gone (the base backup and the archive stay)."""
    await server.astop("immediate")
    shutil.rmtree(server.data_dir)


async def restore_to(server: PgServer, base: Path, target: datetime, timeout_s: float = 120.0) -> float:
    """Rebuild the data directory from ``base``, replay the archived WAL up to
    ``target`` (a timezone-aware time: commits after it are not replayed) and
    promote. Returns the seconds until the server accepted writes again."""
    began = time.monotonic()
    await asyncio.to_thread(_restore_files, server, base, target)
    await server.astart(timeout_s)
    conn = await asyncpg.connect(server.url)
    try:
        while await conn.fetchval("SELECT pg_is_in_recovery()"):
            if time.monotonic() - began > timeout_s:
                raise TimeoutError(f"recovery to {target} not finished within {timeout_s:.0f}s")
            await asyncio.sleep(0.1)
    finally:
        await conn.close()
    return time.monotonic() - began
