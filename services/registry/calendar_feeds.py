"""Registry use cases of iCalendar feeds (issue 16): the unit owning an
instrument creates a feed (a secret URL, shown once; only its SHA-256 is
kept), lists, rotates (a new secret: the old URL stops at once) and revokes
it. Anybody holding the URL reads the feed: the secret is the credential, an
unknown or revoked one is 404 (the same answer, so nothing is learnt)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import msgspec
from sqlalchemy import insert, select, update
from sqlalchemy.engine import RowMapping

from contracts.envelope import new_event_id
from services.registry.db.booking_models import bookings, instrument_downtimes
from services.registry.db.instrument_models import instruments
from services.registry.db.notification_models import calendar_feeds
from services.registry.db.order_models import orders
from services.registry.domain.calendar_feed import SHOWN, FeedBooking, FeedDowntime, new_secret, render, secret_digest, window
from services.registry.domain.schedules import MAX_BOOKING_MINUTES
from services.registry.schedules import owned_instrument
from services.registry.schemas.calendar_feeds import CalendarFeed, CalendarFeedSecret
from services.runtime import clock
from services.runtime.errors import Conflict, NotFound
from services.runtime.db.unit_of_work import Actor
from services.runtime.db.service_db import ServiceDatabase

#: a unit keeps at most this many live feeds per instrument
MAX_FEEDS = 20


def feed_path(secret: str) -> str:
    return f"/v1/calendar/{secret}.ics"


def feed_view(r: RowMapping) -> CalendarFeed:
    return CalendarFeed(
        feed_id=r["id"], instrument_id=r["instrument_id"], created_at=r["created_at"], rotated_at=r["rotated_at"], label=r["label"], revoked_at=r["revoked_at"]
    )


def _with_secret(r: RowMapping, secret: str) -> CalendarFeedSecret:
    return CalendarFeedSecret(**msgspec.structs.asdict(feed_view(r)), url_path=feed_path(secret))


def _feed_not_found(feed_id: str) -> NotFound:
    return NotFound("calendar_feed", "日历订阅", feed_id)


async def create_feed(db: ServiceDatabase, actor: Actor, correlation_id: str | None, instrument_id: str, *, label: str | None) -> CalendarFeedSecret:
    """A new feed of the unit's instrument; the answer carries the secret URL, the only time it is shown."""
    now, secret = clock.utc_now(), new_secret()
    async with db.unit_of_work(actor, correlation_id) as uow:
        s = uow.session
        inst = await owned_instrument(s, instrument_id, actor)
        live = (await s.execute(select(calendar_feeds.c.id).where(calendar_feeds.c.instrument_id == instrument_id, calendar_feeds.c.revoked_at.is_(None)))).all()
        if len(live) >= MAX_FEEDS:
            raise Conflict("calendar_feed.too_many", f"每台仪器最多 {MAX_FEEDS} 个有效的日历订阅，请先撤销不用的", f"an instrument has at most {MAX_FEEDS} live calendar feeds; revoke one first", limit=MAX_FEEDS)
        fid = new_event_id()
        text = (label or "").strip()[:100] or None
        await s.execute(
            insert(calendar_feeds).values(
                id=fid, instrument_id=instrument_id, unit_id=inst["unit_id"], label=text, secret_digest=secret_digest(secret), created_by=actor.label, created_at=now, rotated_at=now
            )
        )
        await uow.audit("calendar_feed.create", "calendar_feed", fid, after={"instrument_id": instrument_id, "label": text})
        row = (await s.execute(select(calendar_feeds).where(calendar_feeds.c.id == fid))).mappings().one()
        return _with_secret(row, secret)


async def _owned_feed(s: Any, actor: Actor, instrument_id: str, feed_id: str) -> RowMapping:
    await owned_instrument(s, instrument_id, actor)
    row = (await s.execute(select(calendar_feeds).where(calendar_feeds.c.id == feed_id, calendar_feeds.c.instrument_id == instrument_id))).mappings().first()
    if row is None:
        raise _feed_not_found(feed_id)
    return row


