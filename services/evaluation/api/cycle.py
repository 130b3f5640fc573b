"""The yearly cycle over HTTP: cycles, applications, department review,
experts, assignments, scores and grades. Controllers translate and delegate;
status, grades, reviewers and amounts never come from a request body."""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from typing import Annotated

import msgspec
from litestar import Controller, Request, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody, Parameter

from services.evaluation import applications, cycle, experts, grading, policy, schemas, sources
from services.evaluation.schemas import Application, ApplicationPage, Assignment, AssignmentPage, Cycle, Expert, ExpertPage, IndicatorSetInForce
from services.runtime.roles import Role
from services.runtime.http.auth import access, principal_of
from services.runtime.errors import Forbidden
from services.runtime.http.app import actor_of
from services.runtime.http.edge import correlation_of
from services.runtime.http.pagination import PageNumber, PageSize
from services.runtime.db.service_db import ServiceDatabase
from services.runtime.settings import Settings

Reason = Annotated[str, msgspec.Meta(min_length=1, max_length=2000)]
OptionalReason = Annotated[str, msgspec.Meta(max_length=2000)] | None
Id = Annotated[str, msgspec.Meta(min_length=1, max_length=36)]
Year = Annotated[int, msgspec.Meta(ge=2000, le=2100)]
STAFF = (Role.CENTER, Role.BUREAU)


class ExpertRole(StrEnum):
    management = "management"
    technical = "technical"
    finance = "finance"


class CycleRequest(msgspec.Struct, forbid_unknown_fields=True):
    year: Year
    award_budget_fen: Annotated[int, msgspec.Meta(ge=0, le=10**13)]
    reason: OptionalReason = None
    #: R20(1): the voucher redemption window, opened with the cycle (both days or neither)
    redemption_opens_on: date | None = None
    redemption_closes_on: date | None = None


#: the ids of the unit's uploaded evidence files (``POST /v1/evaluation-documents``);
#: a self-evaluation report (kind ``self_assessment``) among them
Documents = Annotated[list[Id], msgspec.Meta(max_length=50)]


class ApplicationRequest(msgspec.Struct, forbid_unknown_fields=True):
    year: Year
    documents: Documents
    statement: Annotated[str, msgspec.Meta(max_length=5000)] | None = None


class Resubmission(msgspec.Struct, forbid_unknown_fields=True):
    documents: Documents
    statement: Annotated[str, msgspec.Meta(max_length=5000)] | None = None


class Forwarding(msgspec.Struct, forbid_unknown_fields=True):
    reason: OptionalReason = None


class Return(msgspec.Struct, forbid_unknown_fields=True):
    reason: Reason


class GradeRequest(msgspec.Struct, forbid_unknown_fields=True):
    reason: OptionalReason = None


class ExpertRequest(msgspec.Struct, forbid_unknown_fields=True):
    name: Annotated[str, msgspec.Meta(min_length=1, max_length=100)]
    role: ExpertRole
    unit_id: Id | None = None
    ties: Annotated[list[Id], msgspec.Meta(max_length=100)] = []


class AssignmentRequest(msgspec.Struct, forbid_unknown_fields=True):
    expert_id: Id


class ScoreSheet(msgspec.Struct, forbid_unknown_fields=True):
    """Points per indicator of the expert's role, in hundredths (``750`` = 7.50)."""

    scores: dict[Annotated[str, msgspec.Meta(max_length=40)], Annotated[int, msgspec.Meta(ge=0, le=10000)]]
    onsite_date: date
    findings: Annotated[str, msgspec.Meta(min_length=1, max_length=5000)]


def _org(request: Request) -> str:
    p = principal_of(request)
    if not p.org:
        raise Forbidden()
    return p.org


