"""The policy's time. The rules count days and years in Xuchang's time zone
(31 December ends at midnight Asia/Shanghai); storage stays UTC.

``utc_now`` is "now" for every policy decision: deadlines, windows, expiry,
the programme year, when a record was made and when an event occurred. It is
the wall clock plus the platform's *simulated offset*, which is zero unless an
operator rehearses the year on the test clock (dev and staging only, see
:mod:`services.runtime.bus.testclock`): the offset then moves every policy clock
of the process at once, and time keeps running from the simulated instant.

Technical times (the outbox, the inbox, idempotency retention, login tokens,
metrics) read the wall clock directly: a rehearsal must not expire a session.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import msgspec

from contracts import envelope
from services.runtime.errors import DomainError

POLICY_ZONE = ZoneInfo("Asia/Shanghai")


class Simulation(msgspec.Struct, frozen=True, kw_only=True):
    """The simulated time in force: the offset from the wall clock, who set it
    and when (wall clock), and the revision of the stored value it came from."""

    offset_s: float
    set_by: str = ""
    set_at: datetime | None = None
    revision: int = 0


_simulation: Simulation | None = None


def wall_now() -> datetime:
    """The real time (aware, UTC), whatever the test clock says."""
    return datetime.now(UTC)


def utc_now() -> datetime:
    """"Now" for policy decisions (aware, UTC). The one place to read it: the
    test clock shifts it; unit tests may replace this function."""
    if _simulation is None:
        return wall_now()
    return wall_now() + timedelta(seconds=_simulation.offset_s)


def simulation() -> Simulation | None:
    """The simulated time in force in this process, or None (real time)."""
    return _simulation


def follow(value: Simulation | None) -> None:
    """Adopt a simulated time (or real time for None) in this process."""
    global _simulation
    _simulation = value


def local_now() -> datetime:
    return utc_now().astimezone(POLICY_ZONE)


def local_today() -> date:
    return local_now().date()


def local_year(at: datetime | None = None) -> int:
    """The programme year (the natural year in the policy's zone) of ``at``, default now."""
    if at is None:
        return local_now().year
    if at.tzinfo is None:
        raise ValueError("aware datetime required")
    return at.astimezone(POLICY_ZONE).year


def as_of(moment: datetime | None) -> datetime:
    """A moment an operator names for a run or a report ("as of"): aware, and not in
    the future on the policy clock (nobody voids a voucher or closes the books early);
    default now. Field errors on ``as_of``."""
    now = utc_now()
    if moment is None:
        return now
    if moment.tzinfo is None:
        raise DomainError("as_of.naive", "时间必须带时区（如 +08:00）", "as_of needs a zone (e.g. +08:00)", field="as_of")
    if moment > now:
        raise DomainError("as_of.in_future", "截止时点不能晚于当前时间", "as_of must not be in the future", field="as_of", now=now.isoformat())
    return moment


# events are dated by the policy clock too (a rehearsal's events fall in its simulated year)
envelope.set_time_source(lambda: utc_now())
