"""The platform's time in the whole-year test (issue 15): the system
administrator moving every service's test clock through the API, a day's
moment in Beijing time, the official working days after a day
(chinese-calendar: make-up days count) and a grades publication day whose
notice window runs over a make-up working day."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import chinese_calendar

from services.runtime.roles import Role
from tests.support.platform import Platform
from tests.support.responses import ok
from tests.support.vouchers import YEAR


async def clock_at(p: Platform, at: str | datetime) -> datetime:
    """The system administrator moves every service's policy time (the test clock, issue 15)."""
    when = at if isinstance(at, str) else at.isoformat()
    r = await ok(await p.call("registry", "PUT", "/v1/clock/", role=Role.SYSADMIN, json={"at": when}))
    assert r["simulated"] is True
    return datetime.fromisoformat(r["local_now"])


def on(day: date, time: str = "10:00:00") -> str:
    return f"{day.isoformat()}T{time}+08:00"


def workdays_after(day: date, n: int) -> date:
    """The n-th official working day after ``day`` (chinese-calendar: make-up days count), the notice's last day."""
    while n:
        day += timedelta(days=1)
        n -= chinese_calendar.is_workday(day)
    return day


def grades_publication_day() -> tuple[date, date]:
    """A day whose notice window runs over a make-up working day (a weekend day worked), and that day."""
    year_days = (date(YEAR, 7, 1) + timedelta(days=i) for i in range(150))
    makeup = next(d for d in year_days if d.weekday() >= 5 and chinese_calendar.is_workday(d))
    day = makeup - timedelta(days=1)
    while not chinese_calendar.is_workday(day) or day.weekday() >= 5:
        day -= timedelta(days=1)
    return day, makeup
