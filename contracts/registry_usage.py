"""Usage-log events produced by the registry service (stream ``REGISTRY``,
issue 16): a finished session of use of an instrument, and a correction of
one. They carry what the evaluation's use indicators need (effective hours,
hours served to outside users, per unit and instrument); no personal data
beyond the ids the order events already carry (an internal session's
researcher name stays in the registry).

A session that is only checked in (still open) is not an event: it is
published when it is finished (checked out, or posted whole by a recorder).
"""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar

from contracts.envelope import Event
from contracts.subjects import subject


class UsageSnapshot(Event, frozen=True, kw_only=True):
    session_id: str
    #: grows by one with every change of the session (a correction is version 2, 3, ...)
    version: int
    instrument_id: str
    unit_id: str
    #: outside (an outside user's order) / internal (the unit's own researchers)
    kind: str
    #: the order served (outside sessions)
    order_id: str | None = None
    #: the order's user (outside sessions)
    user_id: str | None = None
    booking_id: str | None = None
    #: staff (checked in and out by the unit) / recorder (posted by an instrument-side recorder)
    source: str
    #: UTC
    started_at: datetime
    #: UTC
    ended_at: datetime
    #: whole minutes between start and end
    minutes: int


class UsageRecorded(UsageSnapshot, frozen=True, kw_only=True):
    subject: ClassVar[str] = subject("registry", "usage", "recorded")
    summary: ClassVar[str] = "A session of use of an instrument was finished and recorded with its actual start and end (issue 16)."


class UsageCorrected(UsageSnapshot, frozen=True, kw_only=True):
    subject: ClassVar[str] = subject("registry", "usage", "corrected")
    summary: ClassVar[str] = (
        "The unit corrected a recorded session's times with a reason (issue 16); the event carries the new times "
        "and the previous ones, and replaces the session's earlier figures."
    )
    previous_started_at: datetime
    previous_ended_at: datetime
    previous_minutes: int
    reason: str


EVENTS: tuple[type[Event], ...] = (UsageRecorded, UsageCorrected)
