"""Registry use cases for instruments (M5, M6, M11(3)): registration computes
whether the instrument must be listed and by when; listing records the day and
whether it was on time; the compliance view counts listing states on a day."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, insert, select, update
from sqlalchemy.engine import RowMapping

from contracts import registry as ev
from contracts.envelope import new_event_id
from services.registry.db.models import instruments, units
from services.registry.domain.catalogue import DEFAULT_CATEGORIES
from services.registry.domain.listing import Funding, ListingPolicy, ListingStatus, listing_deadline, listing_status, must_list
from services.registry.domain.parties import UnitStatus
from services.registry.domain.workdays import UnknownCalendarYear, WorkdayCalendar
from services.runtime.errors import Conflict, DomainError, Forbidden, NotFound
from services.runtime.outbox import Actor
from services.runtime.service_db import ServiceDatabase

SHANGHAI = ZoneInfo("Asia/Shanghai")

IN_SERVICE = "in_service"
INSTRUMENT_STATUSES: tuple[str, ...] = (IN_SERVICE, "maintenance", "retired")

#: overdue or due-soon instruments returned with a compliance view, at most
ATTENTION_LIMIT = 100


def shanghai_today() -> date:
    """Today's date in Xuchang (Asia/Shanghai), the day listing is recorded on."""
    return datetime.now(SHANGHAI).date()


def _unknown_year(exc: UnknownCalendarYear) -> DomainError:
    return DomainError(exc.code, exc.message_zh, exc.message_en, year=exc.year)


def _snapshot(row: RowMapping | dict[str, Any], county_code: str | None) -> dict[str, Any]:
    return {
        "instrument_id": row["id"],
        "unit_id": row["unit_id"],
        "version": row["version"],
        "name": row["name"],
        "category": row["category"],
        "county_code": county_code,
        "funding": row["funding"],
        "original_value_fen": row["original_value_fen"],
        "must_list": row["must_list"],
        "listing_deadline": row["listing_deadline"],
        "status": row["status"],
    }


def _record(row: RowMapping, county_code: str | None) -> dict[str, Any]:
    """The full record as the API shows it."""
    return {
        **_snapshot(row, county_code),
        "model": row["model"],
        "manufacturer": row["manufacturer"],
        "acceptance_date": row["acceptance_date"],
        "duty_exempt": row["duty_exempt"],
        "classified": row["classified"],
        "location": row["location"],
        "specifications": row["specifications"],
        "functions": row["functions"],
        "listed_on": row["listed_on"],
    }


_WITH_COUNTY = select(instruments, units.c.county_code).join(units, units.c.id == instruments.c.unit_id)


async def register_instrument(
    db: ServiceDatabase,
    actor: Actor,
    correlation_id: str | None,
    *,
    calendar: WorkdayCalendar,
    policy: ListingPolicy,
    unit_id: str,
    name: str,
    category: str,
    model: str | None,
    manufacturer: str | None,
    original_value_fen: int,
    funding: Funding,
    acceptance_date: date,
    duty_exempt: bool,
    classified: bool,
    location: str | None,
    specifications: str | None,
    functions: str | None,
) -> dict[str, Any]:
    if category not in DEFAULT_CATEGORIES:
        raise DomainError(
            "instrument.unknown_category",
            f"仪器类别“{category}”不在目录中",
            f"category {category!r} is not in the catalogue",
            allowed=list(DEFAULT_CATEGORIES),
        )
    required = must_list(funding, original_value_fen, classified, duty_exempt, policy)
    deadline: date | None = None
    if required:
        try:
            deadline = listing_deadline(acceptance_date, calendar, policy)
        except UnknownCalendarYear as exc:
            raise _unknown_year(exc) from exc
    now = datetime.now(UTC)
    async with db.unit_of_work(actor, correlation_id) as uow:
        s = uow.session
        unit = (await s.execute(select(units).where(units.c.id == unit_id))).mappings().first()
        if unit is None:
            raise NotFound("unit", "单位", unit_id)
        if unit["status"] != UnitStatus.APPROVED:
            raise DomainError("instrument.unit_not_approved", "只有已通过审核的管理单位才能登记仪器", "only an approved unit may register instruments")
        row: dict[str, Any] = {
            "id": new_event_id(),
            "unit_id": unit_id,
            "name": name,
            "category": category,
            "model": model,
            "manufacturer": manufacturer,
            "original_value_fen": original_value_fen,
            "funding": str(funding),
            "acceptance_date": acceptance_date,
            "duty_exempt": duty_exempt,
            "classified": classified,
            "location": location,
            "specifications": specifications,
            "functions": functions,
            "status": IN_SERVICE,
            "must_list": required,
            "listing_deadline": deadline,
            "listed_on": None,
            "version": 1,
            "created_at": now,
            "updated_at": now,
        }
        await s.execute(insert(instruments).values(**row))
        snap = _snapshot(row, unit["county_code"])
        await uow.emit(ev.InstrumentRegistered(**snap))
        await uow.audit("instrument.register", "instrument", row["id"], after=snap)
    return _record(row, unit["county_code"])  # type: ignore[arg-type]


