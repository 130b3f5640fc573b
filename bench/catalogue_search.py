"""Benchmark: the public catalogue search at the scale of a province.

Generates N instruments (realistic Chinese names over the 15 national
categories, models, manufacturers, Xuchang's counties, prices), bulk-inserts
them with their search read model (the same tokenizer and refresh rules as the
worker, but straight into the tables), serves the registry API in-process with
uvicorn on a free loopback port, and drives concurrent HTTP clients from a
separate process against

  (a) GET /health (the trivial baseline) and
  (b) GET /v1/catalogue/instruments with a realistic query mix,

for the same duration each, in the same run. Prints one block of figures.

    .venv/bin/python bench/catalogue_search.py --instruments 100000 --duration 20
    .venv/bin/python bench/catalogue_search.py --database-url postgresql+asyncpg://postgres@127.0.0.1:5432/xciss_bench

The target (issue): search p99 <= 50 ms and search >= 25% of /health's rate.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import multiprocessing
import random
import shutil
import socket
import statistics
import sys
import tempfile
import time
import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import httpx  # noqa: E402
import uvicorn  # noqa: E402
from sqlalchemy import create_engine, insert  # noqa: E402

from services.registry import search  # noqa: E402
from services.registry.app import create_app  # noqa: E402
from services.registry.db.models import instruments, price_items, search_docs, search_state, search_terms, units  # noqa: E402
from services.registry.domain.catalogue import DEFAULT_CATEGORIES  # noqa: E402
from services.registry.domain.search_terms import document_terms  # noqa: E402
from services.runtime.migrations import upgrade  # noqa: E402
from services.runtime.service import create_database, load_spec  # noqa: E402
from services.runtime.settings import Settings  # noqa: E402

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


async def _drive(base: str, paths: list[str], concurrency: int, duration: float, once: bool = False) -> tuple[list[float], int]:
    latencies: list[float] = []
    errors = 0
    stop_at = time.perf_counter() + duration
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(base_url=base, limits=limits, timeout=30) as client:

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
    return latencies, errors


def _client_process(base: str, paths: list[str], concurrency: int, duration: float, once: bool, out: Any) -> None:
    out.send(asyncio.run(_drive(base, paths, concurrency, duration, once)))


async def phase(base: str, paths: list[str], concurrency: int, duration: float, once: bool = False) -> dict[str, float]:
    """Clients run in another process, so the server's loop is the server's own."""
    ctx = multiprocessing.get_context("spawn")
    recv, send = ctx.Pipe(duplex=False)
    proc = ctx.Process(target=_client_process, args=(base, paths, concurrency, duration, once, send))
    proc.start()
    started = time.perf_counter()
    while not recv.poll():
        await asyncio.sleep(0.1)
    latencies, errors = recv.recv()
    proc.join()
    if once:
        duration = time.perf_counter() - started
    latencies.sort()
    q = statistics.quantiles(latencies, n=100) if len(latencies) > 1 else [latencies[0]] * 99
    return {"rps": len(latencies) / duration, "p50": q[49] * 1000, "p99": q[98] * 1000, "n": len(latencies), "errors": errors}


async def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--instruments", type=int, default=100_000)
    ap.add_argument("--concurrency", type=int, default=16)
    ap.add_argument("--duration", type=float, default=15.0, help="seconds per measured phase")
    ap.add_argument("--database-url", default=None, help="an empty PostgreSQL database (postgresql+asyncpg://…); default a temporary SQLite file")
    ap.add_argument("--no-cache", action="store_true", help="measure the database alone (no per-process result cache)")
    args = ap.parse_args()
    logging.getLogger("httpx").setLevel(logging.WARNING)

    tmp = Path(tempfile.mkdtemp(prefix="xciss-bench-"))
    url = args.database_url or f"sqlite+aiosqlite:///{tmp / 'registry.db'}"
    await asyncio.to_thread(upgrade, "registry", url)
    port = _free_port()
    settings = Settings(data_dir=tmp, database_urls={"registry": url}, http_ports={"registry": port}, jwt_secret="bench-secret-key-that-is-long-enough-for-hs256", pii_secret="bench")
    db = create_database(load_spec("registry"), settings)
    search.CACHE_ENABLED = not args.no_cache
    stats = await load(db, args.instruments)

    server = uvicorn.Server(uvicorn.Config(create_app(settings, db), host="127.0.0.1", port=port, log_level="warning", lifespan="on", access_log=False))
    serving = asyncio.create_task(server.serve())
    while not server.started:
        await asyncio.sleep(0.05)
    base = f"http://127.0.0.1:{port}"
    try:
        queries = search_paths(2000)
        async with httpx.AsyncClient(base_url=base) as c:  # every query answers 200
            for path in queries[:50]:
                r = await c.get(path)
                assert r.status_code == 200, (path, r.text)
            sample = (await c.get("/v1/catalogue/instruments", params={"q": "光谱"})).json()
        await phase(base, ["/health"], args.concurrency, 2)  # warm-up
        # every distinct query once: each one a cache miss (the database's own cost)
        cold = await phase(base, queries, args.concurrency, 0, once=True)
        health = await phase(base, ["/health"], args.concurrency, args.duration)
        found = await phase(base, queries, args.concurrency, args.duration)
    finally:
        server.should_exit = True
        await serving
        await db.dispose()
        shutil.rmtree(tmp, ignore_errors=True)

    backend = "PostgreSQL" if url.startswith("postgresql") else "SQLite"
    ratio = found["rps"] / health["rps"]
    ok = found["p99"] <= 50 and ratio >= 0.25
    print(
        "\n".join(
            [
                "=" * 72,
                f"catalogue search benchmark — {backend}, cache {'off' if args.no_cache else 'on'}",
                f"data: {stats['instruments']:,} instruments, {stats['units']:,} units, {stats['prices']:,} prices, "
                f"{stats['terms']:,} index terms (loaded in {stats['load_s']} s)",
                f"load: {args.concurrency} concurrent clients, {args.duration:.0f} s per phase, {len(set(queries))} distinct query URLs",
                f"'光谱' matches {sample['total']:,} public instruments",
                f"{'':10}{'req/s':>10}{'p50 ms':>10}{'p99 ms':>10}{'requests':>10}{'errors':>8}",
                f"{'/health':10}{health['rps']:>10.0f}{health['p50']:>10.2f}{health['p99']:>10.2f}{health['n']:>10}{health['errors']:>8}",
                f"{'cold':10}{cold['rps']:>10.0f}{cold['p50']:>10.2f}{cold['p99']:>10.2f}{cold['n']:>10}{cold['errors']:>8}   (first pass over the query list: every distinct query a miss once)",
                f"{'search':10}{found['rps']:>10.0f}{found['p50']:>10.2f}{found['p99']:>10.2f}{found['n']:>10}{found['errors']:>8}",
                f"search / health rate: {ratio:.1%}   target: p99 <= 50 ms and >= 25%  -> {'MET' if ok else 'MISSED'}",
                "=" * 72,
            ]
        )
    )


if __name__ == "__main__":
    asyncio.run(main())
