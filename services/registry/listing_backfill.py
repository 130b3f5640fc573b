"""The listing reminders of instruments registered before the reminder existed
(issue 17, M11(3)): a periodic pass of the registry worker schedules the reminder
(``listing_notices.schedule_reminder``) of each unlisted, not retired, must-list
instrument whose deadline is still ahead and that has no ``scheduled_notices``
row of that kind (scheduled, told or cancelled), so each once; when none is
missing, it costs one query. A pass rather than a data migration: the due day
needs the working-day calendar (chinese-calendar and ``XCISS_CALENDAR_FILE``)
and the policy file, which alembic does not load. Two workers running it at
once may both find an instrument: the second insert does nothing
(``scheduled_notices.schedule``: ON CONFLICT DO NOTHING on the (kind, ref) index)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import and_, select

from services.registry.db.instrument_models import instruments
from services.registry.db.notification_models import scheduled_notices
from services.registry.domain.listing import ListingPolicies
from services.registry.domain.listing_notices import KIND
from services.registry.instruments import RETIRED
from services.registry.listing_notices import schedule_reminder
from services.registry.policy import load_registry_policies
from services.runtime import clock
from services.runtime.bus.consumers import Periodic
from services.runtime.clock import POLICY_ZONE
from services.runtime.db.service_db import ServiceDatabase
from services.runtime.db.unit_of_work import SYSTEM
from services.runtime.settings import Settings
from services.runtime.workdays import UnknownCalendarYear, WorkdayCalendar, load_calendar

#: how many instruments one pass schedules at most (the next pass takes the rest)
BATCH = 500


async def ensure_scheduled(db: ServiceDatabase, calendar: WorkdayCalendar, policy: ListingPolicies, now: datetime | None = None) -> int:
    """Schedule the reminder of each unlisted must-list instrument whose deadline
    is still ahead and that has none (scheduled, told or cancelled): those
    registered before the reminder existed. Idempotent; the number scheduled."""
    now = now or clock.utc_now()
    today = now.astimezone(POLICY_ZONE).date()
    known = and_(scheduled_notices.c.kind == KIND, scheduled_notices.c.ref == instruments.c.id)
    q = (
        select(instruments)
        .outerjoin(scheduled_notices, known)
        .where(
            scheduled_notices.c.id.is_(None),
            instruments.c.must_list.is_(True),
            instruments.c.listed_on.is_(None),
            instruments.c.status != RETIRED,
            instruments.c.listing_deadline >= today,
        )
        .order_by(instruments.c.listing_deadline, instruments.c.id)
        .limit(BATCH)
    )
    scheduled = 0
    async with db.unit_of_work(SYSTEM, None) as uow:
        for row in (await uow.session.execute(q)).mappings().all():
            try:
                scheduled += await schedule_reminder(uow.session, row, calendar=calendar, policy=policy, now=now)
            except UnknownCalendarYear:  # a calendar year removed from the configuration since: no reminder rather than none for all
                continue
    return scheduled


def task(settings: Settings) -> Periodic:
    """The registry worker's pass scheduling the reminders of instruments registered before they existed."""
    calendar, policy = load_calendar(settings), load_registry_policies(settings).listing

    async def run(db: ServiceDatabase) -> int:
        return await ensure_scheduled(db, calendar, policy)

    return Periodic("ensure_listing_reminders", settings.notice_interval_s, run)
