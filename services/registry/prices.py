"""Registry use cases for the price catalogue (M11(4), R9): the owning unit (or
the center) publishes service items with their prices; every change is kept
(who, when, old, new) and published; the public reads the prices and their
history of listed, in-service instruments."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, insert, select, update
from sqlalchemy.engine import RowMapping

from contracts import registry as ev
from contracts.envelope import new_event_id
from services.registry.db.instrument_models import instruments, price_changes, price_items
from services.registry.db.party_models import units
from services.registry.domain.prices import (
    BillingUnit,
    PriceBasis,
    check_basis,
    check_price,
    reason_required,
)
from services.registry.instruments import IN_SERVICE
from services.registry.schemas.prices import InstrumentPrices, PriceChange, PriceHistory, PriceItem, PriceItemPage
from services.runtime import clock
from services.runtime.audit_image import audit_image
from services.runtime.http.preconditions import check_version
from services.runtime.errors import Conflict, DomainError, Forbidden, NotFound
from services.runtime.db.unit_of_work import Actor
from services.runtime.db.service_db import ServiceDatabase
from services.runtime.http.pagination import Page

RETIRED = "retired"


def _role_of(changed_by: str) -> str:
    return changed_by.split(":", 1)[0]


def _event(item: PriceItem) -> dict[str, Any]:
    """The public state of a price item, as the PricePublished event carries it."""
    return audit_image(item, leave_out=("instrument_name", "created_at", "updated_at"))


def price_item_view(row: RowMapping | dict[str, Any], instrument_name: str) -> PriceItem:
    """A price item as the API shows it."""
    return PriceItem(
        price_item_id=row["id"],
        instrument_id=row["instrument_id"],
        unit_id=row["unit_id"],
        version=row["version"],
        name=row["name"],
        billing_unit=row["billing_unit"],
        price_fen=row["price_fen"],
        basis=row["basis"],
        active=row["active"],
        instrument_name=instrument_name,
        created_at=row["created_at"],
        updated_at=row["updated_at"],
    )


def _retired() -> DomainError:
    return DomainError("price.instrument_retired", "已报废的仪器不能发布价格", "a retired instrument takes no (active) prices")


def _publicly_visible(instrument: RowMapping) -> bool:
    return instrument["listed_on"] is not None and instrument["status"] == IN_SERVICE


async def _duplicate_name(s: Any, instrument_id: str, name: str, exclude: str | None) -> None:
    q = select(price_items.c.id).where(price_items.c.instrument_id == instrument_id, price_items.c.name == name, price_items.c.active.is_(True))
    if exclude is not None:
        q = q.where(price_items.c.id != exclude)
    if (await s.execute(q)).first() is not None:
        raise Conflict("price.duplicate_name", f"该仪器已有名为“{name}”的有效收费项目", f"the instrument already has an active price item named {name!r}", name=name)


async def add_price_item(
    db: ServiceDatabase,
    actor: Actor,
    correlation_id: str | None,
    instrument_id: str,
    *,
    owner: str | None,
    name: str,
    billing_unit: BillingUnit,
    price_fen: int,
    basis: PriceBasis,
) -> PriceItem:
    """Publish a new service item of an instrument.

    ``owner``: when set, the instrument must belong to that unit (else 403).
    """
    check_price(price_fen)
    now = clock.utc_now()
    async with db.unit_of_work(actor, correlation_id) as uow:
        s = uow.session
        inst = (await s.execute(select(instruments).where(instruments.c.id == instrument_id))).mappings().first()
        if inst is None:
            raise NotFound("instrument", "仪器", instrument_id)
        if owner is not None and inst["unit_id"] != owner:
            raise Forbidden("单位只能为本单位的仪器定价", "a unit may price only its own instruments")
        if inst["status"] == RETIRED:
            raise _retired()
        b = check_basis(inst["funding"], basis)
        await _duplicate_name(s, instrument_id, name, None)
        row: dict[str, Any] = {
            "id": new_event_id(),
            "instrument_id": instrument_id,
            "unit_id": inst["unit_id"],
            "name": name,
            "billing_unit": str(BillingUnit(billing_unit)),
            "price_fen": price_fen,
            "basis": str(b),
            "active": True,
            "version": 1,
            "created_at": now,
            "updated_at": now,
        }
        await s.execute(insert(price_items).values(**row))
        await s.execute(
            insert(price_changes).values(
                price_item_id=row["id"],
                changed_by=actor.label,
                changed_at=now,
                old_price_fen=None,
                new_price_fen=price_fen,
                old_basis=None,
                new_basis=row["basis"],
                old_active=None,
                new_active=True,
                reason=None,
            )
        )
        added = price_item_view(row, inst["name"])
        await uow.emit(ev.PricePublished(**_event(added)))
        await uow.audit("price.add", "price_item", row["id"], after=audit_image(added))
    return added


async def change_price_item(
    db: ServiceDatabase,
    actor: Actor,
    correlation_id: str | None,
    price_item_id: str,
    *,
    owner: str | None,
    name: str | None = None,
    price_fen: int | None = None,
    basis: PriceBasis | None = None,
    active: bool | None = None,
    reason: str | None = None,
    expected_version: int | None = None,
) -> PriceItem:
    """Change a service item's name, price, basis or active flag; with
    ``expected_version`` (an edit's If-Match) only the version the caller read.

    A price change needs a reason. Each effective change appends a history row
    (who, when, old, new, reason), bumps the version and is published; a
    request that changes nothing returns the item unchanged.
    """
    if price_fen is not None:
        check_price(price_fen)
    reason = reason.strip() if reason and reason.strip() else None
    now = clock.utc_now()
    async with db.unit_of_work(actor, correlation_id) as uow:
        s = uow.session
        row = (await s.execute(select(price_items).where(price_items.c.id == price_item_id))).mappings().first()
        if row is None:
            raise NotFound("price_item", "收费项目", price_item_id)
        if owner is not None and row["unit_id"] != owner:
            raise Forbidden("单位只能调整本单位仪器的价格", "a unit may change only its own instruments' prices")
        check_version(row["version"], expected_version)
        inst = (await s.execute(select(instruments).where(instruments.c.id == row["instrument_id"]))).mappings().one()
        new = {
            "name": row["name"] if name is None else name,
            "price_fen": row["price_fen"] if price_fen is None else price_fen,
            "basis": row["basis"] if basis is None else str(PriceBasis(basis)),
            "active": row["active"] if active is None else active,
        }
        if all(new[k] == row[k] for k in new):
            return price_item_view(row, inst["name"])
        reason_required(row["price_fen"], new["price_fen"], reason)
        if new["active"]:
            if inst["status"] == RETIRED:
                raise _retired()
            check_basis(inst["funding"], new["basis"])
            if new["name"] != row["name"] or not row["active"]:
                await _duplicate_name(s, row["instrument_id"], new["name"], price_item_id)
        changed = await s.execute(
            update(price_items)
            .where(price_items.c.id == price_item_id, price_items.c.version == row["version"])
            .values(**new, version=row["version"] + 1, updated_at=now)
        )
        if changed.rowcount != 1:
            raise Conflict("price.concurrent_change", "该收费项目正被他人修改，请刷新后重试", "the price item changed meanwhile; reload and retry")
        await s.execute(
            insert(price_changes).values(
                price_item_id=price_item_id,
                changed_by=actor.label,
                changed_at=now,
                old_price_fen=row["price_fen"],
                new_price_fen=new["price_fen"],
                old_basis=row["basis"],
                new_basis=new["basis"],
                old_active=row["active"],
                new_active=new["active"],
                reason=reason,
            )
        )
        after = (await s.execute(select(price_items).where(price_items.c.id == price_item_id))).mappings().one()
        changed_item = price_item_view(after, inst["name"])
        await uow.emit(ev.PricePublished(**_event(changed_item)))
        await uow.audit("price.change", "price_item", price_item_id, reason=reason, before=audit_image(price_item_view(row, inst["name"])), after=audit_image(changed_item))
    return changed_item


def _may_see_all(inst: RowMapping, *, staff: bool, own_unit: str | None) -> bool:
    return staff or (own_unit is not None and inst["unit_id"] == own_unit)


async def instrument_prices(db: ServiceDatabase, instrument_id: str, *, staff: bool, own_unit: str | None) -> InstrumentPrices:
    """An instrument's price items, oldest first. The public sees the active
    items of a listed, in-service instrument (else 404); the owner unit and
    staff see every item of any instrument."""
    async with db.read() as s:
        inst = (await s.execute(select(instruments).where(instruments.c.id == instrument_id))).mappings().first()
        all_ = inst is not None and _may_see_all(inst, staff=staff, own_unit=own_unit)
        if inst is None or not (all_ or _publicly_visible(inst)):
            raise NotFound("instrument", "仪器", instrument_id)
        q = select(price_items).where(price_items.c.instrument_id == instrument_id)
        if not all_:
            q = q.where(price_items.c.active.is_(True))
        rows = (await s.execute(q.order_by(price_items.c.created_at, price_items.c.id))).mappings().all()
    return InstrumentPrices(instrument_id=instrument_id, items=[price_item_view(r, inst["name"]) for r in rows])


async def price_history(db: ServiceDatabase, price_item_id: str, *, staff: bool, own_unit: str | None) -> PriceHistory:
    """Every change of a price item, oldest first, with the changer's role
    (never the person). Public once the instrument is listed and in service
    (fees are public, M11(4)); otherwise the owner unit and staff only."""
    async with db.read() as s:
        item = (await s.execute(select(price_items).where(price_items.c.id == price_item_id))).mappings().first()
        inst = None
        if item is not None:
            inst = (await s.execute(select(instruments).where(instruments.c.id == item["instrument_id"]))).mappings().one()
        if inst is None or not (_may_see_all(inst, staff=staff, own_unit=own_unit) or _publicly_visible(inst)):
            raise NotFound("price_item", "收费项目", price_item_id)
        rows = (
            await s.execute(select(price_changes).where(price_changes.c.price_item_id == price_item_id).order_by(price_changes.c.id))
        ).mappings().all()
    changes = [
        PriceChange(
            changed_at=r["changed_at"],
            changed_by_role=_role_of(r["changed_by"]),
            old_price_fen=r["old_price_fen"],
            new_price_fen=r["new_price_fen"],
            old_basis=r["old_basis"],
            new_basis=r["new_basis"],
            old_active=r["old_active"],
            new_active=r["new_active"],
            reason=r["reason"],
        )
        for r in rows
    ]
    return PriceHistory(price_item_id=price_item_id, changes=changes)


async def unit_price_list(db: ServiceDatabase, unit_id: str, *, page: int, page_size: int) -> PriceItemPage:
    """The public price list of a unit (R9): the active items of its listed,
    in-service instruments, by instrument then item, oldest first."""
    conds = (
        price_items.c.unit_id == unit_id,
        price_items.c.active.is_(True),
        instruments.c.listed_on.is_not(None),
        instruments.c.status == IN_SERVICE,
    )
    joined = price_items.join(instruments, instruments.c.id == price_items.c.instrument_id)
    q = (
        select(price_items, instruments.c.name.label("instrument_name"))
        .select_from(joined)
        .where(*conds)
        .order_by(instruments.c.created_at, instruments.c.id, price_items.c.created_at, price_items.c.id)
        .offset((page - 1) * page_size)
        .limit(page_size)
    )
    async with db.read() as s:
        if (await s.execute(select(units.c.id).where(units.c.id == unit_id))).first() is None:
            raise NotFound("unit", "单位", unit_id)
        total = (await s.execute(select(func.count()).select_from(joined).where(*conds))).scalar_one()
        rows = (await s.execute(q)).mappings().all()
    return Page(items=[price_item_view(r, r["instrument_name"]) for r in rows], total=total, page=page, page_size=page_size)
