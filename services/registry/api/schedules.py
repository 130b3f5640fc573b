"""Instrument time over HTTP (issue 16): an instrument's schedule, downtime,
qualifications (the owner unit), and its free and busy time (public).

Times are ISO 8601 with their offset (a naive time is refused with
``booking.naive_time`` / 422); answers are UTC (``Z``)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

import msgspec
from litestar import Controller, Request, Response, get, post, put
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody, Parameter, QueryParameter

from services.registry import schedules
from services.registry.domain.schedules import (
    MAX_AHEAD_DAYS,
    MAX_BOOKING_MINUTES,
    MAX_CANCEL_HOURS,
    MAX_INTERVALS_PER_DAY,
    MAX_LATE_MINUTES,
    MAX_SLOT_MINUTES,
    Approval,
    OperatedBy,
)
from services.registry.schemas.schedules import Availability, Downtime, InstrumentSchedule, Qualification
from services.runtime import clock
from services.runtime.http.auth import PUBLIC, access
from services.runtime.roles import Role
from services.runtime.http.app import actor_of
from services.runtime.http.edge import correlation_of
from services.runtime.http.preconditions import ETAG_HEADER, IfMatchHeader, IfNoneMatchHeader, create_only, expected_version, tagged
from services.runtime.db.service_db import ServiceDatabase
from services.runtime.workdays import WorkdayCalendar

HHMM = Annotated[str, msgspec.Meta(pattern=r"^\d{2}:\d{2}$", description="local time (Asia/Shanghai), HH:MM; 24:00 ends a day")]
Span = Annotated[list[HHMM], msgspec.Meta(min_length=2, max_length=2, description='["08:30", "12:00"]')]
DaySpans = Annotated[list[Span], msgspec.Meta(max_length=MAX_INTERVALS_PER_DAY)]
Reason = Annotated[str, msgspec.Meta(max_length=4000)]


class ScheduleRequest(msgspec.Struct, forbid_unknown_fields=True):
    """The whole schedule; an omitted setting takes its default (Mon–Fri 08:30–12:00 and
    14:00–17:30, 30-minute slots, 30 minutes to 8 hours, up to 28 days ahead and 60 minutes
    before the start, cancellation until 24 hours before, staff-operated, approval required)."""

    #: per weekday (mon … sun), the opening intervals in local time; a missing day is closed
    weekly_hours: dict[str, DaySpans] | None = None
    closed_on_holidays: bool = True
    open_on_makeup_days: bool = True
    slot_minutes: Annotated[int, msgspec.Meta(ge=1, le=MAX_SLOT_MINUTES)] = 30
    min_minutes: Annotated[int, msgspec.Meta(ge=1, le=MAX_BOOKING_MINUTES)] = 30
    max_minutes: Annotated[int, msgspec.Meta(ge=1, le=MAX_BOOKING_MINUTES)] = 480
    book_ahead_days: Annotated[int, msgspec.Meta(ge=1, le=MAX_AHEAD_DAYS)] = 28
    book_before_minutes: Annotated[int, msgspec.Meta(ge=0, le=MAX_LATE_MINUTES)] = 60
    cancel_before_hours: Annotated[int, msgspec.Meta(ge=0, le=MAX_CANCEL_HOURS)] = 24
    operated_by: OperatedBy = OperatedBy.staff
    approval: Approval = Approval.required


class DowntimeRequest(msgspec.Struct, forbid_unknown_fields=True):
    starts_at: datetime
    ends_at: datetime
    reason: Reason


class QualificationRequest(msgspec.Struct, forbid_unknown_fields=True):
    #: the login name of the person (an account of a user organisation)
    username: Annotated[str, msgspec.Meta(min_length=1, max_length=64)]
    #: the last day (Asia/Shanghai) the qualification is in force
    valid_until: date


class RevokeRequest(msgspec.Struct, forbid_unknown_fields=True):
    reason: Reason | None = None


class InstrumentTimeController(Controller):
    path = "/v1/instruments"
    tags = ["bookings"]

    @get("/{instrument_id:str}/schedule", operation_id="getInstrumentSchedule", response_headers=ETAG_HEADER, **access(PUBLIC))
    async def get_schedule(self, request: Request, db: NamedDependency[ServiceDatabase], instrument_id: FromPath[str]) -> Response[InstrumentSchedule]:
        """An instrument's opening hours and booking limits: public once it is listed and in
        service, else its unit and staff only. 422 ``booking.no_schedule`` when none is published.
        Its ``version`` is the ``ETag`` (send it as ``If-Match`` when setting the schedule)."""
        schedule = await schedules.get_schedule(db, actor_of(request), instrument_id)
        return tagged(schedule, schedule.version)

    @put("/{instrument_id:str}/schedule", operation_id="setInstrumentSchedule", response_headers=ETAG_HEADER, **access(Role.UNIT))
    async def set_schedule(
        self, request: Request, db: NamedDependency[ServiceDatabase], instrument_id: FromPath[str], data: JSONBody[ScheduleRequest], if_match: IfMatchHeader = None,
        if_none_match: IfNoneMatchHeader = None,
    ) -> Response[InstrumentSchedule]:
        """The owner unit sets the whole schedule (audited). Each inconsistency is a 422 at its field:
        ``schedule.invalid_time``, ``schedule.empty_interval``, ``schedule.overlapping_intervals``,
        ``schedule.hours_off_grid``, ``schedule.length_off_grid``, ``schedule.min_above_max`` …
        With ``If-Match`` only the version read is replaced (412 otherwise); the first schedule
        takes no ``If-Match`` (a tag or ``*`` is 412: there is none yet); with ``If-None-Match: *`` only a first one is saved (412 ``request.record_exists`` when one exists)."""
        values = msgspec.structs.asdict(data)
        schedule = await schedules.set_schedule(
            db, actor_of(request), correlation_of(request), instrument_id, values, expected_version=expected_version(if_match), if_match_sent=if_match is not None,
            only_create=create_only(if_none_match),
        )
        return tagged(schedule, schedule.version)

    @post("/{instrument_id:str}/downtimes", operation_id="addInstrumentDowntime", status_code=201, **access(Role.UNIT))
    async def add_downtime(self, request: Request, db: NamedDependency[ServiceDatabase], instrument_id: FromPath[str], data: JSONBody[DowntimeRequest]) -> Downtime:
        """The owner unit blocks time with a reason (maintenance, repair). Requested and confirmed
        bookings under it are cancelled with the downtime's reason; the answer lists them."""
        return await schedules.add_downtime(db, actor_of(request), correlation_of(request), instrument_id, starts_at=data.starts_at, ends_at=data.ends_at, reason=data.reason)

    @get("/{instrument_id:str}/downtimes", operation_id="listInstrumentDowntimes", **access(PUBLIC))
    async def list_downtimes(self, request: Request, db: NamedDependency[ServiceDatabase], instrument_id: FromPath[str], since: datetime | None = Parameter(default=None, description="only downtime ending after this (default: now)")) -> list[Downtime]:
        """An instrument's downtime still to come (public: the reason is part of the notice)."""
        return await schedules.list_downtimes(db, actor_of(request), instrument_id, since=since or clock.utc_now())

    @put("/{instrument_id:str}/qualifications", operation_id="grantQualification", **access(Role.UNIT))
    async def grant(self, request: Request, db: NamedDependency[ServiceDatabase], instrument_id: FromPath[str], data: JSONBody[QualificationRequest]) -> Qualification:
        """The owner unit records that a person (an account of a user organisation) is trained on
        the instrument until ``valid_until``; again: renewed. Only qualified people book a
        self-operated instrument."""
        return await schedules.grant_qualification(db, actor_of(request), correlation_of(request), instrument_id, username=data.username, valid_until=data.valid_until)

    @get("/{instrument_id:str}/qualifications", operation_id="listQualifications", **access(Role.UNIT))
    async def list_qualifications(self, request: Request, db: NamedDependency[ServiceDatabase], instrument_id: FromPath[str]) -> list[Qualification]:
        """Who is trained on the instrument, with expiry (the owner unit)."""
        return await schedules.list_qualifications(db, actor_of(request), instrument_id)

    @post("/{instrument_id:str}/qualifications/{qualification_id:str}/revoke", operation_id="revokeQualification", status_code=200, **access(Role.UNIT))
    async def revoke(self, request: Request, db: NamedDependency[ServiceDatabase], instrument_id: FromPath[str], qualification_id: FromPath[str], data: JSONBody[RevokeRequest]) -> Qualification:
        """The owner unit withdraws a qualification, with a reason."""
        return await schedules.revoke_qualification(db, actor_of(request), correlation_of(request), instrument_id, qualification_id, reason=data.reason)

    @get("/{instrument_id:str}/availability", operation_id="getInstrumentAvailability", **access(PUBLIC))
    async def availability(
        self,
        db: NamedDependency[ServiceDatabase],
        calendar: NamedDependency[WorkdayCalendar],
        instrument_id: FromPath[str],
        from_: Annotated[datetime, QueryParameter(name="from", description="ISO 8601 with offset")],
        to: Annotated[datetime, QueryParameter(description="ISO 8601 with offset; at most 42 days after ``from``")],
    ) -> Availability:
        """Free and busy time of a listed instrument (public; busy says ``booked`` or ``downtime``,
        never who). Free time is the opening hours from now on (holidays closed, make-up working
        days open by default) less bookings and downtime."""
        return await schedules.availability(db, calendar, instrument_id, start=from_, end=to)
