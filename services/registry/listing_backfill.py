"""The listing notices of instruments registered before they existed (issue 17,
M11(3)): a periodic pass of the registry worker schedules, for each unlisted, not
retired, must-list instrument, the reminder (``listing_notices.schedule_reminder``)
when its deadline is still ahead, and the notices that it is overdue
(``listing_notices.schedule_overdue``, to the unit and the center) when the first
working day after its deadline is today or later, each when no
``scheduled_notices`` row of that kind exists (scheduled, told or cancelled), so
each once; when none is missing, it costs two queries. A pass rather than a data
migration: the days need the working-day calendar (chinese-calendar and
``XCISS_CALENDAR_FILE``) and the policy file, which alembic does not load. Two
workers running it at once may both find an instrument: the second insert does
nothing (``scheduled_notices.schedule``: ON CONFLICT DO NOTHING on the (kind, ref) index)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import and_, select

from services.registry.db.instrument_models import instruments
from services.registry.db.notification_models import scheduled_notices
from services.registry.db.party_models import units
from services.registry.domain.listing import ListingPolicies, last_workday_before
from services.registry.domain.listing_notices import KIND, OVERDUE
from services.registry.instruments import RETIRED
from services.registry.listing_notices import schedule_overdue, schedule_reminder
from services.registry.policy import load_registry_policies
from services.runtime import clock
from services.runtime.bus.consumers import Periodic
from services.runtime.clock import POLICY_ZONE
from services.runtime.db.service_db import ServiceDatabase
from services.runtime.db.unit_of_work import SYSTEM
from services.runtime.settings import Settings
from services.runtime.workdays import UnknownCalendarYear, WorkdayCalendar, load_calendar

#: how many instruments one pass schedules at most, of each kind (the next pass takes the rest)
BATCH = 500


def _missing(kind: str, since: date) -> Any:
    """Unlisted, not retired must-list instruments with a deadline on or after ``since``
    and no ``scheduled_notices`` row of ``kind``, with their unit's name, soonest first."""
    known = and_(scheduled_notices.c.kind == kind, scheduled_notices.c.ref == instruments.c.id)
    return (
        select(instruments, units.c.name.label("unit_name"))
        .join(units, units.c.id == instruments.c.unit_id)
        .outerjoin(scheduled_notices, known)
        .where(
            scheduled_notices.c.id.is_(None),
            instruments.c.must_list.is_(True),
            instruments.c.listed_on.is_(None),
            instruments.c.status != RETIRED,
            instruments.c.listing_deadline >= since,
        )
        .order_by(instruments.c.listing_deadline, instruments.c.id)
        .limit(BATCH)
    )


async def ensure_scheduled(db: ServiceDatabase, calendar: WorkdayCalendar, policy: ListingPolicies, now: datetime | None = None) -> int:
    """Schedule the reminder of each unlisted must-list instrument whose deadline is
    still ahead, and the overdue notices of each whose first working day after the
    deadline is today or later, when it has none (scheduled, told or cancelled): those
    registered before they existed. Idempotent; the number of the unit's notices scheduled."""
    now = now or clock.utc_now()
    today = now.astimezone(POLICY_ZONE).date()
    scheduled = 0
    async with db.unit_of_work(SYSTEM, None) as uow:
        s = uow.session
        for row in (await s.execute(_missing(KIND, today))).mappings().all():
            try:
                scheduled += await schedule_reminder(s, row, calendar=calendar, policy=policy, now=now)
            except UnknownCalendarYear:  # a calendar year removed from the configuration since: no reminder rather than none for all
                continue
        try:  # told on the first working day after the deadline: deadlines from the last working day before today
            since = last_workday_before(today, calendar)
        except UnknownCalendarYear:  # today is in a year the calendar does not know: nothing can be told on time
            return scheduled
        for row in (await s.execute(_missing(OVERDUE, since))).mappings().all():
            scheduled += await schedule_overdue(s, row, unit_name=row["unit_name"], calendar=calendar, now=now)
    return scheduled


def task(settings: Settings) -> Periodic:
    """The registry worker's pass scheduling the listing notices of instruments registered before they existed."""
    calendar, policy = load_calendar(settings), load_registry_policies(settings).listing

    async def run(db: ServiceDatabase) -> int:
        return await ensure_scheduled(db, calendar, policy)

    return Periodic("ensure_listing_reminders", settings.notice_interval_s, run)
