"""Registry use cases of bookings (issue 16): a user books a slot of a listed
instrument for one of its own open orders on that instrument; the unit
confirms or declines it (automatic approval confirms at once); either side
cancels with a reason before the schedule's cut-off; the unit records a
no-show after the start.

**No overlap, under any concurrency, on both databases.** Every booking write
first takes the instrument's schedule row (``FOR UPDATE`` on PostgreSQL;
SQLite's writers are serialised by ``BEGIN IMMEDIATE``), then checks the
slot against the bookings holding time and inserts. On PostgreSQL the
exclusion constraint ``bookings_no_overlap`` stands behind the check: a
violation (SQLSTATE 23P01) is answered with the same ``booking.overlap``.

A booking is seen by its user, its unit and staff reviewers; to anybody else
it does not exist (404).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, insert, select, update
from sqlalchemy.engine import RowMapping
from sqlalchemy.exc import IntegrityError

from contracts.envelope import new_event_id
from services.registry.booking_notices import announce
from services.registry.db.account_models import accounts
from services.registry.db.booking_models import (
    bookings,
    instrument_downtimes,
    instrument_qualifications,
)
from services.registry.db.instrument_models import instruments
from services.registry.db.order_models import order_items, orders
from services.registry.domain.bookings import (
    CANCELLABLE,
    HOLDING,
    BookingAction,
    BookingStatus,
    check_cancel,
    check_confirm,
    check_no_show,
    check_slot,
    next_status,
    overlap,
    qualification_in_force,
    require_zone,
)
from services.registry.domain.orders import OrderStatus
from services.registry.domain.parties import check_reason
from services.registry.domain.schedules import MAX_BOOKING_MINUTES, Approval, OperatedBy
from services.registry.instruments import IN_SERVICE
from services.registry.schemas.bookings import Booking, BookingPage
from services.registry.schedules import (
    instrument_not_found,
    locked_schedule,
    no_schedule,
    schedule_of,
)
from services.runtime import clock
from services.runtime.roles import Role
from services.runtime.errors import Conflict, DomainError, NotFound
from services.runtime.db.unit_of_work import Actor, UnitOfWork
from services.runtime.db.service_db import ServiceDatabase
from services.runtime.workdays import WorkdayCalendar
from services.runtime.http.pagination import read_page

#: an order takes bookings until its results are delivered
BOOKABLE_ORDERS = (str(OrderStatus.requested), str(OrderStatus.quoted), str(OrderStatus.contracted), str(OrderStatus.in_service))
_HOLDING = [str(s) for s in HOLDING]
_CANCELLABLE = [str(s) for s in CANCELLABLE]
#: PostgreSQL's exclusion_violation
_EXCLUSION_VIOLATION = "23P01"
STAFF_ROLES = (str(Role.CENTER), str(Role.BUREAU))


def _not_found(booking_id: str) -> NotFound:
    return NotFound("booking", "预约", booking_id)


def _sees(actor: Actor, row: RowMapping) -> bool:
    if actor.role in STAFF_ROLES:
        return True
    if actor.role == str(Role.USER):
        return actor.org is not None and row["user_id"] == actor.org
    if actor.role == str(Role.UNIT):
        return actor.org is not None and row["unit_id"] == actor.org
    return False


def shown() -> Any:
    """The bookings with their order's case number (``order_case_no``), as ``view`` shows them."""
    return select(bookings, orders.c.case_no.label("order_case_no")).select_from(bookings.outerjoin(orders, orders.c.id == bookings.c.order_id))


def view(r: RowMapping) -> Booking:
    """A booking as the API shows it (with its order's case number when read with ``shown``)."""
    return Booking(
        booking_id=r["id"],
        instrument_id=r["instrument_id"],
        unit_id=r["unit_id"],
        user_id=r["user_id"],
        order_id=r["order_id"],
        starts_at=r["starts_at"],
        ends_at=r["ends_at"],
        status=r["status"],
        note=r["note"],
        reason=r["reason"],
        decided_party=r["decided_party"],
        decided_at=r["decided_at"],
        downtime_id=r["downtime_id"],
        created_at=r["created_at"],
        version=r["version"],
        order_case_no=r.get("order_case_no"),
    )


