"""Instruments and listing compliance over HTTP (M5, M6, M11(3))."""

from __future__ import annotations

from datetime import date

import msgspec
from litestar import Controller, Request, Response, get, patch, post
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody, Parameter

from services.registry import instrument_reads, instruments, ratings
from services.registry.api.instrument_schemas import InstrumentChange, InstrumentRegistration, Retirement
from services.registry.domain.listing import ListingPolicies
from services.registry.schemas.instruments import Compliance, Instrument, InstrumentPage
from services.registry.schemas.ratings import InstrumentRatings
from services.registry.scope import CITY_STAFF, may_see_unit
from services.runtime.http.auth import PUBLIC, Principal, access, principal_of
from services.runtime.roles import Role
from services.runtime.errors import DomainError, Forbidden
from services.runtime.http.app import actor_of
from services.runtime.http.edge import correlation_of
from services.runtime.http.pagination import PageNumber, PageSize
from services.runtime.http.preconditions import ETAG_HEADER, IfMatchHeader, expected_version, tagged
from services.runtime.db.service_db import ServiceDatabase
from services.runtime.workdays import WorkdayCalendar

STAFF = (Role.CENTER, Role.BUREAU, Role.DEPARTMENT)


def _as_of(p: Principal, as_of: date | None) -> date:
    if as_of is not None and p.role not in STAFF:
        raise Forbidden("只有管理部门可以指定统计日期", "only staff may choose the as_of date")
    return as_of or instruments.shanghai_today()


class InstrumentController(Controller):
    path = "/v1/instruments"
    tags = ["instruments"]

    @post("/", operation_id="registerInstrument", status_code=201, **access(Role.UNIT, Role.CENTER))
    async def register(
        self,
        request: Request,
        db: NamedDependency[ServiceDatabase],
        calendar: NamedDependency[WorkdayCalendar],
        listing_policy: NamedDependency[ListingPolicies],
        data: JSONBody[InstrumentRegistration],
    ) -> Instrument:
        """A unit registers one of its instruments (or the center for it); must-list
        and the listing deadline are computed (M5, M6, M11(3)). An optional
        ``asset_number`` is unique within the unit (409 instrument.duplicate_asset_number)."""
        p = principal_of(request)
        if p.role is Role.UNIT and p.org != data.unit_id:
            raise Forbidden("单位只能登记本单位的仪器", "a unit may register only its own instruments")
        return await instruments.register_instrument(
            db,
            actor_of(request),
            correlation_of(request),
            calendar=calendar,
            policy=listing_policy,
            unit_id=data.unit_id,
            data=instruments.NewInstrument(
                name=data.name.strip(),
                category=data.category.strip(),
                model=data.model,
                manufacturer=data.manufacturer,
                original_value_fen=data.original_value_fen,
                funding=data.funding,
                acceptance_date=data.acceptance_date,
                duty_exempt=data.duty_exempt,
                classified=data.classified,
                location=data.location,
                specifications=data.specifications,
                functions=data.functions,
                service_content=data.service_content,
                sample_requirements=data.sample_requirements,
                asset_number=(data.asset_number or "").strip() or None,
            ),
        )

    @post("/{instrument_id:str}/list", operation_id="listInstrument", status_code=200, **access(Role.UNIT, Role.CENTER))
    async def list_on_platform(
        self,
        request: Request,
        db: NamedDependency[ServiceDatabase],
        calendar: NamedDependency[WorkdayCalendar],
        listing_policy: NamedDependency[ListingPolicies],
        instrument_id: FromPath[str],
    ) -> Instrument:
        """The owning unit (or the center) lists the instrument on the platform today (M11(3))."""
        p = principal_of(request)
        owner = (p.org or "") if p.role is Role.UNIT else None
        return await instruments.list_instrument(
            db, actor_of(request), correlation_of(request), instrument_id, calendar=calendar, policy=listing_policy, owner=owner
        )

    @patch("/{instrument_id:str}", operation_id="changeInstrument", response_headers=ETAG_HEADER, **access(Role.UNIT, Role.CENTER))
    async def change(
        self,
        request: Request,
        db: NamedDependency[ServiceDatabase],
        instrument_id: FromPath[str],
        data: JSONBody[InstrumentChange],
        if_match: IfMatchHeader = None,
    ) -> Response[Instrument]:
        """The owning unit (or the center) changes public data, or moves the status
        between in_service and maintenance. Funding, original value, acceptance date
        and the duty-exempt and classified flags are fixed at registration (422
        instrument.immutable_field); a retired instrument is final (409 instrument.retired).
        With ``If-Match`` (the ``ETag`` a read gave) only that version is changed: another is
        412 ``request.precondition_failed``; the body's ``version`` does the same with 409
        ``instrument.version_mismatch``."""
        p = principal_of(request)
        owner = (p.org or "") if p.role is Role.UNIT else None
        sent = {f: getattr(data, f) for f in data.__struct_fields__ if getattr(data, f) is not msgspec.UNSET}
        version = sent.pop("version", None)
        for key in ("name", "category"):
            if key in sent:
                sent[key] = sent[key].strip()
                if not sent[key]:
                    raise DomainError("instrument.blank_field", f"“{key}”不能为空", f"{key} cannot be blank", field=key)
        if isinstance(sent.get("sample_requirements"), str):
            sent["sample_requirements"] = sent["sample_requirements"].strip() or None  # blank clears
        record = await instruments.change_instrument(
            db, actor_of(request), correlation_of(request), instrument_id, changes=sent, owner=owner, body_version=version, if_match_version=expected_version(if_match)
        )
        return tagged(record, record.version)

    @post("/{instrument_id:str}/retire", operation_id="retireInstrument", status_code=200, **access(Role.UNIT, Role.CENTER))
    async def retire(
        self,
        request: Request,
        db: NamedDependency[ServiceDatabase],
        instrument_id: FromPath[str],
        data: JSONBody[Retirement],
    ) -> Instrument:
        """The owning unit (or the center) retires (报废) the instrument with a reason; final."""
        p = principal_of(request)
        owner = (p.org or "") if p.role is Role.UNIT else None
        return await instruments.retire_instrument(db, actor_of(request), correlation_of(request), instrument_id, reason=data.reason, owner=owner)

    @get("/", operation_id="listInstruments", **access(PUBLIC))
    async def list_(
        self,
        request: Request,
        db: NamedDependency[ServiceDatabase],
        page: PageNumber = 1,
        page_size: PageSize = 20,
        unit_id: str | None = Parameter(default=None, description="only this unit's instruments"),
    ) -> InstrumentPage:
        """Instruments. The public sees listed, in-service ones; a unit also sees all
        of its own, a department all of a unit under it (``unit_id``), the center
        and bureau all."""
        p = principal_of(request)
        staff = p.role in CITY_STAFF
        own = p.org if p.role is Role.UNIT else None
        if p.role is Role.DEPARTMENT and unit_id is not None and await may_see_unit(db, p, unit_id):
            own = unit_id  # a department sees all of the instruments of a unit under it
        return await instrument_reads.list_instruments(db, unit_id=unit_id, public_only=not staff, own_unit=own, page=page, page_size=page_size)

    @get("/{instrument_id:str}", operation_id="getInstrument", response_headers=ETAG_HEADER, **access(PUBLIC))
    async def get_(self, request: Request, db: NamedDependency[ServiceDatabase], instrument_id: FromPath[str]) -> Response[Instrument]:
        """One instrument. The public sees it once listed and in service; the owner unit and staff always.
        ``ETag`` is its version (``"v3"``): send it as ``If-Match`` on a change."""
        record = await instrument_reads.visible_instrument(db, principal_of(request), instrument_id)
        return tagged(record, record.version)

    @get("/{instrument_id:str}/ratings", operation_id="getInstrumentRatings", **access(PUBLIC))
    async def ratings_(
        self,
        request: Request,
        db: NamedDependency[ServiceDatabase],
        instrument_id: FromPath[str],
        page: PageNumber = 1,
        page_size: PageSize = 10,
    ) -> InstrumentRatings:
        """The users' ratings of the instrument's finished services (R19(4)): how many, the
        average (one decimal, null without ratings), how many gave each star, and a page of
        the comments, newest first, each with its stars and Beijing date. Never who rated,
        the order or the company (R23). Seen by whoever may see the instrument (404
        ``instrument.not_found`` otherwise, as ``GET /v1/instruments/{id}``)."""
        await instrument_reads.visible_instrument(db, principal_of(request), instrument_id)
        return await ratings.instrument_ratings(db, instrument_id, page=page, page_size=page_size)