def _revoked(feed_id: str) -> Conflict:
    return Conflict("calendar_feed.revoked", "该日历订阅已撤销", "the calendar feed is revoked", feed_id=feed_id)


async def rotate_feed(db: ServiceDatabase, actor: Actor, correlation_id: str | None, instrument_id: str, feed_id: str) -> CalendarFeedSecret:
    """A new secret for a live feed: the old URL answers 404 from now on."""
    now, secret = clock.utc_now(), new_secret()
    async with db.unit_of_work(actor, correlation_id) as uow:
        s = uow.session
        row = await _owned_feed(s, actor, instrument_id, feed_id)
        if row["revoked_at"] is not None:
            raise _revoked(feed_id)
        await s.execute(update(calendar_feeds).where(calendar_feeds.c.id == feed_id).values(secret_digest=secret_digest(secret), rotated_at=now))
        await uow.audit("calendar_feed.rotate", "calendar_feed", feed_id, after={"instrument_id": instrument_id})
        after = (await s.execute(select(calendar_feeds).where(calendar_feeds.c.id == feed_id))).mappings().one()
        return _with_secret(after, secret)


async def revoke_feed(db: ServiceDatabase, actor: Actor, correlation_id: str | None, instrument_id: str, feed_id: str) -> CalendarFeed:
    now = clock.utc_now()
    async with db.unit_of_work(actor, correlation_id) as uow:
        s = uow.session
        row = await _owned_feed(s, actor, instrument_id, feed_id)
        if row["revoked_at"] is not None:
            raise _revoked(feed_id)
        await s.execute(update(calendar_feeds).where(calendar_feeds.c.id == feed_id).values(revoked_at=now, revoked_by=actor.label))
        await uow.audit("calendar_feed.revoke", "calendar_feed", feed_id, after={"instrument_id": instrument_id})
        after = (await s.execute(select(calendar_feeds).where(calendar_feeds.c.id == feed_id))).mappings().one()
        return feed_view(after)


async def list_feeds(db: ServiceDatabase, actor: Actor, instrument_id: str) -> list[CalendarFeed]:
    async with db.read() as s:
        await owned_instrument(s, instrument_id, actor)
        q = select(calendar_feeds).where(calendar_feeds.c.instrument_id == instrument_id).order_by(calendar_feeds.c.created_at, calendar_feeds.c.id)
        return [feed_view(r) for r in (await s.execute(q)).mappings().all()]


async def read_feed(db: ServiceDatabase, secret: str) -> bytes:
    """The feed a secret opens (unknown or revoked: 404 ``calendar_feed.not_found``)."""
    now = clock.utc_now()
    start, end = window(now)
    async with db.read() as s:
        feed = (await s.execute(select(calendar_feeds).where(calendar_feeds.c.secret_digest == secret_digest(secret), calendar_feeds.c.revoked_at.is_(None)))).mappings().first()
        if feed is None:
            raise _feed_not_found("…")
        iid = feed["instrument_id"]
        name = (await s.execute(select(instruments.c.name).where(instruments.c.id == iid))).scalar_one()
        t = bookings.c
        bq = select(bookings, orders.c.case_no).outerjoin(orders, orders.c.id == t.order_id).where(
            t.instrument_id == iid, t.status.in_(list(SHOWN)), t.starts_at < end, t.starts_at > start - timedelta(minutes=MAX_BOOKING_MINUTES), t.ends_at > start
        ).order_by(t.starts_at)
        booked = [
            FeedBooking(r["id"], r["case_no"], r["starts_at"], r["ends_at"], r["status"], r["version"], r["created_at"], r["updated_at"]) for r in (await s.execute(bq)).mappings().all()
        ]
        d = instrument_downtimes.c
        dq = select(instrument_downtimes).where(d.instrument_id == iid, d.starts_at < end, d.ends_at > start).order_by(d.starts_at)
        down = [FeedDowntime(r["id"], r["starts_at"], r["ends_at"], r["reason"], r["created_at"]) for r in (await s.execute(dq)).mappings().all()]
    return render(name, booked, down, now)