async def list_instrument(
    db: ServiceDatabase,
    actor: Actor,
    correlation_id: str | None,
    instrument_id: str,
    *,
    calendar: WorkdayCalendar,
    policy: ListingPolicy,
    owner: str | None,
) -> dict[str, Any]:
    """List an instrument on the platform today (Asia/Shanghai).

    ``owner``: when set, the instrument must belong to that unit (else 403).
    """
    today = shanghai_today()
    now = datetime.now(UTC)
    async with db.unit_of_work(actor, correlation_id) as uow:
        s = uow.session
        row = (await s.execute(_WITH_COUNTY.where(instruments.c.id == instrument_id))).mappings().first()
        if row is None:
            raise NotFound("instrument", "仪器", instrument_id)
        if owner is not None and row["unit_id"] != owner:
            raise Forbidden()
        if row["listed_on"] is not None:
            raise Conflict("instrument.already_listed", "该仪器已纳入平台", "the instrument is already listed")
        if row["classified"]:
            raise DomainError("instrument.classified", "涉密仪器不纳入平台开放共享（管理办法第五条）", "a classified instrument is not listed (M5)")
        if row["status"] == "retired":
            raise DomainError("instrument.retired", "已报废的仪器不能纳入平台", "a retired instrument cannot be listed")
        changed = await s.execute(
            update(instruments)
            .where(instruments.c.id == instrument_id, instruments.c.version == row["version"])
            .values(listed_on=today, version=row["version"] + 1, updated_at=now)
        )
        if changed.rowcount != 1:
            raise Conflict("instrument.concurrent_change", "该仪器正被他人修改，请刷新后重试", "the instrument changed meanwhile; reload and retry")
        after = (await s.execute(_WITH_COUNTY.where(instruments.c.id == instrument_id))).mappings().one()
        state = listing_status(after["must_list"], after["listing_deadline"], today, today, calendar, policy)
        snap = _snapshot(after, after["county_code"])
        await uow.emit(ev.InstrumentListed(**snap, listed_on=today, on_time=state is ListingStatus.listed_on_time))
        await uow.audit("instrument.list", "instrument", instrument_id, before=_snapshot(row, row["county_code"]), after={**snap, "listed_on": today})
    return _record(after, after["county_code"])


async def get_instrument(db: ServiceDatabase, instrument_id: str) -> dict[str, Any]:
    async with db.read() as s:
        row = (await s.execute(_WITH_COUNTY.where(instruments.c.id == instrument_id))).mappings().first()
    if row is None:
        raise NotFound("instrument", "仪器", instrument_id)
    return _record(row, row["county_code"])


async def list_instruments(
    db: ServiceDatabase,
    *,
    unit_id: str | None,
    public_only: bool,
    own_unit: str | None,
    page: int,
    page_size: int,
) -> tuple[list[dict[str, Any]], int]:
    """Instruments, oldest first. ``public_only`` restricts to listed, in-service
    ones, except those of ``own_unit`` (the caller's own unit sees all of its own)."""
    conds = []
    if unit_id:
        conds.append(instruments.c.unit_id == unit_id)
    if public_only:
        visible = (instruments.c.listed_on.is_not(None)) & (instruments.c.status == IN_SERVICE)
        conds.append(visible | (instruments.c.unit_id == own_unit) if own_unit else visible)
    q = _WITH_COUNTY.where(*conds)
    c = select(func.count()).select_from(instruments).where(*conds)
    async with db.read() as s:
        total = (await s.execute(c)).scalar_one()
        rows = (await s.execute(q.order_by(instruments.c.created_at, instruments.c.id).offset((page - 1) * page_size).limit(page_size))).mappings().all()
    return [_record(r, r["county_code"]) for r in rows], total


async def compliance(
    db: ServiceDatabase,
    *,
    calendar: WorkdayCalendar,
    policy: ListingPolicy,
    unit_id: str | None,
    as_of: date,
) -> dict[str, Any]:
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
    ).where(instruments.c.status != "retired")
    async with db.read() as s:
        if unit_id is not None:
            if (await s.execute(select(units.c.id).where(units.c.id == unit_id))).first() is None:
                raise NotFound("unit", "单位", unit_id)
            q = q.where(instruments.c.unit_id == unit_id)
        rows = (await s.execute(q.order_by(instruments.c.listing_deadline, instruments.c.id))).mappings().all()
    counts: Counter[ListingStatus] = Counter()
    attention: list[dict[str, Any]] = []
    for r in rows:
        try:
            # listed after as_of: not yet listed on that day
            listed_on = r["listed_on"] if r["listed_on"] is not None and r["listed_on"] <= as_of else None
            state = listing_status(r["must_list"], r["listing_deadline"], listed_on, as_of, calendar, policy)
        except UnknownCalendarYear as exc:
            raise _unknown_year(exc) from exc
        counts[state] += 1
        if state in (ListingStatus.overdue, ListingStatus.due_soon) and len(attention) < ATTENTION_LIMIT:
            attention.append({"instrument_id": r["id"], "unit_id": r["unit_id"], "name": r["name"], "listing_deadline": r["listing_deadline"], "state": state})
    return {
        "unit_id": unit_id,
        "as_of": as_of,
        "total": len(rows),
        "counts": {str(st): counts[st] for st in ListingStatus},
        "attention": attention,
    }
