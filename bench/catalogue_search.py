"""Benchmark: the public catalogue search at the scale of a province (issue 19, target 3).

Generates N instruments (realistic Chinese names over the 15 national
categories, models, manufacturers, Xuchang's counties, prices), bulk-inserts
them with their search read model (the same tokenizer and refresh rules as the
worker, but straight into the tables), then starts the registry API three
times as its own OS processes (`python -m services.command.cli serve
registry`, no NATS) on free loopback ports: one with the per-process result
cache, one with it off, and one with it and the search index off (every page
from the database's statements, as before the index). Each server with an
index is asked one search and waited for until its `/metrics` shows the index
read (`xciss_search_index_generation`; the time is printed). A cold pass
(httpx, 4 clients, every distinct query once) fills the first one's cache;
then, per concurrency level, `wrk` (one thread) drives, for the same duration
each, in the same run:

  /health          the cached server's GET /health (the trivial baseline),
  search hit       GET /v1/catalogue/instruments on the cached server (every query cached),
  search miss      the same query mix on the uncached server (every page from its search index,
                   the price orders and a few tie-breaks from the database; documents and ratings
                   of the page from the database),
  miss, database   the same mix on the server without cache or index (every page from the database).

`uptime` is printed before the cold pass and before each level, and the load
average before each wrk run; wrk's own CPU time is printed per level.

    .venv/bin/python bench/catalogue_search.py --concurrency 4,16 --duration 15
    .venv/bin/python bench/catalogue_search.py --database-url postgresql+asyncpg://postgres@127.0.0.1:5432/xciss_bench
    .venv/bin/python bench/catalogue_search.py --database-url sqlite+aiosqlite:////tmp/r.db --reuse   # data of an earlier run

The target (issue 19): cache-miss search p99 <= 20 ms at 16 connections, on both databases.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import random
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import httpx  # noqa: E402
from serving import free_port, run_wrk, start_server, stop_server, wait_healthy  # noqa: E402
from sqlalchemy import create_engine, func, insert, select  # noqa: E402

from services.registry import search_model  # noqa: E402
from services.registry.db.instrument_models import instruments, price_items  # noqa: E402
from services.registry.db.party_models import units  # noqa: E402
from services.registry.db.search_models import search_docs, search_state, search_terms  # noqa: E402
from services.registry.domain.catalogue import DEFAULT_CATEGORIES  # noqa: E402
from services.registry.domain.search_terms import document_terms  # noqa: E402
from services.runtime.db.migrations import upgrade  # noqa: E402
from services.runtime.service import create_database, load_spec  # noqa: E402
from services.runtime.settings import Settings  # noqa: E402
from services.runtime.city import packaged_city  # noqa: E402

#: issue 19, target 3: a cache miss answers within this at 16 connections
P99_TARGET_MS = 20.0
COUNTIES = list(packaged_city().divisions)
PREFIXES = [
    "红外", "傅里叶红外", "紫外可见", "原子吸收", "原子荧光", "X射线", "激光共聚焦", "扫描电子", "透射电子", "气相", "液相",
    "质谱", "核磁共振", "拉曼", "荧光", "电感耦合等离子体", "离子", "热重", "差示扫描", "动态力学", "万能材料", "高低温",
    "振动", "噪声", "电磁兼容", "数字", "矢量网络", "频谱", "高速", "超声", "工业CT", "三坐标", "粒度", "比表面", "流式",
    "基因", "实时荧光定量PCR", "超高效液相", "气相色谱-质谱", "电子探针", "原子力", "金相", "便携式", "在线",
]
NOUNS = ["光谱仪", "显微镜", "色谱仪", "分析仪", "测试仪", "检测系统", "测量仪", "衍射仪", "联用仪", "试验机", "工作站", "测定仪", "成像系统", "探测器"]
MAKERS = ["岛津", "安捷伦", "赛默飞", "布鲁克", "日立", "蔡司", "珀金埃尔默", "沃特世", "聚光科技", "天瑞仪器", "普析通用", "钢研纳克", "Thermo Fisher", "Agilent", "Bruker", "Malvern"]
UNIT_KINDS = ["大学", "学院", "研究院", "检测中心", "新材料研究所", "电气股份有限公司", "生物技术有限公司", "智能装备有限公司"]
PLACES = ["许昌", "禹州", "长葛", "鄢陵", "襄城", "建安", "魏都", "中原", "豫中", "颍川"]
FUNCTIONS = ["成分分析", "结构表征", "形貌观察", "元素定量", "物相鉴定", "力学性能测试", "热性能分析", "电磁兼容测试", "微量杂质检测", "尺寸测量", "光谱分析", "质谱鉴定"]
KEYWORDS = ["光谱", "质谱", "色谱", "显微", "电子", "红外", "激光", "分析", "测试", "检测", "原子", "荧光", "液相", "气相", "核磁", "衍射", "试验", "热重", "超声", "x射线"]


def generate(n: int, seed: int = 7) -> tuple[list[dict[str, Any]], list[dict[str, Any]], list[dict[str, Any]]]:
    rnd = random.Random(seed)
    now = datetime.now(UTC)
    unit_rows = []
    for i in range(max(20, n // 300)):
        unit_rows.append(
            {
                "id": str(uuid.UUID(int=rnd.getrandbits(128))),
                "name": f"{rnd.choice(PLACES)}{rnd.choice(['市', ''])}{rnd.choice(['华', '科', '创', '源', '瑞', '博'])}{rnd.choice(['信', '达', '远', '通'])}{rnd.choice(UNIT_KINDS)}{i}",
                "credit_code": f"{i:018d}",
                "kind": "institute",
                "county_code": rnd.choice(COUNTIES),
                "status": "approved",
                "accepts_vouchers": False,
                "version": 2,
                "created_at": now,
                "updated_at": now,
            }
        )
    inst_rows, price_rows = [], []
    for i in range(n):
        unit = rnd.choice(unit_rows)
        status = "in_service" if rnd.random() < 0.93 else rnd.choice(["maintenance", "retired"])
        listed = rnd.random() < 0.95
        maker = rnd.choice(MAKERS)
        inst_rows.append(
            {
                "id": str(uuid.UUID(int=rnd.getrandbits(128))),
                "unit_id": unit["id"],
                "name": rnd.choice(PREFIXES) + rnd.choice(NOUNS),
                "category": rnd.choice(DEFAULT_CATEGORIES),
                "model": f"{rnd.choice(['LCMS', 'GC', 'ICP', 'SEM', 'TEM', 'XRD', 'FTIR', 'UV', 'AA', 'NMR'])}-{rnd.randint(100, 9999)}",
                "manufacturer": maker,
                "original_value_fen": rnd.randint(5_000_000, 500_000_000),
                "funding": rnd.choice(["fiscal_full", "fiscal_part", "non_fiscal"]),
                "acceptance_date": date(2020, 1, 1) + timedelta(days=rnd.randint(0, 1500)),
                "duty_exempt": False,
                "classified": False,
                "location": None,
                "specifications": None,
                "functions": "、".join(rnd.sample(FUNCTIONS, 2)),
                "status": status,
                "must_list": True,
                "listing_deadline": None,
                "listed_on": date(2024, 6, 1) if listed else None,
                "version": 2,
                "created_at": now,
                "updated_at": now,
                "_unit": unit,
            }
        )
        for _ in range(rnd.randint(0, 3)):
            price_rows.append(
                {
                    "id": str(uuid.UUID(int=rnd.getrandbits(128))),
                    "instrument_id": inst_rows[-1]["id"],
                    "unit_id": unit["id"],
                    "name": "样品测试",
                    "billing_unit": rnd.choice(["per_sample", "per_hour", "per_machine_hour"]),
                    "price_fen": rnd.randint(50, 5000) * 100,
                    "basis": "cost_compensation",
                    "active": rnd.random() < 0.9,
                    "version": 1,
                    "created_at": now,
                    "updated_at": now,
                }
            )
    return unit_rows, inst_rows, price_rows


def read_model(inst_rows: list[dict[str, Any]], price_rows: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], list[tuple[str, str, int]]]:
    """The rows refresh_instrument would write, computed the same way."""
    prices: dict[str, list[int]] = {}
    for p in price_rows:
        if p["active"]:
            prices.setdefault(p["instrument_id"], []).append(p["price_fen"])
    now = datetime.now(UTC)
    docs: list[dict[str, Any]] = []
    terms: list[tuple[str, str, int]] = []
    for r in inst_rows:
        unit = r["_unit"]
        public = r["listed_on"] is not None and r["status"] == search_model.IN_SERVICE
        ps = prices.get(r["id"], [])
        docs.append(
            {
                "instrument_id": r["id"],
                "unit_id": unit["id"],
                "unit_name": unit["name"],
                "county_code": unit["county_code"],
                "category": r["category"],
                "name": r["name"],
                "model": r["model"],
                "public": public,
                "min_price_fen": min(ps) if ps else None,
                "max_price_fen": max(ps) if ps else None,
                "accepts_vouchers": False,  # COPY writes every column: no server default
                "instrument_version": r["version"],
                "updated_at": now,
                "generation": 1,
                "rating_count": 0,
                "rating_points": 0,
            }
        )
        if public:
            fields = search_model.instrument_fields({**r, "unit_name": unit["name"]})
            terms.extend((t, r["id"], w) for t, w in document_terms(fields).items())
    return docs, terms


def _load_sqlite(url: str, tables: list[tuple[Any, list[Any]]]) -> None:
    engine = create_engine(url.replace("sqlite+aiosqlite", "sqlite", 1))
    with engine.begin() as conn:
        for table, rows in tables:
            if table is search_terms:  # millions of plain rows: straight to the driver
                conn.exec_driver_sql(
                    "INSERT INTO search_terms (term, instrument_id, weight) VALUES (?, ?, ?)",
                    rows,
                )
            else:
                for i in range(0, len(rows), 20_000):
                    conn.execute(insert(table), rows[i : i + 20_000])
        conn.exec_driver_sql("ANALYZE")
    engine.dispose()


async def load(db: Any, n: int) -> dict[str, int]:
    t0 = time.perf_counter()
    unit_rows, inst_rows, price_rows = generate(n)
    docs, terms = read_model(inst_rows, price_rows)
    plain = [{k: v for k, v in r.items() if k != "_unit"} for r in inst_rows]
    tables: list[tuple[Any, list[Any]]] = [(units, unit_rows), (instruments, plain), (price_items, price_rows), (search_docs, docs), (search_terms, terms)]
    if db.url.startswith("postgresql"):
        async with db.engine.connect() as conn:
            pg = (await conn.get_raw_connection()).driver_connection  # asyncpg: COPY, autocommitted
            for table, rows in tables:
                cols = [c.name for c in table.columns]
                records = rows if table is search_terms else [tuple(r.get(c) for c in cols) for r in rows]
                await pg.copy_records_to_table(table.name, records=records, columns=cols)
            await pg.execute("VACUUM ANALYZE")
    else:
        await asyncio.to_thread(_load_sqlite, db.url, tables)
    async with db.engine.begin() as conn:
        await conn.execute(search_state.update().where(search_state.c.id == 1).values(generation=1))
    return {"units": len(unit_rows), "instruments": n, "prices": len(price_rows), "terms": len(terms), "load_s": round(time.perf_counter() - t0, 1)}


def search_paths(count: int, seed: int = 11) -> list[str]:
    rnd = random.Random(seed)
    out = []
    for _ in range(count):
        params: dict[str, Any] = {}
        if rnd.random() < 0.9:
            params["q"] = rnd.choice(KEYWORDS)
        x = rnd.random()
        if x < 0.25:
            params["category"] = rnd.choice(DEFAULT_CATEGORIES)
        elif x < 0.5:
            params["county_code"] = rnd.choice(COUNTIES)
        elif x < 0.55:
            params["price_max_fen"] = rnd.choice([20_000, 100_000, 300_000])
        params["page"] = rnd.choice([1, 1, 1, 2, 3])
        out.append("/v1/catalogue/instruments?" + str(httpx.QueryParams(params)))
    return out


async def cold_pass(base: str, paths: list[str], concurrency: int) -> dict[str, float]:
    """Every distinct query once, ``concurrency`` at a time (each a cache miss):
    fills the result cache of the server at ``base`` before its hits are measured."""
    latencies: list[float] = []
    errors = 0
    todo = list(dict.fromkeys(paths))
    started = time.perf_counter()
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(base_url=base, limits=limits, timeout=60) as client:

        async def one(k: int) -> None:
            nonlocal errors
            for path in todo[k::concurrency]:
                t = time.perf_counter()
                r = await client.get(path)
                latencies.append(time.perf_counter() - t)
                errors += r.status_code != 200

        await asyncio.gather(*(one(k) for k in range(concurrency)))
    latencies.sort()
    q = statistics.quantiles(latencies, n=100, method="inclusive")
    return {"rps": len(latencies) / (time.perf_counter() - started), "p50": q[49] * 1000, "p95": q[94] * 1000, "p99": q[98] * 1000, "n": len(latencies), "errors": errors}


def _row(label: str, r: dict[str, Any]) -> str:
    errors = r.get("errors", r.get("non2xx", 0) + r.get("socket_errors", 0))
    load = f"{r['load'][0]:>7.2f}" if "load" in r else f"{'':>7}"
    return f"  {label:<14}{r['rps']:>8.0f}{r['p50']:>9.2f}{r['p95']:>9.2f}{r['p99']:>9.2f}{r['n']:>9}{errors:>7}{load}"


def block(*, backend: str, stats: dict[str, int], concurrency: int, duration: float, distinct: int, matches: int, runs: dict[str, dict[str, Any]]) -> str:
    miss, hit, health = runs["search miss"], runs["search hit"], runs["/health"]
    lines = [
        "=" * 78,
        f"CATALOGUE SEARCH BENCHMARK  {concurrency} connections",
        f"  machine   : {os.cpu_count()} cores shared by the servers, wrk (-t1) and {backend}",
        f"  data      : N={stats['instruments']:,} instruments, {stats['units']:,} units, {stats['prices']:,} prices, "
        f"{stats['terms']:,} index terms (loaded in {stats['load_s']} s)",
        f"  load      : wrk -c{concurrency} -d{duration:g}s per line, {distinct} distinct search URLs; '光谱' matches {matches:,}",
        "  hit: the server with its result cache, every query cached; miss: a second server with the cache off (its search index);",
        "  miss, database: a third with the cache and the index off (the database's statements);",
        "  miss, N repl.: N servers as the miss one (N replicas of the API), wrk a thread a replica, the connections split evenly",
        f"  {'endpoint':<14}{'req/s':>8}{'p50 ms':>9}{'p95 ms':>9}{'p99 ms':>9}{'requests':>9}{'errors':>7}{'load1':>7}",
        *(_row(k, v) for k, v in runs.items()),
        f"  wrk's own CPU: {sum(r['wrk_cpu_s'] for r in runs.values() if 'wrk_cpu_s' in r):.1f} s over the {len(runs)} runs",
        f"  miss p99 {miss['p99']:.2f} ms <= {P99_TARGET_MS:g} ms : {'PASS' if miss['p99'] <= P99_TARGET_MS else 'MISS'} (one server process)",
        *(
            f"  {k} p99 {r['p99']:.2f} ms <= {P99_TARGET_MS:g} ms : {'PASS' if r['p99'] <= P99_TARGET_MS else 'MISS'} "
            f"({k.split()[1]} server processes, {concurrency // int(k.split()[1])} of the connections each; {r['rps'] / miss['rps']:.2f}x one's rate)"
            for k, r in runs.items() if k.endswith("repl.")
        ),
        f"  hit p99 {hit['p99']:.2f} ms; miss/hit rate {miss['rps'] / hit['rps']:.1%}; hit//health rate {hit['rps'] / health['rps']:.1%}",
        f"  miss from the index / from the database: {miss['rps'] / runs['miss, database']['rps']:.1f}x the rate, p99 {miss['p99']:.2f} / {runs['miss, database']['p99']:.2f} ms",
        "=" * 78,
    ]
    return "\n".join(lines)


def wrk(base: str, paths: list[str], workdir: Path, name: str, duration: float, connections: int, replicas: list[str] | None = None) -> dict[str, Any]:
    """One wrk run (one thread: the other core serves; a thread a replica with
    ``replicas``), with wrk's own CPU time."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    r = run_wrk(base, paths, workdir, name, duration, connections, 1, replicas=replicas)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    r["wrk_cpu_s"] = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return r


