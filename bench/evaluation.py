"""Benchmark: the evaluation's computed measures for 1,000 units over
1,000,000 service records (issue 6: under 10 s).

Set-up: a fresh evaluation database (SQLite in a temporary directory, and
PostgreSQL when a server URL is given: the bench creates its own database on
it and drops it afterwards), migrated with alembic, then **the facts tables
filled directly** (bulk insert, not through the bus): U units in
``unit_view`` spread over Xuchang's counties and a few departments, 20
instruments per unit, N service records — each an order with its delivered
results (90% in the evaluated year, 10% the year before), 90% of them settled,
60% rated, 30% with a voucher — plus ties between users and units (R26) and
some refused vouchers. The rows are what the evaluation worker writes from
the events.

Timed: :func:`services.evaluation.measures.unit_measures` for every unit of
the year (the figure against the target), then the county and category reports
built on the same facts, each in its own read session. Every timing is the
best of ``--repeat`` runs, and the first (cold) run is printed too.

    .venv/bin/python bench/evaluation.py                       # SQLite only
    .venv/bin/python bench/evaluation.py --postgres postgresql://postgres@127.0.0.1:5432/test
    XCISS_BENCH_POSTGRES_URL=postgresql://postgres@127.0.0.1:5432/test .venv/bin/python bench/evaluation.py
    .venv/bin/python bench/evaluation.py --no-sqlite --postgres postgresql://postgres@127.0.0.1:5432/test --postgres-database xciss_bench_eval_1m   # kept; a second run reuses it

Scoring: ``SCORERS`` takes pure functions ``Measures -> points``; each one
appended there is timed with the measures (one line, e.g.
``SCORERS.append(lambda m: indicators.score(m, policy))``).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import asyncpg  # noqa: E402
from sqlalchemy import Table, func, select, text  # noqa: E402

from services.evaluation.app import SPEC  # noqa: E402
from services.evaluation.db.facts_models import (  # noqa: E402
    fact_affiliation,
    fact_delivery,
    fact_instrument,
    fact_order,
    fact_rating,
    fact_settlement,
    fact_voucher_refusal,
    fact_voucher_use,
)
from services.evaluation.db.models import unit_view  # noqa: E402
from services.evaluation.domain.scoring import computed_scores  # noqa: E402
from services.evaluation.domain.measures import Measures  # noqa: E402
from services.evaluation.policy import load_policy  # noqa: E402
from services.evaluation.measures import unit_measures  # noqa: E402
from services.evaluation.category_report import category_rows  # noqa: E402
from services.evaluation.county_report import county_rows  # noqa: E402
from services.evaluation.unit_report import unit_rows  # noqa: E402
from services.runtime.clock import POLICY_ZONE, local_year  # noqa: E402
from services.runtime.db.migrations import upgrade  # noqa: E402
from services.runtime.db.service_db import ServiceDatabase  # noqa: E402
from services.runtime.city import packaged_city  # noqa: E402
from services.runtime.settings import Settings  # noqa: E402

TARGET_S = 10.0
#: issue 19, target 7: scoring all units and each report at 1,000 units x 1,000,000 records
REPORT_TARGET_S = 2.0
#: pure functions Measures -> points, timed with the measures: the computed
#: indicators of the packaged 2023 indicator set (services/evaluation/policy)
INDICATOR_SET = load_policy(Settings(data_dir=Path(tempfile.gettempdir())))
SCORERS: list[Callable[[Measures], Any]] = [lambda m: computed_scores(INDICATOR_SET, m)]

#: the packaged city's counties (services/runtime/city-xuchang.yaml)
CITY = packaged_city()
COUNTIES = list(CITY.divisions)
DEPARTMENTS = ["市科技局", "市教育局", "市卫健委", "市工信局", "禹州市科技局", "长葛市科技局"]
CATEGORIES = ["分析仪器", "物理性能测试仪器", "计量仪器", "电子测量仪器", "特种检测仪器", "工艺试验仪器", "计算机及其配套设备", "医学科研仪器", "其他仪器"]
INSTRUMENTS_PER_UNIT = 20
USERS = 50_000
AFFILIATIONS = 5_000
REFUSALS = 5_000


def uid(rng: random.Random) -> str:
    h = f"{rng.getrandbits(128):032x}"
    return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-a{h[17:20]}-{h[20:]}"


def local_moment(rng: random.Random, year: int) -> datetime:
    start = datetime(year, 1, 1, tzinfo=POLICY_ZONE)
    return (start + timedelta(seconds=rng.randrange(365 * 86400))).astimezone(UTC)


class Data:
    """The generated facts, as column dicts per table (deterministic for a seed)."""

    def __init__(self, units: int, records: int, year: int, seed: int = 6) -> None:
        rng = random.Random(seed)
        self.year = year
        self.unit_ids = [uid(rng) for _ in range(units)]
        self.user_ids = [uid(rng) for _ in range(USERS)]
        now = datetime.now(UTC)
        self.units = [
            {
                "unit_id": u,
                "version": 2,
                "name": f"单位{n:04d}",
                "kind": "university" if n % 5 == 0 else "institute",
                "status": "approved",
                "county_code": COUNTIES[n % len(COUNTIES)],
                "department": DEPARTMENTS[n % len(DEPARTMENTS)],
                "parent_unit_id": None,
                "updated_at": now,
            }
            for n, u in enumerate(self.unit_ids)
        ]
        self.instruments: list[dict[str, Any]] = []
        self.instruments_of: dict[str, list[str]] = {}
        for n, u in enumerate(self.unit_ids):
            ids = self.instruments_of[u] = []
            for k in range(INSTRUMENTS_PER_UNIT):
                iid = uid(rng)
                ids.append(iid)
                reg = local_moment(rng, year - rng.choice((0, 1, 2)))
                must = rng.random() < 0.8
                listed = rng.random() < 0.85
                deadline = (reg + timedelta(days=42)).date()
                listed_on = (reg + timedelta(days=rng.randrange(60))).date() if listed else None
                self.instruments.append(
                    {
                        "instrument_id": iid,
                        "version": 3,
                        "unit_id": u,
                        "category": CATEGORIES[(n + k) % len(CATEGORIES)],
                        "county_code": COUNTIES[n % len(COUNTIES)],
                        "funding": "fiscal_full" if must else "non_fiscal",
                        "original_value_fen": rng.randrange(5_000_000, 500_000_000),
                        "must_list": must,
                        "listing_deadline": deadline if must else None,
                        "status": "in_service",
                        "registered_at": reg,
                        "registered_year": local_year(reg),
                        "listed_on": listed_on,
                        "listed_year": listed_on.year if listed_on else None,
                        "on_time": (listed_on <= deadline) if listed_on and must else (True if listed_on else None),
                        "retired_year": year if rng.random() < 0.02 else None,
                    }
                )
        # a few large units and many small ones
        weights = [1.0 / (1 + (n % 100)) for n in range(units)]
        self.order_units = rng.choices(self.unit_ids, weights=weights, k=records)
        self.affiliations = []
        pairs = set()
        for _ in range(AFFILIATIONS):
            u, us = rng.choice(self.unit_ids), rng.choice(self.user_ids)
            pairs.add((u, us))
            self.affiliations.append(
                {
                    "affiliation_id": uid(rng),
                    "user_id": us,
                    "unit_id": u,
                    "kind": "co_construction",
                    "recorded_at": local_moment(rng, year - 1),
                    "removed_at": local_moment(rng, year) if rng.random() < 0.1 else None,
                }
            )
        pair_list = list(pairs)
        self.records = records
        self._rng = rng
        self._pairs = pair_list

    def service_records(self) -> Iterator[tuple[dict[str, Any], ...]]:
        """Per record: the order, its delivery, and optionally its settlement, rating and voucher use."""
        rng, year = self._rng, self.year
        for n in range(self.records):
            if rng.random() < 0.03:
                unit, user = rng.choice(self._pairs)
            else:
                unit, user = self.order_units[n], rng.choice(self.user_ids)
            oid = uid(rng)
            iid = rng.choice(self.instruments_of[unit])
            delivered = local_moment(rng, year if rng.random() < 0.9 else year - 1)
            fee = rng.randrange(10_000, 2_000_000)
            order = {
                "order_id": oid,
                "version": 6,
                "unit_id": unit,
                "user_id": user,
                "status": "rated",
                "amount_fen": fee,
                "purpose": "research",
                "primary_instrument_id": iid,
                "contracted_year": local_year(delivered - timedelta(days=7)),
                "cancelled_year": None,
            }
            delivery = {
                "order_id": oid,
                "unit_id": unit,
                "user_id": user,
                "primary_instrument_id": iid,
                "delivered_at": delivered,
                "year": local_year(delivered),
                "service_hours_centi": rng.randrange(1, 40) * 100,
            }
            settlement = rating = use = None
            if rng.random() < 0.9:
                settled = delivered + timedelta(days=rng.randrange(1, 20))
                voucher = fee * 3 // 10 if rng.random() < 0.3 else 0
                vid = uid(rng) if voucher else None
                settlement = {
                    "order_id": oid,
                    "settlement_id": oid,
                    "unit_id": unit,
                    "user_id": user,
                    "settled_at": settled,
                    "year": local_year(settled),
                    "fee_fen": fee,
                    "voucher_fen": voucher,
                    "voucher_id": vid,
                }
                if vid:
                    use = {"voucher_id": vid, "order_id": oid, "unit_id": unit, "user_id": user, "used_at": settled, "year": local_year(settled), "amount_fen": voucher}
                if rng.random() < 0.66:
                    rated = settled + timedelta(days=rng.randrange(0, 10))
                    rating = {"order_id": oid, "unit_id": unit, "user_id": user, "rated_at": rated, "year": local_year(rated), "rating": rng.randint(3, 5)}
            yield order, delivery, settlement, rating, use

    def refusals(self) -> list[dict[str, Any]]:
        rng = self._rng
        out = []
        for _ in range(REFUSALS):
            at = local_moment(rng, self.year)
            out.append(
                {
                    "event_id": uid(rng),
                    "voucher_id": uid(rng),
                    "order_id": uid(rng),
                    "unit_id": rng.choice(self.unit_ids),
                    "user_id": rng.choice(self.user_ids),
                    "refused_at": at,
                    "year": local_year(at),
                    "reason": "设备检修",
                }
            )
        return out


class Loader:
    """Bulk insert: SQLAlchemy executemany on SQLite, COPY on PostgreSQL."""

    def __init__(self, db: ServiceDatabase) -> None:
        self.db = db
        self.pg = not db.url.startswith("sqlite")

    async def load(self, table: Table, rows: list[dict[str, Any]]) -> None:
        if not rows:
            return
        async with self.db.engine.begin() as conn:
            if self.pg:
                raw = await conn.get_raw_connection()
                apg: asyncpg.Connection = raw.driver_connection  # type: ignore[assignment]
                cols = list(rows[0])
                await apg.copy_records_to_table(table.name, records=[tuple(r[c] for c in cols) for r in rows], columns=cols)
            else:
                # the driver's executemany with the columns' own bind processors:
                # the stored text is exactly what the service writes
                raw = await conn.get_raw_connection()
                dialect = conn.dialect
                cols = list(rows[0])
                procs = [(c, table.c[c].type._cached_bind_processor(dialect)) for c in cols]
                converted = [(c, p) for c, p in procs if p is not None]
                for r in rows:
                    for c, p in converted:
                        if r[c] is not None:
                            r[c] = p(r[c])
                sql = f"INSERT INTO {table.name} ({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))})"
                values = [tuple(r.values()) for r in rows]
                await raw.driver_connection.executemany(sql, values)


async def seed(db: ServiceDatabase, data: Data) -> dict[str, int]:
    loader = Loader(db)
    await loader.load(unit_view, data.units)
    await loader.load(fact_instrument, data.instruments)
    await loader.load(fact_affiliation, data.affiliations)
    await loader.load(fact_voucher_refusal, data.refusals())
    batch: dict[Table, list[dict[str, Any]]] = {t: [] for t in (fact_order, fact_delivery, fact_settlement, fact_rating, fact_voucher_use)}
    tables = list(batch)
    for record in data.service_records():
        for t, row in zip(tables, record, strict=True):
            if row is not None:
                batch[t].append(row)
        if len(batch[fact_order]) >= 100_000:
            for t, rows in batch.items():
                await loader.load(t, rows)
                rows.clear()
    for t, rows in batch.items():
        await loader.load(t, rows)
    if loader.pg:
        # what autovacuum does after a bulk load (it vacuums on inserts too): the
        # visibility map lets the covering indexes be read without the table
        async with db.engine.connect() as conn:
            await (await conn.execution_options(isolation_level="AUTOCOMMIT")).execute(text("VACUUM (ANALYZE)"))
    else:
        async with db.engine.begin() as conn:
            await conn.execute(text("ANALYZE"))
    return await _counts(db)


async def _counts(db: ServiceDatabase) -> dict[str, int]:
    counts = {}
    async with db.read() as s:
        for t in (unit_view, fact_instrument, fact_order, fact_delivery, fact_settlement, fact_rating, fact_voucher_use, fact_voucher_refusal, fact_affiliation):
            counts[t.name] = (await s.execute(select(func.count()).select_from(t))).scalar_one()
    return counts


async def timed(fn: Callable[[], Any], repeat: int) -> tuple[float, float, Any]:
    times, result = [], None
    for _ in range(repeat):
        t0 = time.perf_counter()
        result = await fn()
        times.append(time.perf_counter() - t0)
    return times[0], min(times), result


async def run(label: str, url: str, args: argparse.Namespace, *, reuse: bool = False) -> None:
    await asyncio.to_thread(upgrade, "evaluation", url)
    db = ServiceDatabase("evaluation", url, SPEC.metadata)
    try:
        t0 = time.perf_counter()
        if reuse and await _counts(db) and (await _counts(db))["fact_delivery"]:
            counts, how = await _counts(db), "reused from the kept database"
        else:
            counts = await seed(db, Data(args.units, args.records, args.year))
            how = "bulk-inserted (bus bypassed)"
        seeded = time.perf_counter() - t0
        load = os.getloadavg()

        async def measures() -> tuple[dict[str, Measures], list[Any]]:
            async with db.read() as s:
                ms = await unit_measures(s, args.year)
            points = [score(m) for m in ms.values() for score in SCORERS]
            return ms, points

        cold, best, (ms, points) = await timed(measures, args.repeat)
        c_cold, c_best, counties = await timed(lambda: _counties(db, args.year), args.repeat)
        k_cold, k_best, categories = await timed(lambda: category_rows(db, args.year), args.repeat)
        served = sum(m.orders_served for m in ms.values())
        revenue = sum(m.revenue_fen for m in ms.values())
        line = "=" * 78
        print(line)
        print(f"EVALUATION BENCHMARK  units={args.units:,} service records={args.records:,} year={args.year}")
        print(f"  database   : {label}; facts {how} in {seeded:.1f} s")
        print(f"  load       : {load[0]:.2f} {load[1]:.2f} {load[2]:.2f} (1, 5, 15 min) before the timed runs, {os.cpu_count()} CPUs")
        print("  rows       : " + ", ".join(f"{k} {v:,}" for k, v in counts.items()))
        print(f"  measures   : {len(ms):,} units, {served:,} orders served in {args.year}, revenue {revenue:,} fen")
        scoring = f" + scoring ({len(SCORERS)} scorer(s), {len(points):,} results)" if SCORERS else " (no scorer plugged in)"
        print(f"  time       : all units' measures{scoring}: best {best:.2f} s (cold {cold:.2f} s) of {args.repeat}")
        print(f"  target     : < {TARGET_S:.0f} s → {'PASS' if best < TARGET_S else 'MISS'}")
        print(f"  reports    : per county ({len(counties)} rows) best {c_best:.2f} s (cold {c_cold:.2f} s); per category ({len(categories)} rows) best {k_best:.2f} s (cold {k_cold:.2f} s)")
        slowest = max(best, c_best, k_best)
        print(f"  target 19.7: every report ≤ {REPORT_TARGET_S:.0f} s (best of {args.repeat}) → {'PASS' if slowest <= REPORT_TARGET_S else 'MISS'} (slowest {slowest:.2f} s)")
        print(line)
    finally:
        await db.dispose()


async def _counties(db: ServiceDatabase, year: int) -> Any:
    return county_rows(await unit_rows(db, year), CITY)


async def with_postgres(admin_url: str, args: argparse.Namespace) -> None:
    dsn = admin_url.replace("postgresql+asyncpg://", "postgresql://")
    keep = args.postgres_database
    name = keep or f"xciss_bench_eval_{uuid.uuid4().hex[:8]}"
    conn = await asyncpg.connect(dsn)
    try:
        exists = await conn.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name)
        if not exists:
            await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    url = dsn.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://", 1) + f"/{name}"
    if keep:
        await run("PostgreSQL", url, args, reuse=True)
        return
    try:
        await run("PostgreSQL", url, args)
    finally:
        conn = await asyncpg.connect(dsn)
        try:
            await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await conn.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--units", type=int, default=1_000)
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument("--year", type=int, default=date.today().year)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--postgres", default=os.environ.get("XCISS_BENCH_POSTGRES_URL"), help="a PostgreSQL server URL (the bench creates and drops its own database there)")
    parser.add_argument("--no-sqlite", action="store_true", help="PostgreSQL only")
    parser.add_argument("--sqlite-file", help="keep the SQLite database in this file; facts already there are reused")
    parser.add_argument("--postgres-database", help="keep the PostgreSQL database under this name on the --postgres server; facts already there are reused")
    args = parser.parse_args()

    async def all_runs() -> None:
        if args.sqlite_file:
            await run("SQLite", f"sqlite+aiosqlite:///{Path(args.sqlite_file).resolve()}", args, reuse=True)
        elif not args.no_sqlite:
            with tempfile.TemporaryDirectory() as tmp:
                await run("SQLite", f"sqlite+aiosqlite:///{Path(tmp) / 'evaluation.db'}", args)
        if args.postgres:
            await with_postgres(args.postgres, args)

    asyncio.run(all_runs())


if __name__ == "__main__":
    main()
