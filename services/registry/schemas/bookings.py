"""Bookings of instrument time as the registry answers with them (issue 16)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import msgspec

from services.runtime.http.pagination import Page, page_schema


class Booking(msgspec.Struct):
    booking_id: str
    instrument_id: str
    unit_id: str
    user_id: str
    order_id: str
    starts_at: datetime
    ends_at: datetime
    #: requested / confirmed / declined / cancelled / no_show
    status: str
    created_at: datetime
    version: int
    note: str | None = None
    #: the reason of a decline or cancellation (a downtime's when it cancelled the booking)
    reason: str | None = None
    #: who decided last: user / unit
    decided_party: str | None = None
    decided_at: datetime | None = None
    downtime_id: str | None = None
    #: the order's case number (DD-2026-000123), how people name the order the booking is for
    order_case_no: str | None = None


BookingPage = Annotated[Page[Booking], page_schema("BookingPage")]
