"""HTTP bodies of the registry API (separate from the events)."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

import msgspec

from services.registry.domain.listing import Funding
from services.registry.domain.parties import (
    AffiliationKind,
    PartyType,
    SpecialClass,
    UnitKind,
    UserClass,
    UserKind,
)

Name = Annotated[str, msgspec.Meta(min_length=2, max_length=200, description="full legal name")]
CreditCode = Annotated[str, msgspec.Meta(min_length=18, max_length=40, description="统一社会信用代码, 18 characters")]
CountyCode = Annotated[str, msgspec.Meta(pattern=r"^\d{6}$", description="administrative division code, e.g. 411002")]
Reason = Annotated[str, msgspec.Meta(max_length=2000)]


#: R18 published service information (validated in domain/service_info.py, which names the field)
ServiceContent = Annotated[str, msgspec.Meta(max_length=2000, description="服务内容: what the unit (or instrument) offers")]
ContactPerson = Annotated[str, msgspec.Meta(max_length=50, description="联系人")]
ContactPhone = Annotated[str, msgspec.Meta(max_length=40, description="联系电话: mainland mobile (13812345678) or landline (0374-1234567[-ext])")]
Address = Annotated[str, msgspec.Meta(max_length=200, description="地址")]
#: 样品要求 of an instrument (issue 17); longer text is 400 request.invalid naming the field
SampleRequirements = Annotated[str, msgspec.Meta(max_length=2000, description="样品要求: what a sample must be like (form, quantity, preparation)")]


class UnitApplication(msgspec.Struct, forbid_unknown_fields=True):
    name: Name
    kind: UnitKind
    credit_code: CreditCode | None = None
    parent_unit_id: str | None = None
    county_code: CountyCode | None = None
    department: Annotated[str, msgspec.Meta(max_length=100)] | None = None
    service_content: ServiceContent | None = None
    contact_person: ContactPerson | None = None
    contact_phone: ContactPhone | None = None
    address: Address | None = None


class UnitServiceInfo(msgspec.Struct, forbid_unknown_fields=True):
    """R18: what the unit publishes on the platform; send only what changes (null clears)."""

    service_content: ServiceContent | None | msgspec.UnsetType = msgspec.UNSET
    contact_person: ContactPerson | None | msgspec.UnsetType = msgspec.UNSET
    contact_phone: ContactPhone | None | msgspec.UnsetType = msgspec.UNSET
    address: Address | None | msgspec.UnsetType = msgspec.UNSET


class Decision(msgspec.Struct, forbid_unknown_fields=True):
    reason: Reason | None = None


class UserRegistration(msgspec.Struct, forbid_unknown_fields=True):
    name: Name
    kind: UserKind
    classes: Annotated[list[UserClass], msgspec.Meta(min_length=1, max_length=4)]
    special_classes: Annotated[list[SpecialClass], msgspec.Meta(max_length=2)] = []
    credit_code: CreditCode | None = None
    leader_name: Annotated[str, msgspec.Meta(min_length=2, max_length=100)] | None = None
    leader_id_number: Annotated[str, msgspec.Meta(min_length=15, max_length=25)] | None = None
    incubator_credit_code: CreditCode | None = None


class UserClassesChange(msgspec.Struct, forbid_unknown_fields=True):
    """Send only what changes; the reason is required."""

    reason: Reason
    classes: Annotated[list[UserClass], msgspec.Meta(min_length=1, max_length=4)] | None = None
    special_classes: Annotated[list[SpecialClass], msgspec.Meta(max_length=2)] | None = None
    sound_finances: bool | None = None


# --- voucher acceptance (R18) --------------------------------------------------

ServiceText = Annotated[str, msgspec.Meta(max_length=10_000)]


class AcceptanceApplication(msgspec.Struct, forbid_unknown_fields=True):
    """The R18 evidence; the decision (granted or not) is computed, never sent."""

    full_time_staff: Annotated[int, msgspec.Meta(ge=0, le=100_000, description="full-time technical staff (专职技术人员)")]
    service_content: ServiceText
    service_norms: ServiceText
    fees_published: bool
    no_bad_credit: bool
    reason: Reason | None = None


class RequiredReason(msgspec.Struct, forbid_unknown_fields=True):
    reason: Reason


# --- affiliations (R26) --------------------------------------------------------


class AffiliationDeclaration(msgspec.Struct, forbid_unknown_fields=True):
    """``source`` follows from the caller's role and is never sent."""

    user_id: str
    unit_id: str
    kind: AffiliationKind
    note: Annotated[str, msgspec.Meta(max_length=2000)] | None = None


# --- blacklist (R26, R27) ------------------------------------------------------


class BlacklistRequest(msgspec.Struct, forbid_unknown_fields=True):
    party_type: PartyType
    party_id: str
    reason: Reason


# --- fraud findings (R27) ------------------------------------------------------

Sanction = Literal["criticism", "disqualification", "blacklist"]


class FraudFindingRequest(msgspec.Struct, forbid_unknown_fields=True):
    """What the finding concerns: the voucher ids, award ids and years given, or
    all of the party's when all three are empty. ``sanctions`` as the bureau
    decides for the case (R27: 视情节分别给予), all by default; the funds are
    clawed back in any case."""

    party_type: PartyType
    party_id: str
    reason: Annotated[str, msgspec.Meta(min_length=1, max_length=2000)]
    #: omitted: every sanction that applies to the party (a user cannot be disqualified)
    sanctions: list[Sanction] | None = None
    years: Annotated[list[Annotated[int, msgspec.Meta(ge=2000, le=2100)]], msgspec.Meta(max_length=20)] = []
    voucher_ids: Annotated[list[str], msgspec.Meta(max_length=1000)] = []
    award_ids: Annotated[list[str], msgspec.Meta(max_length=100)] = []
    evidence_ref: Annotated[str, msgspec.Meta(max_length=500)] | None = None


# --- instruments (M5, M6, M11(3)) ---------------------------------------------

Text200 = Annotated[str, msgspec.Meta(max_length=200)]
LongText = Annotated[str, msgspec.Meta(max_length=10_000)]
Fen = Annotated[int, msgspec.Meta(ge=0, le=10**15, description="amount in fen (分), an integer")]


class InstrumentRegistration(msgspec.Struct, forbid_unknown_fields=True):
    """must_list, listing_deadline and status are computed, never sent."""

    unit_id: str
    name: Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
    category: Annotated[str, msgspec.Meta(min_length=1, max_length=40, description="a top-level category of the catalogue, e.g. 分析仪器")]
    original_value_fen: Fen
    funding: Funding
    acceptance_date: date
    duty_exempt: bool = False
    classified: bool = False
    model: Text200 | None = None
    manufacturer: Text200 | None = None
    location: Text200 | None = None
    specifications: LongText | None = None
    functions: LongText | None = None
    #: R18 服务内容: the services offered on this instrument
    service_content: ServiceContent | None = None
    sample_requirements: SampleRequirements | None = None
