"""Instrument time (issue 16) as the registry answers with it: an instrument's
schedule, its downtime, the qualifications of the people trained on it, and
its free and busy time."""

from __future__ import annotations

from datetime import date, datetime

import msgspec


class InstrumentSchedule(msgspec.Struct):
    instrument_id: str
    weekly_hours: dict[str, list[list[str]]]
    closed_on_holidays: bool
    open_on_makeup_days: bool
    slot_minutes: int
    min_minutes: int
    max_minutes: int
    book_ahead_days: int
    book_before_minutes: int
    cancel_before_hours: int
    operated_by: str
    approval: str
    version: int


class Downtime(msgspec.Struct):
    downtime_id: str
    instrument_id: str
    starts_at: datetime
    ends_at: datetime
    reason: str
    created_at: datetime
    #: the bookings it cancelled (their reason: the downtime's)
    cancelled_booking_ids: list[str] = []


class Qualification(msgspec.Struct):
    qualification_id: str
    instrument_id: str
    account_id: str
    username: str
    user_id: str
    valid_until: date
    granted_at: datetime
    in_force: bool
    revoked_at: datetime | None = None
    revoke_reason: str | None = None


class Interval(msgspec.Struct):
    starts_at: datetime
    ends_at: datetime


class BusyInterval(msgspec.Struct):
    starts_at: datetime
    ends_at: datetime
    #: booked / downtime (never who booked)
    kind: str


class Availability(msgspec.Struct, rename={"from_": "from"}):
    instrument_id: str
    from_: datetime
    to: datetime
    slot_minutes: int
    operated_by: str
    free: list[Interval]
    busy: list[BusyInterval]
