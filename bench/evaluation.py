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
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import asyncpg  # noqa: E402

from services.evaluation.app import SPEC  # noqa: E402
from services.evaluation.domain.scoring import computed_scores  # noqa: E402
from services.evaluation.domain.measures import Measures  # noqa: E402
from services.evaluation.policy import load_policy  # noqa: E402
from services.evaluation.measures import unit_measures  # noqa: E402
from services.evaluation.category_report import category_rows  # noqa: E402
from services.evaluation.county_report import county_rows  # noqa: E402
from services.evaluation.unit_report import unit_rows  # noqa: E402
from services.runtime.db.migrations import upgrade  # noqa: E402
from services.runtime.db.service_db import ServiceDatabase  # noqa: E402
from services.runtime.settings import Settings  # noqa: E402

sys.path.insert(0, str(ROOT / "bench"))
from evaluation_data import CITY, Data, counts_of, seed  # noqa: E402

TARGET_S = 10.0
#: issue 19, target 7: scoring all units and each report at 1,000 units x 1,000,000 records
REPORT_TARGET_S = 2.0
#: pure functions Measures -> points, timed with the measures: the computed
#: indicators of the packaged 2023 indicator set (services/evaluation/policy)
INDICATOR_SET = load_policy(Settings(data_dir=Path(tempfile.gettempdir())))
SCORERS: list[Callable[[Measures], Any]] = [lambda m: computed_scores(INDICATOR_SET, m)]

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
        if reuse and await counts_of(db) and (await counts_of(db))["fact_delivery"]:
            counts, how = await counts_of(db), "reused from the kept database"
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
