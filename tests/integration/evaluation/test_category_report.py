"""The per-category report on a migrated database (SQLite and PostgreSQL), fed
through the facts handlers: a category with instruments but no orders, orders
on an instrument evaluation has not heard of, a settlement that arrived before
any order event, the county filter, another year — and the same rows as the
plain definition (every fact row joined to its order's instrument, summed by
category) that the report's per-instrument sums replaced (issue 19)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import func, select

from contracts import payments as pe
from contracts import registry as ev
from contracts.envelope import Event
from services.evaluation.app import SPEC
from services.evaluation.category_report import CATEGORY_FIELDS, category_rows
from services.evaluation.db.facts_models import (
    fact_delivery,
    fact_instrument,
    fact_order,
    fact_rating,
    fact_settlement,
)
from services.evaluation.measures import (
    instrument_columns,
    instrument_stock,
    rating_columns,
    settlement_columns,
)
from services.runtime.db.service_db import ServiceDatabase
from tests.support.databases import PostgresDatabases
from tests.support.evaluation_facts import feed
from tests.support.vouchers import uid

JUNE = datetime(2026, 6, 1, 2, tzinfo=UTC)
WEIDU, CHANGGE = "411002", "411082"


@pytest.fixture
async def db(backend: str, fresh_database: Callable[[str], Awaitable[str]], pg_databases: PostgresDatabases | None) -> AsyncIterator[ServiceDatabase]:
    url = await fresh_database("evaluation")
    d = ServiceDatabase("evaluation", url, SPEC.metadata)
    yield d
    await d.dispose()
    if pg_databases is not None and backend == "postgres":
        await pg_databases.drop(url)


def instrument(iid: str, unit_id: str, category: str, county: str, *, listed: bool = True) -> list[Event]:
    base = dict(instrument_id=iid, unit_id=unit_id, name="仪器", category=category, county_code=county, funding="fiscal_full", original_value_fen=10_000_000,
                must_list=True, listing_deadline=date(2026, 3, 1), status="in_service")
    out: list[Event] = [ev.InstrumentRegistered(**base, version=1, occurred_at=datetime(2026, 1, 5, tzinfo=UTC))]
    if listed:
        out.append(ev.InstrumentListed(**base, version=2, listed_on=date(2026, 2, 1), on_time=True, occurred_at=datetime(2026, 2, 1, tzinfo=UTC)))
    return out


def service(unit_id: str, iid: str, at: datetime, *, hours: int, fee: int, voucher: int = 0, rating: int | None = None) -> list[Event]:
    o, user = uid(), uid()
    snap = dict(order_id=o, user_id=user, unit_id=unit_id, instrument_ids=[iid], amount_fen=fee, testing_fee_fen=fee, purpose="research")
    out: list[Event] = [
        ev.OrderResultsDelivered(**snap, version=5, status="results_delivered", service_hours=hours, occurred_at=at),
        pe.SettlementCompleted(settlement_id=uid(), order_id=o, user_id=user, unit_id=unit_id, fee_fen=fee, voucher_fen=voucher, payable_fen=fee - voucher,
                               voucher_id=uid() if voucher else None, occurred_at=at),
    ]
    if rating is not None:
        out.append(ev.OrderRated(**snap, version=7, status="rated", rating=rating, occurred_at=at))
    return out


async def plain_rows(db: ServiceDatabase, year: int, county_code: str | None = None) -> dict[str, dict[str, int]]:
    """The report's definition, one join per fact row (the query before issue 19)."""
    i, cat = fact_instrument.c, fact_instrument.c.category.label("category")
    by_order = fact_order.outerjoin(fact_instrument, i.instrument_id == fact_order.c.primary_instrument_id)
    queries = [
        select(cat, *instrument_columns(year)).where(instrument_stock(year)),
        select(cat, func.count().label("orders_served"), func.coalesce(func.sum(fact_delivery.c.service_hours_centi), 0).label("service_hours_centi"))
        .select_from(fact_delivery.outerjoin(fact_instrument, i.instrument_id == fact_delivery.c.primary_instrument_id))
        .where(fact_delivery.c.year == year),
        select(cat, *settlement_columns()).select_from(fact_settlement.outerjoin(by_order, fact_order.c.order_id == fact_settlement.c.order_id)).where(fact_settlement.c.year == year),
        select(cat, *rating_columns()).select_from(fact_rating.outerjoin(by_order, fact_order.c.order_id == fact_rating.c.order_id)).where(fact_rating.c.year == year),
    ]
    out: dict[str, dict[str, int]] = {}
    async with db.read() as s:
        for q in queries:
            if county_code:
                q = q.where(i.county_code == county_code)
            for row in (await s.execute(q.group_by(i.category))).mappings():
                values = out.setdefault(row["category"] or "", dict.fromkeys(CATEGORY_FIELDS, 0))
                for k, v in row.items():
                    if k in values:
                        values[k] += int(v or 0)
    return out


