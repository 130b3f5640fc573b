"""The policy's local time. The rules count days and years in Xuchang's time
zone (31 December ends at midnight Asia/Shanghai); storage stays UTC."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

POLICY_ZONE = ZoneInfo("Asia/Shanghai")


def utc_now() -> datetime:
    """"Now" for policy decisions (aware, UTC). The one place to read it: tests
    (and a rehearsal clock) replace this function."""
    return datetime.now(UTC)


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
