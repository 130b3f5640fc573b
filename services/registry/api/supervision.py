"""Affiliations (R26) and the blacklist (R26, R27) over HTTP."""

from __future__ import annotations

from litestar import Controller, Request, delete, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody, Parameter

from services.registry import affiliations, blacklist, fraud_findings
from services.registry.api.schemas import AffiliationDeclaration, BlacklistRequest, FraudFindingRequest, RequiredReason
from services.registry.domain.parties import AffiliationSource, PartyType
from services.registry.schemas.affiliations import Affiliation, AffiliationPage
from services.registry.schemas.blacklist import BlacklistPage, BlacklistRecord
from services.registry.schemas.fraud_findings import FraudFinding, FraudFindingPage, PublicCriticismPage
from services.registry.scope import may_see_unit
from services.runtime.http.auth import PUBLIC, access, principal_of
from services.runtime.roles import Role
from services.runtime.errors import Forbidden
from services.runtime.http.app import actor_of
from services.runtime.http.edge import correlation_of
from services.runtime.http.pagination import PageNumber, PageSize
from services.runtime.db.service_db import ServiceDatabase

STAFF = (Role.CENTER, Role.BUREAU, Role.DEPARTMENT)
REVIEWERS = (Role.CENTER, Role.BUREAU)


class AffiliationController(Controller):
    path = "/v1/affiliations"
    tags = ["affiliations"]

    @post("/", operation_id="recordAffiliation", status_code=201, **access(Role.USER, Role.UNIT, *REVIEWERS))
    async def record(self, request: Request, db: NamedDependency[ServiceDatabase], data: JSONBody[AffiliationDeclaration]) -> Affiliation:
        """A user or a unit declares a tie for itself, or the center or bureau
        records one as reviewers (R26). The source follows from the caller."""
        p = principal_of(request)
        if p.role is Role.USER:
            if p.org != data.user_id:
                raise Forbidden("用户只能申报本用户的关联关系", "a user may declare only its own ties")
            source = AffiliationSource.DECLARED_BY_USER
        elif p.role is Role.UNIT:
            if p.org != data.unit_id:
                raise Forbidden("单位只能申报本单位的关联关系", "a unit may declare only its own ties")
            source = AffiliationSource.DECLARED_BY_UNIT
        else:
            source = AffiliationSource.RECORDED_BY_REVIEWER
        return await affiliations.record_affiliation(
            db, actor_of(request), correlation_of(request), user_id=data.user_id, unit_id=data.unit_id, kind=data.kind, source=source, note=data.note
        )

    @delete("/{affiliation_id:str}", operation_id="removeAffiliation", status_code=200, **access(*REVIEWERS))
    async def remove(self, request: Request, db: NamedDependency[ServiceDatabase], affiliation_id: FromPath[str], data: JSONBody[RequiredReason]) -> Affiliation:
        """The center or bureau removes a recorded tie, with a reason."""
        return await affiliations.remove_affiliation(db, actor_of(request), correlation_of(request), affiliation_id, reason=data.reason)

    @get("/", operation_id="listAffiliations", **access(Role.USER, Role.UNIT, *STAFF))
    async def list_(
        self,
        request: Request,
        db: NamedDependency[ServiceDatabase],
        page: PageNumber = 1,
        page_size: PageSize = 20,
        user_id: str | None = Parameter(default=None, description="a user sees only its own ties"),
        unit_id: str | None = Parameter(default=None, description="a unit sees only its own ties"),
        include_removed: bool = Parameter(default=False, description="also removed ties"),
    ) -> AffiliationPage:
        """Ties between users and units: the center and bureau see all, a
        department those of a unit under it, a user or a unit its own."""
        p = principal_of(request)
        if p.role is Role.USER:
            if user_id is not None and user_id != p.org:
                raise Forbidden()
            user_id = p.org or ""
        elif p.role is Role.UNIT:
            if unit_id is not None and unit_id != p.org:
                raise Forbidden()
            unit_id = p.org or ""
        elif p.role is Role.DEPARTMENT and (unit_id is None or not await may_see_unit(db, p, unit_id)):
            raise Forbidden("主管部门只能查看所属单位的关联关系，请指定所属单位", "a department sees the ties of a unit under it only; pass that unit_id")
        return await affiliations.list_affiliations(db, user_id=user_id, unit_id=unit_id, include_removed=include_removed, page=page, page_size=page_size)