def _is_overlap(exc: IntegrityError) -> bool:
    orig = getattr(exc, "orig", None)
    code = getattr(orig, "sqlstate", None) or getattr(getattr(orig, "__cause__", None), "sqlstate", None)
    return code == _EXCLUSION_VIOLATION or "bookings_no_overlap" in str(exc)


async def _order_for(s: Any, order_id: str, actor: Actor, instrument_id: str) -> RowMapping:
    # locked: a cancellation of the order meanwhile waits, and then releases this booking too
    order = (await s.execute(select(orders).where(orders.c.id == order_id).with_for_update())).mappings().first()
    if order is None or actor.org is None or order["user_id"] != actor.org:
        raise NotFound("order", "订单", order_id)
    if order["status"] not in BOOKABLE_ORDERS:
        raise DomainError("booking.order_closed", "该订单已不能预约仪器时间（结果已交付、已结算或已取消）", "the order takes no more bookings (results delivered, settled or cancelled)", field="order_id", order_status=order["status"])
    on_it = (await s.execute(select(func.count()).select_from(order_items).where(order_items.c.order_id == order_id, order_items.c.instrument_id == instrument_id))).scalar_one()
    if not on_it:
        raise DomainError("booking.order_wrong_instrument", "该订单不包含这台仪器的服务项目", "the order has no service item on this instrument", field="order_id")
    return order


async def _qualified(s: Any, actor: Actor, instrument_id: str, now: datetime) -> bool:
    """The person booking (the account signed in, of the user organisation) is trained on the instrument."""
    q = (
        select(instrument_qualifications.c.valid_until, instrument_qualifications.c.revoked_at)
        .join(accounts, accounts.c.id == instrument_qualifications.c.account_id)
        .where(instrument_qualifications.c.instrument_id == instrument_id, accounts.c.username == actor.subject, accounts.c.org == actor.org)
    )
    row = (await s.execute(q)).first()
    return row is not None and qualification_in_force(row.valid_until, row.revoked_at is not None, now)


