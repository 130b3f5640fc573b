"""Database engines. Each service owns its own database. SQLite (a file under
the data directory) is the default; PostgreSQL is used when the service's URL
says so. The same code and the same tests run on both.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import event
from sqlalchemy.ext import asyncio as sa_asyncio
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker

from services.runtime.pool_settings import PoolSettings


def is_sqlite(url: str) -> bool:
    return url.startswith("sqlite")


def create_engine(url: str, *, pool: PoolSettings | None = None, read_only: bool = False) -> AsyncEngine:
    """An async engine; SQLite gets WAL, a busy timeout and IMMEDIATE writes.

    ``read_only`` (SQLite): transactions begin DEFERRED and the connection is
    ``query_only``, so readers share WAL snapshots instead of queueing on the
    write lock; a write through it fails instead of silently taking the lock.
    """
    if is_sqlite(url):
        engine = sa_asyncio.create_async_engine(url, connect_args={"timeout": 30})
        _configure_sqlite(engine, read_only=read_only)
        return engine
    pool = pool or PoolSettings()
    # looked up at call time: OpenTelemetry's SQLAlchemy instrumentation wraps it (telemetry.py)
    return sa_asyncio.create_async_engine(
        url, pool_size=pool.size, max_overflow=pool.max_overflow, pool_timeout=pool.timeout_s, pool_pre_ping=True, connect_args=pool.connect_args()
    )


def _configure_sqlite(engine: AsyncEngine, *, read_only: bool = False) -> None:
    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        # take transaction control from the driver so BEGIN IMMEDIATE is ours:
        # a write transaction then waits for the lock instead of failing with
        # "database is locked" when it upgrades from a read.
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA busy_timeout=30000")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA synchronous=NORMAL")
        if read_only:
            cur.execute("PRAGMA query_only=ON")
        cur.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(conn: Any) -> None:
        conn.exec_driver_sql("BEGIN" if read_only else "BEGIN IMMEDIATE")


def session_factory(engine: AsyncEngine) -> async_sessionmaker:
    return async_sessionmaker(engine, expire_on_commit=False)
