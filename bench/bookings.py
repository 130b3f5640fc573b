"""Benchmark: instrument time (issue 16) — the free-slot query at scale and a booking rush.

Migrates a fresh registry database (a temporary SQLite file, or the empty
PostgreSQL database of ``--database-url``), bulk-inserts N instruments (default
10,000, weekly hours Mon–Fri 09–12 and 13–18 Asia/Shanghai, staff-operated,
automatic approval) with a year of bookings each (default 110: 1.1 M rows;
``executemany`` on SQLite, ``COPY`` on PostgreSQL), starts the registry API as
its own OS process (``python -m services.command.cli serve registry``, no
NATS) and then:

1. drives ``wrk`` (a compiled load generator, Debian's ``wrk``) against
   ``GET /health`` (the baseline) and then against
   ``GET /v1/instruments/{id}/availability?from=&to=`` for random instruments
   over four weeks (a Lua script cycles through pre-generated paths), the same
   duration and connections each, and prints both latency distributions;
2. a booking rush: R (default 200) distinct users, each with its own open
   order on one fresh instrument, send ``POST /v1/bookings/`` at once for the
   same S (default 10) half-hour slots (request k asks for slot k mod S); it
   prints how many were confirmed, refused with ``booking.overlap`` or
   answered otherwise, the timing, and reads back from the database that no
   two bookings holding time overlap.

The rush is fired by a small asyncio client, not by wrk: wrk is a closed loop
that re-sends on every connection until its duration ends, so it cannot send
200 distinct requests exactly once each. The client opens the 200 connections
first and writes every request after one barrier; 200 requests do not make
the client compete with the server for long.

    .venv/bin/python bench/bookings.py
    .venv/bin/python bench/bookings.py --database-url postgresql+asyncpg://postgres@127.0.0.1:5432/xciss_bench_bookings

Targets (issue 16): availability p99 <= 20 ms; exactly S confirmed and R - S
refused with ``booking.overlap``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import httpx  # noqa: E402
from serving import free_port, run_wrk, start_server, stop_server, wait_healthy  # noqa: E402
from sqlalchemy import create_engine, insert, select  # noqa: E402
from sqlalchemy.ext.asyncio import create_async_engine  # noqa: E402

from services.registry.db.booking_models import bookings, instrument_schedules  # noqa: E402
from services.registry.db.instrument_models import instruments, price_items  # noqa: E402
from services.registry.db.order_models import order_items, orders  # noqa: E402
from services.registry.db.party_models import units, users  # noqa: E402
from services.runtime.roles import Role  # noqa: E402
from services.runtime.http.auth import issue_token
from services.runtime.db.case_numbers import format_case_number  # noqa: E402
from services.runtime.db.migrations import upgrade  # noqa: E402
from services.runtime.settings import Settings  # noqa: E402
from services.runtime.workdays import WorkdayCalendar  # noqa: E402

CST = ZoneInfo("Asia/Shanghai")
P99_TARGET_MS = 20.0
HOURS = {d: [["09:00", "12:00"], ["13:00", "18:00"]] for d in ("mon", "tue", "wed", "thu", "fri")}
#: the blocks a year of bookings is drawn from (local time), never overlapping on one instrument
BLOCKS = [((9, 0), 60), ((10, 0), 120), ((13, 0), 120), ((15, 0), 90), ((16, 30), 90)]
BOOKING_COLS = [c.name for c in bookings.columns]


def _id(rnd: random.Random) -> str:
    return str(uuid.UUID(int=rnd.getrandbits(128)))


def _local(d: date, h: int, m: int) -> datetime:
    return datetime(d.year, d.month, d.day, h, m, tzinfo=CST).astimezone(UTC)


def _workday(cal: WorkdayCalendar, d: date) -> bool:
    return cal.is_workday(d) if cal.knows_year(d.year) else d.weekday() < 5


def generate(n: int, per_instrument: int, rush: int, today: date, seed: int = 16) -> dict[str, Any]:
    """Rows of every table; bookings as tuples in ``bookings``' column order."""
    rnd, now, cal = random.Random(seed), datetime.now(UTC), WorkdayCalendar()
    stamp = {"version": 1, "created_at": now, "updated_at": now}
    unit_rows = [{"id": _id(rnd), "name": f"测试单位{i}", "credit_code": f"{i:018d}", "kind": "institute", "status": "approved", "accepts_vouchers": False, **stamp} for i in range(max(10, n // 250))]
    user_rows = [{"id": _id(rnd), "name": f"用户{i}", "kind": "enterprise", "classes": [], "special_classes": [], "in_xuchang": True, "verified": True, "sound_finances": True, **stamp} for i in range(max(1000, rush))]
    inst_rows, sched_rows, order_rows, booking_rows = [], [], [], []
    # a year of days: eleven months back, five weeks ahead (the queried four weeks are full)
    days = [today + timedelta(days=k) for k in range(-330, 35)]
    slots = [(_local(d, h, m), _local(d, h, m) + timedelta(minutes=mins)) for d in days if _workday(cal, d) for (h, m), mins in BLOCKS]
    for i in range(n + 1):  # the last one is the rush's instrument, without bookings
        unit = unit_rows[i % len(unit_rows)]
        iid = _id(rnd)
        inst_rows.append({"id": iid, "unit_id": unit["id"], "name": f"仪器{i}", "category": "分析仪器", "original_value_fen": 50_000_000, "funding": "fiscal_full", "acceptance_date": date(2020, 1, 1), "duty_exempt": False, "classified": False, "status": "in_service", "must_list": True, "listed_on": date(2024, 6, 1), **stamp})
        sched_rows.append({"instrument_id": iid, "unit_id": unit["id"], "weekly_hours": HOURS, "closed_on_holidays": True, "open_on_makeup_days": True, "slot_minutes": 30, "min_minutes": 30, "max_minutes": 240, "book_ahead_days": 28, "book_before_minutes": 60, "cancel_before_hours": 24, "operated_by": "staff", "approval": "automatic", "updated_by": "bench", "version": 1, "updated_at": now})
        if i == n:
            break
        mine = [{"id": _id(rnd), "user_id": rnd.choice(user_rows)["id"], "unit_id": unit["id"], "purpose": "research", "status": "in_service", "list_amount_fen": 100_000, "amount_fen": 100_000, **stamp} for _ in range(5)]
        order_rows += mine
        for k in sorted(rnd.sample(range(len(slots)), per_instrument)):
            a, b = slots[k]
            o = rnd.choice(mine)
            x = rnd.random()
            status = "confirmed" if x < 0.92 else "requested" if x < 0.95 else "cancelled"
            row = {"id": _id(rnd), "instrument_id": iid, "unit_id": unit["id"], "user_id": o["user_id"], "order_id": o["id"], "booked_by": "user:bench", "starts_at": a, "ends_at": b, "status": status,
                   "note": None, "decided_by": None if status == "requested" else "unit:bench", "decided_party": None if status == "requested" else "unit", "reason": "不再需要" if status == "cancelled" else None,
                   "decided_at": None if status == "requested" else now, "downtime_id": None, "created_at": now, "updated_at": now, "version": 1}
            booking_rows.append(tuple(row.get(c) for c in BOOKING_COLS))
    rush_iid, rush_unit = inst_rows[-1]["id"], inst_rows[-1]["unit_id"]
    price = {"id": _id(rnd), "instrument_id": rush_iid, "unit_id": rush_unit, "name": "机时", "billing_unit": "per_hour", "price_fen": 20_000, "basis": "cost_compensation", "active": True, **stamp}
    rush_orders = [{"id": _id(rnd), "user_id": user_rows[k]["id"], "unit_id": rush_unit, "purpose": "research", "status": "contracted", "list_amount_fen": 20_000, "amount_fen": 20_000, **stamp} for k in range(rush)]
    for n, o in enumerate(order_rows + rush_orders, 1):
        o["case_no"] = format_case_number("DD", today.year, n)  # orders have case numbers (NOT NULL, unique)
    items = [{"order_id": o["id"], "position": 1, "instrument_id": rush_iid, "price_item_id": price["id"], "name": "机时", "billing_unit": "per_hour", "price_fen": 20_000, "quantity": 1, "amount_fen": 20_000} for o in rush_orders]
    return {
        "tables": [(units, unit_rows), (users, user_rows), (instruments, inst_rows), (instrument_schedules, sched_rows), (price_items, [price]), (orders, order_rows + rush_orders), (order_items, items)],
        "bookings": booking_rows,
        "instrument_ids": [r["id"] for r in inst_rows[:-1]],
        "rush_instrument": rush_iid,
        "rush": [(user_rows[k]["id"], rush_orders[k]["id"]) for k in range(rush)],
    }


def _sqlite_text(v: Any) -> Any:
    # the text SQLAlchemy's SQLite DateTime writes (UTC, no zone), so the raw rows read back alike
    return v.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f") if isinstance(v, datetime) else v


def _load_sqlite(url: str, data: dict[str, Any]) -> None:
    engine = create_engine(url.replace("sqlite+aiosqlite", "sqlite", 1))
    with engine.begin() as conn:
        for table, rows in data["tables"]:
            for i in range(0, len(rows), 20_000):
                conn.execute(insert(table), rows[i : i + 20_000])
        sql = f"INSERT INTO bookings ({', '.join(BOOKING_COLS)}) VALUES ({', '.join('?' * len(BOOKING_COLS))})"
        rows = data["bookings"]
        for i in range(0, len(rows), 50_000):
            conn.exec_driver_sql(sql, [tuple(_sqlite_text(v) for v in r) for r in rows[i : i + 50_000]])
        conn.exec_driver_sql("ANALYZE")
    engine.dispose()


async def _load_postgres(url: str, data: dict[str, Any]) -> None:
    engine = create_async_engine(url)
    try:
        async with engine.begin() as conn:
            for table, rows in data["tables"]:
                for i in range(0, len(rows), 5_000):
                    await conn.execute(insert(table), rows[i : i + 5_000])
        async with engine.connect() as conn:
            pg = (await conn.get_raw_connection()).driver_connection  # asyncpg: COPY, autocommitted
            # the secondary indexes and the exclusion constraint are built once after the COPY (row by row,
            # the GiST inserts were not half done after 7 min on the loaded machine); recreated from their own definitions
            cons = await pg.fetch("SELECT conname, pg_get_constraintdef(oid) AS def FROM pg_constraint WHERE conrelid = 'bookings'::regclass AND contype = 'x'")
            idx = await pg.fetch("SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'bookings' AND indexname NOT IN (SELECT conname FROM pg_constraint WHERE conrelid = 'bookings'::regclass)")
            for c in cons:
                await pg.execute(f'ALTER TABLE bookings DROP CONSTRAINT "{c["conname"]}"')
            for i in idx:
                await pg.execute(f'DROP INDEX "{i["indexname"]}"')
            await pg.copy_records_to_table("bookings", records=data["bookings"], columns=BOOKING_COLS)
            for i in idx:
                await pg.execute(i["indexdef"])
            for c in cons:
                await pg.execute(f'ALTER TABLE bookings ADD CONSTRAINT "{c["conname"]}" {c["def"]}')
            await pg.execute("VACUUM ANALYZE")
    finally:
        await engine.dispose()


def load(url: str, data: dict[str, Any]) -> float:
    t0 = time.perf_counter()
    if url.startswith("postgresql"):
        asyncio.run(_load_postgres(url, data))
    else:
        _load_sqlite(url, data)
    return time.perf_counter() - t0


def availability_paths(ids: list[str], today: date, count: int, seed: int = 28) -> list[str]:
    """Random instruments over four weeks from a local midnight of the coming week."""
    rnd, out = random.Random(seed), []
    for _ in range(count):
        d = today + timedelta(days=rnd.randint(0, 6))
        start = datetime(d.year, d.month, d.day, tzinfo=CST)
        params = {"from": start.isoformat(), "to": (start + timedelta(days=28)).isoformat()}
        out.append(f"/v1/instruments/{rnd.choice(ids)}/availability?" + str(httpx.QueryParams(params)))
    return out


def rush_slots(today: date, count: int) -> list[tuple[datetime, datetime]]:
    """``count`` half-hour slots of the first working day two or more days ahead (09:00–12:00, then 13:00 on)."""
    cal, d = WorkdayCalendar(), today + timedelta(days=2)
    while not _workday(cal, d):
        d += timedelta(days=1)
    starts = [(9, 0), (9, 30), (10, 0), (10, 30), (11, 0), (11, 30), (13, 0), (13, 30), (14, 0), (14, 30), (15, 0), (15, 30), (16, 0), (16, 30), (17, 0), (17, 30)]
    if count > len(starts):
        raise SystemExit(f"at most {len(starts)} slots fit one working day")
    return [(_local(d, h, m), _local(d, h, m) + timedelta(minutes=30)) for h, m in starts[:count]]


async def booking_rush(base: str, settings: Settings, iid: str, rush: list[tuple[str, str]], slots: list[tuple[datetime, datetime]]) -> dict[str, Any]:
    host, port = base.removeprefix("http://").split(":")
    requests = []
    for k, (user_id, order_id) in enumerate(rush):
        a, b = slots[k % len(slots)]
        token = issue_token(settings, subject=f"bench-user-{k}", role=Role.USER, org=user_id)
        body = json.dumps({"instrument_id": iid, "order_id": order_id, "starts_at": a.astimezone(CST).isoformat(), "ends_at": b.astimezone(CST).isoformat()}).encode()
        head = f"POST /v1/bookings/ HTTP/1.1\r\nHost: {host}\r\nAuthorization: Bearer {token}\r\nContent-Type: application/json\r\nContent-Length: {len(body)}\r\nConnection: close\r\n\r\n"
        requests.append(head.encode() + body)
    conns = [await asyncio.open_connection(host, int(port)) for _ in requests]  # every connection open before the barrier
    go = asyncio.Event()
    answers: list[tuple[int, dict[str, Any], float]] = [(0, {}, 0.0)] * len(requests)

    async def one(k: int) -> None:
        reader, writer = conns[k]
        await go.wait()
        t = time.perf_counter()
        writer.write(requests[k])
        raw = await reader.read()  # Connection: close — the answer ends with the connection
        writer.close()
        head, _, body = raw.partition(b"\r\n\r\n")
        answers[k] = (int(head.split()[1]), json.loads(body) if body else {}, time.perf_counter() - t)

    load_before = os.getloadavg()
    tasks = [asyncio.create_task(one(k)) for k in range(len(requests))]
    await asyncio.sleep(0)
    started = time.perf_counter()
    go.set()
    await asyncio.gather(*tasks)
    elapsed = time.perf_counter() - started
    lat = sorted(a[2] for a in answers)
    confirmed = [b for s, b, _ in answers if s == 201 and b.get("status") == "confirmed"]
    overlap = sum(1 for s, b, _ in answers if s == 422 and b.get("code") == "booking.overlap")
    other: dict[str, int] = {}
    for s, b, _ in answers:
        if not (s == 201 and b.get("status") == "confirmed") and not (s == 422 and b.get("code") == "booking.overlap"):
            key = f"{s} {b.get('code', b.get('status', ''))}"
            other[key] = other.get(key, 0) + 1
    return {"load": load_before, "elapsed": elapsed, "confirmed": len(confirmed), "overlap": overlap, "other": other,
            "slots_won": len({(b["starts_at"], b["ends_at"]) for b in confirmed}), "p50": lat[len(lat) // 2] * 1000, "max": lat[-1] * 1000}


async def held_on(url: str, iid: str) -> tuple[int, int]:
    """Bookings holding time on the instrument, read back, and how many pairs of them overlap."""
    engine = create_async_engine(url)
    try:
        async with engine.connect() as conn:
            q = select(bookings.c.starts_at, bookings.c.ends_at).where(bookings.c.instrument_id == iid, bookings.c.status.in_(["requested", "confirmed"])).order_by(bookings.c.starts_at)
            rows = (await conn.execute(q)).all()
    finally:
        await engine.dispose()
    clashes = sum(1 for i, (a, b) in enumerate(rows) for c, d in rows[i + 1 :] if a < d and c < b)
    return len(rows), clashes


def _line(label: str, r: dict[str, float]) -> str:
    return (f"  {label:<13}{r['rps']:>8.0f}{r['p50']:>9.2f}{r['p95']:>9.2f}{r['p99']:>9.2f}{r['max']:>9.2f}{r['n']:>9}{r['non2xx'] + r['socket_errors']:>7}"
            f"   load before {r['load'][0]:.2f}")


def report(backend: str, args: argparse.Namespace, stats: dict[str, Any], levels: list[tuple[int, dict[str, float], dict[str, float]]], rush: dict[str, Any], held: tuple[int, int]) -> str:
    want_overlap = args.rush - args.slots
    rush_ok = rush["confirmed"] == args.slots and rush["slots_won"] == args.slots and rush["overlap"] == want_overlap and not rush["other"] and held == (args.slots, 0)
    lines = []
    for c, health, avail in levels:
        lines += [
            f"  -c{c}",
            _line("/health", health),
            _line("availability", avail),
            f"  availability p99 {avail['p99']:.2f} ms <= {P99_TARGET_MS:g} ms : {'PASS' if avail['p99'] <= P99_TARGET_MS else 'MISS'}   (/health p99 {health['p99']:.2f} ms, same connections, same run)",
        ]
    return "\n".join([
        "=" * 86,
        f"INSTRUMENT TIME BENCHMARK  ({backend})",
        f"  machine      : {os.cpu_count()} cores; registry API ({stats['server']}) and wrk are separate processes",
        f"  data         : {args.instruments:,} instruments, {stats['bookings']:,} bookings over a year, {stats['orders']:,} orders; bulk-loaded in {stats['load_s']:.1f} s",
        f"  wrk          : -t{args.threads} -c{','.join(map(str, args.connections))} -d{args.duration:g}s, {stats['paths']:,} availability paths (random instrument, 28 days from a midnight of the coming week)",
        f"  {'endpoint':<13}{'req/s':>8}{'p50 ms':>9}{'p95 ms':>9}{'p99 ms':>9}{'max ms':>9}{'requests':>9}{'errors':>7}",
        *lines,
        f"  rush         : {args.rush} concurrent POST /v1/bookings/ ({args.rush} users, one order each) for {args.slots} half-hour slots; load before {rush['load'][0]:.2f}",
        f"                 all answered in {rush['elapsed'] * 1000:.0f} ms (per request p50 {rush['p50']:.0f} ms, max {rush['max']:.0f} ms)",
        f"                 confirmed {rush['confirmed']} (distinct slots {rush['slots_won']}), booking.overlap {rush['overlap']}, other {rush['other'] or 0}",
        f"                 read back: {held[0]} bookings hold time on the instrument, {held[1]} overlapping pairs",
        f"  rush {args.slots} confirmed / {want_overlap} booking.overlap : {'PASS' if rush_ok else 'FAIL'}",
        "=" * 86,
    ])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--instruments", type=int, default=10_000)
    ap.add_argument("--per-instrument", type=int, default=110, help="bookings per instrument over the year")
    ap.add_argument("--duration", type=float, default=15.0, help="seconds of wrk per endpoint")
    ap.add_argument("--connections", type=lambda t: [int(x) for x in t.split(",")], default=[1, 4, 8], help="wrk connections, or a sweep: 1,4,8")
    ap.add_argument("--threads", type=int, default=1, help="wrk threads (one leaves the other core to the server)")
    ap.add_argument("--rush", type=int, default=200, help="concurrent booking requests")
    ap.add_argument("--slots", type=int, default=10, help="slots they compete for")
    ap.add_argument("--database-url", default=None, help="an empty PostgreSQL database (postgresql+asyncpg://…); default a temporary SQLite file")
    args = ap.parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is missing: apt-get install -y wrk")

    tmp = Path(tempfile.mkdtemp(prefix="xciss-bookings-"))
    url = args.database_url or f"sqlite+aiosqlite:///{tmp / 'registry.db'}"
    backend = "PostgreSQL" if url.startswith("postgresql") else "SQLite"
    today = datetime.now(CST).date()
    proc: subprocess.Popen[bytes] | None = None
    try:
        upgrade("registry", url)
        t0 = time.perf_counter()
        data = generate(args.instruments, args.per_instrument, args.rush, today)
        print(f"generated {len(data['bookings']):,} bookings in {time.perf_counter() - t0:.1f} s", flush=True)
        load_s = load(url, data)
        stats = {"bookings": len(data["bookings"]), "orders": len(data["tables"][5][1]), "load_s": load_s}
        print(f"loaded into {backend} in {load_s:.1f} s", flush=True)
        settings = Settings(data_dir=tmp, database_urls={"registry": url}, pii_secret="bench")  # the server shares the data directory, so its dev token keys
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        proc, log_path = start_server(url, port, tmp, no_cache=False)
        wait_healthy(base, proc, log_path)
        stats["server"] = f"pid {proc.pid}, no NATS"
        paths = availability_paths(data["instrument_ids"], today, 5_000)
        stats["paths"] = len(paths)
        with httpx.Client(base_url=base, timeout=30) as c:  # every path answers 200, and shows booked time
            sample = [c.get(p) for p in paths[:20]]
        assert all(r.status_code == 200 for r in sample), [r.text for r in sample if r.status_code != 200][:1]
        print(f"sample: {sum(len(r.json()['busy']) for r in sample) / len(sample):.1f} busy and {sum(len(r.json()['free']) for r in sample) / len(sample):.1f} free intervals per answer", flush=True)
        levels = []
        for c in args.connections:
            run_wrk(base, ["/health"], tmp, "warm", 2, c, args.threads)
            health = run_wrk(base, ["/health"], tmp, "health", args.duration, c, args.threads)
            levels.append((c, health, run_wrk(base, paths, tmp, "availability", args.duration, c, args.threads)))
        rush = asyncio.run(booking_rush(base, settings, data["rush_instrument"], data["rush"], rush_slots(today, args.slots)))
        code = stop_server(proc)
        held = asyncio.run(held_on(url, data["rush_instrument"]))
        print(report(backend, args, stats, levels, rush, held), flush=True)
        print(f"server stopped with SIGTERM, exit code {code}", flush=True)
    finally:
        if proc is not None and proc.poll() is None:
            proc.kill()
            proc.wait()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
