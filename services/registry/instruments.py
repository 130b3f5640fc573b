"""Registry use cases for instruments (M5, M6, M11(3)): registration computes
whether the instrument must be listed and by when, and schedules the unit's
reminder before that day and the notices that it is overdue after it
(listing_notices.py); listing records the day and whether it was on time, and
cancels them, as retiring does; the compliance view counts listing states on a
day."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.engine import RowMapping
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from contracts import registry as ev
from contracts.envelope import new_event_id
from services.registry.db.instrument_models import instruments
from services.registry.db.party_models import units
from services.registry.domain.catalogue import DEFAULT_CATEGORIES
from services.registry.domain.listing import (
    Funding,
    ListingPolicies,
    ListingStatus,
    listing_deadline,
    listing_status,
    must_list,
)
from services.registry.domain.parties import UnitStatus
from services.registry.instrument_rows import WITH_COUNTY, instrument_snapshot, instrument_view
from services.registry.listing_notices import cancel_reminder, schedule_listing_notices
from services.registry.schemas.instruments import Instrument
from services.runtime import clock
from services.runtime.clock import local_today
from services.runtime.errors import Conflict, DomainError, Forbidden, NotFound
from services.runtime.db.unit_of_work import Actor, UnitOfWork
from services.runtime.db.service_db import ServiceDatabase
from services.runtime.workdays import WorkdayCalendar
from services.runtime.http.preconditions import check_version

IN_SERVICE = "in_service"
MAINTENANCE = "maintenance"
RETIRED = "retired"
INSTRUMENT_STATUSES: tuple[str, ...] = (IN_SERVICE, MAINTENANCE, RETIRED)

#: the public data a unit may change after registration (funding, value, dates
#: and flags decide must_list and the deadline: they are fixed once registered)
CHANGEABLE: tuple[str, ...] = ("name", "category", "model", "manufacturer", "location", "specifications", "functions", "service_content", "sample_requirements")
IMMUTABLE: tuple[str, ...] = ("funding", "original_value_fen", "acceptance_date", "duty_exempt", "classified")

#: overdue or due-soon instruments returned with a compliance view, at most
ATTENTION_LIMIT = 100


def shanghai_today() -> date:
    """Today's date in Xuchang (Asia/Shanghai), the day listing is recorded on."""
    return local_today()


@dataclass(frozen=True, kw_only=True)
class NewInstrument:
    """What a unit declares about one instrument, already parsed (money in fen)."""

    name: str
    category: str
    original_value_fen: int
    funding: Funding
    acceptance_date: date
    duty_exempt: bool = False
    classified: bool = False
    model: str | None = None
    manufacturer: str | None = None
    location: str | None = None
    specifications: str | None = None
    functions: str | None = None
    service_content: str | None = None
    sample_requirements: str | None = None
    asset_number: str | None = None

    def declared(self) -> dict[str, Any]:
        """The declared fields as stored (funding as its string value)."""
        return {
            "name": self.name,
            "category": self.category,
            "model": self.model,
            "manufacturer": self.manufacturer,
            "original_value_fen": self.original_value_fen,
            "funding": str(self.funding),
            "acceptance_date": self.acceptance_date,
            "duty_exempt": self.duty_exempt,
            "classified": self.classified,
            "location": self.location,
            "specifications": self.specifications,
            "functions": self.functions,
            "service_content": (self.service_content or "").strip() or None,
            "sample_requirements": (self.sample_requirements or "").strip() or None,
        }


def check_category(category: str) -> None:
    if category not in DEFAULT_CATEGORIES:
        raise DomainError(
            "instrument.unknown_category",
            f"仪器类别“{category}”不在目录中",
            f"category {category!r} is not in the catalogue",
            allowed=list(DEFAULT_CATEGORIES),
        )


Assessment = tuple[bool, date | None]


