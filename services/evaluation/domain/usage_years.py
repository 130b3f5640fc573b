"""Which policy year a session of use counts in (issue 16, 运行使用).

The policy year is the natural year in Asia/Shanghai. A session counts in the
year of its start; a session that crosses local midnight of 31 December is
**split at that midnight**: the whole minutes from its start to 1 January
00:00 (Asia/Shanghai) count in the earlier year, the rest of the session's
minutes in the later one. The parts always add up to the session's minutes as
the registry stated them (whole minutes, seconds dropped), so a unit's yearly
figures sum to its usage log to the minute.
"""

from __future__ import annotations

from datetime import datetime

from services.runtime.clock import POLICY_ZONE


def new_year_at(year: int) -> datetime:
    """1 January 00:00 of ``year`` in Asia/Shanghai (16:00 UTC on 31 December before)."""
    return datetime(year, 1, 1, tzinfo=POLICY_ZONE)


def minutes_by_year(started_at: datetime, ended_at: datetime, minutes: int) -> dict[int, int]:
    """The session's ``minutes`` per policy year, split at each local new year it crosses."""
    first = started_at.astimezone(POLICY_ZONE).year
    last = ended_at.astimezone(POLICY_ZONE).year
    out: dict[int, int] = {}
    left = max(0, minutes)
    start = started_at
    for year in range(first, last):
        boundary = new_year_at(year + 1)
        part = min(left, max(0, int((boundary - start).total_seconds() // 60)))
        out[year] = part
        left -= part
        start = boundary
    out[last] = left
    return out
