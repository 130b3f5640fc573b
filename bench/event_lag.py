"""Benchmark (issue 19, target 4): event lag from payments' settlement commit
to evaluation's fact commit, p99 ≤ 200 ms at 500 events/s for 60 s.

Set-up (the bench's own process): an embedded ``nats-server -js`` on a free
port with the streams declared (no authorization, as bench/scaleout.py and
bench/voucher_rush.py run it), and two fresh PostgreSQL databases, payments'
and evaluation's, migrated and dropped at the end. ``xciss relay payments``
and ``xciss worker evaluation`` run as their own OS processes.

Start point: the bench commits one payments transaction per event that writes
the outbox row ``UnitOfWork.emit`` writes (``outbox_row``, the helper the
settlement use case uses), through raw asyncpg so that the load generator
costs little (``drive``), and records ``time.time()`` right after COMMIT
returns; the generator's own CPU is printed. End point: the
fact table has no ingest timestamp, so the bench adds, in its own evaluation
database only, an AFTER INSERT trigger on ``fact_settlement`` that writes
``clock_timestamp()`` into ``bench_fact_seen``; the trigger runs inside the
consumer's transaction just before its COMMIT, so the lag is short of the true
commit-to-commit lag by that one COMMIT (sub-millisecond on a local server),
and it carries no polling delay. Both clocks are this machine's.

    .venv/bin/python bench/event_lag.py --quick
    .venv/bin/python bench/event_lag.py --rate 500 --duration 60
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import asyncpg

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from contracts import payments as pe  # noqa: E402
from services.command.natsserver import EmbeddedNats, free_port  # noqa: E402
from services.runtime.db.migrations import upgrade  # noqa: E402
from services.runtime.db.unit_of_work import outbox_row  # noqa: E402
from services.runtime.service import declare_streams  # noqa: E402
from services.runtime.settings import Settings  # noqa: E402
from serving import process_cpu_s  # noqa: E402

TRIGGER = """
CREATE TABLE bench_fact_seen (settlement_id text PRIMARY KEY, seen_at timestamptz NOT NULL);
CREATE FUNCTION bench_fact_seen_fn() RETURNS trigger AS $$
BEGIN
  INSERT INTO bench_fact_seen VALUES (NEW.settlement_id, clock_timestamp()) ON CONFLICT DO NOTHING;
  RETURN NEW;
END $$ LANGUAGE plpgsql;
CREATE TRIGGER bench_fact_seen_tr AFTER INSERT ON fact_settlement FOR EACH ROW EXECUTE FUNCTION bench_fact_seen_fn();
"""


def pct(xs: list[float], p: float) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(p / 100 * (len(xs) - 1))))]


async def drive(db_url: str, rate: int, duration: float) -> tuple[dict[str, float], float, dict[str, str]]:
    """Commits one transaction per event, each inserting the settlement's outbox row as
    ``UnitOfWork.emit`` builds it (``outbox_row``), on raw asyncpg with one prepared INSERT:
    the generator shares the two cores with what it measures, so it must cost little
    (SQLAlchemy's session and unit of work here took half a core at 500/s; its CPU is printed)."""
    pool = await asyncpg.create_pool(db_url.replace("postgresql+asyncpg://", "postgresql://"), min_size=8, max_size=8)
    columns = list(outbox_row(_settlement("s-probe"), {}))
    insert = f"INSERT INTO outbox ({', '.join(columns)}) VALUES ({', '.join(f'${i + 1}' for i in range(len(columns)))})"
    committed: dict[str, float] = {}
    event_ids: dict[str, str] = {}

    async def one(i: int) -> None:
        sid = f"s-{uuid.uuid4().hex[:16]}"
        row = outbox_row(_settlement(sid), {})
        row["headers"] = json.dumps(row["headers"])
        await pool.execute(insert, *row.values())  # one transaction (autocommit)
        committed[sid] = time.time()
        event_ids[row["event_id"]] = sid

    n = int(rate * duration)
    t0 = time.perf_counter()
    tasks = []
    for i in range(n):
        delay = t0 + i / rate - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(one(i)))
    await asyncio.gather(*tasks)
    elapsed = time.perf_counter() - t0
    await pool.close()
    return committed, elapsed, event_ids


def _settlement(sid: str) -> pe.SettlementCompleted:
    return pe.SettlementCompleted(
        settlement_id=sid, order_id=f"o-{sid[2:]}", user_id="u-bench", unit_id="unit-bench", fee_fen=100_000, voucher_fen=30_000, payable_fen=70_000
    )


