"""The audit trail: a hash chain per service database, its verifier, its
retention, and the auditor's read endpoint.

Every decision writes an ``audit_log`` row (``UnitOfWork.audit``): who, in which
role, what, on which object, before/after, why, under which correlation id.
Each row also carries ``seq`` (1, 2, 3, … per database, no gaps),
``prev_hash`` (the ``row_hash`` of the row before; :data:`GENESIS` for the
first) and ``row_hash`` = SHA-256 over the canonical encoding of its content
and ``prev_hash`` (:func:`canonical`). The one-row table ``audit_chain`` holds
the head (last seq and hash) and, after a prune, the anchor (the last pruned
row's seq and hash). Appending locks the head row (``FOR UPDATE`` on
PostgreSQL; SQLite transactions are ``BEGIN IMMEDIATE`` already), so appends
are serialised and the chain never forks. The lock is taken at the end of the
transaction, just before COMMIT, so it is held as briefly as possible.

``xciss audit verify`` recomputes the chain and names the first broken row
(edited, deleted, inserted, reordered, or its hash changed); ``xciss audit
prune`` removes rows older than the retention period (at least 180 days) and
records the anchor, so the rest still verifies.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import msgspec
from sqlalchemy import MetaData, delete, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from services.runtime.db.engine import is_sqlite
from services.runtime.errors import DomainError

#: ``prev_hash`` of the first row of a chain that was never pruned.
GENESIS = "0" * 64
#: the id of the one row of ``audit_chain``
HEAD_ID = 1
#: audit rows are kept at least this long; ``prune`` refuses younger dates
RETENTION_DAYS = 180

#: the fields a row's hash covers, in the order they are documented
HASHED_FIELDS = (
    "seq",
    "at",
    "actor",
    "actor_role",
    "action",
    "object_type",
    "object_id",
    "reason",
    "before",
    "after",
    "correlation_id",
    "prev_hash",
)


class AuditError(DomainError):
    pass


# -- the chain ---------------------------------------------------------------


def _iso(at: datetime) -> str:
    if at.tzinfo is None:  # SQLite hands back naive UTC when read without the column type
        at = at.replace(tzinfo=UTC)
    return at.astimezone(UTC).isoformat(timespec="microseconds")


def canonical(row: Mapping[str, Any]) -> bytes:
    """The bytes a row's hash covers: JSON of :data:`HASHED_FIELDS`, keys
    sorted at every level, the time as UTC ISO 8601 with microseconds."""
    doc = {name: row.get(name) for name in HASHED_FIELDS}
    doc["at"] = _iso(row["at"])
    return msgspec.json.encode(doc, order="sorted")


def row_hash(row: Mapping[str, Any]) -> str:
    return hashlib.sha256(canonical(row)).hexdigest()


def json_value(value: Any) -> Any:
    """``before``/``after`` as they come back from a JSON column (so the hash
    computed on write is the hash recomputed on read)."""
    if value is None:
        return None
    return msgspec.json.decode(msgspec.json.encode(msgspec.to_builtins(value)))


async def append(session: AsyncSession, metadata: MetaData, rows: Sequence[dict[str, Any]]) -> None:
    """Chain and insert audit rows (content only: ``at``, ``actor``, …) in the
    caller's transaction. Holds the chain head until the transaction ends."""
    if not rows:
        return
    log, chain = metadata.tables["audit_log"], metadata.tables["audit_chain"]
    head = (await session.execute(select(chain.c.last_seq, chain.c.last_hash).where(chain.c.id == HEAD_ID).with_for_update())).one_or_none()
    if head is None:  # a database created without the migration's head row
        await session.execute(insert(chain).values(id=HEAD_ID, last_seq=0, last_hash=GENESIS, anchor_seq=0, anchor_hash=GENESIS))
        seq, prev = 0, GENESIS
    else:
        seq, prev = head.last_seq, head.last_hash
    chained = []
    for content in rows:
        seq += 1
        row = {**content, "before": json_value(content.get("before")), "after": json_value(content.get("after")), "seq": seq, "prev_hash": prev}
        row["row_hash"] = prev = row_hash(row)
        chained.append(row)
    await session.execute(insert(log), chained)
    await session.execute(update(chain).where(chain.c.id == HEAD_ID).values(last_seq=seq, last_hash=prev))


# -- verification ------------------------------------------------------------


@dataclass(frozen=True)
class Break:
    """The first place where the chain does not hold."""

    seq: int
    id: int | None
    kind: str  # edited | deleted | inserted | reordered | head
    detail: str


