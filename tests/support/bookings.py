"""Booking an instrument's time, for registry's and the portal's booking tests: the policy
clock standing at Monday 2026-09-28 09:00 in Xuchang (and moved by the test), a weekday
schedule, a time of day in Beijing time, and a booking asked for as its user (or with
headers of one's own)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest

from services.runtime import clock
from tests.support.registry import World

CST = "+08:00"
#: Monday 2026-09-28, 09:00 in Xuchang
T0 = datetime.fromisoformat(f"2026-09-28T09:00:00{CST}")
HOURS = {d: [["09:00", "12:00"], ["13:00", "18:00"]] for d in ("mon", "tue", "wed", "thu", "fri")}
SCHEDULE = {"weekly_hours": HOURS, "slot_minutes": 30, "min_minutes": 30, "max_minutes": 240, "book_ahead_days": 28, "book_before_minutes": 60, "cancel_before_hours": 24}
#: the portal's tests book an hour at least
PORTAL_SCHEDULE = {**SCHEDULE, "min_minutes": 60}


class Clock:
    """The policy clock at ``T0``, moved by setting ``now``."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.now = T0
        monkeypatch.setattr(clock, "utc_now", lambda: self.now)


def at(day: str, hhmm: str) -> str:
    return f"2026-{day}T{hhmm}:00{CST}"


async def book(w: World, oid: str, start: str, end: str, *, headers: dict[str, str] | None = None, iid: str | None = None) -> Any:
    body = {"instrument_id": iid or w.iid, "order_id": oid, "starts_at": start, "ends_at": end}
    if headers is not None:
        return await w.p.call("registry", "POST", "/v1/bookings/", json=body, headers=headers)
    return await w.as_user("POST", "/v1/bookings/", json=body)