class CycleController(Controller):
    path = "/v1/cycles"
    tags = ["cycles"]

    @post("/", operation_id="openEvaluationCycle", status_code=201, **access(Role.BUREAU))
    async def open(self, request: Request, db: NamedDependency[ServiceDatabase], settings: NamedDependency[Settings], data: JSONBody[CycleRequest]) -> Cycle:
        """The bureau opens the year's evaluation with its award budget (M13); the indicator
        set in force (``XCISS_EVALUATION_POLICY_FILE``) is kept with the cycle. Once per year."""
        return await cycle.open_cycle(
            db, actor_of(request), correlation_of(request), year=data.year, award_budget_fen=data.award_budget_fen, policy=policy.load_policy(settings), reason=data.reason,
            redemption_opens_on=data.redemption_opens_on, redemption_closes_on=data.redemption_closes_on,
        )

    @get("/{year:int}", operation_id="getEvaluationCycle", **access(Role.CENTER, Role.BUREAU, Role.FINANCE, Role.DEPARTMENT, Role.UNIT, Role.EXPERT))
    async def read(self, db: NamedDependency[ServiceDatabase], year: FromPath[int]) -> Cycle:
        """The year's cycle: indicator set version, award budget and amounts."""
        return await cycle.get_cycle(db, year)


class IndicatorSetController(Controller):
    path = "/v1/indicator-set"
    tags = ["cycles"]

    @get("/", operation_id="getIndicatorSet", **access("public"))
    async def current(self, settings: NamedDependency[Settings], year: int | None = Parameter(default=None, ge=2000, le=2100)) -> IndicatorSetInForce:
        """The indicator set in force (the tree, points and rules) and, with ``year``, that year's
        parameters (``parameters_of_year``); public (R11)."""
        return schemas.indicator_set_in_force(policy.load_policy(settings), year)


class ApplicationController(Controller):
    path = "/v1/applications"
    tags = ["applications"]

    @post("/", operation_id="submitEvaluationApplication", status_code=201, **access(Role.UNIT))
    async def submit(self, request: Request, db: NamedDependency[ServiceDatabase], data: JSONBody[ApplicationRequest]) -> Application:
        """A unit applies for an open year with its uploaded evidence files (M14(2)), a self-evaluation
        report among them (422 ``application.self_assessment_required``, field ``documents``); it goes
        to its competent department."""
        return await applications.submit(
            db, actor_of(request), correlation_of(request), unit_id=_org(request), year=data.year, documents=list(data.documents), statement=data.statement
        )

    @post("/{application_id:str}/resubmit", operation_id="resubmitEvaluationApplication", status_code=200, **access(Role.UNIT))
    async def resubmit(self, request: Request, db: NamedDependency[ServiceDatabase], application_id: FromPath[str], data: JSONBody[Resubmission]) -> Application:
        """The unit sends a returned application back with its evidence files as now named."""
        return await applications.resubmit(db, actor_of(request), correlation_of(request), application_id, documents=list(data.documents), statement=data.statement)

    @post("/{application_id:str}/forward", operation_id="forwardEvaluationApplication", status_code=200, **access(Role.DEPARTMENT))
    async def forward(self, request: Request, db: NamedDependency[ServiceDatabase], application_id: FromPath[str], data: JSONBody[Forwarding]) -> Application:
        """The unit's competent department (token ``org`` = the unit's ``department``) forwards it (M10, R8)."""
        return await applications.review(db, actor_of(request), correlation_of(request), application_id, forward=True, reason=data.reason)

    @post("/{application_id:str}/return", operation_id="returnEvaluationApplication", status_code=200, **access(Role.DEPARTMENT))
    async def return_(self, request: Request, db: NamedDependency[ServiceDatabase], application_id: FromPath[str], data: JSONBody[Return]) -> Application:
        """The competent department returns it to the unit with a reason."""
        return await applications.review(db, actor_of(request), correlation_of(request), application_id, forward=False, reason=data.reason)

    @post("/{application_id:str}/assignments", operation_id="assignExpert", status_code=201, **access(Role.CENTER))
    async def assign(self, request: Request, db: NamedDependency[ServiceDatabase], application_id: FromPath[str], data: JSONBody[AssignmentRequest]) -> Assignment:
        """The center assigns an expert to a forwarded application; an expert of the unit,
        its parent or child unit, or with a declared tie is refused (409 ``assignment.conflict_of_interest``,
        the same status as the vouchers service's assignment of a claim's expert)."""
        return await experts.assign(db, actor_of(request), correlation_of(request), application_id, expert_id=data.expert_id)

    @post("/{application_id:str}/grade", operation_id="decideEvaluationGrade", status_code=200, **access(Role.CENTER))
    async def grade(
        self, request: Request, db: NamedDependency[ServiceDatabase], application_id: FromPath[str], data: JSONBody[GradeRequest], measures_source: NamedDependency[sources.MeasuresSource]
    ) -> Application:
        """When every assigned expert (all three roles) has scored, the center decides the
        grade: computed indicators from the platform's records plus the experts' means (R11, R12).
        A case an objection reopened is decided again only with a reason (400 ``grade.reason_required``)."""
        return await grading.decide_grade(db, actor_of(request), correlation_of(request), application_id, reason=data.reason, source=measures_source)

    @get("/{application_id:str}", operation_id="getEvaluationApplication", **access(Role.UNIT, Role.DEPARTMENT, Role.EXPERT, *STAFF))
    async def read(self, request: Request, db: NamedDependency[ServiceDatabase], application_id: FromPath[str]) -> Application:
        """One application: its unit, its department, its assigned experts, center and bureau (404 to
        others); with the unit's rectification of that year, if one is required (not for experts)."""
        return await applications.get_application(db, actor_of(request), application_id)

    @get("/", operation_id="listEvaluationApplications", **access(Role.UNIT, Role.DEPARTMENT, Role.EXPERT, *STAFF))
    async def index(
        self,
        request: Request,
        db: NamedDependency[ServiceDatabase],
        year: int | None = Parameter(default=None, ge=2000, le=2100),
        status: str | None = Parameter(default=None, max_length=20),
        unit_id: str | None = Parameter(default=None, max_length=36),
        page: PageNumber = 1,
        page_size: PageSize = 20,
    ) -> ApplicationPage:
        """Applications in submission order, filtered to what the caller may see."""
        return await applications.list_applications(db, actor_of(request), year=year, status=status, unit_id=unit_id, page=page, page_size=page_size)


