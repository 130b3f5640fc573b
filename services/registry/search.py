"""The public catalogue search: a read model kept by the registry worker, and
the query over it.

The read model is two tables: ``search_docs`` (one row per instrument: the
filters and what a result shows) and ``search_terms`` (the inverted index of
public instruments: term → instrument, weight). :func:`refresh_instrument`
rebuilds both for one instrument from the current rows of ``instruments``,
``units`` and ``price_items``; it runs on every instrument and price event, is
idempotent and does not care about the order events arrive in. Every refresh
also bumps ``search_state.generation``.

A query takes the instruments holding every query term (GROUP BY … HAVING
count = n), scores them by summed weights, filters on ``search_docs`` and
pages, with the total from a window count, in one statement that runs on SQLite
and PostgreSQL alike. Results are cached per process and per database, keyed
by the index generation; a cached result is served only while the generation
it was computed at is the current one, as last read from the database at most
:data:`GENERATION_TTL_S` ago (see docs/architecture.md, "Catalogue search").
"""

from __future__ import annotations

import asyncio
import time
import weakref
from collections import OrderedDict
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import delete, func, insert, literal, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from contracts import registry as ev
from services.registry.db.models import (
    instruments,
    price_items,
    search_docs,
    search_state,
    search_terms,
    units,
)
from services.registry.domain.catalogue import DEFAULT_CATEGORIES
from services.registry.domain.search_terms import document_terms, query_terms
from services.runtime.consumers import Subscription
from services.runtime.errors import DomainError
from services.runtime.outbox import UnitOfWork
from services.runtime.service_db import ServiceDatabase

IN_SERVICE = "in_service"

#: counties and districts of Xuchang (DOMAIN.md); the functional zones have no
#: division code of their own, their units register under a district's code
XUCHANG_COUNTIES: dict[str, str] = {
    "411002": "魏都区",
    "411003": "建安区",
    "411024": "鄢陵县",
    "411025": "襄城县",
    "411081": "禹州市",
    "411082": "长葛市",
}

MAX_QUERY_CHARS = 50
MAX_QUERY_TERMS = 24
#: how long a process trusts the generation it last read before reading it again
GENERATION_TTL_S = 0.25
#: cached result pages per database, per process
CACHE_SIZE = 4096
#: set False to measure the database alone (bench --no-cache)
CACHE_ENABLED = True


def _bad(code: str, zh: str, en: str, **details: Any) -> DomainError:
    return DomainError(f"search.{code}", zh, en, status=400, **details)


@dataclass(frozen=True)
class SearchQuery:
    terms: tuple[str, ...]
    category: str | None = None
    county_code: str | None = None
    unit_id: str | None = None
    price_min_fen: int | None = None
    price_max_fen: int | None = None
    page: int = 1
    page_size: int = 20


def parse_query(
    q: str | None,
    *,
    category: str | None = None,
    county_code: str | None = None,
    unit_id: str | None = None,
    price_min_fen: int | None = None,
    price_max_fen: int | None = None,
    page: int = 1,
    page_size: int = 20,
    categories: tuple[str, ...] = DEFAULT_CATEGORIES,
    counties: dict[str, str] = XUCHANG_COUNTIES,
) -> SearchQuery:
    """Validate the parameters of a search; a bad one is a 400 problem."""
    terms: list[str] = []
    if q is not None and q.strip():
        if len(q) > MAX_QUERY_CHARS:
            raise _bad("query_too_long", f"关键词不能超过{MAX_QUERY_CHARS}个字符", f"the keywords may have at most {MAX_QUERY_CHARS} characters")
        terms = query_terms(q)
        if not terms:
            raise _bad("query_without_words", "关键词中没有可检索的文字", "the keywords contain no searchable word")
        if len(terms) > MAX_QUERY_TERMS:
            raise _bad("query_too_long", "关键词过多", f"the keywords make more than {MAX_QUERY_TERMS} terms")
    if category is not None and category not in categories:
        raise _bad("unknown_category", f"仪器类别“{category}”不在目录中", f"category {category!r} is not in the catalogue", allowed=list(categories))
    if county_code is not None and county_code not in counties:
        raise _bad("unknown_county", f"“{county_code}”不是许昌市的县（市、区）代码", f"{county_code!r} is not a county code of Xuchang", allowed=list(counties))
    for v in (price_min_fen, price_max_fen):
        if v is not None and v < 0:
            raise _bad("bad_price_range", "价格不能为负数", "a price cannot be negative")
    if price_min_fen is not None and price_max_fen is not None and price_min_fen > price_max_fen:
        raise _bad("bad_price_range", "最低价格不能高于最高价格", "price_min_fen must not exceed price_max_fen")
    if not 1 <= page_size <= 100:
        raise _bad("bad_page_size", "每页条数须在1到100之间", "page_size must be between 1 and 100")
    if page < 1:
        raise _bad("bad_page", "页码从1开始", "page starts at 1")
    return SearchQuery(tuple(terms), category, county_code, unit_id or None, price_min_fen, price_max_fen, page, page_size)


