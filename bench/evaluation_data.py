"""The evaluation benchmark's data: U units spread over the packaged city's
counties and a few departments, 20 instruments a unit, N service records (each
an order with its delivered results, settlements, ratings, voucher uses), ties
between users and units and refused vouchers — generated from a seed and bulk
inserted into the evaluation's facts tables (not through the bus), as the
worker would have written them from the events. ``evaluation.py`` imports it;
it imports none of the benchmarks.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
from sqlalchemy import Table, func, select, text

from services.evaluation.db.facts_models import (
    fact_affiliation,
    fact_delivery,
    fact_instrument,
    fact_order,
    fact_rating,
    fact_settlement,
    fact_voucher_refusal,
    fact_voucher_use,
)
from services.evaluation.db.models import unit_view
from services.runtime.clock import POLICY_ZONE, local_year
from services.runtime.db.service_db import ServiceDatabase
from services.runtime.city import packaged_city

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
    return await counts_of(db)


async def counts_of(db: ServiceDatabase) -> dict[str, int]:
    counts = {}
    async with db.read() as s:
        for t in (unit_view, fact_instrument, fact_order, fact_delivery, fact_settlement, fact_rating, fact_voucher_use, fact_voucher_refusal, fact_affiliation):
            counts[t.name] = (await s.execute(select(func.count()).select_from(t))).scalar_one()
    return counts
