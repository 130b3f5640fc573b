"""The catalogue's read model, kept by the registry worker: ``search_docs``
(one row per instrument: the filters and what a result shows) and
``search_terms`` (the inverted index of public instruments: term →
instrument, weight). :func:`refresh_instrument` rebuilds both for one
instrument from the current rows of ``instruments``, ``units`` and
``price_items``; it runs on every instrument and price event, is idempotent and
does not care about the order events arrive in. Every refresh bumps
``search_state.generation`` and marks the document with it, so each API
process's search index (search_index.py) reads only what changed. The query
over the model is search.py's.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from contracts import registry as ev
from services.registry.db.instrument_models import instruments, price_items
from services.registry.db.order_models import order_items, orders
from services.registry.db.party_models import units
from services.registry.db.search_models import search_docs, search_state, search_terms
from services.registry.ratings import rated_orders_of
from services.registry.domain.search_terms import document_terms
from services.runtime.bus.consumers import Subscription
from services.runtime.db.service_db import ServiceDatabase
from services.runtime.db.unit_of_work import UnitOfWork

IN_SERVICE = "in_service"
APPROVED = "approved"


async def bump_generation(s: AsyncSession) -> int:
    """Every cached result page becomes stale (the index, the dictionary or a
    rating changed); returns the new generation. The row stays locked until the
    commit, so generations commit in their order."""
    done = await s.execute(update(search_state).where(search_state.c.id == 1).values(generation=search_state.c.generation + 1))
    if done.rowcount == 0:
        await s.execute(insert(search_state).values(id=1, generation=1))
        return 1
    return int((await s.execute(select(search_state.c.generation).where(search_state.c.id == 1))).scalar_one())


async def refresh_instrument(s: AsyncSession, instrument_id: str) -> None:
    """Rebuild one instrument's document and terms from the current rows.
    Idempotent; an unknown id just leaves nothing behind."""
    row = (
        (
            await s.execute(
                select(instruments, units.c.name.label("unit_name"), units.c.county_code, units.c.accepts_vouchers.label("unit_accepts"), units.c.status.label("unit_status"))
                .join(units, units.c.id == instruments.c.unit_id)
                .where(instruments.c.id == instrument_id)
            )
        )
        .mappings()
        .first()
    )
    generation = await bump_generation(s)
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
        rated, points = await _ratings(s, instrument_id)
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
                accepts_vouchers=bool(row["unit_accepts"]) and row["unit_status"] == APPROVED,
                instrument_version=row["version"],
                updated_at=datetime.now(UTC),
                generation=generation,
                rating_count=rated,
                rating_points=points,
            )
        )
        if public:  # only what the public may find is indexed
            terms = document_terms(instrument_fields(row))
            if terms:
                await s.execute(insert(search_terms), [{"term": t, "instrument_id": instrument_id, "weight": w} for t, w in terms.items()])


async def _ratings(s: AsyncSession, instrument_id: str) -> tuple[int, int]:
    """How many of the instrument's orders are rated (an order with several items on
    it once), and their stars summed (R19(4); the mean: domain/ratings.py)."""
    rated = select(func.count(), func.coalesce(func.sum(orders.c.rating), 0)).where(rated_orders_of(instrument_id))
    n, points = (await s.execute(rated)).one()
    return int(n), int(points)


async def refresh_rated(s: AsyncSession, order_id: str) -> None:
    """An order was rated: the documents of its instruments show it (each refresh bumps the generation)."""
    for iid in (await s.execute(select(order_items.c.instrument_id).where(order_items.c.order_id == order_id).distinct().order_by(order_items.c.instrument_id))).scalars():
        await refresh_instrument(s, iid)


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


async def on_unit_event(uow: UnitOfWork, event: ev.UnitSnapshot) -> None:
    """A unit's acceptance of vouchers or its status changed: its instruments'
    documents follow (the accepts-vouchers filter)."""
    s = uow.session
    ids = list((await s.execute(select(instruments.c.id).where(instruments.c.unit_id == event.unit_id).order_by(instruments.c.id))).scalars())
    for iid in ids:
        await refresh_instrument(s, iid)


#: unit events that change whether the unit accepts vouchers
UNIT_EVENTS = (
    ev.UnitApproved,
    ev.UnitVoucherAcceptanceGranted,
    ev.UnitVoucherAcceptanceRevoked,
    ev.UnitSuspended,
    ev.UnitReinstated,
    ev.UnitDisqualified,
)


def subscriptions() -> list[Subscription]:
    """The registry worker's read-model handlers for the catalogue."""
    return [
        Subscription(ev.InstrumentRegistered, on_instrument_event),
        Subscription(ev.InstrumentListed, on_instrument_event),
        Subscription(ev.InstrumentChanged, on_instrument_event),
        Subscription(ev.InstrumentRetired, on_instrument_event),
        Subscription(ev.PricePublished, on_price_published),
        *(Subscription(e, on_unit_event) for e in UNIT_EVENTS),
    ]