@dataclass(frozen=True)
class Verification:
    rows: int
    first_seq: int | None
    last_seq: int
    head_hash: str
    anchor_seq: int
    broken: Break | None

    @property
    def ok(self) -> bool:
        return self.broken is None

    def summary(self, service: str) -> str:
        if self.broken is not None:
            b = self.broken
            where = f"seq {b.seq}" + (f" (id {b.id})" if b.id is not None else "")
            return f"{service}: TAMPERED at {where}: {b.kind}: {b.detail}"
        span = f"seq {self.first_seq}..{self.last_seq}" if self.rows else "no rows"
        anchor = f", pruned through seq {self.anchor_seq}" if self.anchor_seq else ""
        return f"{service}: audit chain intact: {self.rows} rows, {span}{anchor}, head {self.head_hash}"


async def _snapshot(session: AsyncSession) -> None:
    """One consistent snapshot for the whole verification."""
    bind = session.bind
    if bind is not None and not is_sqlite(str(bind.url)):
        await session.connection(execution_options={"isolation_level": "REPEATABLE READ"})


async def verify(session: AsyncSession, metadata: MetaData, *, batch: int = 2000, snapshot: bool = True) -> Verification:
    """Recompute the chain in ``seq`` order and report the first broken row.

    ``snapshot``: read everything in one REPEATABLE READ transaction on
    PostgreSQL (SQLite's read transaction is a snapshot already); pass False
    when the caller holds the chain head in a write transaction."""
    if snapshot:
        await _snapshot(session)
    log, chain = metadata.tables["audit_log"], metadata.tables["audit_chain"]
    head = (await session.execute(select(chain).where(chain.c.id == HEAD_ID))).mappings().one_or_none()
    last_seq, last_hash = (head["last_seq"], head["last_hash"]) if head else (0, GENESIS)
    anchor_seq, anchor_hash = (head["anchor_seq"], head["anchor_hash"]) if head else (0, GENESIS)
    expected_seq, expected_prev = anchor_seq + 1, anchor_hash
    rows = 0
    first: int | None = None

    def result(broken: Break | None) -> Verification:
        return Verification(rows=rows, first_seq=first, last_seq=last_seq, head_hash=last_hash, anchor_seq=anchor_seq, broken=broken)

    after = None
    while True:
        q = select(log).order_by(log.c.seq).limit(batch)
        if after is not None:
            q = q.where(log.c.seq > after)
        page = (await session.execute(q)).mappings().all()
        if not page:
            break
        for r in page:
            seq = r["seq"]
            after = seq
            if seq > last_seq:
                return result(Break(seq, r["id"], "inserted", f"a row beyond the chain head (the head is at seq {last_seq})"))
            if seq < expected_seq:
                what = "is at or before the prune anchor" if seq <= anchor_seq else "repeats a sequence number"
                return result(Break(seq, r["id"], "inserted", f"a row that {what} (expected seq {expected_seq})"))
            if seq > expected_seq:
                missing = f"seq {expected_seq}" if seq == expected_seq + 1 else f"seq {expected_seq}..{seq - 1}"
                return result(Break(expected_seq, None, "deleted", f"{missing} missing before the row with seq {seq} (id {r['id']})"))
            if r["prev_hash"] != expected_prev:
                return result(Break(seq, r["id"], "reordered", "prev_hash is not the hash of the row before it (a row inserted, moved or re-hashed)"))
            recomputed = row_hash(r)
            if recomputed != r["row_hash"]:
                return result(Break(seq, r["id"], "edited", f"content does not match row_hash (stored {r['row_hash'][:16]}…, recomputed {recomputed[:16]}…)"))
            rows += 1
            first = seq if first is None else first
            expected_seq, expected_prev = seq + 1, r["row_hash"]
    if expected_seq - 1 != last_seq or expected_prev != last_hash:
        if expected_seq - 1 < last_seq:
            missing = f"seq {expected_seq}" if expected_seq == last_seq else f"seq {expected_seq}..{last_seq}"
            return result(Break(expected_seq, None, "deleted", f"{missing} missing at the end (the chain head is at seq {last_seq})"))
        return result(Break(expected_seq - 1, None, "head", f"the chain head (seq {last_seq}, {last_hash[:16]}…) does not match the last row"))
    return result(None)


# -- retention ---------------------------------------------------------------


@dataclass(frozen=True)
class Pruned:
    rows: int
    through_seq: int
    anchor_hash: str


def earliest_prunable(now: datetime) -> datetime:
    """``prune --before`` must be at least :data:`RETENTION_DAYS` in the past."""
    return now - timedelta(days=RETENTION_DAYS)