async def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--rate", type=int, default=500)
    ap.add_argument("--duration", type=float, default=60.0)
    ap.add_argument("--quick", action="store_true", help="100 events/s for 5 s")
    ap.add_argument("--database-url", default=os.environ.get("XCISS_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test"))
    args = ap.parse_args()
    if args.quick:
        args.rate, args.duration = 100, 5.0
    admin = args.database_url.replace("postgresql+asyncpg://", "postgresql://")
    tag = uuid.uuid4().hex[:8]
    names = {"payments": f"xciss_bench_lag_pay_{tag}", "evaluation": f"xciss_bench_lag_eval_{tag}"}
    conn = await asyncpg.connect(admin)
    for name in names.values():
        await conn.execute(f'CREATE DATABASE "{name}"')
    await conn.close()
    base = admin.rsplit("/", 1)[0]
    urls = {svc: base.replace("postgresql://", "postgresql+asyncpg://", 1) + "/" + name for svc, name in names.items()}
    tmp = Path(tempfile.mkdtemp(prefix="xciss-bench-lag-"))
    server = EmbeddedNats(tmp / "nats", free_port())
    server.start()
    procs: dict[str, subprocess.Popen] = {}
    try:
        for svc, url in urls.items():
            await asyncio.to_thread(upgrade, svc, url)
        ev_conn = await asyncpg.connect(base + "/" + names["evaluation"])
        await ev_conn.execute(TRIGGER)
        settings = Settings(data_dir=tmp, nats_url=server.url)
        await declare_streams(settings, ["registry", "vouchers", "evaluation", "payments"])
        env = {
            **os.environ,
            "XCISS_NATS_URL": server.url,
            "XCISS_DATA_DIR": str(tmp),
            "XCISS_PAYMENTS_DATABASE_URL": urls["payments"],
            "XCISS_EVALUATION_DATABASE_URL": urls["evaluation"],
            "XCISS_LOG_LEVEL": "WARNING",
            "XCISS_PARENT_PID": str(os.getpid()),
        }
        load = os.getloadavg()
        procs["relay"] = subprocess.Popen([sys.executable, "-m", "services.command.cli", "relay", "payments"], env={**env, "XCISS_METRICS_PORT": str(free_port())})
        procs["consumer"] = subprocess.Popen([sys.executable, "-m", "services.command.cli", "worker", "evaluation"], env={**env, "XCISS_METRICS_PORT": str(free_port())})
        # warm-up: one event through the whole path before the clock runs
        warm, _, _ = await drive(urls["payments"], 1, 1)
        deadline = time.monotonic() + 120
        while not await ev_conn.fetchval("SELECT count(*) FROM bench_fact_seen"):
            if time.monotonic() > deadline:
                raise TimeoutError("relay/consumer did not deliver the warm-up event")
            await asyncio.sleep(0.1)
        cpu0 = {k: process_cpu_s(p.pid) for k, p in procs.items()}
        cpu0["load generator (this process)"] = process_cpu_s(os.getpid())
        committed, elapsed, event_ids = await drive(urls["payments"], args.rate, args.duration)
        n = len(committed)
        deadline = time.monotonic() + 60
        while await ev_conn.fetchval("SELECT count(*) FROM bench_fact_seen") < n + len(warm) and time.monotonic() < deadline:
            await asyncio.sleep(0.2)
        cpu = {k: process_cpu_s(p.pid) - cpu0[k] for k, p in procs.items()}
        cpu["load generator (this process)"] = process_cpu_s(os.getpid()) - cpu0["load generator (this process)"]
        seen = {r["settlement_id"]: r["seen_at"].timestamp() for r in await ev_conn.fetch("SELECT settlement_id, seen_at FROM bench_fact_seen")}
        facts = await ev_conn.fetchval("SELECT count(*) FROM fact_settlement")
        inbox_dups = await ev_conn.fetchval("SELECT count(*) - count(DISTINCT settlement_id) FROM fact_settlement")
        await ev_conn.close()
        pay_conn = await asyncpg.connect(base + "/" + names["payments"])
        published = {
            event_ids[r["event_id"]]: r["published_at"].timestamp()
            for r in await pay_conn.fetch("SELECT event_id, published_at FROM outbox WHERE published_at IS NOT NULL")
            if r["event_id"] in event_ids
        }
        await pay_conn.close()
        relay_part = [(published[s] - t) * 1000 for s, t in committed.items() if s in published]
        consumer_part = [(seen[s] - published[s]) * 1000 for s in committed if s in seen and s in published]
        lags = [(seen[s] - t) * 1000 for s, t in committed.items() if s in seen]
        lost = n - len(lags)
        s = Settings.from_env(env)  # what the relay and consumer processes read
        print(f"event lag, PostgreSQL, os.cpu_count()={os.cpu_count()}, load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f} before the run")
        print(f"  command        : {' '.join(sys.argv)}")
        print(f"  outbox_batch={s.outbox_batch} outbox_poll_s={s.outbox_poll_s} consumer_batch={s.consumer_batch}")
        print(f"  driven         : {n} events in {elapsed:.1f} s = {n / elapsed:.1f} events/s (asked {args.rate}/s for {args.duration:g} s)")
        if lags:
            print(f"  lag ms         : p50 {pct(lags, 50):.1f}  p95 {pct(lags, 95):.1f}  p99 {pct(lags, 99):.1f}  max {max(lags):.1f}")
        if relay_part and consumer_part:
            print(f"    commit → relay's PubAck recorded : p50 {pct(relay_part, 50):.1f}  p95 {pct(relay_part, 95):.1f}  p99 {pct(relay_part, 99):.1f}  max {max(relay_part):.1f}")
            print(f"    that record → fact committed     : p50 {pct(consumer_part, 50):.1f}  p95 {pct(consumer_part, 95):.1f}  p99 {pct(consumer_part, 99):.1f}  max {max(consumer_part):.1f}")
        print(f"  missing {lost} (not in the fact table 60 s after the drive ended)  duplicates {inbox_dups}  facts {facts} (incl. {len(warm)} warm-up)")
        print("  CPU-seconds    : " + "  ".join(f"{k} {v:.1f}" for k, v in cpu.items()))
        ok = bool(lags) and lost == 0 and pct(lags, 99) <= 200
        print(f"  {'PASS' if ok else 'MISS'}: p99 ≤ 200 ms, none missing   (load average {os.getloadavg()[0]:.2f} after)")
    finally:
        for p in procs.values():
            p.send_signal(signal.SIGTERM)
        for p in procs.values():
            try:
                p.wait(30)
            except subprocess.TimeoutExpired:
                p.kill()
        server.stop()
        conn = await asyncpg.connect(admin)
        for name in names.values():
            await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await conn.close()


if __name__ == "__main__":
    asyncio.run(main())
