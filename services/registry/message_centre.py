"""The message centre (issues 16 and 17): the notices a person may read, newest
first, with how many they have not read, and marking one read.

Who sees a notice: a user or a unit account sees its organisation's notices;
a staff account sees its role's city-wide ones (``CITY_WIDE``). Whether it is
read is each reader's own (``notification_reads``): a colleague of the unit,
or another finance officer, reading a notice leaves it unread for the others.
A notice marked read before read state was kept per person
(``notifications.read_at``) stays read for everyone."""

from __future__ import annotations

from typing import Any

from sqlalchemy import and_, exists, func, select
from sqlalchemy.engine import RowMapping

from services.registry.db.notification_models import notification_reads, notifications
from services.registry.domain.notices import CITY_WIDE, STAFF_ROLES
from services.registry.schemas.notifications import Notification, NotificationPage
from services.runtime import clock
from services.runtime.db.readmodel import insert_if_absent
from services.runtime.db.service_db import ServiceDatabase
from services.runtime.db.unit_of_work import Actor
from services.runtime.errors import NotFound
from services.runtime.roles import Role

n, r = notifications.c, notification_reads.c


def _own(actor: Actor) -> tuple[Any, ...]:
    """The notices ``actor`` may read."""
    if actor.role in STAFF_ROLES:  # city-wide: the role's notices, whoever of it reads them
        return (n.recipient_role == actor.role, n.recipient_org == CITY_WIDE)
    if actor.org is None or actor.role not in (str(Role.USER), str(Role.UNIT)):
        return (n.id.is_(None),)  # nobody else has notifications
    return (n.recipient_role == actor.role, n.recipient_org == actor.org)


def _read_at(actor: Actor) -> Any:
    """When ``actor`` read the notice (or everyone, before read state was per person)."""
    mine = select(r.read_at).where(r.notification_id == n.id, r.reader == actor.subject).scalar_subquery()
    return func.coalesce(n.read_at, mine)


def _unread(actor: Actor) -> Any:
    return and_(n.read_at.is_(None), ~exists().where(r.notification_id == n.id, r.reader == actor.subject))


def notification_view(row: RowMapping) -> Notification:
    return Notification(
        notification_id=row["id"], kind=row["kind"], text_zh=row["text_zh"], created_at=row["created_at"],
        text_en=row["text_en"], booking_id=row["booking_id"], link=row["link"], read_at=row["reader_read_at"],
    )


def _rows(actor: Actor, *conds: Any) -> Any:
    return select(notifications, _read_at(actor).label("reader_read_at")).where(*conds)


async def list_notifications(db: ServiceDatabase, actor: Actor, *, unread: bool, page: int, page_size: int) -> NotificationPage:
    """The caller's notices, newest first, with the total and the caller's unread count."""
    own, not_read = _own(actor), _unread(actor)
    conds = (*own, not_read) if unread else own
    async with db.read() as s:
        # both counts in one statement: the caller's notices, and how many of them are unread
        counts = select(func.count(), func.count().filter(not_read)).select_from(notifications).where(*own)
        every, unread_n = (await s.execute(counts)).one()
        q = _rows(actor, *conds).order_by(n.created_at.desc(), n.id.desc()).offset((page - 1) * page_size).limit(page_size)
        items = [notification_view(row) for row in (await s.execute(q)).mappings().all()]
    return NotificationPage(items=items, total=unread_n if unread else every, unread=unread_n, page=page, page_size=page_size)


async def mark_read(db: ServiceDatabase, actor: Actor, notification_id: str) -> Notification:
    """Mark one of the caller's notices read for the caller (again: unchanged); another's: 404."""
    async with db.sessions() as s, s.begin():
        row = (await s.execute(_rows(actor, n.id == notification_id, *_own(actor)))).mappings().first()
        if row is None:
            raise NotFound("notification", "通知", notification_id)
        if row["reader_read_at"] is None:
            await insert_if_absent(s, notification_reads, {"notification_id": notification_id, "reader": actor.subject, "read_at": clock.utc_now()})
            row = (await s.execute(_rows(actor, n.id == notification_id))).mappings().one()
        return notification_view(row)
