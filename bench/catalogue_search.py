"""Benchmark: the public catalogue search at the scale of a province.

Generates N instruments (realistic Chinese names over the 15 national
categories, models, manufacturers, Xuchang's counties, prices), bulk-inserts
them with their search read model (the same tokenizer and refresh rules as the
worker, but straight into the tables), then starts the registry API as its own
OS process (`python -m services.command.cli serve registry`, no NATS) on a free
loopback port and drives concurrent HTTP clients from this process against

  (a) GET /health (the trivial baseline) and
  (b) GET /v1/catalogue/instruments with a realistic query mix,

for the same duration each, in the same run. Prints one block of figures per
concurrency level.

    .venv/bin/python bench/catalogue_search.py --concurrency 4,8,16 --duration 15
    .venv/bin/python bench/catalogue_search.py --database-url postgresql+asyncpg://postgres@127.0.0.1:5432/xciss_bench

The target (issue): search p99 <= 50 ms and search >= 25% of /health's rate.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import random
import shutil
import signal
import socket
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

import httpx  # noqa: E402
from sqlalchemy import create_engine, insert  # noqa: E402

from services.registry import search  # noqa: E402
from services.registry.db.instrument_models import instruments, price_items  # noqa: E402
from services.registry.db.party_models import units  # noqa: E402
from services.registry.db.search_models import search_docs, search_state, search_terms  # noqa: E402
from services.registry.domain.catalogue import DEFAULT_CATEGORIES  # noqa: E402
from services.registry.domain.search_terms import document_terms  # noqa: E402
from services.runtime.db.migrations import upgrade  # noqa: E402
from services.runtime.service import create_database, load_spec  # noqa: E402
from services.runtime.settings import Settings  # noqa: E402

P99_TARGET_MS = 50.0
RATE_TARGET = 0.25
COUNTIES = list(search.XUCHANG_COUNTIES)
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


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


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
        public = r["listed_on"] is not None and r["status"] == search.IN_SERVICE
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
                "instrument_version": r["version"],
                "updated_at": now,
            }
        )
        if public:
            fields = search.instrument_fields({**r, "unit_name": unit["name"]})
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


def _server_command(no_cache: bool) -> list[str]:
    if not no_cache:
        return [sys.executable, "-m", "services.command.cli", "serve", "registry"]
    # the result cache is a module flag: switch it off in the server process, then the same CLI
    code = "import services.registry.search as s; s.CACHE_ENABLED = False; from services.command.cli import main; main(['serve', 'registry'])"
    return [sys.executable, "-c", code]


def start_server(url: str, port: int, data_dir: Path, no_cache: bool) -> tuple[subprocess.Popen[bytes], Path]:
    """`xciss serve registry` as its own OS process, without NATS."""
    env = {k: v for k, v in os.environ.items() if k != "XCISS_NATS_URL"}
    env.update(
        {
            "XCISS_REGISTRY_DATABASE_URL": url,
            "XCISS_REGISTRY_PORT": str(port),
            "XCISS_DATA_DIR": str(data_dir),
            "XCISS_LOG_LEVEL": "WARNING",
            "PYTHONPATH": os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH", "")) if p),
        }
    )
    log_path = data_dir / "server.log"
    with log_path.open("wb") as log:
        proc = subprocess.Popen(_server_command(no_cache), cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    return proc, log_path


def wait_healthy(base: str, proc: subprocess.Popen[bytes], log_path: Path, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"the registry server exited with {proc.returncode}:\n{log_path.read_text(errors='replace')}")
        try:
            if httpx.get(base + "/health", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise SystemExit(f"the registry server did not answer /health within {timeout:.0f} s:\n{log_path.read_text(errors='replace')}")


def stop_server(proc: subprocess.Popen[bytes]) -> int | None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    return proc.returncode


async def phase(client: httpx.AsyncClient, paths: list[str], concurrency: int, duration: float, once: bool = False) -> dict[str, float]:
    """`concurrency` closed-loop clients sharing one pooled connection per client."""
    latencies: list[float] = []
    errors = 0
    started = time.perf_counter()
    stop_at = started + duration

    async def one(k: int) -> None:
        nonlocal errors
        i = k
        while (i < len(paths)) if once else (time.perf_counter() < stop_at):
            path = paths[i % len(paths)]
            i += concurrency
            t = time.perf_counter()
            r = await client.get(path)
            latencies.append(time.perf_counter() - t)
            if r.status_code != 200:
                errors += 1

    await asyncio.gather(*(one(k) for k in range(concurrency)))
    elapsed = time.perf_counter() - started
    latencies.sort()
    q = statistics.quantiles(latencies, n=100, method="inclusive") if len(latencies) > 1 else [latencies[0]] * 99
    return {"rps": len(latencies) / elapsed, "p50": q[49] * 1000, "p95": q[94] * 1000, "p99": q[98] * 1000, "n": len(latencies), "errors": errors}


def _row(label: str, r: dict[str, float]) -> str:
    return f"  {label:<8}{r['rps']:>9.0f}{r['p50']:>9.2f}{r['p95']:>9.2f}{r['p99']:>9.2f}{r['n']:>10}{r['errors']:>8}"


def block(
    *,
    backend: str,
    cache: bool,
    cores: int,
    stats: dict[str, int],
    concurrency: int,
    duration: float,
    distinct: int,
    health: dict[str, float],
    found: dict[str, float],
    cold: dict[str, float] | None,
    matches: int,
) -> str:
    ratio = found["rps"] / health["rps"]
    p99_ok = found["p99"] <= P99_TARGET_MS
    rate_ok = ratio >= RATE_TARGET
    lines = [
        "=" * 78,
        f"CATALOGUE SEARCH BENCHMARK  concurrency={concurrency}",
        f"  machine   : {cores} cores (server and load generator are separate processes on it)",
        f"  database  : {backend}, result cache {'on' if cache else 'off'}",
        f"  data      : N={stats['instruments']:,} instruments, {stats['units']:,} units, {stats['prices']:,} prices, "
        f"{stats['terms']:,} index terms (loaded in {stats['load_s']} s)",
        f"  load      : {concurrency} concurrent clients, {duration:g} s per endpoint, {distinct} distinct search URLs; '光谱' matches {matches:,}",
        f"  {'endpoint':<8}{'req/s':>9}{'p50 ms':>9}{'p95 ms':>9}{'p99 ms':>9}{'requests':>10}{'errors':>8}",
        _row("/health", health),
        _row("search", found),
    ]
    if cold is not None:
        lines.append(_row("cold", cold) + "   <- first pass, every distinct query a cache miss once")
    lines += [
        f"  search p99 {found['p99']:.2f} ms <= {P99_TARGET_MS:g} ms : {'PASS' if p99_ok else 'MISS'}",
        f"  search/health rate {ratio:.1%} >= {RATE_TARGET:.0%} : {'PASS' if rate_ok else 'MISS'}",
        "=" * 78,
    ]
    return "\n".join(lines)


async def run_levels(base: str, levels: list[int], duration: float, no_cache: bool, stats: dict[str, int], backend: str) -> None:
    queries = search_paths(2000)
    async with httpx.AsyncClient(base_url=base, timeout=30) as c:  # every query answers 200
        for path in queries[:50]:
            r = await c.get(path)
            assert r.status_code == 200, (path, r.text)
        matches = (await c.get("/v1/catalogue/instruments", params={"q": "光谱"})).json()["total"]
    cold: dict[str, float] | None = None
    for i, concurrency in enumerate(levels):
        limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
        async with httpx.AsyncClient(base_url=base, limits=limits, timeout=30) as client:
            await phase(client, ["/health"], concurrency, 2)  # warm-up: connections open, code paths hot
            if i == 0:
                # every distinct query once: each one a cache miss (the database's own cost)
                cold = await phase(client, queries, concurrency, 0, once=True)
            health = await phase(client, ["/health"], concurrency, duration)
            found = await phase(client, queries, concurrency, duration)
        print(
            block(
                backend=backend,
                cache=not no_cache,
                cores=os.cpu_count() or 0,
                stats=stats,
                concurrency=concurrency,
                duration=duration,
                distinct=len(set(queries)),
                health=health,
                found=found,
                cold=cold if i == 0 else None,
                matches=matches,
            ),
            flush=True,
        )


def _levels(text: str) -> list[int]:
    try:
        levels = [int(x) for x in text.split(",") if x.strip()]
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"not a comma-separated list of integers: {text!r}") from exc
    if not levels or min(levels) < 1:
        raise argparse.ArgumentTypeError("concurrency levels must be positive integers")
    return levels


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--instruments", type=int, default=100_000)
    ap.add_argument("--concurrency", type=_levels, default=[16], help="clients, or a sweep: 4,8,16 (one block per level)")
    ap.add_argument("--duration", type=float, default=15.0, help="seconds per endpoint per level")
    ap.add_argument("--database-url", default=None, help="an empty PostgreSQL database (postgresql+asyncpg://…); default a temporary SQLite file")
    ap.add_argument("--no-cache", action="store_true", help="measure the database alone (no per-process result cache)")
    args = ap.parse_args()
    logging.getLogger("httpx").setLevel(logging.WARNING)

    tmp = Path(tempfile.mkdtemp(prefix="xciss-bench-"))
    url = args.database_url or f"sqlite+aiosqlite:///{tmp / 'registry.db'}"
    backend = "PostgreSQL" if url.startswith("postgresql") else "SQLite"
    proc: subprocess.Popen[bytes] | None = None
    try:
        upgrade("registry", url)
        settings = Settings(data_dir=tmp, database_urls={"registry": url}, pii_secret="bench")
        db = create_database(load_spec("registry"), settings)

        async def _load() -> dict[str, int]:
            try:
                return await load(db, args.instruments)
            finally:
                await db.dispose()

        stats = asyncio.run(_load())

        port = _free_port()
        base = f"http://127.0.0.1:{port}"
        proc, log_path = start_server(url, port, tmp, args.no_cache)
        wait_healthy(base, proc, log_path)
        ready = httpx.get(base + "/ready", timeout=5)
        print(f"server pid {proc.pid} on {base}: /health 200, /ready {ready.status_code} (no NATS)", flush=True)
        asyncio.run(run_levels(base, args.concurrency, args.duration, args.no_cache, stats, backend))
        code = stop_server(proc)
        print(f"server stopped with SIGTERM, exit code {code}", flush=True)
    finally:
        if proc is not None and proc.poll() is None:
            proc.kill()
            proc.wait()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
