"""The voucher rush's database: the read models and accounts it seeds straight
into the vouchers tables (no bus), the invariants it checks after the rush, and
the two baselines it measures in the same database — the concurrent and the
sequential conditional budget debit (issue 19, target 2). ``voucher_rush.py``
imports it; it imports none of the benchmarks.
"""

from __future__ import annotations

import asyncio
import hashlib
import statistics
import time
import uuid
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, insert, select, text
from sqlalchemy.ext.asyncio import create_async_engine

from services.runtime.db.engine import create_engine, is_sqlite
from services.vouchers.db.models import (
    accounts,
    applications,
    case_counters,
    order_view,
    programmes,
    unit_view,
    user_view,
    vouchers,
)

FEE_FEN = 1_000_000
VOUCHER_FEN = 300_000  # 30% of the fee (the default rate)
CAP_FEN = 5_000_000  # the default yearly cap


async def seed(url: str, n: int, year: int) -> dict[str, Any]:
    """The read models and accounts, straight into the tables (no bus)."""
    t0 = time.perf_counter()
    now = datetime.now(UTC)
    unit_id = str(uuid.uuid4())
    users = [str(uuid.uuid4()) for _ in range(n)]
    orders = [str(uuid.uuid4()) for _ in range(n)]
    engine = create_engine(url)
    try:
        async with engine.begin() as conn:
            await conn.execute(
                insert(unit_view).values(unit_id=unit_id, version=2, name="许昌检测中心", status="approved", accepts_vouchers=True, parent_unit_id=None, updated_at=now)
            )
            for i in range(0, n, 2000):
                chunk = range(i, min(i + 2000, n))
                await conn.execute(
                    insert(user_view),
                    [
                        {"user_id": users[k], "version": 2, "name": f"企业{k}", "kind": "enterprise", "credit_code": None, "classes": ["high_tech"], "special_classes": [],
                         "in_xuchang": True, "verified": True, "sound_finances": True, "updated_at": now}
                        for k in chunk
                    ],
                )
                await conn.execute(
                    insert(order_view),
                    [
                        {"order_id": orders[k], "version": 3, "user_id": users[k], "unit_id": unit_id, "status": "contracted", "amount_fen": FEE_FEN,
                         "testing_fee_fen": FEE_FEN, "purpose": "research", "contract_sha256": hashlib.sha256(orders[k].encode()).hexdigest(),
                         "provincial_subsidy": False, "updated_at": now}
                        for k in chunk
                    ],
                )
                await conn.execute(
                    insert(accounts), [{"user_id": users[k], "year": year, "cap_fen": CAP_FEN, "committed_fen": 0, "activated_at": now} for k in chunk]
                )
            if not is_sqlite(url):
                await conn.execute(text("ANALYZE"))
    finally:
        await engine.dispose()
    return {"users": users, "orders": orders, "unit_id": unit_id, "seed_s": time.perf_counter() - t0}


async def invariants(url: str, year: int) -> dict[str, Any]:
    engine = create_engine(url)
    try:
        async with engine.connect() as conn:
            prog = (await conn.execute(select(programmes).where(programmes.c.year == year))).mappings().one()
            count, total = (await conn.execute(select(func.count(), func.coalesce(func.sum(vouchers.c.amount_fen), 0)).select_from(vouchers))).one()
            per_user = (await conn.execute(select(func.max(accounts.c.committed_fen), func.max(accounts.c.cap_fen)))).one()
            over_cap = (await conn.execute(select(func.count()).select_from(accounts).where(accounts.c.committed_fen > accounts.c.cap_fen))).scalar_one()
            vouchers_per_user = (await conn.execute(select(func.max(text("c"))).select_from(select(func.sum(vouchers.c.amount_fen).label("c")).group_by(vouchers.c.user_id).subquery()))).scalar()
            mismatch = (
                await conn.execute(
                    select(func.count())
                    .select_from(accounts)
                    .where(accounts.c.committed_fen != func.coalesce(select(func.sum(vouchers.c.amount_fen)).where(vouchers.c.user_id == accounts.c.user_id).scalar_subquery(), 0))
                )
            ).scalar_one()
            # case numbers (issue 17): one each, none twice, none skipped (every request of the rush is recorded)
            apps, numbered = (await conn.execute(select(func.count(), func.count(func.distinct(applications.c.case_no))).select_from(applications))).one()
            last_no = (await conn.execute(select(case_counters.c.last).where(case_counters.c.prefix == "SQ", case_counters.c.year == year))).scalar() or 0
    finally:
        await engine.dispose()
    return {
        "budget": prog["budget_fen"],
        "committed": prog["committed_fen"],
        "issued": count,
        "issued_fen": int(total),
        "max_committed": per_user[0],
        "cap": per_user[1],
        "over_cap": over_cap,
        "max_user_vouchers_fen": vouchers_per_user or 0,
        "account_mismatch": mismatch,
        "open": prog["open"],
        "closed_reason": prog["closed_reason"],
        "applications": apps,
        "case_numbers": numbered,
        "last_case_no": last_no,
    }


