"""An instrument's iCalendar feed (RFC 5545, issue 16): the unit's staff
subscribe to it in their calendar apps through a secret URL.

The feed holds the instrument's requested, confirmed and used bookings and
its downtime from ``PAST`` back to ``AHEAD`` on; cancelled and declined
bookings are absent. Times are UTC (``Z``); a booking's UID is stable, its
``SEQUENCE`` and ``LAST-MODIFIED`` follow its version. A summary names the
state and the order by its case number (no person, no id). Pure: no I/O."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from services.registry.domain.notices import order_named

PAST = timedelta(days=30)
AHEAD = timedelta(days=90)
PRODID = "-//xciss//instrument time//ZH"
UID_DOMAIN = "xciss.instrument-time"

#: the states a feed shows, with their summary prefix and RFC 5545 STATUS
SHOWN: dict[str, tuple[str, str]] = {
    "requested": ("待确认", "TENTATIVE"),
    "confirmed": ("已确认", "CONFIRMED"),
    "used": ("已使用", "CONFIRMED"),
}


def new_secret() -> str:
    """A feed's secret: 256 bits, URL-safe."""
    return secrets.token_urlsafe(32)


def secret_digest(secret: str) -> str:
    """What is stored of a secret (SHA-256, hex): enough to recognise it, not to rebuild the URL."""
    return hashlib.sha256(secret.encode()).hexdigest()


@dataclass(frozen=True)
class FeedBooking:
    booking_id: str
    #: the order's case number (DD-…), None for an order without one
    order_case_no: str | None
    starts_at: datetime
    ends_at: datetime
    status: str
    version: int
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True)
class FeedDowntime:
    downtime_id: str
    starts_at: datetime
    ends_at: datetime
    reason: str
    created_at: datetime


def window(now: datetime) -> tuple[datetime, datetime]:
    return now - PAST, now + AHEAD


def _utc(t: datetime) -> datetime:
    return t.astimezone(UTC)


def render(instrument_name: str, booked: Iterable[FeedBooking], down: Iterable[FeedDowntime], now: datetime) -> bytes:
    """The VCALENDAR of one instrument, as bytes (UTF-8, CRLF lines)."""
    from icalendar import Calendar, Event  # imported where used: only a feed request needs it

    cal = Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("method", "PUBLISH")
    cal.add("x-wr-calname", f"{instrument_name} · 仪器预约")
    cal.add("x-wr-timezone", "UTC")
    for b in booked:
        if b.status not in SHOWN:
            continue
        label, status = SHOWN[b.status]
        e = Event()
        e.add("uid", f"booking-{b.booking_id}@{UID_DOMAIN}")
        e.add("dtstamp", _utc(now))
        e.add("dtstart", _utc(b.starts_at))
        e.add("dtend", _utc(b.ends_at))
        e.add("summary", " · ".join(filter(None, (label, order_named(b.order_case_no)[0]))))
        e.add("status", status)
        e.add("sequence", b.version - 1)
        e.add("created", _utc(b.created_at))
        e.add("last-modified", _utc(b.updated_at))
        e.add("transp", "OPAQUE")
        cal.add_component(e)
    for d in down:
        e = Event()
        e.add("uid", f"downtime-{d.downtime_id}@{UID_DOMAIN}")
        e.add("dtstamp", _utc(now))
        e.add("dtstart", _utc(d.starts_at))
        e.add("dtend", _utc(d.ends_at))
        e.add("summary", f"停机维护 · {d.reason}")
        e.add("status", "CONFIRMED")
        e.add("created", _utc(d.created_at))
        e.add("last-modified", _utc(d.created_at))
        e.add("transp", "OPAQUE")
        cal.add_component(e)
    return cal.to_ical()
