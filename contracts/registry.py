"""Events produced by the registry service (stream ``REGISTRY``).

Unit and user events carry the whole public state of their aggregate and a
``version`` that grows by one with every change, so a consumer can keep a read
model from any single event and ignore one that arrives out of order.
"""

from __future__ import annotations

from datetime import date
from typing import ClassVar

from contracts.envelope import Event
from contracts.subjects import subject


class UnitSnapshot(Event, frozen=True, kw_only=True):
    unit_id: str
    version: int
    name: str
    credit_code: str
    kind: str
    parent_unit_id: str | None = None
    county_code: str | None = None
    department: str | None = None
    status: str
    accepts_vouchers: bool = False


class UnitApplied(UnitSnapshot, frozen=True, kw_only=True):
    subject: ClassVar[str] = subject("registry", "unit", "applied")
    summary: ClassVar[str] = "A unit applied to join the platform (R7)."


class UnitApproved(UnitSnapshot, frozen=True, kw_only=True):
    subject: ClassVar[str] = subject("registry", "unit", "approved")
    summary: ClassVar[str] = "The bureau approved a unit (R7)."
    reason: str | None = None


class UnitRejected(UnitSnapshot, frozen=True, kw_only=True):
    subject: ClassVar[str] = subject("registry", "unit", "rejected")
    summary: ClassVar[str] = "The bureau rejected a unit's application (R7)."
    reason: str


class UserSnapshot(Event, frozen=True, kw_only=True):
    user_id: str
    version: int
    name: str
    kind: str
    credit_code: str | None = None
    classes: list[str] = []
    special_classes: list[str] = []
    in_xuchang: bool
    verified: bool


class UserRegistered(UserSnapshot, frozen=True, kw_only=True):
    subject: ClassVar[str] = subject("registry", "user", "registered")
    summary: ClassVar[str] = "An enterprise or start-up team registered as a user (R4)."


class UserVerified(UserSnapshot, frozen=True, kw_only=True):
    subject: ClassVar[str] = subject("registry", "user", "verified")
    summary: ClassVar[str] = "The center verified a user; it may now apply for vouchers (R4, R19)."


class InstrumentSnapshot(Event, frozen=True, kw_only=True):
    """An instrument's public listing state; amounts in fen."""

    instrument_id: str
    unit_id: str
    version: int
    name: str
    category: str
    county_code: str | None = None
    funding: str
    original_value_fen: int
    must_list: bool
    listing_deadline: date | None = None
    status: str


class InstrumentRegistered(InstrumentSnapshot, frozen=True, kw_only=True):
    subject: ClassVar[str] = subject("registry", "instrument", "registered")
    summary: ClassVar[str] = "A unit registered a research instrument; must_list and the listing deadline are computed (M5, M6, M11(3))."


class InstrumentListed(InstrumentSnapshot, frozen=True, kw_only=True):
    subject: ClassVar[str] = subject("registry", "instrument", "listed")
    summary: ClassVar[str] = "An instrument was listed on the platform; on_time tells whether by its deadline (M11(3))."
    listed_on: date
    on_time: bool


EVENTS: tuple[type[Event], ...] = (UnitApplied, UnitApproved, UnitRejected, UserRegistered, UserVerified, InstrumentRegistered, InstrumentListed)