async def report(db: ServiceDatabase, year: int, county_code: str | None = None) -> dict[str, dict[str, int]]:
    return {g.key: g.values for g in await category_rows(db, year, county_code)}


async def test_category_rows_per_primary_instrument(db: ServiceDatabase) -> None:
    a, c = uid(), uid()
    ia, idle, ic, unknown = uid(), uid(), uid(), uid()
    events = instrument(ia, a, "分析仪器", WEIDU) + instrument(idle, a, "计量仪器", WEIDU, listed=False) + instrument(ic, c, "分析仪器", CHANGGE)
    events += service(a, ia, JUNE, hours=6, fee=1_000_000, voucher=300_000, rating=5)
    events += service(a, ia, JUNE + timedelta(days=3), hours=2, fee=50_000, rating=4)
    events += service(c, ic, JUNE, hours=10, fee=400_000, rating=3)
    events += service(c, ic, datetime(2025, 6, 1, tzinfo=UTC), hours=7, fee=70_000, rating=5)  # the year before
    # an order on an instrument evaluation never heard of, and a settlement before any order event
    events += service(c, unknown, JUNE, hours=1, fee=20_000, rating=4)
    events.append(pe.SettlementCompleted(settlement_id=uid(), order_id=uid(), user_id=uid(), unit_id=a, fee_fen=9_000, voucher_fen=0, payable_fen=9_000, occurred_at=JUNE))
    await feed(db, *events)

    rows = await report(db, 2026)
    assert list(rows) == ["分析仪器", "计量仪器", ""]
    analysis, metering, none = rows["分析仪器"], rows["计量仪器"], rows[""]
    assert (analysis["orders_served"], analysis["service_hours_centi"]) == (3, 1_800)
    assert (analysis["revenue_fen"], analysis["revenue_voucher_fen"]) == (1_450_000, 300_000)
    assert (analysis["ratings_count"], analysis["ratings_sum"]) == (3, 12)
    assert (analysis["instruments_listed"], analysis["listed_value_fen"]) == (2, 20_000_000)
    # a category with instruments and no orders: its instruments, zeros for the rest
    assert metering == {**dict.fromkeys(CATEGORY_FIELDS, 0), "instruments_must_list": 1, "instruments_overdue": 1}
    assert (none["orders_served"], none["revenue_fen"], none["ratings_count"], none["instruments_must_list"]) == (1, 29_000, 1, 0)
    assert rows == await plain_rows(db, 2026)

    # the county keeps its instruments and the orders on them (not the unknown ones)
    changge = await report(db, 2026, CHANGGE)
    assert list(changge) == ["分析仪器"] and changge["分析仪器"]["orders_served"] == 1
    weidu = await report(db, 2026, WEIDU)
    assert (weidu["分析仪器"]["orders_served"], weidu["计量仪器"]["orders_served"]) == (2, 0)
    for code in (CHANGGE, WEIDU, "411024"):
        assert await report(db, 2026, code) == await plain_rows(db, 2026, code)

    before = await report(db, 2025)
    assert before["分析仪器"]["orders_served"] == 1 and before["分析仪器"]["revenue_fen"] == 70_000
    assert before == await plain_rows(db, 2025)
    assert await report(db, 2010) == {}


async def test_no_facts_no_rows(db: ServiceDatabase) -> None:
    assert await category_rows(db, 2026) == []
    assert await category_rows(db, 2026, WEIDU) == []

