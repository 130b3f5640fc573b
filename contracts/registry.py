"""Events produced by the registry service (stream ``REGISTRY``).

Unit and user events carry the whole public state of their aggregate and a
``version`` that grows by one with every change, so a consumer can keep a read
model from any single event and ignore one that arrives out of order.
"""

from __future__ import annotations

from datetime import date, datetime
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


#: the user classes the registry records (R4) and the special classes (R16): the
#: words of ``classes`` and ``special_classes`` below; a voucher programme's eligible
#: and special classes are chosen from them
USER_CLASSES: tuple[str, ...] = ("above_scale_industrial", "high_tech", "tech_sme", "startup_team")
SPECIAL_CLASSES: tuple[str, ...] = ("innovation_leader", "gazelle")


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
    sound_finances: bool = True


class UserRegistered(UserSnapshot, frozen=True, kw_only=True):
    subject: ClassVar[str] = subject("registry", "user", "registered")
    summary: ClassVar[str] = "An enterprise or start-up team registered as a user (R4)."


class UserVerified(UserSnapshot, frozen=True, kw_only=True):
    subject: ClassVar[str] = subject("registry", "user", "verified")
    summary: ClassVar[str] = "The center verified a user; it may now apply for vouchers (R4, R19)."


class UserRejected(UserSnapshot, frozen=True, kw_only=True):
    subject: ClassVar[str] = subject("registry", "user", "rejected")
    summary: ClassVar[str] = (
        "The center rejected a user's registration (for example a credit code that belongs to another enterprise); "
        "it is not verified and may not apply for vouchers (R4)."
    )


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


class InstrumentChanged(InstrumentSnapshot, frozen=True, kw_only=True):
    subject: ClassVar[str] = subject("registry", "instrument", "changed")
    summary: ClassVar[str] = "An instrument's public data or status (in service / maintenance) changed."
    listed_on: date | None = None


class InstrumentRetired(InstrumentSnapshot, frozen=True, kw_only=True):
    subject: ClassVar[str] = subject("registry", "instrument", "retired")
    summary: ClassVar[str] = "An instrument was retired; it no longer takes orders."
    listed_on: date | None = None


class UnitVoucherAcceptanceGranted(UnitSnapshot, frozen=True, kw_only=True):
    subject: ClassVar[str] = subject("registry", "unit", "voucher_acceptance_granted")
    summary: ClassVar[str] = "A unit was approved to accept innovation vouchers (R18)."
    reason: str | None = None


class UnitVoucherAcceptanceRevoked(UnitSnapshot, frozen=True, kw_only=True):
    subject: ClassVar[str] = subject("registry", "unit", "voucher_acceptance_revoked")
    summary: ClassVar[str] = "A unit may no longer accept innovation vouchers (R18, R27)."
    reason: str


class UnitSuspended(UnitSnapshot, frozen=True, kw_only=True):
    subject: ClassVar[str] = subject("registry", "unit", "suspended")
    summary: ClassVar[str] = "A unit's sharing was suspended; it takes no orders until reinstated."
    reason: str


class UnitReinstated(UnitSnapshot, frozen=True, kw_only=True):
    subject: ClassVar[str] = subject("registry", "unit", "reinstated")
    summary: ClassVar[str] = "A suspended unit was reinstated."
    reason: str | None = None


class UnitDisqualified(UnitSnapshot, frozen=True, kw_only=True):
    subject: ClassVar[str] = subject("registry", "unit", "disqualified")
    summary: ClassVar[str] = "A unit's sharing qualification was cancelled (R27); final."
    reason: str


class UserClassesChanged(UserSnapshot, frozen=True, kw_only=True):
    subject: ClassVar[str] = subject("registry", "user", "classes_changed")
    summary: ClassVar[str] = "A user's classes, special classes or credit status changed (R4, R16, R26)."


class PriceSnapshot(Event, frozen=True, kw_only=True):
    price_item_id: str
    instrument_id: str
    unit_id: str
    version: int
    name: str
    billing_unit: str
    price_fen: int
    basis: str
    active: bool


class PricePublished(PriceSnapshot, frozen=True, kw_only=True):
    subject: ClassVar[str] = subject("registry", "price", "published")
    summary: ClassVar[str] = "A service item's price was published or changed (M11(4), R9); amounts in fen."