class BlacklistController(Controller):
    path = "/v1/blacklist"
    tags = ["blacklist"]

    @post("/", operation_id="addToBlacklist", status_code=201, **access(Role.BUREAU))
    async def add(self, request: Request, db: NamedDependency[ServiceDatabase], data: JSONBody[BlacklistRequest]) -> BlacklistRecord:
        """The bureau puts a user or unit on the Xuchang credit blacklist, with a
        reason (R26, R27). A unit also loses its voucher acceptance."""
        return await blacklist.add_to_blacklist(db, actor_of(request), correlation_of(request), party_type=data.party_type, party_id=data.party_id, reason=data.reason)

    @delete("/{entry_id:str}", operation_id="removeFromBlacklist", status_code=200, **access(Role.BUREAU))
    async def remove(self, request: Request, db: NamedDependency[ServiceDatabase], entry_id: FromPath[str], data: JSONBody[RequiredReason]) -> BlacklistRecord:
        """The bureau takes an entry off the blacklist, with a reason."""
        return await blacklist.remove_from_blacklist(db, actor_of(request), correlation_of(request), entry_id, reason=data.reason)

    @get("/", operation_id="listBlacklist", **access(PUBLIC))
    async def list_(self, db: NamedDependency[ServiceDatabase], page: PageNumber = 1, page_size: PageSize = 20) -> BlacklistPage:
        """The public blacklist: active entries, newest first; name, credit code,
        reason and date (Beijing time), never ids of persons."""
        return await blacklist.list_blacklist(db, page=page, page_size=page_size)


class FraudFindingController(Controller):
    path = "/v1/fraud-findings"
    tags = ["fraud"]

    @post("/", operation_id="recordFraudFinding", status_code=201, **access(Role.BUREAU))
    async def record(self, request: Request, db: NamedDependency[ServiceDatabase], data: JSONBody[FraudFindingRequest]) -> FraudFinding:
        """The bureau records a fraud finding against a user or unit (R27), with a
        reason and the sanctions for the case: blacklist, disqualification (units),
        criticism. The funds concerned are clawed back by payments. The same party
        and scope twice: 409 ``fraud.duplicate``."""
        return await fraud_findings.record_finding(
            db, actor_of(request), correlation_of(request), party_type=data.party_type, party_id=data.party_id, reason=data.reason,
            sanctions=fraud_findings.default_sanctions(data.party_type) if data.sanctions is None else list(data.sanctions), years=data.years, voucher_ids=data.voucher_ids, award_ids=data.award_ids, evidence_ref=data.evidence_ref,
        )

    @get("/", operation_id="listFraudFindings", **access(Role.CENTER, Role.BUREAU))
    async def list_(
        self,
        db: NamedDependency[ServiceDatabase],
        page: PageNumber = 1,
        page_size: PageSize = 20,
        party_type: PartyType | None = Parameter(default=None),
        party_id: str | None = Parameter(default=None),
    ) -> FraudFindingPage:
        """Fraud findings, newest first: who decided, when, why, and the sanctions.
        The auditor reads them in the audit trail (``fraud.find``), like every
        other organisation's record (separation of duties)."""
        return await fraud_findings.list_findings(db, party_type=party_type, party_id=party_id, page=page, page_size=page_size)

    @get("/public", operation_id="listPublicCriticisms", **access(PUBLIC))
    async def public(self, db: NamedDependency[ServiceDatabase], page: PageNumber = 1, page_size: PageSize = 20) -> PublicCriticismPage:
        """通报批评 (R27): the findings whose sanctions include public criticism,
        newest first: name, credit code, reason and date (Beijing time), never
        ids of persons or the evidence."""
        return await fraud_findings.list_public_criticisms(db, page=page, page_size=page_size)
