"""Units and users over HTTP: translate, call the use case, translate back."""

from __future__ import annotations

from enum import StrEnum

import msgspec
from litestar import Controller, Request, Response, delete, get, patch, post, put
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody, Parameter

from services.registry import parties, unit_service_info, user_review
from services.registry.api.schemas import (
    AcceptanceApplication,
    Decision,
    RequiredReason,
    UnitApplication,
    UnitServiceInfo,
    UserClassesChange,
    UserRegistration,
)
from services.registry.domain.parties import (
    AcceptanceEvidence,
    AcceptancePolicies,
    UnitAction,
    UnitStatus,
    allowed_unit_actions,
)
from services.registry.schemas.parties import Unit, UnitPage, UnitRecord
from services.registry.schemas.users import User, UserPage
from services.registry.scope import CITY_STAFF, may_see_unit
from services.runtime.http.auth import PUBLIC, access, principal_of
from services.runtime.roles import Role
from services.runtime.errors import Forbidden, NotFound
from services.runtime.http.app import actor_of
from services.runtime.http.edge import correlation_of
from services.runtime.http.idempotency import Idempotency, IdempotencyKeyHeader, idempotent
from services.runtime.http.pagination import PageNumber, PageSize
from services.runtime.http.preconditions import ETAG_HEADER, IfMatchHeader, expected_version, tagged
from services.runtime.db.service_db import ServiceDatabase
from services.runtime.settings import Settings

STAFF = (Role.CENTER, Role.BUREAU, Role.DEPARTMENT)
#: who suspends, reinstates and disqualifies a unit (R27): the operations' access and
#: the actions ``getUnit`` offers its caller
STATUS_CHANGERS = (Role.BUREAU,)