class AffiliationSnapshot(Event, frozen=True, kw_only=True):
    affiliation_id: str
    user_id: str
    unit_id: str
    kind: str


class AffiliationRecorded(AffiliationSnapshot, frozen=True, kw_only=True):
    subject: ClassVar[str] = subject("registry", "affiliation", "recorded")
    summary: ClassVar[str] = "A tie between a user and a unit was recorded; vouchers are excluded between them (R26)."
    source: str


class AffiliationRemoved(AffiliationSnapshot, frozen=True, kw_only=True):
    subject: ClassVar[str] = subject("registry", "affiliation", "removed")
    summary: ClassVar[str] = "A recorded tie between a user and a unit was removed."
    reason: str


class BlacklistSnapshot(Event, frozen=True, kw_only=True):
    entry_id: str
    party_type: str
    party_id: str
    party_name: str
    credit_code: str | None = None


class BlacklistAdded(BlacklistSnapshot, frozen=True, kw_only=True):
    subject: ClassVar[str] = subject("registry", "blacklist", "added")
    summary: ClassVar[str] = "A party entered the Xuchang credit blacklist (R26, R27); it fails voucher and award checks."
    reason: str


class BlacklistRemoved(BlacklistSnapshot, frozen=True, kw_only=True):
    subject: ClassVar[str] = subject("registry", "blacklist", "removed")
    summary: ClassVar[str] = "A party left the blacklist."
    reason: str


class FraudFound(Event, frozen=True, kw_only=True):
    subject: ClassVar[str] = subject("registry", "fraud", "found")
    summary: ClassVar[str] = (
        "The bureau recorded a fraud finding against a user or unit (R27): the funds concerned are clawed back "
        "(payments), and the sanctions chosen (criticism, disqualification, blacklist) were applied in the same transaction. "
        "Scope: the voucher ids, award ids and years given; all of the party's when all three are empty."
    )
    finding_id: str
    #: ``user`` or ``unit``
    party_type: str
    party_id: str
    years: list[int] = []
    voucher_ids: list[str] = []
    award_ids: list[str] = []
    #: of ``criticism``, ``disqualification`` (units only), ``blacklist``
    sanctions: list[str] = []
    reason: str
    evidence_ref: str | None = None


class OrderSnapshot(Event, frozen=True, kw_only=True):
    """A service order's state (M14(1), R19); amounts in fen. No documents and
    no personal data: contracts and results stay with the parties (R23)."""

    order_id: str
    version: int
    user_id: str
    unit_id: str
    instrument_ids: list[str]
    status: str
    amount_fen: int
    #: the case number people read and say (DD-2026-000123); None from producers before it was added
    case_no: str | None = None
    #: the testing fee the contract lists (R22); 0 when it lists none
    testing_fee_fen: int = 0
    #: research / technology_development / statutory_testing (R5)
    purpose: str
    contract_sha256: str | None = None
    provincial_subsidy: bool = False


class OrderContracted(OrderSnapshot, frozen=True, kw_only=True):
    subject: ClassVar[str] = subject("registry", "order", "contracted")
    summary: ClassVar[str] = "User and unit signed the service contract; a voucher may be applied for on it (R19(1), R22)."


class OrderResultsDelivered(OrderSnapshot, frozen=True, kw_only=True):
    subject: ClassVar[str] = subject("registry", "order", "results_delivered")
    summary: ClassVar[str] = "The unit delivered the service results (R19(3)); carries the service hours."
    service_hours: int = 0
    #: the service time in minutes: the total of the order's usage sessions (issue 16), or the
    #: stated hours × 60 for an order without any; None from producers before it was added
    service_minutes: int | None = None


class OrderSettled(OrderSnapshot, frozen=True, kw_only=True):
    subject: ClassVar[str] = subject("registry", "order", "settled")
    summary: ClassVar[str] = "The user paid the rest after the voucher deduction (R19(4))."
    voucher_fen: int = 0


class OrderRated(OrderSnapshot, frozen=True, kw_only=True):
    subject: ClassVar[str] = subject("registry", "order", "rated")
    summary: ClassVar[str] = "The user rated the service (R19(4)); rating 1–5."
    rating: int