def assess(
    data: NewInstrument, *, calendar: WorkdayCalendar, policy: ListingPolicies, deadlines: dict[date, date] | None = None
) -> Assessment:
    """Validate what needs no database; return (must_list, listing_deadline).
    Raises DomainError (instrument.unknown_category, calendar.unknown_year).
    ``deadlines``: a cache by acceptance date, for many instruments at once."""
    check_category(data.category)
    rules = policy.for_year(data.acceptance_date.year)  # the rules of the year it was accepted in
    required = must_list(data.funding, data.original_value_fen, data.classified, data.duty_exempt, rules)
    deadline: date | None = None
    if required:
        if deadlines is not None and data.acceptance_date in deadlines:
            return required, deadlines[data.acceptance_date]
        deadline = listing_deadline(data.acceptance_date, calendar, rules)
        if deadlines is not None:
            deadlines[data.acceptance_date] = deadline
    return required, deadline


async def approved_unit(s: AsyncSession, unit_id: str) -> RowMapping:
    """The unit, which must exist (404) and be approved (422) to register instruments."""
    unit = (await s.execute(select(units).where(units.c.id == unit_id))).mappings().first()
    if unit is None:
        raise NotFound("unit", "单位", unit_id)
    if unit["status"] != UnitStatus.APPROVED:
        raise DomainError("instrument.unit_not_approved", "只有已通过审核的管理单位才能登记仪器", "only an approved unit may register instruments")
    return unit


def _duplicate_asset(asset_number: str) -> Conflict:
    return Conflict(
        "instrument.duplicate_asset_number",
        f"本单位已登记资产编号为“{asset_number}”的仪器",
        f"the unit already registered an instrument with asset number {asset_number!r}",
        asset_number=asset_number,
    )


async def register_in(
    uow: UnitOfWork,
    unit: RowMapping,
    data: NewInstrument,
    *,
    calendar: WorkdayCalendar,
    policy: ListingPolicies,
    check_asset: bool = True,
    deadlines: dict[date, date] | None = None,
) -> Instrument:
    """Register one instrument of ``unit`` (an approved unit's row) inside the
    caller's transaction: validation, insert, InstrumentRegistered, audit.
    ``check_asset=False`` when the caller already checked the asset numbers;
    ``deadlines`` caches listing deadlines by acceptance date (see ``assess``)."""
    required, deadline = assess(data, calendar=calendar, policy=policy, deadlines=deadlines)
    s = uow.session
    if check_asset and data.asset_number is not None:
        taken = await s.execute(select(instruments.c.id).where(instruments.c.unit_id == unit["id"], instruments.c.asset_number == data.asset_number))
        if taken.first() is not None:
            raise _duplicate_asset(data.asset_number)
    now = clock.utc_now()
    row: dict[str, Any] = {
        "id": new_event_id(),
        "unit_id": unit["id"],
        **data.declared(),
        "asset_number": data.asset_number,
        "status": IN_SERVICE,
        "must_list": required,
        "listing_deadline": deadline,
        "listed_on": None,
        "version": 1,
        "created_at": now,
        "updated_at": now,
    }
    await s.execute(insert(instruments).values(**row))
    # the unit's reminder before the listing deadline, and the unit's and the center's notices after it if still unlisted
    await schedule_listing_notices(s, row, unit_name=unit["name"], calendar=calendar, policy=policy, now=now)
    snap = instrument_snapshot(row, unit["county_code"])
    await uow.emit(ev.InstrumentRegistered(**snap))
    await uow.audit("instrument.register", "instrument", row["id"], after={**snap, "asset_number": data.asset_number})
    return instrument_view(row, unit["county_code"])


async def register_instrument(
    db: ServiceDatabase,
    actor: Actor,
    correlation_id: str | None,
    *,
    calendar: WorkdayCalendar,
    policy: ListingPolicies,
    unit_id: str,
    data: NewInstrument,
) -> Instrument:
    assess(data, calendar=calendar, policy=policy)  # fail before taking the write lock
    try:
        async with db.unit_of_work(actor, correlation_id) as uow:
            unit = await approved_unit(uow.session, unit_id)
            return await register_in(uow, unit, data, calendar=calendar, policy=policy)
    except IntegrityError as exc:  # a concurrent registration took the asset number
        if data.asset_number is None:
            raise
        raise _duplicate_asset(data.asset_number) from exc