class UnitController(Controller):
    path = "/v1/units"
    tags = ["units"]

    @post("/", operation_id="applyUnit", status_code=201, **access(Role.UNIT, Role.CENTER, Role.BUREAU))
    async def apply(
        self,
        request: Request,
        db: NamedDependency[ServiceDatabase],
        settings: NamedDependency[Settings],
        data: JSONBody[UnitApplication],
        idempotency_key: IdempotencyKeyHeader = None,
    ) -> Unit:
        """A unit applies to join the platform (R7); the bureau decides. Safe to retry with an
        ``Idempotency-Key`` header: the same key and body answer the first application again
        instead of 409 ``unit.duplicate_credit_code``. ``county_code`` is one of the city's
        counties and districts (the city file, ``XCISS_CITY_FILE``): another is 422
        ``unit.unknown_county`` with ``details.field`` and ``details.allowed``."""

        async def call(idem: Idempotency | None) -> Unit:
            return await parties.apply_unit(
                db,
                actor_of(request),
                correlation_of(request),
                name=data.name.strip(),
                credit_code=data.credit_code or "",
                kind=data.kind,
                parent_unit_id=data.parent_unit_id,
                county_code=data.county_code,
                department=data.department,
                city=settings.city,
                published={f: getattr(data, f) for f in ("service_content", "contact_person", "contact_phone", "address")},
                idempotency=idem,
            )

        return await idempotent(request, db, settings, idempotency_key, operation="applyUnit", status=201, request_parts=(data,), render=lambda unit: unit, call=call)  # type: ignore[no-any-return]

    @put("/{unit_id:str}/service-info", operation_id="publishUnitServiceInfo", status_code=200, response_headers=ETAG_HEADER, **access(Role.UNIT, Role.CENTER))
    async def publish_service_info(
        self, request: Request, db: NamedDependency[ServiceDatabase], unit_id: FromPath[str], data: JSONBody[UnitServiceInfo], if_match: IfMatchHeader = None
    ) -> Response[Unit]:
        """A unit publishes its R18 service information (service content, contact person, phone,
        address); the center may correct it. Send only what changes; null clears a field.
        A unit account changes its own unit only (403 otherwise). 422 ``registry.phone_invalid``
        or ``registry.service_info_invalid`` with ``details.field``. With ``If-Match`` (the
        unit's ``ETag``) only that version is changed: another is 412 ``request.precondition_failed``."""
        p = principal_of(request)
        owner = (p.org or "") if p.role is Role.UNIT else None
        changes = {f: v for f in UnitServiceInfo.__struct_fields__ if (v := getattr(data, f)) is not msgspec.UNSET}
        unit = await unit_service_info.publish_service_info(
            db, actor_of(request), correlation_of(request), unit_id, changes=changes, owner=owner, expected_version=expected_version(if_match)
        )
        return tagged(unit, unit.version)

    @post("/{unit_id:str}/approve", operation_id="approveUnit", status_code=200, **access(Role.BUREAU))
    async def approve(self, request: Request, db: NamedDependency[ServiceDatabase], unit_id: FromPath[str], data: JSONBody[Decision]) -> Unit:
        """The bureau approves a unit's application (R7)."""
        return await parties.decide_unit(db, actor_of(request), correlation_of(request), unit_id, approve=True, reason=data.reason)

    @post("/{unit_id:str}/reject", operation_id="rejectUnit", status_code=200, **access(Role.BUREAU))
    async def reject(self, request: Request, db: NamedDependency[ServiceDatabase], unit_id: FromPath[str], data: JSONBody[Decision]) -> Unit:
        """The bureau rejects a unit's application, with a reason (R7)."""
        return await parties.decide_unit(db, actor_of(request), correlation_of(request), unit_id, approve=False, reason=data.reason)

    @post("/{unit_id:str}/suspend", operation_id="suspendUnit", status_code=200, **access(*STATUS_CHANGERS))
    async def suspend(self, request: Request, db: NamedDependency[ServiceDatabase], unit_id: FromPath[str], data: JSONBody[Decision]) -> Unit:
        """The bureau suspends an approved unit's sharing, with a reason (R27)."""
        return await parties.change_unit_status(db, actor_of(request), correlation_of(request), unit_id, action=UnitAction.SUSPEND, reason=data.reason)

    @post("/{unit_id:str}/reinstate", operation_id="reinstateUnit", status_code=200, **access(*STATUS_CHANGERS))
    async def reinstate(self, request: Request, db: NamedDependency[ServiceDatabase], unit_id: FromPath[str], data: JSONBody[Decision]) -> Unit:
        """The bureau reinstates a suspended unit."""
        return await parties.change_unit_status(db, actor_of(request), correlation_of(request), unit_id, action=UnitAction.REINSTATE, reason=data.reason)

    @post("/{unit_id:str}/disqualify", operation_id="disqualifyUnit", status_code=200, **access(*STATUS_CHANGERS))
    async def disqualify(self, request: Request, db: NamedDependency[ServiceDatabase], unit_id: FromPath[str], data: JSONBody[Decision]) -> Unit:
        """The bureau cancels a unit's sharing qualification, with a reason (R27).
        Final; the unit also stops accepting vouchers."""
        return await parties.change_unit_status(db, actor_of(request), correlation_of(request), unit_id, action=UnitAction.DISQUALIFY, reason=data.reason)

    @post("/{unit_id:str}/voucher-acceptance", operation_id="grantVoucherAcceptance", status_code=200, **access(Role.CENTER, Role.BUREAU))
    async def grant_acceptance(
        self,
        request: Request,
        db: NamedDependency[ServiceDatabase],
        acceptance_policy: NamedDependency[AcceptancePolicies],
        unit_id: FromPath[str],
        data: JSONBody[AcceptanceApplication],
    ) -> Unit:
        """Approve an approved unit to accept innovation vouchers on its R18
        evidence. Refused with 422 listing every failing condition in
        ``details.codes`` (``acceptance.unit_not_approved``, ``acceptance.no_staff``,
        ``acceptance.no_service_content``, ``acceptance.no_service_norms``,
        ``acceptance.fees_not_published``, ``acceptance.bad_credit``,
        ``acceptance.blacklisted``); ``code`` is that one code when only one
        fails, ``acceptance.refused`` when several do."""
        evidence = AcceptanceEvidence(
            full_time_staff=data.full_time_staff,
            service_content=data.service_content,
            service_norms=data.service_norms,
            fees_published=data.fees_published,
            no_bad_credit=data.no_bad_credit,
        )
        return await parties.grant_voucher_acceptance(
            db, actor_of(request), correlation_of(request), unit_id, evidence=evidence, policy=acceptance_policy, reason=data.reason
        )

    @delete("/{unit_id:str}/voucher-acceptance", operation_id="revokeVoucherAcceptance", status_code=200, **access(Role.CENTER, Role.BUREAU))
    async def revoke_acceptance(self, request: Request, db: NamedDependency[ServiceDatabase], unit_id: FromPath[str], data: JSONBody[RequiredReason]) -> Unit:
        """Revoke a unit's approval to accept vouchers, with a reason (R18, R27)."""
        return await parties.revoke_voucher_acceptance(db, actor_of(request), correlation_of(request), unit_id, reason=data.reason)

    @get("/", operation_id="listUnits", **access(PUBLIC))
    async def list_(
        self,
        request: Request,
        db: NamedDependency[ServiceDatabase],
        page: PageNumber = 1,
        page_size: PageSize = 20,
        status: UnitStatus | None = Parameter(default=None, description="staff only; the public sees approved units"),
        q: str | None = Parameter(default=None, max_length=100, description="part of the unit's name (case-insensitive) or of its unified social credit code"),
    ) -> UnitPage:
        """Units on the platform, in the order they applied; ``q`` finds a unit by part of its
        name or credit code (a form's unit picker). The public sees approved units only."""
        if principal_of(request).role not in CITY_STAFF:
            status = UnitStatus.APPROVED
        return await parties.list_units(db, status=str(status) if status else None, page=page, page_size=page_size, text=q)

    @get("/{unit_id:str}", operation_id="getUnit", response_headers=ETAG_HEADER, **access(PUBLIC))
    async def get_(self, request: Request, db: NamedDependency[ServiceDatabase], unit_id: FromPath[str]) -> Response[UnitRecord]:
        """One unit. Applications not yet approved are visible to staff and the unit itself.
        ``actions``: the status changes the caller may make now (the bureau's suspendUnit,
        reinstateUnit, disqualifyUnit allowed from the unit's status, each with
        ``reason_required``); any other is refused 409 ``unit.illegal_transition``.
        ``ETag`` is its version: send it as ``If-Match`` when publishing its service information."""
        unit = await parties.get_unit(db, unit_id)
        p = principal_of(request)
        if unit.status != UnitStatus.APPROVED and not await may_see_unit(db, p, unit_id):
            raise NotFound("unit", "单位", unit_id)
        actions = list(allowed_unit_actions(unit.status)) if p.role in STATUS_CHANGERS else []
        return tagged(UnitRecord(**msgspec.structs.asdict(unit), actions=actions), unit.version)


