"""The unit's notices of a must-list instrument's listing deadline (issue 17,
M11(3)): the reminder before it and, with the center, the notice that it is
overdue, written in the registry's own transactions: registering an instrument
schedules both (``register_in``, one by one or by a ledger import), listing or
retiring it cancels them (``list_instrument``, ``retire_instrument``); the
instruments registered before the notices existed are scheduled by a periodic
pass (``listing_backfill.py``). ``scheduled_notices.send_due`` tells each once when due."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from services.registry.domain.listing import ListingPolicies, due_soon_from, overdue_from
from services.registry.domain.listing_notices import (
    CENTER_LINK,
    KIND,
    LINK,
    OVERDUE,
    OVERDUE_CENTER,
    ListingFacts,
    center_overdue_notice,
    listing_due_notice,
    overdue_notice,
    remind_at,
)
from services.registry.domain.notices import CITY_WIDE
from services.registry.scheduled_notices import cancel, schedule
from services.runtime.clock import POLICY_ZONE
from services.runtime.workdays import UnknownCalendarYear, WorkdayCalendar


def _facts(row: Mapping[str, Any]) -> ListingFacts:
    return ListingFacts(instrument_id=row["id"], unit_id=row["unit_id"], name=row["name"], deadline=row["listing_deadline"], asset_number=row["asset_number"])


def _unlisted_must_list(row: Mapping[str, Any]) -> bool:
    return bool(row["must_list"]) and row["listing_deadline"] is not None and row["listed_on"] is None


async def schedule_reminder(s: Any, row: Mapping[str, Any], *, calendar: WorkdayCalendar, policy: ListingPolicies, now: datetime) -> bool:
    """Schedule the reminder of an unlisted must-list instrument (``row``: an
    ``instruments`` row, not retired) whose deadline is today or later, due at 09:00 Beijing
    time on its first due-soon day (at once when that day has come). Nothing for
    any other instrument, or when one was scheduled or cancelled already.
    Whether it was scheduled."""
    if not _unlisted_must_list(row):
        return False
    deadline = row["listing_deadline"]
    if deadline < now.astimezone(POLICY_ZONE).date():  # overdue: nothing is approaching any more
        return False
    day = due_soon_from(row["acceptance_date"], deadline, calendar, policy)
    return await schedule(s, listing_due_notice(_facts(row)), ref=row["id"], due_at=remind_at(day), link=LINK, now=now)


async def schedule_overdue(s: Any, row: Mapping[str, Any], *, unit_name: str, calendar: WorkdayCalendar, now: datetime) -> bool:
    """Schedule the notices that an unlisted must-list instrument (``row``, not retired)
    is overdue, to its unit and to the center (``unit_name``: its unit's name), due at
    09:00 Beijing time on the first working day after its deadline (at once when that
    day is today). Nothing when that day has passed (the compliance view shows it
    overdue; a notice that late would tell nothing new), when the calendar does not
    know that day yet (the backfill pass schedules it once it does), or when they were
    scheduled or cancelled already. Whether the unit's was scheduled."""
    if not _unlisted_must_list(row):
        return False
    try:
        day = overdue_from(row["listing_deadline"], calendar)
    except UnknownCalendarYear:  # a deadline at the end of the last known year: registering it must not fail
        return False
    if day < now.astimezone(POLICY_ZONE).date():
        return False
    f, at = _facts(row), remind_at(day)
    told = await schedule(s, overdue_notice(f), ref=row["id"], due_at=at, link=LINK, now=now)
    await schedule(s, center_overdue_notice(f, unit_name), ref=row["id"], due_at=at, link=CENTER_LINK, now=now)
    return told


async def schedule_listing_notices(s: Any, row: Mapping[str, Any], *, unit_name: str, calendar: WorkdayCalendar, policy: ListingPolicies, now: datetime) -> None:
    """A newly registered instrument: its reminder and its overdue notices, in the caller's transaction."""
    await schedule_reminder(s, row, calendar=calendar, policy=policy, now=now)
    await schedule_overdue(s, row, unit_name=unit_name, calendar=calendar, now=now)


async def cancel_reminder(s: Any, row: Mapping[str, Any], *, now: datetime) -> None:
    """The instrument is listed or retired: a must-list one needs no reminder, nor
    anyone told it is overdue (what was told already stays told)."""
    if row["must_list"]:
        await cancel(s, KIND, row["id"], role="unit", org=row["unit_id"], now=now)
        await cancel(s, OVERDUE, row["id"], role="unit", org=row["unit_id"], now=now)
        await cancel(s, OVERDUE_CENTER, row["id"], role="center", org=CITY_WIDE, now=now)