async def list_instrument(
    db: ServiceDatabase,
    actor: Actor,
    correlation_id: str | None,
    instrument_id: str,
    *,
    calendar: WorkdayCalendar,
    policy: ListingPolicies,
    owner: str | None,
) -> Instrument:
    """List an instrument on the platform today (Asia/Shanghai).

    ``owner``: when set, the instrument must belong to that unit (else 403).
    """
    today = shanghai_today()
    now = clock.utc_now()
    async with db.unit_of_work(actor, correlation_id) as uow:
        s = uow.session
        row = (await s.execute(WITH_COUNTY.where(instruments.c.id == instrument_id))).mappings().first()
        if row is None:
            raise NotFound("instrument", "仪器", instrument_id)
        if owner is not None and row["unit_id"] != owner:
            raise Forbidden()
        if row["listed_on"] is not None:
            raise Conflict("instrument.already_listed", "该仪器已纳入平台", "the instrument is already listed")
        if row["classified"]:
            raise DomainError("instrument.classified", "涉密仪器不纳入平台开放共享（管理办法第五条）", "a classified instrument is not listed (M5)")
        if row["status"] == RETIRED:
            raise _retired()
        changed = await s.execute(
            update(instruments)
            .where(instruments.c.id == instrument_id, instruments.c.version == row["version"])
            .values(listed_on=today, version=row["version"] + 1, updated_at=now)
        )
        if changed.rowcount != 1:
            raise Conflict("instrument.concurrent_change", "该仪器正被他人修改，请刷新后重试", "the instrument changed meanwhile; reload and retry")
        after = (await s.execute(WITH_COUNTY.where(instruments.c.id == instrument_id))).mappings().one()
        await cancel_reminder(s, after, now=now)
        state = listing_status(after["must_list"], after["listing_deadline"], today, today, calendar, policy.for_year(today.year))
        snap = instrument_snapshot(after, after["county_code"])
        await uow.emit(ev.InstrumentListed(**snap, listed_on=today, on_time=state is ListingStatus.listed_on_time))
        await uow.audit("instrument.list", "instrument", instrument_id, before=instrument_snapshot(row, row["county_code"]), after={**snap, "listed_on": today})
    return instrument_view(after, after["county_code"])


def _retired() -> Conflict:
    return Conflict("instrument.retired", "该仪器已报废，不能再修改", "the instrument is retired; it cannot change any more")


async def _owned_for_change(s: AsyncSession, instrument_id: str, owner: str | None) -> RowMapping:
    row = (await s.execute(WITH_COUNTY.where(instruments.c.id == instrument_id))).mappings().first()
    if row is None:
        raise NotFound("instrument", "仪器", instrument_id)
    if owner is not None and row["unit_id"] != owner:
        raise Forbidden()
    if row["status"] == RETIRED:
        raise _retired()
    return row


def _check_body_version(row: RowMapping, body_version: int | None) -> None:
    """The body's ``version`` (kept for clients written before ``If-Match``): 409."""
    if body_version is not None and body_version != row["version"]:
        raise Conflict(
            "instrument.version_mismatch",
            "该仪器已被修改，请刷新后重试",
            f"the instrument is at version {row['version']}, not {body_version}",
            version=row["version"],
        )


async def _apply(s: AsyncSession, row: RowMapping, values: dict[str, Any]) -> RowMapping:
    changed = await s.execute(
        update(instruments)
        .where(instruments.c.id == row["id"], instruments.c.version == row["version"])
        .values(**values, version=row["version"] + 1, updated_at=clock.utc_now())
    )
    if changed.rowcount != 1:
        raise Conflict("instrument.concurrent_change", "该仪器正被他人修改，请刷新后重试", "the instrument changed meanwhile; reload and retry")
    return (await s.execute(WITH_COUNTY.where(instruments.c.id == row["id"]))).mappings().one()


