"""Bookings of instrument time over HTTP (issue 16): a user books a slot for
one of its orders, the unit confirms, declines or records a no-show, either
side cancels before the cut-off.

Every limit is a 422 with its own code at its field and changes nothing:
``booking.in_past``, ``booking.too_late``, ``booking.too_far_ahead``,
``booking.too_short``, ``booking.too_long``, ``booking.off_grid``,
``booking.outside_hours`` (official holidays included), ``booking.over_downtime``,
``booking.not_qualified`` (self-operated instrument) and ``booking.overlap``
(another requested or confirmed booking holds part of the slot; 422 as well,
under any concurrency)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import msgspec
from litestar import Controller, Request, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody, Parameter

from services.registry import bookings
from services.registry.domain.bookings import BookingStatus
from services.registry.schemas.bookings import Booking, BookingPage
from services.runtime.roles import Role
from services.runtime.http.auth import access
from services.runtime.http.app import actor_of
from services.runtime.http.edge import correlation_of
from services.runtime.http.pagination import PageNumber, PageSize
from services.runtime.db.service_db import ServiceDatabase
from services.runtime.workdays import WorkdayCalendar

Reason = Annotated[str, msgspec.Meta(max_length=4000)]
STAFF = (Role.CENTER, Role.BUREAU)


class BookingRequest(msgspec.Struct, forbid_unknown_fields=True):
    """A slot of an instrument for one of the caller's open orders on it. Times in ISO 8601
    with their offset (``2026-03-02T09:00:00+08:00``); a naive time: 422 ``booking.naive_time``."""

    instrument_id: Annotated[str, msgspec.Meta(max_length=36)]
    order_id: Annotated[str, msgspec.Meta(max_length=36)]
    starts_at: datetime
    ends_at: datetime
    note: Annotated[str, msgspec.Meta(max_length=2000)] | None = None


class ReasonRequest(msgspec.Struct, forbid_unknown_fields=True):
    reason: Reason | None = None


class BookingController(Controller):
    path = "/v1/bookings"
    tags = ["bookings"]

    @post("/", operation_id="createBooking", status_code=201, **access(Role.USER))
    async def create(self, request: Request, db: NamedDependency[ServiceDatabase], calendar: NamedDependency[WorkdayCalendar], data: JSONBody[BookingRequest]) -> Booking:
        """A user books a slot for one of its orders (requested … in service) that includes the
        instrument. Confirmed at once when the schedule's approval is ``automatic``, else
        ``requested`` until the unit decides. On a self-operated instrument only a person trained
        on it (the signed-in account) may book."""
        return await bookings.create_booking(
            db, calendar, actor_of(request), correlation_of(request), instrument_id=data.instrument_id, order_id=data.order_id, starts_at=data.starts_at, ends_at=data.ends_at, note=data.note
        )

    @get("/", operation_id="listBookings", **access(Role.USER, Role.UNIT, *STAFF))
    async def list_(
        self,
        request: Request,
        db: NamedDependency[ServiceDatabase],
        instrument_id: str | None = Parameter(default=None, max_length=36),
        order_id: str | None = Parameter(default=None, max_length=36),
        status: BookingStatus | None = Parameter(default=None, description="only bookings in this state"),
        page: PageNumber = 1,
        page_size: PageSize = 20,
    ) -> BookingPage:
        """A user's own bookings, a unit's bookings of its instruments; center and bureau all. Soonest first."""
        return await bookings.list_bookings(
            db, actor_of(request), instrument_id=instrument_id, order_id=order_id, status=str(status) if status else None, page=page, page_size=page_size
        )

    @get("/{booking_id:str}", operation_id="getBooking", **access(Role.USER, Role.UNIT, *STAFF))
    async def get_(self, request: Request, db: NamedDependency[ServiceDatabase], booking_id: FromPath[str]) -> Booking:
        """One booking: its user, its unit and staff see it; anybody else gets 404."""
        return await bookings.get_booking(db, actor_of(request), booking_id)

    @post("/{booking_id:str}/confirm", operation_id="confirmBooking", status_code=200, **access(Role.UNIT))
    async def confirm(self, request: Request, db: NamedDependency[ServiceDatabase], booking_id: FromPath[str]) -> Booking:
        """The unit confirms a requested booking. 409 ``booking.illegal_transition`` otherwise."""
        return await bookings.confirm(db, actor_of(request), correlation_of(request), booking_id)

    @post("/{booking_id:str}/decline", operation_id="declineBooking", status_code=200, **access(Role.UNIT))
    async def decline(self, request: Request, db: NamedDependency[ServiceDatabase], booking_id: FromPath[str], data: JSONBody[ReasonRequest]) -> Booking:
        """The unit declines a requested booking with a reason; its time is free again."""
        return await bookings.decline(db, actor_of(request), correlation_of(request), booking_id, data.reason)

    @post("/{booking_id:str}/cancel", operation_id="cancelBooking", status_code=200, **access(Role.USER, Role.UNIT))
    async def cancel(self, request: Request, db: NamedDependency[ServiceDatabase], booking_id: FromPath[str], data: JSONBody[ReasonRequest]) -> Booking:
        """The user or the unit cancels a requested or confirmed booking with a reason, until the
        schedule's cut-off (``cancel_before_hours`` before the start): later, 422 ``booking.cancel_too_late``."""
        return await bookings.cancel(db, actor_of(request), correlation_of(request), booking_id, data.reason)

    @post("/{booking_id:str}/no-show", operation_id="recordBookingNoShow", status_code=200, **access(Role.UNIT))
    async def no_show(self, request: Request, db: NamedDependency[ServiceDatabase], booking_id: FromPath[str]) -> Booking:
        """The unit records that the user did not come to a confirmed booking (after its start:
        before, 422 ``booking.not_started``)."""
        return await bookings.no_show(db, actor_of(request), correlation_of(request), booking_id)
