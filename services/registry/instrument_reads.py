"""Reading instruments: one instrument, a unit's or the public list, and the
listing compliance per unit or city-wide (M5, M6, M11(3))."""

from __future__ import annotations

from collections import Counter
from datetime import date
from sqlalchemy import func, select

from services.registry.db.instrument_models import instruments
from services.registry.db.party_models import units
from services.registry.domain.listing import ListingPolicies, ListingStatus, listing_status
from services.registry.instrument_rows import WITH_COUNTY, instrument_view
from services.registry.instruments import ATTENTION_LIMIT, IN_SERVICE, RETIRED
from services.registry.schemas.instruments import AttentionItem, Compliance, Instrument, InstrumentPage
from services.registry.scope import may_see_unit
from services.runtime.errors import NotFound
from services.runtime.http.auth import Principal
from services.runtime.db.service_db import ServiceDatabase
from services.runtime.workdays import WorkdayCalendar
from services.runtime.http.pagination import Page


async def get_instrument(db: ServiceDatabase, instrument_id: str) -> Instrument:
    async with db.read() as s:
        row = (await s.execute(WITH_COUNTY.where(instruments.c.id == instrument_id))).mappings().first()
    if row is None:
        raise NotFound("instrument", "仪器", instrument_id)
    return instrument_view(row, row["county_code"])


def is_public(record: Instrument) -> bool:
    """Whether everybody may see the instrument: listed and in service."""
    return record.listed_on is not None and record.status == IN_SERVICE


async def visible_instrument(db: ServiceDatabase, p: Principal, instrument_id: str) -> Instrument:
    """The instrument, for the public once listed and in service; its unit (and those
    over it) and staff always; for anyone else it does not exist (404). The one rule
    behind reading an instrument, its ratings and its photos."""
    record = await get_instrument(db, instrument_id)
    if not is_public(record) and not await may_see_unit(db, p, record.unit_id):
        raise NotFound("instrument", "仪器", instrument_id)
    return record


async def list_instruments(
    db: ServiceDatabase,
    *,
    unit_id: str | None,
    public_only: bool,
    own_unit: str | None,
    page: int,
    page_size: int,
) -> InstrumentPage:
    """A page of instruments, oldest first. ``public_only`` restricts to listed, in-service
    ones, except those of ``own_unit`` (the caller's own unit sees all of its own)."""
    conds = []
    if unit_id:
        conds.append(instruments.c.unit_id == unit_id)
    if public_only:
        visible = (instruments.c.listed_on.is_not(None)) & (instruments.c.status == IN_SERVICE)
        conds.append(visible | (instruments.c.unit_id == own_unit) if own_unit else visible)
    q = WITH_COUNTY.where(*conds)
    c = select(func.count()).select_from(instruments).where(*conds)
    async with db.read() as s:
        total = (await s.execute(c)).scalar_one()
        rows = (await s.execute(q.order_by(instruments.c.created_at, instruments.c.id).offset((page - 1) * page_size).limit(page_size))).mappings().all()
    return Page(items=[instrument_view(r, r["county_code"]) for r in rows], total=total, page=page, page_size=page_size)


async def compliance(
    db: ServiceDatabase,
    *,
    calendar: WorkdayCalendar,
    policy: ListingPolicies,
    unit_id: str | None,
    as_of: date,
) -> Compliance:
    """Counts per listing state on ``as_of`` for one unit or the whole city
    (retired instruments excluded), and the overdue or due-soon ones. An
    instrument listed after ``as_of`` counts as not yet listed on that day."""
    q = select(
        instruments.c.id,
        instruments.c.unit_id,
        instruments.c.name,
        instruments.c.must_list,
        instruments.c.listing_deadline,
        instruments.c.listed_on,
    ).where(instruments.c.status != RETIRED)
    async with db.read() as s:
        if unit_id is not None:
            if (await s.execute(select(units.c.id).where(units.c.id == unit_id))).first() is None:
                raise NotFound("unit", "单位", unit_id)
            q = q.where(instruments.c.unit_id == unit_id)
        rows = (await s.execute(q.order_by(instruments.c.listing_deadline, instruments.c.id))).mappings().all()
    counts: Counter[ListingStatus] = Counter()
    attention: list[AttentionItem] = []
    for r in rows:
        # listed after as_of: not yet listed on that day
        listed_on = r["listed_on"] if r["listed_on"] is not None and r["listed_on"] <= as_of else None
        state = listing_status(r["must_list"], r["listing_deadline"], listed_on, as_of, calendar, policy.for_year(as_of.year))
        counts[state] += 1
        if state in (ListingStatus.overdue, ListingStatus.due_soon) and len(attention) < ATTENTION_LIMIT:
            attention.append(AttentionItem(instrument_id=r["id"], unit_id=r["unit_id"], name=r["name"], listing_deadline=r["listing_deadline"], state=state))
    return Compliance(
        unit_id=unit_id,
        as_of=as_of,
        total=len(rows),
        counts={str(st): counts[st] for st in ListingStatus},
        attention=attention,
    )
