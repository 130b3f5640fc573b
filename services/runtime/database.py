"""Database engines and the tables every service has: outbox, inbox, audit log
(hash-chained, with its head in ``audit_chain``).

Each service owns its own database. SQLite (a file under the data directory)
is the default; PostgreSQL is used when the service's URL says so. The same
code and the same tests run on both.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Column,
    DateTime,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    TypeDecorator,
    event,
)
from sqlalchemy.ext import asyncio as sa_asyncio
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker

# The drivers log every statement with its parameters below WARNING (aiosqlite at DEBUG,
# SQLAlchemy's engine at INFO): a password hash or personal data would reach the log at
# XCISS_LOG_LEVEL=DEBUG. They stay at WARNING whatever the root level is.
for _quiet in ("aiosqlite", "sqlalchemy.engine", "sqlalchemy.pool", "asyncpg"):
    logging.getLogger(_quiet).setLevel(logging.WARNING)

#: Constraint names that alembic and both databases agree on.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

#: An auto-incrementing 64-bit key (SQLite only auto-increments INTEGER).
BigId = BigInteger().with_variant(Integer, "sqlite")


class UtcDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on both databases (SQLite drops the zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is not None and value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value


def new_metadata() -> MetaData:
    """A service's metadata with the runtime's tables already in it."""
    md = MetaData(naming_convention=NAMING_CONVENTION)
    add_runtime_tables(md)
    return md


def add_runtime_tables(md: MetaData) -> None:
    Table(
        "outbox",
        md,
        Column("id", BigId, primary_key=True, autoincrement=True),
        Column("event_id", String(36), nullable=False, unique=True),
        Column("subject", String(200), nullable=False),
        Column("payload", LargeBinary, nullable=False),
        Column("headers", JSON, nullable=False),
        Column("created_at", UtcDateTime, nullable=False),
        Column("published_at", UtcDateTime, nullable=True),
        Column("attempts", Integer, nullable=False, default=0),
        Column("last_error", Text, nullable=True),
        Index("ix_outbox_pending", "published_at", "id"),
    )
    Table(
        "inbox",
        md,
        Column("consumer", String(120), primary_key=True),
        Column("event_id", String(36), primary_key=True),
        Column("subject", String(200), nullable=False),
        Column("processed_at", UtcDateTime, nullable=False),
    )
    Table(
        "audit_log",
        md,
        Column("id", BigId, primary_key=True, autoincrement=True),
        Column("at", UtcDateTime, nullable=False),
        Column("actor", String(200), nullable=False),
        Column("actor_role", String(40), nullable=False),
        Column("action", String(120), nullable=False),
        Column("object_type", String(60), nullable=False),
        Column("object_id", String(64), nullable=False),
        Column("reason", Text, nullable=True),
        Column("before", JSON, nullable=True),
        Column("after", JSON, nullable=True),
        Column("correlation_id", String(64), nullable=True),
        # the hash chain (services/runtime/audit.py): 1, 2, 3, … without gaps
        Column("seq", BigInteger, nullable=False),
        Column("prev_hash", String(64), nullable=False),
        Column("row_hash", String(64), nullable=False),
        Index("ix_audit_log_object", "object_type", "object_id"),
        Index("ix_audit_log_seq", "seq", unique=True),
        Index("ix_audit_log_at", "at"),
    )
    Table(
        # the chain's head (one row, id 1), locked by every append; after a
        # prune, the anchor is the last pruned row's seq and hash
        "audit_chain",
        md,
        Column("id", Integer, primary_key=True, autoincrement=False),
        Column("last_seq", BigInteger, nullable=False),
        Column("last_hash", String(64), nullable=False),
        Column("anchor_seq", BigInteger, nullable=False),
        Column("anchor_hash", String(64), nullable=False),
        Column("pruned_before", UtcDateTime, nullable=True),
        Column("pruned_at", UtcDateTime, nullable=True),
    )


def is_sqlite(url: str) -> bool:
    return url.startswith("sqlite")


@dataclass(frozen=True)
class PoolSettings:
    """A process's connections to one PostgreSQL database (XCISS_DB_POOL_*)."""

    size: int = 10
    max_overflow: int = 10
    timeout_s: float = 30.0
    #: the URL is a transaction pooler (PgBouncer ``pool_mode = transaction``): consecutive
    #: transactions may run on different server connections, so no prepared statement is
    #: cached across them and each gets a unique name (asyncpg and SQLAlchemy's advice)
    transaction_pooler: bool = False

    def connect_args(self) -> dict[str, Any]:
        """asyncpg's arguments: behind a transaction pooler, no statement cache (asyncpg's
        nor SQLAlchemy's) and a unique name for every prepared statement."""
        if not self.transaction_pooler:
            return {}
        return {"statement_cache_size": 0, "prepared_statement_cache_size": 0, "prepared_statement_name_func": _unique_statement_name}

    @property
    def most(self) -> int:
        """The most connections one process opens to the database."""
        return self.size + self.max_overflow


def _unique_statement_name() -> str:
    return f"__xciss_{uuid.uuid4().hex}__"


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