class UserStatus(StrEnum):
    PENDING = "pending"
    VERIFIED = "verified"
    REJECTED = "rejected"


class UserController(Controller):
    path = "/v1/users"
    tags = ["users"]

    @post("/", operation_id="registerUser", status_code=201, **access(Role.USER, Role.CENTER))
    async def register(
        self,
        request: Request,
        db: NamedDependency[ServiceDatabase],
        settings: NamedDependency[Settings],
        data: JSONBody[UserRegistration],
        idempotency_key: IdempotencyKeyHeader = None,
    ) -> User:
        """An enterprise or start-up team registers (R4); the center verifies it. A credit code
        another user already gave is accepted too, pending, with ``duplicate_of`` set: the center
        decides which is the enterprise (verify one, reject the other), so a squatter cannot lock
        the real company out. A team leader registers once (409 ``user.duplicate``). Safe to retry
        with an ``Idempotency-Key`` header: the same key and body answer the first registration again."""

        async def call(idem: Idempotency | None) -> User:
            return await parties.register_user(
                db,
                actor_of(request),
                correlation_of(request),
                pii_key=settings.pii_key(),
                city_prefix=settings.city_division_prefix,
                name=data.name.strip(),
                kind=data.kind,
                credit_code=data.credit_code,
                classes=data.classes,
                special_classes=data.special_classes,
                leader_name=data.leader_name,
                leader_id_number=data.leader_id_number,
                incubator_credit_code=data.incubator_credit_code,
                by_staff=principal_of(request).role in CITY_STAFF,
                idempotency=idem,
            )

        return await idempotent(request, db, settings, idempotency_key, operation="registerUser", status=201, request_parts=(data,), render=lambda user: user, call=call)  # type: ignore[no-any-return]

    @post("/{user_id:str}/verify", operation_id="verifyUser", status_code=200, **access(Role.CENTER))
    async def verify(self, request: Request, db: NamedDependency[ServiceDatabase], user_id: FromPath[str], data: JSONBody[Decision]) -> User:
        """The center verifies a user before it may apply for vouchers. 409 ``user.credit_code_verified``
        while another verified user holds its credit code (reject that one first), 409 ``user.rejected``."""
        return await user_review.verify_user(db, actor_of(request), correlation_of(request), user_id, reason=data.reason)

    @post("/{user_id:str}/reject", operation_id="rejectUser", status_code=200, **access(Role.CENTER))
    async def reject(self, request: Request, db: NamedDependency[ServiceDatabase], user_id: FromPath[str], data: JSONBody[RequiredReason]) -> User:
        """The center rejects a registration with a reason — a pending one (for example a credit code
        that is not the registrant's) or a wrongly verified one, which then frees its credit code for
        the real enterprise. Final; 409 ``user.already_rejected``. Publishes ``registry.user.rejected``."""
        return await user_review.reject_user(db, actor_of(request), correlation_of(request), user_id, reason=data.reason)

    @patch("/{user_id:str}/classes", operation_id="changeUserClasses", status_code=200, response_headers=ETAG_HEADER, **access(Role.CENTER))
    async def change_classes(
        self, request: Request, db: NamedDependency[ServiceDatabase], user_id: FromPath[str], data: JSONBody[UserClassesChange], if_match: IfMatchHeader = None
    ) -> Response[User]:
        """The center changes a user's classes, special classes or sound-finances
        assessment, with a reason (R4, R16, R26). With ``If-Match`` (the user's ``ETag``)
        only that version is changed: another is 412 ``request.precondition_failed``."""
        user = await user_review.change_user_classes(
            db,
            actor_of(request),
            correlation_of(request),
            user_id,
            classes=data.classes,
            special_classes=data.special_classes,
            sound_finances=data.sound_finances,
            reason=data.reason,
            expected_version=expected_version(if_match),
        )
        return tagged(user, user.version)

    @get("/", operation_id="listUsers", **access(Role.CENTER, Role.BUREAU))
    async def list_(
        self,
        db: NamedDependency[ServiceDatabase],
        page: PageNumber = 1,
        page_size: PageSize = 20,
        verified: bool | None = Parameter(default=None, description="only verified (true) or awaiting review (false: unverified, not rejected) users"),
        status: UserStatus | None = Parameter(default=None, description="pending, verified or rejected"),
        q: str | None = Parameter(default=None, max_length=100, description="part of the user's name (case-insensitive) or of its unified social credit code"),
    ) -> UserPage:
        """Registered users, oldest first: the center and the bureau; ``q`` finds a user by part of
        its name or credit code. A pending user with ``duplicate_of`` gave a credit code another
        user had already given."""
        return await user_review.list_users(db, verified=verified, status=str(status) if status else None, page=page, page_size=page_size, text=q)

    @get("/{user_id:str}", operation_id="getUser", response_headers=ETAG_HEADER, **access(Role.USER, Role.CENTER, Role.BUREAU, Role.FINANCE))
    async def get_(self, request: Request, db: NamedDependency[ServiceDatabase], user_id: FromPath[str]) -> Response[User]:
        """A user's record: the user itself, the center or bureau, and finance (who names the
        party of a clawback from a user, R27, and collects it). For the
        center and the bureau, ``same_party_units`` lists the units registered
        under the user's credit code (R26: no voucher on their services).
        ``ETag`` is its version: send it as ``If-Match`` when changing its classes."""
        p = principal_of(request)
        if p.role is Role.USER and p.org != user_id:
            raise Forbidden()
        user = await user_review.user_with_units(db, user_id, by_staff=p.role in CITY_STAFF)
        return tagged(user, user.version)