async def prune(session: AsyncSession, metadata: MetaData, before: datetime, *, now: datetime) -> Pruned:
    """Delete the rows older than ``before`` (a prefix of the chain) and record
    the last one's hash as the anchor. Refuses a date younger than the
    retention period and a chain that does not verify. Call inside a write
    transaction; audit the prune in the same transaction afterwards."""
    if before.tzinfo is None:
        raise ValueError("before must be timezone-aware")
    limit = earliest_prunable(now)
    if before > limit:
        raise AuditError(
            "audit.retention",
            f"审计记录至少保留{RETENTION_DAYS}天，只能清理 {limit.date().isoformat()} 之前的记录",
            f"audit rows are kept at least {RETENTION_DAYS} days: --before must be on or before {limit.date().isoformat()}",
            status=422,
        )
    log, chain = metadata.tables["audit_log"], metadata.tables["audit_chain"]
    # lock the head first, so nothing is appended while we look
    await session.execute(select(chain.c.id).where(chain.c.id == HEAD_ID).with_for_update())
    check = await verify(session, metadata, snapshot=False)
    if not check.ok:
        assert check.broken is not None
        raise AuditError(
            "audit.chain_broken",
            "审计链校验未通过，拒绝清理（先调查被篡改的记录）",
            f"the audit chain does not verify ({check.broken.kind} at seq {check.broken.seq}); nothing pruned",
            status=409,
        )
    keep_from = (await session.execute(select(func.min(log.c.seq)).where(log.c.at >= before))).scalar()
    through = check.last_seq if keep_from is None else keep_from - 1
    if through <= check.anchor_seq:
        return Pruned(rows=0, through_seq=check.anchor_seq, anchor_hash=(await _anchor(session, metadata)))
    anchor = (await session.execute(select(log.c.row_hash).where(log.c.seq == through))).scalar_one()
    done = await session.execute(delete(log).where(log.c.seq <= through))
    await session.execute(update(chain).where(chain.c.id == HEAD_ID).values(anchor_seq=through, anchor_hash=anchor, pruned_before=before, pruned_at=now))
    return Pruned(rows=done.rowcount, through_seq=through, anchor_hash=anchor)


async def _anchor(session: AsyncSession, metadata: MetaData) -> str:
    chain = metadata.tables["audit_chain"]
    return (await session.execute(select(chain.c.anchor_hash).where(chain.c.id == HEAD_ID))).scalar() or GENESIS


# -- migration ---------------------------------------------------------------


def migration_upgrade() -> None:
    """The body of each service's "audit hash chain" migration: the chain
    columns, the head table, and a chain over the rows already there (in id
    order, from :data:`GENESIS`)."""
    import sqlalchemy as sa
    from alembic import op

    from services.runtime.db.schema import UtcDateTime

    with op.batch_alter_table("audit_log") as b:
        b.add_column(sa.Column("seq", sa.BigInteger(), nullable=True))
        b.add_column(sa.Column("prev_hash", sa.String(64), nullable=True))
        b.add_column(sa.Column("row_hash", sa.String(64), nullable=True))
    log = sa.Table(
        "audit_log",
        sa.MetaData(),
        sa.Column("id", sa.BigInteger, primary_key=True),
        *(sa.Column(n, sa.String) for n in ("actor", "actor_role", "action", "object_type", "object_id", "reason", "correlation_id", "prev_hash", "row_hash")),
        sa.Column("at", UtcDateTime),
        sa.Column("before", sa.JSON),
        sa.Column("after", sa.JSON),
        sa.Column("seq", sa.BigInteger),
    )
    bind = op.get_bind()
    seq, prev = 0, GENESIS
    for r in bind.execute(sa.select(log).order_by(log.c.id)).mappings().all():
        seq += 1
        row = {**r, "seq": seq, "prev_hash": prev}
        prev = row_hash(row)
        bind.execute(sa.update(log).where(log.c.id == r["id"]).values(seq=seq, prev_hash=row["prev_hash"], row_hash=prev))
    with op.batch_alter_table("audit_log") as b:
        b.alter_column("seq", existing_type=sa.BigInteger(), nullable=False)
        b.alter_column("prev_hash", existing_type=sa.String(64), nullable=False)
        b.alter_column("row_hash", existing_type=sa.String(64), nullable=False)
        b.create_index("ix_audit_log_seq", ["seq"], unique=True)
        b.create_index("ix_audit_log_at", ["at"], unique=False)
    chain = op.create_table(
        "audit_chain",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("last_seq", sa.BigInteger(), nullable=False),
        sa.Column("last_hash", sa.String(length=64), nullable=False),
        sa.Column("anchor_seq", sa.BigInteger(), nullable=False),
        sa.Column("anchor_hash", sa.String(length=64), nullable=False),
        sa.Column("pruned_before", UtcDateTime(timezone=True), nullable=True),
        sa.Column("pruned_at", UtcDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_chain")),
    )
    op.bulk_insert(chain, [{"id": HEAD_ID, "last_seq": seq, "last_hash": prev, "anchor_seq": 0, "anchor_hash": GENESIS}])


def migration_downgrade() -> None:
    from alembic import op

    op.drop_table("audit_chain")
    with op.batch_alter_table("audit_log") as b:
        b.drop_index("ix_audit_log_at")
        b.drop_index("ix_audit_log_seq")
        b.drop_column("row_hash")
        b.drop_column("prev_hash")
        b.drop_column("seq")