class ComplianceController(Controller):
    path = "/v1/compliance"
    tags = ["instruments"]

    @get("/", operation_id="getCityCompliance", **access(*CITY_STAFF))
    async def city(
        self,
        request: Request,
        db: NamedDependency[ServiceDatabase],
        calendar: NamedDependency[WorkdayCalendar],
        listing_policy: NamedDependency[ListingPolicies],
        as_of: date | None = Parameter(default=None, description="the day to evaluate (default: today, Asia/Shanghai)"),
    ) -> Compliance:
        """City-wide listing compliance: counts per state, overdue and due-soon instruments (M11(3))."""
        day = _as_of(principal_of(request), as_of)
        return await instrument_reads.compliance(db, calendar=calendar, policy=listing_policy, unit_id=None, as_of=day)

    @get("/units/{unit_id:str}", operation_id="getUnitCompliance", **access(Role.UNIT, *STAFF))
    async def unit(
        self,
        request: Request,
        db: NamedDependency[ServiceDatabase],
        calendar: NamedDependency[WorkdayCalendar],
        listing_policy: NamedDependency[ListingPolicies],
        unit_id: FromPath[str],
        as_of: date | None = Parameter(default=None, description="staff only: the day to evaluate (default: today, Asia/Shanghai)"),
    ) -> Compliance:
        """One unit's listing compliance; the unit itself, its department, the center and bureau."""
        p = principal_of(request)
        if not await may_see_unit(db, p, unit_id):
            raise Forbidden()
        day = _as_of(p, as_of)
        return await instrument_reads.compliance(db, calendar=calendar, policy=listing_policy, unit_id=unit_id, as_of=day)
