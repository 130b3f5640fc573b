"""The tables every service has: outbox, inbox, audit log (hash-chained,
with its head in ``audit_chain``), and the column types and naming convention
all of a service's tables use."""

from __future__ import annotations

import logging
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
)

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
        # the hash chain (services/runtime/db/audit_chain.py): 1, 2, 3, … without gaps
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


#: the table of ``Idempotency-Key`` replays and the longest key it keeps
IDEMPOTENCY_TABLE = "idempotency_keys"
IDEMPOTENCY_MAX_KEY_LENGTH = 200


def add_idempotency_table(md: MetaData) -> Table:
    """The ``idempotency_keys`` table, in a service's metadata (the ``Idempotency-Key``
    replays of ``runtime/http/idempotency.py``; here, so that a service's tables import no HTTP)."""
    return Table(
        IDEMPOTENCY_TABLE,
        md,
        #: ``role:org:subject`` of the token (the scope of a key)
        Column("principal", String(440), primary_key=True),
        Column("operation", String(80), primary_key=True),
        Column("key", String(IDEMPOTENCY_MAX_KEY_LENGTH), primary_key=True),
        Column("subject", String(200), nullable=False),
        #: HMAC-SHA256 (hex) of the request
        Column("fingerprint", String(64), nullable=False),
        Column("status", Integer, nullable=False),
        Column("body", JSON, nullable=False),
        Column("created_at", UtcDateTime, nullable=False),
        Index("ix_idempotency_keys_created_at", "created_at"),
    )
