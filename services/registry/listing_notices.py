"""The unit's reminder before a must-list instrument's listing deadline (issue 17,
M11(3)), written in the registry's own transactions: registering an instrument
schedules it (``register_in``, one by one or by a ledger import), listing or
retiring it cancels it (``list_instrument``, ``retire_instrument``); the
instruments registered before the reminder existed are scheduled by a periodic
pass (``listing_backfill.py``). ``scheduled_notices.send_due`` tells it once when due."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from services.registry.domain.listing import ListingPolicies, due_soon_from
from services.registry.domain.listing_notices import KIND, LINK, ListingFacts, listing_due_notice, remind_at
from services.registry.scheduled_notices import cancel, schedule
from services.runtime.clock import POLICY_ZONE
from services.runtime.workdays import WorkdayCalendar


async def schedule_reminder(s: Any, row: Mapping[str, Any], *, calendar: WorkdayCalendar, policy: ListingPolicies, now: datetime) -> bool:
    """Schedule the reminder of an unlisted must-list instrument (``row``: an
    ``instruments`` row, not retired) whose deadline is today or later, due at 09:00 Beijing
    time on its first due-soon day (at once when that day has come). Nothing for
    any other instrument, or when one was scheduled or cancelled already.
    Whether it was scheduled."""
    deadline = row["listing_deadline"]
    if not row["must_list"] or deadline is None or row["listed_on"] is not None:
        return False
    if deadline < now.astimezone(POLICY_ZONE).date():  # overdue: nothing is approaching any more
        return False
    day = due_soon_from(row["acceptance_date"], deadline, calendar, policy)
    facts = ListingFacts(instrument_id=row["id"], unit_id=row["unit_id"], name=row["name"], deadline=deadline, asset_number=row["asset_number"])
    return await schedule(s, listing_due_notice(facts), ref=row["id"], due_at=remind_at(day), link=LINK, now=now)


async def cancel_reminder(s: Any, row: Mapping[str, Any], *, now: datetime) -> None:
    """The instrument is listed or retired: a must-list one needs no reminder."""
    if row["must_list"]:
        await cancel(s, KIND, row["id"], role="unit", org=row["unit_id"], now=now)