async def create_booking(
    db: ServiceDatabase,
    calendar: WorkdayCalendar,
    actor: Actor,
    correlation_id: str | None,
    *,
    instrument_id: str,
    order_id: str,
    starts_at: datetime,
    ends_at: datetime,
    note: str | None = None,
) -> Booking:
    """A user books a slot for one of its orders; every limit is checked before anything is written."""
    require_zone(starts_at, "starts_at")
    require_zone(ends_at, "ends_at")
    now = clock.utc_now()
    try:
        async with db.unit_of_work(actor, correlation_id) as uow:
            s = uow.session
            inst = (await s.execute(select(instruments.c.unit_id, instruments.c.listed_on, instruments.c.status).where(instruments.c.id == instrument_id))).first()
            if inst is None or inst.listed_on is None or inst.status != IN_SERVICE:
                raise instrument_not_found(instrument_id)
            row = await locked_schedule(s, instrument_id)
            if row is None:
                raise no_schedule(instrument_id)
            sched = schedule_of(row)
            await _order_for(s, order_id, actor, instrument_id)
            qualified = sched.operated_by is not OperatedBy.self_ or await _qualified(s, actor, instrument_id, now)
            near = (
                instrument_downtimes.c.instrument_id == instrument_id,
                instrument_downtimes.c.starts_at < ends_at,
                instrument_downtimes.c.ends_at > starts_at,
            )
            downtimes = [(a, b) for a, b in (await s.execute(select(instrument_downtimes.c.starts_at, instrument_downtimes.c.ends_at).where(*near))).all()]
            held = (
                bookings.c.instrument_id == instrument_id,
                bookings.c.status.in_(_HOLDING),
                bookings.c.starts_at < ends_at,
                bookings.c.starts_at > starts_at - timedelta(minutes=MAX_BOOKING_MINUTES),  # keeps the index scan short
                bookings.c.ends_at > starts_at,
            )
            taken = [(a, b) for a, b in (await s.execute(select(bookings.c.starts_at, bookings.c.ends_at).where(*held))).all()]
            check_slot(sched, starts_at, ends_at, now=now, is_workday=calendar.is_workday, downtimes=downtimes, taken=taken, qualified=qualified)
            automatic = sched.approval is Approval.automatic
            status = BookingStatus.confirmed if automatic else BookingStatus.requested
            bid = new_event_id()
            await s.execute(
                insert(bookings).values(
                    id=bid,
                    instrument_id=instrument_id,
                    unit_id=inst.unit_id,
                    user_id=actor.org,
                    order_id=order_id,
                    booked_by=actor.label,
                    starts_at=starts_at,
                    ends_at=ends_at,
                    status=str(status),
                    note=(note or "").strip() or None,
                    decided_party="unit" if automatic else None,
                    decided_at=now if automatic else None,
                    created_at=now,
                    updated_at=now,
                    version=1,
                )
            )
            created = (await s.execute(shown().where(bookings.c.id == bid))).mappings().one()
            await announce(uow, created)
            await uow.audit("booking.create", "booking", bid, after={"instrument_id": instrument_id, "order_id": order_id, "status": str(status), "starts_at": starts_at.isoformat(), "ends_at": ends_at.isoformat()})
            return view(created)
    except IntegrityError as exc:
        if _is_overlap(exc):
            raise overlap() from exc
        raise


async def _transition(
    db: ServiceDatabase, actor: Actor, correlation_id: str | None, booking_id: str, action: BookingAction, *, reason: str | None = None
) -> Booking:
    now = clock.utc_now()
    async with db.unit_of_work(actor, correlation_id) as uow:
        s = uow.session
        row = (await s.execute(select(bookings).where(bookings.c.id == booking_id))).mappings().first()
        if row is None or not _sees(actor, row):
            raise _not_found(booking_id)
        party = "unit" if actor.role == str(Role.UNIT) else "user"
        sched_row = await locked_schedule(s, row["instrument_id"])
        status = next_status(row["status"], action)
        text: str | None = None
        if action is BookingAction.decline:
            text = check_reason(reason, required=True, what_zh="拒绝预约", what_en="declining a booking")
        elif action is BookingAction.cancel:
            text = check_reason(reason, required=True, what_zh="取消预约", what_en="cancelling a booking")
            if sched_row is not None:
                check_cancel(schedule_of(sched_row), row["starts_at"], now)
        elif action is BookingAction.confirm:
            check_confirm(row["starts_at"], now)
        elif action is BookingAction.no_show:
            check_no_show(row["starts_at"], now)
        changed = await s.execute(
            update(bookings)
            .where(bookings.c.id == booking_id, bookings.c.version == row["version"])
            .values(status=str(status), reason=text, decided_by=actor.label, decided_party=party, decided_at=now, updated_at=now, version=row["version"] + 1)
        )
        if changed.rowcount != 1:
            raise Conflict("booking.concurrent_change", "该预约正被他人修改，请刷新后重试", "the booking changed meanwhile; reload and retry")
        after = (await s.execute(shown().where(bookings.c.id == booking_id))).mappings().one()
        await announce(uow, after)
        await uow.audit(f"booking.{action}", "booking", booking_id, reason=text, before={"status": row["status"]}, after={"status": str(status), "party": party})
        return view(after)


async def confirm(db: ServiceDatabase, actor: Actor, correlation_id: str | None, booking_id: str) -> Booking:
    return await _transition(db, actor, correlation_id, booking_id, BookingAction.confirm)