# --- the read model -----------------------------------------------------------


async def _bump_generation(s: AsyncSession) -> None:
    done = await s.execute(update(search_state).where(search_state.c.id == 1).values(generation=search_state.c.generation + 1))
    if done.rowcount == 0:
        await s.execute(insert(search_state).values(id=1, generation=1))


async def refresh_instrument(s: AsyncSession, instrument_id: str) -> None:
    """Rebuild one instrument's document and terms from the current rows.
    Idempotent; an unknown id just leaves nothing behind."""
    row = (
        (
            await s.execute(
                select(instruments, units.c.name.label("unit_name"), units.c.county_code)
                .join(units, units.c.id == instruments.c.unit_id)
                .where(instruments.c.id == instrument_id)
            )
        )
        .mappings()
        .first()
    )
    await s.execute(delete(search_terms).where(search_terms.c.instrument_id == instrument_id))
    await s.execute(delete(search_docs).where(search_docs.c.instrument_id == instrument_id))
    if row is not None:
        lo, hi = (
            await s.execute(
                select(func.min(price_items.c.price_fen), func.max(price_items.c.price_fen)).where(
                    price_items.c.instrument_id == instrument_id, price_items.c.active.is_(True)
                )
            )
        ).one()
        public = row["listed_on"] is not None and row["status"] == IN_SERVICE
        await s.execute(
            insert(search_docs).values(
                instrument_id=instrument_id,
                unit_id=row["unit_id"],
                unit_name=row["unit_name"],
                county_code=row["county_code"],
                category=row["category"],
                name=row["name"],
                model=row["model"],
                public=public,
                min_price_fen=lo,
                max_price_fen=hi,
                instrument_version=row["version"],
                updated_at=datetime.now(UTC),
            )
        )
        if public:  # only what the public may find is indexed
            terms = document_terms(instrument_fields(row))
            if terms:
                await s.execute(insert(search_terms), [{"term": t, "instrument_id": instrument_id, "weight": w} for t, w in terms.items()])
    await _bump_generation(s)


def instrument_fields(row: Any) -> dict[str, str | None]:
    """The indexed fields of an instrument row (with its unit's name)."""
    return {
        "name": row["name"],
        "model": row["model"],
        "category": row["category"],
        "manufacturer": row["manufacturer"],
        "functions": row["functions"],
        "specifications": row["specifications"],
        "unit_name": row["unit_name"],
    }


async def reindex_all(db: ServiceDatabase, batch: int = 500) -> int:
    """Rebuild the read model of every instrument (after a restore, or for
    instruments registered before the index existed). Returns how many."""
    async with db.read() as s:
        ids = list((await s.execute(select(instruments.c.id).order_by(instruments.c.id))).scalars())
    for i in range(0, len(ids), batch):
        async with db.unit_of_work() as uow:
            for iid in ids[i : i + batch]:
                await refresh_instrument(uow.session, iid)
    return len(ids)


async def on_instrument_event(uow: UnitOfWork, event: ev.InstrumentSnapshot) -> None:
    await refresh_instrument(uow.session, event.instrument_id)


async def on_price_published(uow: UnitOfWork, event: ev.PricePublished) -> None:
    await refresh_instrument(uow.session, event.instrument_id)


def subscriptions() -> list[Subscription]:
    """The registry worker's read-model handlers for the catalogue."""
    return [
        Subscription(ev.InstrumentRegistered, on_instrument_event),
        Subscription(ev.InstrumentListed, on_instrument_event),
        Subscription(ev.InstrumentChanged, on_instrument_event),
        Subscription(ev.InstrumentRetired, on_instrument_event),
        Subscription(ev.PricePublished, on_price_published),
    ]


# --- the query ----------------------------------------------------------------


def _matches(q: SearchQuery) -> Any:
    """Instruments holding every query term, with their score."""
    t = search_terms
    if len(q.terms) == 1:  # the common case: no grouping needed
        return select(t.c.instrument_id, t.c.weight.label("score")).where(t.c.term == q.terms[0]).subquery("m")
    return (
        select(t.c.instrument_id, func.sum(t.c.weight).label("score"))
        .where(t.c.term.in_(q.terms))
        .group_by(t.c.instrument_id)
        .having(func.count() == len(q.terms))
        .subquery("m")
    )


