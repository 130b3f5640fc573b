"""Booking notifications (issue 16): every state change of a booking is
published (``registry.booking.*.v1``) and tells the affected party, in the
same transaction: an in-app notification of its organisation and a mail
through ``mail_outbox`` to each of the organisation's active accounts of that
role with an e-mail (sent by the registry worker's mail task,
password_reset.deliver_pending). A periodic task reminds users of confirmed
bookings the day before, once (``bookings.reminded_at``).

The reader sees its own organisation's notifications only
(``GET /v1/notifications``) and marks them read."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import func, insert, select, update
from sqlalchemy.engine import RowMapping

from contracts.envelope import new_event_id
from services.registry.booking_events import booking_event
from services.registry.db.account_models import accounts
from services.registry.db.booking_models import bookings
from services.registry.db.instrument_models import instruments
from services.registry.db.notification_models import notifications
from services.registry.db.recovery_models import mail_outbox
from services.registry.domain.booking_notices import REMIND_BEFORE, BookingFacts, Notice, change_notice, mail_body, mail_subject, reminder_notice
from services.registry.domain.bookings import BookingStatus
from services.runtime import clock
from services.runtime.roles import Role
from services.runtime.bus.consumers import Periodic
from services.runtime.errors import NotFound
from services.runtime.db.unit_of_work import SYSTEM, Actor, UnitOfWork
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
        order_id=r["order_id"],
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
    link = link_of(booking_id)
    await s.execute(
        insert(notifications).values(
            id=new_event_id(),
            recipient_role=notice.recipient_role,
            recipient_org=notice.recipient_org,
            kind=notice.kind,
            booking_id=booking_id,
            text_zh=notice.text_zh,
            text_en=notice.text_en,
            link=link,
            created_at=now,
            read_at=None,
        )
    )
    q = select(accounts.c.email).where(
        accounts.c.role == notice.recipient_role, accounts.c.org == notice.recipient_org, accounts.c.status == "active", accounts.c.email.is_not(None)
    )
    for address in sorted({e for (e,) in (await s.execute(q)).all() if e}):
        await s.execute(
            insert(mail_outbox).values(
                id=new_event_id(),
                kind=notice.kind,
                recipient=address,
                subject=mail_subject(notice),
                body=mail_body(notice, link),
                created_at=now,
                next_attempt_at=now,
                attempts=0,
                last_error=None,
                sent_at=None,
            )
        )


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
    return Periodic("remind_bookings", settings.booking_reminder_interval_s, remind_due)


def _own(actor: Actor) -> tuple[Any, ...]:
    if actor.org is None or actor.role not in (str(Role.USER), str(Role.UNIT)):
        return (notifications.c.id.is_(None),)  # nobody else has notifications
    return (notifications.c.recipient_role == actor.role, notifications.c.recipient_org == actor.org)


def _view(r: RowMapping) -> dict[str, Any]:
    keys = ("kind", "booking_id", "text_zh", "text_en", "link", "created_at", "read_at")
    return {"notification_id": r["id"], **{k: r[k] for k in keys}}


async def list_notifications(db: ServiceDatabase, actor: Actor, *, unread: bool, page: int, page_size: int) -> tuple[list[dict[str, Any]], int, int]:
    """The caller's organisation's notifications, newest first; the total and the unread count."""
    own = _own(actor)
    conds = (*own, notifications.c.read_at.is_(None)) if unread else own
    async with db.read() as s:
        total = (await s.execute(select(func.count()).select_from(notifications).where(*conds))).scalar_one()
        unread_n = (await s.execute(select(func.count()).select_from(notifications).where(*own, notifications.c.read_at.is_(None)))).scalar_one()
        q = select(notifications).where(*conds).order_by(notifications.c.created_at.desc(), notifications.c.id.desc()).offset((page - 1) * page_size).limit(page_size)
        return [_view(r) for r in (await s.execute(q)).mappings().all()], total, unread_n


async def mark_read(db: ServiceDatabase, actor: Actor, notification_id: str) -> dict[str, Any]:
    """Mark one of the caller's notifications read (again: unchanged); another's: 404."""
    now = clock.utc_now()
    async with db.sessions() as s, s.begin():
        row = (await s.execute(select(notifications).where(notifications.c.id == notification_id, *_own(actor)))).mappings().first()
        if row is None:
            raise NotFound("notification", "通知", notification_id)
        if row["read_at"] is None:
            await s.execute(update(notifications).where(notifications.c.id == notification_id, notifications.c.read_at.is_(None)).values(read_at=now))
            row = (await s.execute(select(notifications).where(notifications.c.id == notification_id))).mappings().one()
        return _view(row)