def run_levels(cached: str, uncached: list[str], database: str, levels: list[int], duration: float, stats: dict[str, int], backend: str, workdir: Path) -> None:
    """``uncached``: the miss servers, the first measured alone, then all of them as replicas."""
    queries = search_paths(2000)
    with httpx.Client(base_url=cached, timeout=60) as c:  # every query answers 200
        for path in queries[:50]:
            r = c.get(path)
            assert r.status_code == 200, (path, r.text)
        matches = c.get("/v1/catalogue/instruments", params={"q": "光谱"}).json()["total"]
    print(f"uptime: {subprocess.run(['uptime'], capture_output=True, text=True).stdout.strip()}", flush=True)
    cold = asyncio.run(cold_pass(cached, queries, 4))
    print(f"cold pass (4 clients, httpx, every distinct query once, each a miss; fills the cache):\n{_row('cold', cold)}", flush=True)
    for concurrency in levels:
        print(f"uptime: {subprocess.run(['uptime'], capture_output=True, text=True).stdout.strip()}", flush=True)
        runs = {
            "/health": wrk(cached, ["/health"], workdir, f"health{concurrency}", duration, concurrency),
            "search hit": wrk(cached, queries, workdir, f"hit{concurrency}", duration, concurrency),
            "search miss": wrk(uncached[0], queries, workdir, f"miss{concurrency}", duration, concurrency),
            "miss, database": wrk(database, queries, workdir, f"db{concurrency}", duration, concurrency),
        }
        if len(uncached) > 1:
            runs[f"miss, {len(uncached)} repl."] = wrk(uncached[0], queries, workdir, f"replicas{concurrency}", duration, concurrency, uncached)
        print(block(backend=backend, stats=stats, concurrency=concurrency, duration=duration, distinct=len(set(queries)), matches=matches, runs=runs), flush=True)


