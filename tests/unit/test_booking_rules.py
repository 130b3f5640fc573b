"""Issue 16, the pure rules of instrument time: opening hours by the official
calendar (2026: Thursday 10-01 National Day, Saturday 10-10 a make-up working
day), the slot grid in Xuchang time, midnight-spanning hours, the state machine."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from services.registry.domain.bookings import BookingAction, check_slot, next_status
from services.registry.domain.schedules import Schedule, check_schedule, day_hours, open_intervals, parse_weekly, subtract
from services.runtime.errors import DomainError
from services.runtime.workdays import WorkdayCalendar

CAL = WorkdayCalendar()
NOW = datetime(2026, 9, 28, 1, 0, tzinfo=UTC)  # Monday 09:00 in Xuchang
OFFICE = Schedule(weekly=parse_weekly({d: [("09:00", "12:00"), ("13:00", "18:00")] for d in ("mon", "tue", "wed", "thu", "fri")}))


def t(s: str) -> datetime:
    return datetime.fromisoformat(s)


def test_holidays_close_and_make_up_days_open_with_mondays_hours() -> None:
    assert day_hours(OFFICE, date(2026, 10, 1), CAL.is_workday) == ()  # National Day, a Thursday
    assert day_hours(OFFICE, date(2026, 10, 10), CAL.is_workday) == ((540, 720), (780, 1080))  # make-up Saturday
    assert day_hours(OFFICE, date(2026, 10, 17), CAL.is_workday) == ()  # an ordinary Saturday
    ignore = Schedule(weekly=OFFICE.weekly, closed_on_holidays=False, open_on_makeup_days=False)
    assert day_hours(ignore, date(2026, 10, 1), CAL.is_workday) == ((540, 720), (780, 1080))
    assert day_hours(ignore, date(2026, 10, 10), CAL.is_workday) == ()
    # a year the calendar does not know: closed unless the schedule ignores the calendar
    assert day_hours(OFFICE, date(2027, 1, 4), lambda d: None) == ()
    assert day_hours(ignore, date(2027, 1, 4), lambda d: None) == ((540, 720), (780, 1080))


def test_a_day_open_until_midnight_joins_the_next_and_intervals_are_utc() -> None:
    nights = Schedule(weekly=parse_weekly({"mon": [("20:00", "24:00")], "tue": [("00:00", "06:00")]}), closed_on_holidays=False, open_on_makeup_days=False)
    spans = open_intervals(nights, t("2026-09-28T00:00:00+08:00"), t("2026-09-30T00:00:00+08:00"), CAL.is_workday)
    assert spans == [(datetime(2026, 9, 28, 12, 0, tzinfo=UTC), datetime(2026, 9, 28, 22, 0, tzinfo=UTC))]
    ok = Schedule(**{**nights.__dict__, "max_minutes": 600, "book_before_minutes": 0})
    check_slot(ok, t("2026-09-28T22:00:00+08:00"), t("2026-09-29T02:00:00+08:00"), now=NOW, is_workday=CAL.is_workday, downtimes=[], taken=[], qualified=True)


def test_open_intervals_clip_to_a_range_in_any_zone_and_each_schedule_keeps_its_hours() -> None:
    # the same days asked again, by another schedule and with bounds in another zone (the UTC spans of a day are remembered)
    early = Schedule(weekly=parse_weekly({"tue": [("07:00", "08:00")]}), closed_on_holidays=False, open_on_makeup_days=False)
    for _ in range(2):
        office = open_intervals(OFFICE, t("2026-09-29T10:30:00+08:00"), t("2026-09-29T01:00:00-04:00"), CAL.is_workday)  # 13:00 local
        assert office == [(datetime(2026, 9, 29, 2, 30, tzinfo=UTC), datetime(2026, 9, 29, 4, 0, tzinfo=UTC))]
        assert all(x.tzinfo is UTC for span in office for x in span)
        assert open_intervals(early, t("2026-09-28T00:00:00Z"), t("2026-09-30T00:00:00Z"), CAL.is_workday) == [(datetime(2026, 9, 28, 23, 0, tzinfo=UTC), datetime(2026, 9, 29, 0, 0, tzinfo=UTC))]


def test_the_slot_grid_is_xuchang_time_and_overlaps_are_half_open() -> None:
    hourly = check_schedule(Schedule(weekly=OFFICE.weekly, slot_minutes=60, min_minutes=60, max_minutes=240))
    args = {"now": NOW, "is_workday": CAL.is_workday, "downtimes": [], "qualified": True}
    check_slot(hourly, t("2026-09-29T01:00:00Z"), t("2026-09-29T02:00:00Z"), taken=[], **args)  # 09:00–10:00 local
    with pytest.raises(DomainError) as e:
        check_slot(hourly, t("2026-09-29T09:30:00+08:00"), t("2026-09-29T10:30:00+08:00"), taken=[], **args)
    assert e.value.code == "booking.off_grid"
    # touching ends do not overlap; one minute more does
    taken = [(t("2026-09-29T09:00:00+08:00"), t("2026-09-29T10:00:00+08:00"))]
    check_slot(hourly, t("2026-09-29T10:00:00+08:00"), t("2026-09-29T11:00:00+08:00"), taken=taken, **args)
    with pytest.raises(DomainError) as e:
        check_slot(hourly, t("2026-09-29T09:00:00+08:00"), t("2026-09-29T11:00:00+08:00"), taken=taken, **args)
    assert e.value.code == "booking.overlap" and e.value.status == 422


def test_free_time_is_opening_hours_less_busy_time() -> None:
    a, b, c, d = (t(f"2026-09-29T0{h}:00:00Z") for h in (1, 2, 3, 4))
    assert subtract([(a, d)], [(b, c)]) == [(a, b), (c, d)]
    assert subtract([(a, b), (c, d)], [(a, d)]) == []


@pytest.mark.parametrize(("status", "action", "after"), [("requested", BookingAction.confirm, "confirmed"), ("confirmed", BookingAction.no_show, "no_show"), ("requested", BookingAction.cancel, "cancelled")])
def test_state_machine(status: str, action: BookingAction, after: str) -> None:
    assert next_status(status, action) == after


@pytest.mark.parametrize(("status", "action"), [("declined", BookingAction.confirm), ("requested", BookingAction.no_show), ("cancelled", BookingAction.cancel), ("confirmed", BookingAction.decline)])
def test_illegal_transitions_are_409(status: str, action: BookingAction) -> None:
    with pytest.raises(DomainError) as e:
        next_status(status, action)
    assert (e.value.code, e.value.status) == ("booking.illegal_transition", 409)