class OrderCancelled(OrderSnapshot, frozen=True, kw_only=True):
    subject: ClassVar[str] = subject("registry", "order", "cancelled")
    summary: ClassVar[str] = "An order was cancelled before service began."
    reason: str


class ComplaintUpheld(Event, frozen=True, kw_only=True):
    subject: ClassVar[str] = subject("registry", "complaint", "upheld")
    summary: ClassVar[str] = (
        "The center upheld a complaint about a unit or one of its orders (M11(6) 接受社会监督); "
        "evaluation counts it against the unit in ``year``. No complainant data."
    )
    complaint_id: str
    unit_id: str
    order_id: str | None = None
    #: fees / service_quality / refusal / confidentiality / other
    category: str
    #: the policy year (natural year, Asia/Shanghai) the complaint was filed in: the year it counts in
    year: int
    #: the complaint's case number people read and say (TS-2026-000123); None from producers before it was added
    case_no: str | None = None


class BookingSnapshot(Event, frozen=True, kw_only=True):
    """A booking of instrument time (issue 16): the slot an order holds on an
    instrument, in UTC. No person: the user organisation only."""

    booking_id: str
    version: int
    instrument_id: str
    unit_id: str
    user_id: str
    order_id: str
    starts_at: datetime
    ends_at: datetime
    #: requested / confirmed / declined / cancelled / no_show / used
    status: str
    #: the reason of a decline or cancellation (a downtime's when one cancelled it)
    reason: str | None = None
    #: who decided: user / unit (None for a new booking)
    party: str | None = None
    #: the downtime that cancelled the booking, if one did
    downtime_id: str | None = None


class BookingRequested(BookingSnapshot, frozen=True, kw_only=True):
    subject: ClassVar[str] = subject("registry", "booking", "requested")
    summary: ClassVar[str] = "A user booked a slot of an instrument for one of its orders; the unit is to confirm or decline it."


class BookingConfirmed(BookingSnapshot, frozen=True, kw_only=True):
    subject: ClassVar[str] = subject("registry", "booking", "confirmed")
    summary: ClassVar[str] = "A booking is confirmed: by the unit, or at once when the instrument's schedule needs no approval."


class BookingDeclined(BookingSnapshot, frozen=True, kw_only=True):
    subject: ClassVar[str] = subject("registry", "booking", "declined")
    summary: ClassVar[str] = "The unit declined a requested booking, with its reason; the slot is free again."


class BookingCancelled(BookingSnapshot, frozen=True, kw_only=True):
    subject: ClassVar[str] = subject("registry", "booking", "cancelled")
    summary: ClassVar[str] = (
        "The user or the unit cancelled a booking with a reason before the cut-off, or downtime added "
        "over it cancelled it (``downtime_id``, the downtime's reason); the slot is free again."
    )


class BookingNoShow(BookingSnapshot, frozen=True, kw_only=True):
    subject: ClassVar[str] = subject("registry", "booking", "no_show")
    summary: ClassVar[str] = "The unit recorded that the user did not come to a confirmed booking."


class BookingUsed(BookingSnapshot, frozen=True, kw_only=True):
    subject: ClassVar[str] = subject("registry", "booking", "used")
    summary: ClassVar[str] = (
        "A usage session was recorded (registry.usage.recorded.v1) for a confirmed booking of the same "
        "instrument: the booking was used; it keeps its time."
    )


EVENTS: tuple[type[Event], ...] = (
    UnitApplied,
    UnitApproved,
    UnitRejected,
    UnitVoucherAcceptanceGranted,
    UnitVoucherAcceptanceRevoked,
    UnitSuspended,
    UnitReinstated,
    UnitDisqualified,
    UserRegistered,
    UserVerified,
    UserRejected,
    UserClassesChanged,
    InstrumentRegistered,
    InstrumentListed,
    InstrumentChanged,
    InstrumentRetired,
    PricePublished,
    AffiliationRecorded,
    AffiliationRemoved,
    BlacklistAdded,
    BlacklistRemoved,
    FraudFound,
    OrderContracted,
    OrderResultsDelivered,
    OrderSettled,
    OrderRated,
    OrderCancelled,
    ComplaintUpheld,
    BookingRequested,
    BookingConfirmed,
    BookingDeclined,
    BookingCancelled,
    BookingNoShow,
    BookingUsed,
)