def index_read(base: str, timeout: float = 600.0) -> float:
    """Ask one search (the server's index starts reading the catalogue) and wait
    until ``/metrics`` shows the generation it holds; the seconds it took."""
    started = time.monotonic()
    with httpx.Client(base_url=base, timeout=60) as c:
        c.get("/v1/catalogue/instruments", params={"q": "光谱"}).raise_for_status()
        while time.monotonic() - started < timeout:
            held = [float(line.split()[1]) for line in c.get("/metrics").text.splitlines() if line.startswith("xciss_search_index_generation ")]
            if held and held[0] >= 0:
                return time.monotonic() - started
            time.sleep(0.5)
    raise SystemExit(f"{base}: the search index did not read the catalogue in {timeout:g} s")


def _levels(text: str) -> list[int]:
    try:
        levels = [int(x) for x in text.split(",") if x.strip()]
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"not a comma-separated list of integers: {text!r}") from exc
    if not levels or min(levels) < 1:
        raise argparse.ArgumentTypeError("concurrency levels must be positive integers")
    return levels


async def _existing(db: Any) -> dict[str, int] | None:
    """The sizes of a previous run's data in the database, or None when it is empty."""
    async with db.engine.connect() as conn:
        n = (await conn.execute(select(func.count()).select_from(instruments))).scalar_one()
        if not n:
            return None
        counts = {t.name: (await conn.execute(select(func.count()).select_from(t))).scalar_one() for t in (units, price_items, search_terms)}
    return {"units": counts["units"], "instruments": n, "prices": counts["price_items"], "terms": counts["search_terms"], "load_s": 0}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--instruments", type=int, default=100_000)
    ap.add_argument("--concurrency", type=_levels, default=[16], help="connections, or a sweep: 4,16 (one block per level)")
    ap.add_argument("--duration", type=float, default=15.0, help="seconds per wrk run")
    ap.add_argument("--database-url", default=None, help="a PostgreSQL database (postgresql+asyncpg://…) or SQLite file; default a temporary SQLite file")
    ap.add_argument("--replicas", type=int, default=2, help="miss servers measured together as replicas of the API (1: none; default 2, one a core)")
    ap.add_argument("--reuse", action="store_true", help="the database already holds a previous run's data: migrate it and measure, without loading")
    args = ap.parse_args()
    if args.replicas < 1:
        ap.error("--replicas must be at least 1")
    logging.getLogger("httpx").setLevel(logging.WARNING)
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is not installed: apt-get install -y wrk")

    tmp = Path(tempfile.mkdtemp(prefix="xciss-bench-"))
    url = args.database_url or f"sqlite+aiosqlite:///{tmp / 'registry.db'}"
    backend = "PostgreSQL" if url.startswith("postgresql") else "SQLite"
    procs: list[subprocess.Popen[bytes]] = []
    try:
        upgrade("registry", url)
        settings = Settings(data_dir=tmp, database_urls={"registry": url}, pii_secret="bench")
        db = create_database(load_spec("registry"), settings)

        async def _load() -> dict[str, int]:
            try:
                found = await _existing(db) if args.reuse else None
                return found if found is not None else await load(db, args.instruments)
            finally:
                await db.dispose()

        stats = asyncio.run(_load())

        bases = []
        for no_cache, no_index in ((False, False), *[(True, False)] * args.replicas, (True, True)):
            port = free_port()
            base = f"http://127.0.0.1:{port}"
            (tmp / str(port)).mkdir()
            proc, log_path = start_server(url, port, tmp / str(port), no_cache, no_index)
            procs.append(proc)
            wait_healthy(base, proc, log_path)
            print(f"server pid {proc.pid} on {base}, result cache {'off' if no_cache else 'on'}, search index {'off' if no_index else 'on'}: /health 200 (no NATS)", flush=True)
            if not no_index:
                print(f"  its search index read the catalogue in {index_read(base):.1f} s", flush=True)
            bases.append(base)
        run_levels(bases[0], bases[1:-1], bases[-1], args.concurrency, args.duration, stats, backend, tmp)
        for proc in procs:
            print(f"server {proc.pid} stopped with SIGTERM, exit code {stop_server(proc)}", flush=True)
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