async def raw_debit(url: str, concurrency: int, duration: float) -> dict[str, Any]:
    """C tasks, each: one transaction = one conditional single-row UPDATE."""
    if is_sqlite(url):
        engine = create_engine(url)  # the service's settings: WAL, busy timeout, BEGIN IMMEDIATE
    else:
        engine = create_async_engine(url, pool_size=concurrency, max_overflow=0)
    amount = VOUCHER_FEN
    try:
        async with engine.begin() as conn:
            await conn.execute(text("DROP TABLE IF EXISTS bench_budget"))
            await conn.execute(text("CREATE TABLE bench_budget (id INTEGER PRIMARY KEY, remaining BIGINT NOT NULL CHECK (remaining >= 0))"))
            await conn.execute(text("INSERT INTO bench_budget (id, remaining) VALUES (1, :r)"), {"r": amount * 10**9})
        stmt = text("UPDATE bench_budget SET remaining = remaining - :a WHERE id = 1 AND remaining >= :a")
        done = 0
        refused = 0
        latencies: list[float] = []
        stop_at = time.perf_counter() + duration

        async def worker() -> None:
            nonlocal done, refused
            while time.perf_counter() < stop_at:
                t = time.perf_counter()
                async with engine.begin() as conn:
                    r = await conn.execute(stmt, {"a": amount})
                latencies.append(time.perf_counter() - t)
                if r.rowcount == 1:
                    done += 1
                else:
                    refused += 1

        t0 = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        elapsed = time.perf_counter() - t0
        async with engine.begin() as conn:
            await conn.execute(text("DROP TABLE bench_budget"))
    finally:
        await engine.dispose()
    latencies.sort()
    q = statistics.quantiles(latencies, n=100, method="inclusive")
    return {"rate": done / elapsed, "done": done, "refused": refused, "elapsed": elapsed, "p50": q[49] * 1000, "p99": q[98] * 1000}


async def sequential_debit(url: str, duration: float = 10.0) -> dict[str, Any]:
    """One connection, one conditional single-row debit per transaction, one after another,
    with the driver alone: raw asyncpg on PostgreSQL, sqlite3 on SQLite (the service's pragmas)."""
    amount, done = VOUCHER_FEN, 0
    if is_sqlite(url):
        import sqlite3

        conn = sqlite3.connect(url.split("///", 1)[1], isolation_level=None)
        try:
            for pragma in ("journal_mode=WAL", "busy_timeout=30000", "synchronous=NORMAL"):
                conn.execute(f"PRAGMA {pragma}")
            conn.execute("DROP TABLE IF EXISTS bench_seq")
            conn.execute("CREATE TABLE bench_seq (id INTEGER PRIMARY KEY, remaining BIGINT NOT NULL CHECK (remaining >= 0))")
            conn.execute("INSERT INTO bench_seq (id, remaining) VALUES (1, ?)", (amount * 10**9,))
            t0 = time.perf_counter()
            while time.perf_counter() - t0 < duration:
                conn.execute("BEGIN IMMEDIATE")
                done += conn.execute("UPDATE bench_seq SET remaining = remaining - ? WHERE id = 1 AND remaining >= ?", (amount, amount)).rowcount
                conn.execute("COMMIT")
            elapsed = time.perf_counter() - t0
            conn.execute("DROP TABLE bench_seq")
        finally:
            conn.close()
        return {"rate": done / elapsed, "done": done, "elapsed": elapsed, "driver": "sqlite3"}
    import asyncpg

    conn = await asyncpg.connect(url.replace("postgresql+asyncpg://", "postgresql://", 1))
    try:
        await conn.execute("DROP TABLE IF EXISTS bench_seq")
        await conn.execute("CREATE TABLE bench_seq (id INTEGER PRIMARY KEY, remaining BIGINT NOT NULL CHECK (remaining >= 0))")
        await conn.execute("INSERT INTO bench_seq (id, remaining) VALUES (1, $1)", amount * 10**9)
        stmt = await conn.prepare("UPDATE bench_seq SET remaining = remaining - $1 WHERE id = 1 AND remaining >= $1")
        t0 = time.perf_counter()
        while time.perf_counter() - t0 < duration:
            await stmt.fetch(amount)
            done += 1
        elapsed = time.perf_counter() - t0
        await conn.execute("DROP TABLE bench_seq")
    finally:
        await conn.close()
    return {"rate": done / elapsed, "done": done, "elapsed": elapsed, "driver": "asyncpg"}