async def change_instrument(
    db: ServiceDatabase,
    actor: Actor,
    correlation_id: str | None,
    instrument_id: str,
    *,
    changes: dict[str, Any],
    owner: str | None,
    body_version: int | None = None,
    if_match_version: int | None = None,
) -> Instrument:
    """Change public data (``CHANGEABLE``) and/or the status between in service
    and maintenance. Fields that decide must_list (``IMMUTABLE``) are refused
    (422 instrument.immutable_field); a retired instrument is final (409).
    The version the client read, from ``If-Match`` (412 request.precondition_failed)
    or the body's ``version`` (409 instrument.version_mismatch), is compared
    before anything else, so a stale edit is refused even when it changes nothing.
    A request that changes nothing returns the record as it is, without an event."""
    fixed = sorted(k for k in changes if k in IMMUTABLE)
    if fixed:
        raise DomainError(
            "instrument.immutable_field",
            "资金来源、原值、验收日期、免税和涉密标志决定是否必须纳入平台及期限，登记后不能修改；如登记有误，请报废后重新登记",
            "funding, original value, acceptance date and the duty-exempt and classified flags decide must_list and the deadline; "
            "they cannot change after registration (retire and register again if they were wrong)",
            fields=fixed,
        )
    unknown = sorted(k for k in changes if k not in CHANGEABLE and k != "status")
    if unknown:
        raise DomainError("instrument.unknown_field", "不能修改这些字段", f"these fields cannot be changed: {unknown}", fields=unknown)
    if "category" in changes:
        check_category(changes["category"])
    if changes.get("status", IN_SERVICE) not in (IN_SERVICE, MAINTENANCE):
        raise DomainError("instrument.invalid_status", "状态只能在“在用”和“维修”之间切换；报废请使用报废操作", "status can only move between in_service and maintenance; use retire")
    async with db.unit_of_work(actor, correlation_id) as uow:
        s = uow.session
        row = await _owned_for_change(s, instrument_id, owner)
        check_version(row["version"], if_match_version)
        _check_body_version(row, body_version)
        values = {k: v for k, v in changes.items() if row[k] != v}
        if not values:
            return instrument_view(row, row["county_code"])
        after = await _apply(s, row, values)
        snap = instrument_snapshot(after, after["county_code"])
        await uow.emit(ev.InstrumentChanged(**snap, listed_on=after["listed_on"]))
        await uow.audit(
            "instrument.change",
            "instrument",
            instrument_id,
            before={k: row[k] for k in values} | {"version": row["version"]},
            after={k: after[k] for k in values} | {"version": after["version"]},
        )
    return instrument_view(after, after["county_code"])


async def retire_instrument(
    db: ServiceDatabase,
    actor: Actor,
    correlation_id: str | None,
    instrument_id: str,
    *,
    reason: str,
    owner: str | None,
) -> Instrument:
    """Retire (报废) an instrument, with a reason; final: it takes no orders and
    cannot change any more (409 instrument.retired)."""
    reason = reason.strip()
    if not reason:
        raise DomainError("decision.reason_required", "请填写报废原因", "a reason is required")
    async with db.unit_of_work(actor, correlation_id) as uow:
        s = uow.session
        row = await _owned_for_change(s, instrument_id, owner)
        after = await _apply(s, row, {"status": RETIRED})
        if after["listed_on"] is None:
            await cancel_reminder(s, after, now=clock.utc_now())
        snap = instrument_snapshot(after, after["county_code"])
        await uow.emit(ev.InstrumentRetired(**snap, listed_on=after["listed_on"]))
        await uow.audit("instrument.retire", "instrument", instrument_id, reason=reason, before=instrument_snapshot(row, row["county_code"]), after=snap)
    return instrument_view(after, after["county_code"])
