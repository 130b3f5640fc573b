"""The envelope every event carries.

Events are frozen, keyword-only msgspec Structs. A concrete event names its
subject as a ``ClassVar``; the producer is the first token of that subject, so
one definition cannot disagree with the other.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import ClassVar, TypeVar

import msgspec
import uuid_utils


def new_event_id() -> str:
    """A UUIDv7 as text: time-ordered, so ids sort by creation time."""
    return str(uuid_utils.uuid7())


def _wall_clock() -> datetime:
    return datetime.now(UTC)


#: where ``occurred_at`` comes from; the runtime points it at the platform's
#: clock (``services.runtime.clock``), so a rehearsal's simulated time dates events too
_time_source: Callable[[], datetime] = _wall_clock


def set_time_source(source: Callable[[], datetime]) -> None:
    global _time_source
    _time_source = source


def utc_now() -> datetime:
    return _time_source()


class Event(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=False):
    """Base of every event.

    ``correlation_id`` is the id of the request or journey that started the
    chain; ``causation_id`` the event id that directly caused this one.
    Unknown fields are ignored on decode, so producers may add fields with
    defaults without breaking consumers (a breaking change is a new ``.vN``).
    """

    subject: ClassVar[str]
    summary: ClassVar[str] = ""

    event_id: str = msgspec.field(default_factory=new_event_id)
    occurred_at: datetime = msgspec.field(default_factory=utc_now)
    producer: str = ""
    correlation_id: str | None = None
    causation_id: str | None = None

    def __post_init__(self) -> None:
        expected = type(self).subject.split(".", 1)[0]
        if not self.producer:
            # frozen Struct: set through the object base to fill the default
            msgspec.structs.force_setattr(self, "producer", expected)
        elif self.producer != expected:
            raise ValueError(f"producer {self.producer!r} does not own subject {type(self).subject!r}")
        if self.occurred_at.tzinfo is None:
            raise ValueError("occurred_at must be timezone-aware (UTC)")


def encode(event: Event) -> bytes:
    return msgspec.json.encode(event)


E = TypeVar("E", bound=Event)


def decode(data: bytes, event_type: type[E]) -> E:
    return msgspec.json.decode(data, type=event_type)