class ExpertController(Controller):
    path = "/v1/experts"
    tags = ["experts"]

    @post("/", operation_id="registerExpert", status_code=201, **access(Role.CENTER))
    async def register(self, request: Request, db: NamedDependency[ServiceDatabase], data: JSONBody[ExpertRequest]) -> Expert:
        """The center registers an expert: role, own unit, declared ties. The expert's
        token carries the returned ``expert_id`` as its ``org``."""
        return await experts.register_expert(db, actor_of(request), correlation_of(request), name=data.name, role=str(data.role), unit_id=data.unit_id, ties=list(data.ties))

    @get("/", operation_id="listExperts", **access(*STAFF))
    async def index(
        self, db: NamedDependency[ServiceDatabase], role: ExpertRole | None = Parameter(default=None), page: PageNumber = 1, page_size: PageSize = 20
    ) -> ExpertPage:
        """Registered experts by name."""
        return await experts.list_experts(db, role=str(role) if role else None, page=page, page_size=page_size)


class AssignmentController(Controller):
    path = "/v1/assignments"
    tags = ["experts"]

    @get("/", operation_id="listAssignments", **access(Role.EXPERT, *STAFF))
    async def index(
        self,
        request: Request,
        db: NamedDependency[ServiceDatabase],
        application_id: str | None = Parameter(default=None, max_length=36),
        page: PageNumber = 1,
        page_size: PageSize = 20,
    ) -> AssignmentPage:
        """An expert sees only their own assignments; center and bureau all."""
        return await experts.list_assignments(db, actor_of(request), application_id=application_id, page=page, page_size=page_size)

    @post("/{assignment_id:str}/scores", operation_id="recordScores", status_code=200, **access(Role.EXPERT))
    async def score(self, request: Request, db: NamedDependency[ServiceDatabase], assignment_id: FromPath[str], data: JSONBody[ScoreSheet]) -> Assignment:
        """The assigned expert scores every indicator of their role and records the on-site
        check (R14(3)); they may correct it until the grade is decided."""
        return await experts.record_scores(db, actor_of(request), correlation_of(request), assignment_id, scores=dict(data.scores), onsite_date=data.onsite_date, findings=data.findings)
