"""The catalogue a search benchmark measures: N generated instruments (realistic
Chinese names over the 15 national categories, models, manufacturers, the
city's counties, prices), their search read model (the worker's tokenizer and
refresh rules), loaded straight into the registry's tables, and the mix of
search URLs the load generators send. ``catalogue_search.py`` (over HTTP),
``search_library.py`` (the index in one process) and ``search_statements.py``
(the database's statements) share it; it imports none of them.
"""

from __future__ import annotations

import asyncio
import random
import time
import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx
from sqlalchemy import create_engine, func, insert, select

from services.registry import search_model
from services.registry.db.instrument_models import instruments, price_items
from services.registry.db.party_models import units
from services.registry.db.search_models import search_docs, search_state, search_terms
from services.registry.domain.catalogue import DEFAULT_CATEGORIES
from services.registry.domain.search_terms import document_terms
from services.runtime.city import packaged_city

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


async def existing(db: Any) -> dict[str, int] | None:
    """The sizes of a previous run's data in the database, or None when it is empty."""
    async with db.engine.connect() as conn:
        n = (await conn.execute(select(func.count()).select_from(instruments))).scalar_one()
        if not n:
            return None
        counts = {t.name: (await conn.execute(select(func.count()).select_from(t))).scalar_one() for t in (units, price_items, search_terms)}
    return {"units": counts["units"], "instruments": n, "prices": counts["price_items"], "terms": counts["search_terms"], "load_s": 0}
