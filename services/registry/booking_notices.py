"""Booking notifications (issue 16): every state change of a booking is
published (``registry.booking.*.v1``) and tells the affected party, in the
same transaction: an in-app notification of its organisation and a mail
through ``mail_outbox`` to each of the organisation's active accounts of that
role with an e-mail (sent by the registry worker's mail task,
password_reset.deliver_pending). A periodic task reminds users of confirmed
bookings the day before, once (``bookings.reminded_at``).

The notices are read in the message centre (``message_centre.py``,
``GET /v1/notifications``)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.engine import RowMapping

from services.registry.booking_events import booking_event
from services.registry.db.booking_models import bookings
from services.registry.db.instrument_models import instruments
from services.registry.domain.booking_notices import REMIND_BEFORE, BookingFacts, Notice, change_notice, reminder_notice
from services.registry.notices import tell
from services.registry.order_rows import order_case_no
from services.registry.domain.bookings import BookingStatus
from services.runtime import clock
from services.runtime.bus.consumers import Periodic
from services.runtime.db.unit_of_work import SYSTEM, UnitOfWork
from services.runtime.db.service_db import ServiceDatabase
from services.runtime.settings import Settings

#: how many reminders one run writes at most (the next run takes the rest)
REMINDER_BATCH = 200


def link_of(booking_id: str) -> str:
    return f"/bookings/{booking_id}"


async def _facts(s: Any, r: RowMapping) -> BookingFacts:
    name = (await s.execute(select(instruments.c.name).where(instruments.c.id == r["instrument_id"]))).scalar_one()
    return BookingFacts(
        booking_id=r["id"],
        instrument_name=name,
        order_case_no=await order_case_no(s, r["order_id"]),
        user_id=r["user_id"],
        unit_id=r["unit_id"],
        starts_at=r["starts_at"],
        ends_at=r["ends_at"],
        status=r["status"],
        party=r["decided_party"],
        reason=r["reason"],
        downtime_id=r["downtime_id"],
    )


async def _tell(s: Any, notice: Notice, booking_id: str, now: datetime) -> None:
    await tell(s, notice, link_of(booking_id), now, booking_id=booking_id)


async def announce(uow: UnitOfWork, r: RowMapping) -> None:
    """Publish a booking's new state and tell the affected party (the same transaction)."""
    await uow.emit(booking_event(r))
    notice = change_notice(await _facts(uow.session, r))
    if notice is not None:
        await _tell(uow.session, notice, r["id"], clock.utc_now())


async def remind_due(db: ServiceDatabase, now: datetime | None = None) -> int:
    """Remind the users of confirmed bookings that start within a day, each once
    (a conditional update of ``reminded_at``: concurrent workers never remind twice)."""
    now = now or clock.utc_now()
    due = (
        bookings.c.status == str(BookingStatus.confirmed),
        bookings.c.reminded_at.is_(None),
        bookings.c.starts_at > now,
        bookings.c.starts_at <= now + REMIND_BEFORE,
    )
    written = 0
    async with db.unit_of_work(SYSTEM, None) as uow:
        s = uow.session
        ids = [i for (i,) in (await s.execute(select(bookings.c.id).where(*due).order_by(bookings.c.starts_at).limit(REMINDER_BATCH))).all()]
        for bid in ids:
            claimed = await s.execute(update(bookings).where(bookings.c.id == bid, *due).values(reminded_at=now))
            if claimed.rowcount != 1:
                continue
            row = (await s.execute(select(bookings).where(bookings.c.id == bid))).mappings().one()
            await _tell(s, reminder_notice(await _facts(s, row)), bid, now)
            written += 1
    return written


def reminder_task(settings: Settings) -> Periodic:
    """The registry worker's reminders of tomorrow's bookings."""
    return Periodic("remind_bookings", settings.notice_interval_s, remind_due)
