"""Bookings of instrument time (issue 16): the limits a booking must respect
and its state machine. Pure rules, no I/O.

States: requested -> confirmed | declined | cancelled; confirmed -> cancelled |
no_show | used (a usage session recorded for it). A requested, confirmed or
used booking holds its time: two of them never overlap on one instrument (the
database guarantees it as well, see services/registry/bookings.py).

Every limit is a 422 with its own code and changes nothing. An overlap is a
422 too (``booking.overlap``), as the issue asks for every refused slot.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, timedelta
from enum import StrEnum

from services.registry.domain.schedules import (
    POLICY_ZONE,
    Interval,
    IsWorkday,
    OperatedBy,
    Schedule,
    open_intervals,
)
from services.runtime.errors import Conflict, DomainError


class BookingStatus(StrEnum):
    requested = "requested"
    confirmed = "confirmed"
    declined = "declined"
    cancelled = "cancelled"
    no_show = "no_show"
    #: a usage session was recorded for the confirmed booking (services/registry/usage.py)
    used = "used"


class BookingAction(StrEnum):
    confirm = "confirm"
    decline = "decline"
    cancel = "cancel"
    no_show = "no_show"


#: times outside these years are refused (no calendar, no booking, and no date arithmetic at the edges)
EARLIEST_YEAR, LATEST_YEAR = 2000, 2100

#: the states that hold their time on the instrument
HOLDING = (BookingStatus.requested, BookingStatus.confirmed, BookingStatus.used)
#: the states an order's cancellation or downtime still cancels (a used booking is history)
CANCELLABLE = (BookingStatus.requested, BookingStatus.confirmed)

_NEXT: dict[tuple[BookingStatus, BookingAction], BookingStatus] = {
    (BookingStatus.requested, BookingAction.confirm): BookingStatus.confirmed,
    (BookingStatus.requested, BookingAction.decline): BookingStatus.declined,
    (BookingStatus.requested, BookingAction.cancel): BookingStatus.cancelled,
    (BookingStatus.confirmed, BookingAction.cancel): BookingStatus.cancelled,
    (BookingStatus.confirmed, BookingAction.no_show): BookingStatus.no_show,
}


#: a booking's status and the actions on it as a refusal says them (never the codes)
_STATUS_ZH = {
    BookingStatus.requested: "待确认", BookingStatus.confirmed: "已确认", BookingStatus.declined: "已拒绝", BookingStatus.cancelled: "已取消",
    BookingStatus.no_show: "未按时到场", BookingStatus.used: "已使用",
}
_ACTION_ZH = {BookingAction.confirm: "确认", BookingAction.decline: "拒绝", BookingAction.cancel: "取消", BookingAction.no_show: "登记未按时到场"}


def next_status(status: BookingStatus | str, action: BookingAction) -> BookingStatus:
    after = _NEXT.get((BookingStatus(status), action))
    if after is None:
        raise Conflict(
            "booking.illegal_transition", f"预约当前状态为“{_STATUS_ZH[BookingStatus(status)]}”，不能{_ACTION_ZH[BookingAction(action)]}", f"a {status} booking cannot be {action}",
            status=409, current=str(status), action=str(action),
        )
    return after


def _refuse(code: str, zh: str, en: str, field: str = "starts_at", **details: object) -> DomainError:
    return DomainError(code, zh, en, field=field, **details)


def require_zone(value: datetime, field: str) -> datetime:
    """An ISO 8601 time with its offset; a naive time is refused, never guessed."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise _refuse("booking.naive_time", "时间必须带时区（如 2026-03-02T09:00:00+08:00）", "the time needs its offset (e.g. 2026-03-02T09:00:00+08:00)", field)
    if not EARLIEST_YEAR <= value.year <= LATEST_YEAR:
        raise _refuse("booking.time_out_of_range", f"时间须在 {EARLIEST_YEAR} 年到 {LATEST_YEAR} 年之间", f"the time must lie between {EARLIEST_YEAR} and {LATEST_YEAR}", field)
    return value


