"""The usage log over HTTP (issue 16): sessions of use of an instrument,
checked in and out (or entered whole) by the unit's staff, corrected by the
unit with a reason, read by the unit (its own) and staff reviewers (all).
Recorders and their posts are in :mod:`services.registry.api.usage_recorders`.

Times are RFC 3339 with an offset (``2026-12-03T09:00:00+08:00``); they are
stored in UTC and answered in UTC."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated

import msgspec
from litestar import Controller, Request, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody, Parameter

from services.registry import usage
from services.registry.domain.usage import (
    REASON_MAX,
    RESEARCHER_MAX,
    UsageKind,
)
from services.registry.schemas.usage import UsageSession, UsageSessionPage
from services.registry.usage_reads import get_session, list_sessions
from services.runtime.http.auth import Principal, access, principal_of
from services.runtime.roles import Role
from services.runtime.http.app import actor_of
from services.runtime.http.edge import correlation_of
from services.runtime.http.pagination import PageNumber, PageSize
from services.runtime.db.service_db import ServiceDatabase
from services.runtime.settings import Settings

#: staff reviewers read every unit's sessions
STAFF = (Role.CENTER, Role.BUREAU)

#: a time with its UTC offset (a time without one is 400 request.invalid)
Instant = Annotated[datetime, msgspec.Meta(tz=True)]
Id = Annotated[str, msgspec.Meta(min_length=1, max_length=36)]
Researcher = Annotated[str, msgspec.Meta(max_length=RESEARCHER_MAX)]


class SessionUse(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """What a session is for: ``outside`` names an in-service order of the unit,
    ``internal`` the unit's researcher or group; optionally the booking it served."""

    kind: UsageKind
    order_id: Id | None = None
    researcher: Researcher | None = None
    booking_id: Id | None = None

    def use(self) -> usage.Use:
        return usage.Use(kind=self.kind, order_id=self.order_id, researcher=self.researcher, booking_id=self.booking_id)


class CheckInRequest(SessionUse, forbid_unknown_fields=True, kw_only=True):
    instrument_id: Id
    #: when use began (default now); not in the future
    at: Instant | None = None


class CheckOutRequest(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    #: when use ended (default now); after the start, not in the future
    at: Instant | None = None


class FinishedSessionRequest(SessionUse, forbid_unknown_fields=True, kw_only=True):
    instrument_id: Id
    started_at: Instant
    ended_at: Instant


class CorrectionRequest(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    started_at: Instant
    ended_at: Instant
    reason: Annotated[str, msgspec.Meta(max_length=REASON_MAX)] | None = None


def max_session(settings: Settings) -> timedelta:
    return timedelta(hours=settings.usage_max_session_h)


def _unit(p: Principal) -> usage.Recorded:
    return usage.Recorded(unit_id=p.org or "")


def _scope(p: Principal) -> str | None:
    """The unit whose sessions the caller sees (None: staff see all)."""
    return (p.org or "") if p.role is Role.UNIT else None


class UsageSessionController(Controller):
    path = "/v1/usage/sessions"
    tags = ["usage"]

    @post("/check-in", operation_id="checkInUsage", status_code=201, **access(Role.UNIT))
    async def check_in(self, request: Request, db: NamedDependency[ServiceDatabase], data: JSONBody[CheckInRequest]) -> UsageSession:
        """The unit's staff check in a session on one of the unit's instruments (now or at an earlier
        ``at``): it stays open until checked out. Refused while another session of the instrument is
        open or overlaps (422 ``usage.overlap``), in the future (422 ``usage.in_future``), for an order
        of another unit or not in service (422 ``usage.unknown_order`` / ``usage.order_not_in_service``)."""
        p = principal_of(request)
        return await usage.check_in(db, actor_of(request), correlation_of(request), _unit(p), data.instrument_id, data.use(), at=data.at)

    @post("/{session_id:str}/check-out", operation_id="checkOutUsage", status_code=200, **access(Role.UNIT))
    async def check_out(
        self, request: Request, db: NamedDependency[ServiceDatabase], settings: NamedDependency[Settings], session_id: FromPath[str], data: JSONBody[CheckOutRequest]
    ) -> UsageSession:
        """The unit's staff check out an open session (now or at an earlier ``at``); it is recorded
        (UsageRecorded) with its minutes. A session that is not open is 409 ``usage.not_open``; longer
        than the maximum (24 h by default) is 422 ``usage.too_long``."""
        p = principal_of(request)
        return await usage.check_out(db, actor_of(request), correlation_of(request), _unit(p), session_id=session_id, at=data.at, max_session=max_session(settings))

    @post("/", operation_id="recordUsage", status_code=201, **access(Role.UNIT))
    async def record(
        self, request: Request, db: NamedDependency[ServiceDatabase], settings: NamedDependency[Settings], data: JSONBody[FinishedSessionRequest]
    ) -> UsageSession:
        """The unit's staff enter a finished session whole (start and end; UsageRecorded). The end lies
        after the start (422 ``usage.end_before_start``), neither in the future, at most the maximum
        length, and no other session of the instrument overlaps."""
        p = principal_of(request)
        return await usage.record_session(
            db, actor_of(request), correlation_of(request), _unit(p), data.instrument_id, data.use(), started_at=data.started_at, ended_at=data.ended_at, max_session=max_session(settings)
        )

    @post("/{session_id:str}/correct", operation_id="correctUsage", status_code=200, **access(Role.UNIT))
    async def correct(
        self, request: Request, db: NamedDependency[ServiceDatabase], settings: NamedDependency[Settings], session_id: FromPath[str], data: JSONBody[CorrectionRequest]
    ) -> UsageSession:
        """The unit corrects a closed session's start and end with a reason (422 ``usage.reason_required``);
        the times before are kept in ``corrections`` and the audit trail (UsageCorrected). An open session
        is 409 ``usage.not_closed``; a session of an order whose results are delivered can no longer change."""
        p = principal_of(request)
        return await usage.correct(
            db, actor_of(request), correlation_of(request), p.org or "", session_id, started_at=data.started_at, ended_at=data.ended_at, reason=data.reason, max_session=max_session(settings)
        )

    @get("/{session_id:str}", operation_id="getUsageSession", **access(Role.UNIT, *STAFF))
    async def get_(self, request: Request, db: NamedDependency[ServiceDatabase], session_id: FromPath[str]) -> UsageSession:
        """One session with its corrections: the unit's own, or any for staff (else 404)."""
        return await get_session(db, session_id, _scope(principal_of(request)))

    @get("/", operation_id="listUsageSessions", **access(Role.UNIT, *STAFF))
    async def list_(
        self,
        request: Request,
        db: NamedDependency[ServiceDatabase],
        instrument_id: str | None = Parameter(default=None, description="only this instrument's sessions"),
        order_id: str | None = Parameter(default=None, description="only this order's sessions"),
        page: PageNumber = 1,
        page_size: PageSize = 20,
    ) -> UsageSessionPage:
        """Sessions, latest start first: a unit its own, staff every unit's."""
        return await list_sessions(db, _scope(principal_of(request)), instrument_id=instrument_id, order_id=order_id, page=page, page_size=page_size)
