"""The events a booking's state changes publish (issue 16), one per state,
each carrying the booking as it now stands."""

from __future__ import annotations

from sqlalchemy.engine import RowMapping

from contracts import registry as ev
from services.registry.domain.bookings import BookingStatus

#: the event each state change publishes (through the outbox, in the same transaction)
EVENT_OF: dict[str, type[ev.BookingSnapshot]] = {
    str(BookingStatus.requested): ev.BookingRequested,
    str(BookingStatus.confirmed): ev.BookingConfirmed,
    str(BookingStatus.declined): ev.BookingDeclined,
    str(BookingStatus.cancelled): ev.BookingCancelled,
    str(BookingStatus.no_show): ev.BookingNoShow,
    str(BookingStatus.used): ev.BookingUsed,
}


def booking_event(r: RowMapping) -> ev.BookingSnapshot:
    return EVENT_OF[r["status"]](
        booking_id=r["id"],
        version=r["version"],
        instrument_id=r["instrument_id"],
        unit_id=r["unit_id"],
        user_id=r["user_id"],
        order_id=r["order_id"],
        starts_at=r["starts_at"],
        ends_at=r["ends_at"],
        status=r["status"],
        reason=r["reason"],
        party=r["decided_party"],
        downtime_id=r["downtime_id"],
    )