def check_slot(
    s: Schedule,
    starts_at: datetime,
    ends_at: datetime,
    *,
    now: datetime,
    is_workday: IsWorkday,
    downtimes: Iterable[Interval],
    taken: Iterable[Interval],
    qualified: bool,
) -> None:
    """Every limit of one requested slot, in the order a user can fix them."""
    require_zone(starts_at, "starts_at")
    require_zone(ends_at, "ends_at")
    if ends_at <= starts_at:
        raise _refuse("booking.empty_range", "结束时间须晚于开始时间", "the booking must end after it starts", "ends_at")
    if starts_at <= now:
        raise _refuse("booking.in_past", "不能预约已经过去的时间", "a booking cannot start in the past")
    if starts_at < now + timedelta(minutes=s.book_before_minutes):
        raise _refuse("booking.too_late", f"须至少提前 {s.book_before_minutes} 分钟预约", f"book at least {s.book_before_minutes} minutes before the start", limit_minutes=s.book_before_minutes)
    if starts_at > now + timedelta(days=s.book_ahead_days):
        raise _refuse("booking.too_far_ahead", f"最多只能提前 {s.book_ahead_days} 天预约", f"bookings open at most {s.book_ahead_days} days ahead", limit_days=s.book_ahead_days)
    minutes = (ends_at - starts_at) / timedelta(minutes=1)
    if minutes < s.min_minutes:
        raise _refuse("booking.too_short", f"预约时长不能少于 {s.min_minutes} 分钟", f"a booking lasts at least {s.min_minutes} minutes", "ends_at", limit_minutes=s.min_minutes)
    if minutes > s.max_minutes:
        raise _refuse("booking.too_long", f"预约时长不能超过 {s.max_minutes} 分钟", f"a booking lasts at most {s.max_minutes} minutes", "ends_at", limit_minutes=s.max_minutes)
    local = starts_at.astimezone(POLICY_ZONE)
    off_start = local.second or local.microsecond or (local.hour * 60 + local.minute) % s.slot_minutes
    if off_start or minutes % s.slot_minutes:
        raise _refuse("booking.off_grid", f"预约须按 {s.slot_minutes} 分钟的时段网格起止", f"a booking starts and ends on the {s.slot_minutes}-minute slot grid", limit_minutes=s.slot_minutes)
    if not any(a <= starts_at and ends_at <= b for a, b in open_intervals(s, starts_at, ends_at, is_workday)):
        raise _refuse("booking.outside_hours", "所选时间不在仪器开放时间内（含法定节假日闭馆）", "the slot lies outside the opening hours (official holidays included)")
    if any(a < ends_at and starts_at < b for a, b in downtimes):
        raise _refuse("booking.over_downtime", "所选时间与仪器停机维护时间冲突", "the slot overlaps the instrument's downtime")
    if s.operated_by is OperatedBy.self_ and not qualified:
        raise _refuse("booking.not_qualified", "该仪器由用户自行操作，预约人须经培训且资格在有效期内", "this instrument is self-operated: only people trained on it (qualification in force) may book", "instrument_id")
    if any(a < ends_at and starts_at < b for a, b in taken):
        raise overlap()


def overlap() -> DomainError:
    return _refuse("booking.overlap", "所选时间已被预约", "the slot overlaps another booking")


def check_cancel(s: Schedule, starts_at: datetime, now: datetime) -> None:
    cutoff = starts_at - timedelta(hours=s.cancel_before_hours)
    if now > cutoff:
        raise DomainError("booking.cancel_too_late", f"开始前 {s.cancel_before_hours} 小时内不能再取消预约", f"a booking can no longer be cancelled within {s.cancel_before_hours} hours of its start", limit_hours=s.cancel_before_hours, cutoff=cutoff.isoformat())


def check_confirm(starts_at: datetime, now: datetime) -> None:
    if now >= starts_at:
        raise DomainError("booking.already_started", "预约时间已开始，不能再确认", "the booking has started: it can no longer be confirmed")


def check_no_show(starts_at: datetime, now: datetime) -> None:
    if now < starts_at:
        raise DomainError("booking.not_started", "预约尚未开始，不能登记爽约", "a no-show can be recorded only after the start")


def qualification_in_force(valid_until: date | None, revoked: bool, now: datetime) -> bool:
    """A qualification counts through its expiry day (Asia/Shanghai) unless revoked."""
    return valid_until is not None and not revoked and now.astimezone(POLICY_ZONE).date() <= valid_until