async def decline(db: ServiceDatabase, actor: Actor, correlation_id: str | None, booking_id: str, reason: str | None) -> Booking:
    return await _transition(db, actor, correlation_id, booking_id, BookingAction.decline, reason=reason)


async def cancel(db: ServiceDatabase, actor: Actor, correlation_id: str | None, booking_id: str, reason: str | None) -> Booking:
    return await _transition(db, actor, correlation_id, booking_id, BookingAction.cancel, reason=reason)


async def no_show(db: ServiceDatabase, actor: Actor, correlation_id: str | None, booking_id: str) -> Booking:
    return await _transition(db, actor, correlation_id, booking_id, BookingAction.no_show)


async def get_booking(db: ServiceDatabase, actor: Actor, booking_id: str) -> Booking:
    async with db.read() as s:
        row = (await s.execute(shown().where(bookings.c.id == booking_id))).mappings().first()
        if row is None or not _sees(actor, row):
            raise _not_found(booking_id)
        return view(row)


async def list_bookings(
    db: ServiceDatabase, actor: Actor, *, instrument_id: str | None, order_id: str | None, status: str | None, page: int, page_size: int
) -> BookingPage:
    """A page of the caller's bookings (a user's own, a unit's own; staff: all), soonest first."""
    conds: list[Any] = []
    if actor.role == str(Role.USER):
        conds.append(bookings.c.user_id == actor.org)
    elif actor.role == str(Role.UNIT):
        conds.append(bookings.c.unit_id == actor.org)
    for col, value in ((bookings.c.instrument_id, instrument_id), (bookings.c.order_id, order_id), (bookings.c.status, status)):
        if value is not None:
            conds.append(col == value)
    async with db.read() as s:
        return await read_page(s, shown().where(*conds), order_by=[bookings.c.starts_at, bookings.c.id], page=page, page_size=page_size, item=view)


async def release_for_order(uow: UnitOfWork, order_id: str, *, party: str, reason: str) -> list[str]:
    """An order cancelled before service frees the time it held: its requested and
    confirmed bookings are cancelled with the order's reason (in the order's transaction)."""
    s, now = uow.session, clock.utc_now()
    q = select(bookings.c.id).where(bookings.c.order_id == order_id, bookings.c.status.in_(_CANCELLABLE))
    ids = [r[0] for r in (await s.execute(q)).all()]
    if ids:
        await s.execute(
            update(bookings)
            .where(bookings.c.id.in_(ids))
            .values(status=str(BookingStatus.cancelled), reason=reason, decided_by=uow.actor.label, decided_party=party, decided_at=now, updated_at=now, version=bookings.c.version + 1)
        )
        for r in (await s.execute(select(bookings).where(bookings.c.id.in_(ids)).order_by(bookings.c.starts_at))).mappings().all():
            await announce(uow, r)
    return ids


async def mark_used(uow: UnitOfWork, booking_id: str | None, instrument_id: str) -> bool:
    """A usage session recorded for a confirmed booking of the same instrument makes it
    ``used`` (registry.booking.used.v1, in the session's transaction); any other booking
    is left as it is (the session is recorded all the same)."""
    if not booking_id:
        return False
    s, now = uow.session, clock.utc_now()
    confirmed = (bookings.c.id == booking_id, bookings.c.instrument_id == instrument_id, bookings.c.status == str(BookingStatus.confirmed))
    changed = await s.execute(update(bookings).where(*confirmed).values(status=str(BookingStatus.used), updated_at=now, version=bookings.c.version + 1))
    if changed.rowcount != 1:
        return False
    row = (await s.execute(select(bookings).where(bookings.c.id == booking_id))).mappings().one()
    await announce(uow, row)
    await uow.audit("booking.used", "booking", booking_id, before={"status": str(BookingStatus.confirmed)}, after={"status": str(BookingStatus.used)})
    return True
