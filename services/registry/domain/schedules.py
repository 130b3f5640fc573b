"""Instrument schedules (issue 16): when an instrument is open for booking.

Pure rules, no I/O. A schedule holds the weekly opening hours (per weekday,
one or more intervals in Asia/Shanghai local time), whether official holidays
close it and make-up working days (调休上班日) open it, and the booking limits:
slot granularity, minimum and maximum length, how far ahead and how late one
may book, and the cancellation cut-off.

Working days come from the official calendar (``is_workday``, the project's
``WorkdayCalendar``): a Monday–Friday that is no working day is a holiday; a
Saturday or Sunday that is a working day is a make-up working day. **(choice)**
A make-up working day opens with Monday's hours, the first working day's.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from functools import lru_cache
from itertools import pairwise
from typing import Any

from services.runtime.clock import POLICY_ZONE
from services.runtime.errors import DomainError

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_HHMM = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$|^24:00$")
DAY_MINUTES = 24 * 60
#: caps of the settings (a slot of a day at most; bookings up to two weeks ahead of a year)
MAX_SLOT_MINUTES = DAY_MINUTES
MAX_BOOKING_MINUTES = 14 * DAY_MINUTES
MAX_AHEAD_DAYS = 366
MAX_LATE_MINUTES = 14 * DAY_MINUTES
MAX_CANCEL_HOURS = 14 * 24
MAX_INTERVALS_PER_DAY = 12

Interval = tuple[datetime, datetime]
#: official working day? (None: the year is unknown to the calendar, the day is closed)
IsWorkday = Callable[[date], bool | None]


class OperatedBy(StrEnum):
    #: the unit's staff run the instrument for the user
    staff = "staff"
    #: trained users operate it themselves (only qualified people may book)
    self_ = "self"


class Approval(StrEnum):
    #: the unit confirms or declines each booking
    required = "required"
    #: a booking is confirmed at once
    automatic = "automatic"


#: (choice) defaults: Monday–Friday 08:30–12:00 and 14:00–17:30 (the usual office hours)
DEFAULT_HOURS: dict[str, list[tuple[str, str]]] = {d: ([("08:30", "12:00"), ("14:00", "17:30")] if d not in ("sat", "sun") else []) for d in WEEKDAYS}


@dataclass(frozen=True)
class Schedule:
    #: per weekday (mon..sun), intervals in minutes of the local day, sorted, not overlapping
    weekly: Mapping[str, tuple[tuple[int, int], ...]] = field(default_factory=lambda: {d: tuple(_minutes(a, b, d) for a, b in DEFAULT_HOURS[d]) for d in WEEKDAYS})
    closed_on_holidays: bool = True
    open_on_makeup_days: bool = True
    slot_minutes: int = 30
    min_minutes: int = 30
    max_minutes: int = 480
    #: how far ahead one may book (days from now)
    book_ahead_days: int = 28
    #: how late one may book (minutes before the start)
    book_before_minutes: int = 60
    #: either side may cancel until this many hours before the start
    cancel_before_hours: int = 24
    operated_by: OperatedBy = OperatedBy.staff
    approval: Approval = Approval.required


def invalid(code: str, zh: str, en: str, field_name: str, **details: Any) -> DomainError:
    return DomainError(code, zh, en, field=field_name, **details)


def _clock(text: str, where: str) -> int:
    if not isinstance(text, str) or not _HHMM.match(text):
        raise invalid("schedule.invalid_time", f"时间格式应为 HH:MM（{where}）", f"a time reads HH:MM ({where})", where, value=str(text))
    h, m = text.split(":")
    return int(h) * 60 + int(m)


def _minutes(start: str, end: str, day: str) -> tuple[int, int]:
    return _clock(start, f"weekly_hours.{day}"), _clock(end, f"weekly_hours.{day}")


def hhmm(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def parse_weekly(hours: Mapping[str, Iterable[tuple[str, str]]]) -> dict[str, tuple[tuple[int, int], ...]]:
    """``{"mon": [("08:30", "12:00"), ...], ...}`` -> minutes; a missing day is closed."""
    unknown = sorted(set(hours) - set(WEEKDAYS))
    if unknown:
        raise invalid("schedule.unknown_weekday", f"未知的星期：{unknown[0]}（应为 mon…sun）", f"unknown weekday {unknown[0]} (use mon…sun)", "weekly_hours", value=unknown[0])
    weekly: dict[str, tuple[tuple[int, int], ...]] = {}
    for day in WEEKDAYS:
        spans = sorted(_minutes(a, b, day) for a, b in hours.get(day, ()))
        if len(spans) > MAX_INTERVALS_PER_DAY:
            raise invalid("schedule.too_many_intervals", f"每天最多 {MAX_INTERVALS_PER_DAY} 个开放时段", f"at most {MAX_INTERVALS_PER_DAY} intervals a day", f"weekly_hours.{day}")
        for start, end in spans:
            if end <= start:
                raise invalid("schedule.empty_interval", f"开放时段的结束须晚于开始（{day} {hhmm(start)}–{hhmm(end)}）", f"an interval must end after it starts ({day} {hhmm(start)}–{hhmm(end)})", f"weekly_hours.{day}")
        for (_, end), (start, _) in pairwise(spans):
            if start < end:
                raise invalid("schedule.overlapping_intervals", f"{day} 的开放时段相互重叠", f"the intervals of {day} overlap", f"weekly_hours.{day}")
        weekly[day] = tuple(spans)
    return weekly


def check_schedule(s: Schedule) -> Schedule:
    """The limits fit together: every length and every opening on the slot grid."""

    def bounded(name: str, value: int, low: int, high: int) -> None:
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            raise invalid("schedule.out_of_range", f"{name} 应在 {low} 到 {high} 之间", f"{name} must lie between {low} and {high}", name, low=low, high=high)

    bounded("slot_minutes", s.slot_minutes, 5, MAX_SLOT_MINUTES)
    bounded("min_minutes", s.min_minutes, 5, MAX_BOOKING_MINUTES)
    bounded("max_minutes", s.max_minutes, 5, MAX_BOOKING_MINUTES)
    bounded("book_ahead_days", s.book_ahead_days, 1, MAX_AHEAD_DAYS)
    bounded("book_before_minutes", s.book_before_minutes, 0, MAX_LATE_MINUTES)
    bounded("cancel_before_hours", s.cancel_before_hours, 0, MAX_CANCEL_HOURS)
    if DAY_MINUTES % s.slot_minutes:
        raise invalid("schedule.slot_not_dividing_day", "时段粒度须能整除一天（如 15、30、60 分钟）", "the slot must divide a day (e.g. 15, 30, 60 minutes)", "slot_minutes")
    for name in ("min_minutes", "max_minutes"):
        if getattr(s, name) % s.slot_minutes:
            raise invalid("schedule.length_off_grid", f"{name} 须是时段粒度的整数倍", f"{name} must be a multiple of slot_minutes", name)
    if s.min_minutes > s.max_minutes:
        raise invalid("schedule.min_above_max", "最短预约时长不能大于最长时长", "min_minutes may not exceed max_minutes", "min_minutes")
    for day, spans in s.weekly.items():
        for start, end in spans:
            if start % s.slot_minutes or end % s.slot_minutes:
                raise invalid("schedule.hours_off_grid", f"{day} 的开放时段须落在 {s.slot_minutes} 分钟的时段网格上", f"the hours of {day} must lie on the {s.slot_minutes}-minute grid", f"weekly_hours.{day}")
    return s


def day_hours(s: Schedule, d: date, is_workday: IsWorkday) -> tuple[tuple[int, int], ...]:
    """The opening intervals of the local day ``d`` (minutes of the day)."""
    weekly = s.weekly[WEEKDAYS[d.weekday()]]
    if not s.closed_on_holidays and not s.open_on_makeup_days:
        return weekly  # the official calendar does not matter
    weekend = d.weekday() >= 5
    workday = is_workday(d)
    if workday is None:
        return ()
    if not weekend and not workday and s.closed_on_holidays:
        return ()  # an official holiday on a weekday
    if weekend and workday and s.open_on_makeup_days:
        return s.weekly["mon"] or weekly  # a make-up working day
    return weekly


def local_midnight(d: date) -> datetime:
    return datetime.combine(d, time(0), POLICY_ZONE)


@lru_cache(maxsize=8192)
def _utc_spans(d: date, spans: tuple[tuple[int, int], ...]) -> tuple[Interval, ...]:
    """The opening intervals of the local day ``d`` in UTC, not yet clipped to a range.
    Pure, so remembered: every answer over four weeks converts the same days again."""
    midnight = local_midnight(d)
    return tuple(((midnight + timedelta(minutes=a)).astimezone(UTC), (midnight + timedelta(minutes=b)).astimezone(UTC)) for a, b in spans)


def open_intervals(s: Schedule, start: datetime, end: datetime, is_workday: IsWorkday) -> list[Interval]:
    """The opening hours within [start, end) as UTC-aware intervals, adjacent ones merged
    (a day open until 24:00 and the next open from 00:00 form one interval)."""
    out: list[Interval] = []
    start_utc, end_utc = start.astimezone(UTC), end.astimezone(UTC)
    d = start.astimezone(POLICY_ZONE).date() - timedelta(days=1)
    last = end.astimezone(POLICY_ZONE).date()
    while d <= last:
        for a, b in _utc_spans(d, day_hours(s, d, is_workday)):
            lo = max(a, start_utc)
            hi = min(b, end_utc)
            if lo < hi:
                if out and out[-1][1] >= lo:
                    out[-1] = (out[-1][0], max(out[-1][1], hi))
                else:
                    out.append((lo, hi))
        d += timedelta(days=1)
    return out


def subtract(free: list[Interval], busy: Iterable[Interval]) -> list[Interval]:
    """``free`` minus every busy interval (both sorted or not; the result is sorted)."""
    result = sorted(free)
    for b0, b1 in sorted(busy):
        nxt: list[Interval] = []
        for f0, f1 in result:
            if b1 <= f0 or b0 >= f1:
                nxt.append((f0, f1))
                continue
            if f0 < b0:
                nxt.append((f0, b0))
            if b1 < f1:
                nxt.append((b1, f1))
        result = nxt
    return result


def merge(intervals: Iterable[Interval]) -> list[Interval]:
    out: list[Interval] = []
    for a, b in sorted(intervals):
        if out and a <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], b))
        else:
            out.append((a, b))
    return out