def _statement(q: SearchQuery) -> Any:
    """The page's ids are chosen on narrow rows (id, score, name), then joined
    to their documents: sorting 20,000 matches is cheaper without the rest."""
    d = search_docs
    if q.terms:
        m = _matches(q)
        score: Any = m.c.score
        page = select(d.c.instrument_id, d.c.name, score.label("score"), func.count().over().label("total")).join_from(m, d, d.c.instrument_id == m.c.instrument_id)
    else:
        score = literal(0)
        page = select(d.c.instrument_id, d.c.name, score.label("score"), func.count().over().label("total"))
    p = (
        page.where(*_filters(q))
        .order_by(score.desc(), d.c.name, d.c.instrument_id)
        .limit(q.page_size)
        .offset((q.page - 1) * q.page_size)
        .subquery("p")
    )
    return (
        select(d, p.c.score, p.c.total)
        .join_from(p, d, d.c.instrument_id == p.c.instrument_id)
        .order_by(p.c.score.desc(), p.c.name, p.c.instrument_id)
    )


def _filters(q: SearchQuery) -> list[Any]:
    d = search_docs
    conds: list[Any] = [d.c.public.is_(True)]
    if q.category:
        conds.append(d.c.category == q.category)
    if q.county_code:
        conds.append(d.c.county_code == q.county_code)
    if q.unit_id:
        conds.append(d.c.unit_id == q.unit_id)
    # the instrument's price range overlaps the wanted one
    if q.price_min_fen is not None:
        conds.append(d.c.max_price_fen >= q.price_min_fen)
    if q.price_max_fen is not None:
        conds.append(d.c.min_price_fen <= q.price_max_fen)
    return conds


def _count_statement(q: SearchQuery) -> Any:
    d = search_docs
    if not q.terms:
        return select(func.count().label("n")).select_from(d).where(*_filters(q))
    m = _matches(q)
    return select(func.count().label("n")).select_from(m.join(d, d.c.instrument_id == m.c.instrument_id)).where(*_filters(q))


def _item(r: Any) -> dict[str, Any]:
    return {
        "instrument_id": r["instrument_id"],
        "name": r["name"],
        "category": r["category"],
        "model": r["model"],
        "unit_id": r["unit_id"],
        "unit_name": r["unit_name"],
        "county_code": r["county_code"],
        "min_price_fen": r["min_price_fen"],
        "max_price_fen": r["max_price_fen"],
        "score": int(r["score"] or 0),
    }


async def _rows(db: ServiceDatabase, stmt: Any) -> list[Any]:
    async with db.read() as s:
        return list((await s.execute(stmt)).mappings().all())


async def _run(db: ServiceDatabase, q: SearchQuery) -> tuple[list[dict[str, Any]], int]:
    rows = await _rows(db, _statement(q))
    if rows:
        total = int(rows[0]["total"])
    elif q.page == 1:
        total = 0
    else:  # past the last page: the window count saw no row
        total = await _count(db, q)
    return [_item(r) for r in rows], total


async def _count(db: ServiceDatabase, q: SearchQuery) -> int:
    return int((await _rows(db, _count_statement(q)))[0]["n"])


class _Cache:
    """Result pages of one database, valid for one index generation."""

    def __init__(self) -> None:
        self.generation: int | None = None
        self.checked_at = float("-inf")
        self.pages: OrderedDict[SearchQuery, tuple[list[dict[str, Any]], int]] = OrderedDict()
        self._checking: asyncio.Future[int] | None = None

    async def current_generation(self, db: ServiceDatabase) -> int:
        if self.generation is not None and time.monotonic() - self.checked_at < GENERATION_TTL_S:
            return self.generation
        if self._checking is not None:  # one reader per process refreshes it
            return await asyncio.shield(self._checking)
        self._checking = asyncio.get_running_loop().create_future()
        try:
            started = time.monotonic()
            rows = await _rows(db, select(search_state.c.generation).where(search_state.c.id == 1))
            gen = int(rows[0]["generation"]) if rows else 0
            if gen != self.generation:
                self.pages.clear()
                self.generation = gen
            self.checked_at = started
            self._checking.set_result(gen)
            return gen
        except BaseException as exc:
            self._checking.set_exception(exc)
            self._checking.exception()  # retrieved: no "never retrieved" warning
            raise
        finally:
            self._checking = None


_caches: weakref.WeakKeyDictionary[ServiceDatabase, _Cache] = weakref.WeakKeyDictionary()


async def search(db: ServiceDatabase, q: SearchQuery) -> tuple[list[dict[str, Any]], int]:
    """One page of public instruments matching ``q``, best first, and the total."""
    if not CACHE_ENABLED:
        return await _run(db, q)
    cache = _caches.get(db)
    if cache is None:
        cache = _caches[db] = _Cache()
    gen = await cache.current_generation(db)
    hit = cache.pages.get(q)
    if hit is not None:
        cache.pages.move_to_end(q)
        return hit
    result = await _run(db, q)
    if cache.generation == gen:  # not invalidated meanwhile
        cache.pages[q] = result
        if len(cache.pages) > CACHE_SIZE:
            cache.pages.popitem(last=False)
    return result
