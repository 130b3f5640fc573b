"""Public notices, objections, the award plan and redemption notices over HTTP."""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from typing import Annotated

import msgspec
from litestar import Controller, Request, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody, Parameter

from services.evaluation import award_plans, notice_finalization, notices, objections, policy, redemption_notices
from services.evaluation.schemas import AwardPlan, Notice, NoticePage, Objection, ObjectionPage, ProvincialAward, ProvincialAwardPage, RedemptionPage
from services.runtime.http.auth import PUBLIC, access
from services.runtime.roles import Role
from services.runtime.http.app import actor_of
from services.runtime.http.edge import correlation_of
from services.runtime.http.pagination import PageNumber, PageSize
from services.runtime.db.service_db import ServiceDatabase
from services.runtime.settings import Settings
from services.runtime.workdays import load_calendar

Reason = Annotated[str, msgspec.Meta(min_length=1, max_length=2000)]
OptionalReason = Annotated[str, msgspec.Meta(max_length=2000)] | None
Id = Annotated[str, msgspec.Meta(min_length=1, max_length=36)]
Year = Annotated[int, msgspec.Meta(ge=2000, le=2100)]
STAFF = (Role.CENTER, Role.BUREAU)


class PublishableKind(StrEnum):
    grades = "grades"
    redemption = "redemption"


class Kind(StrEnum):
    grades = "grades"
    award_plan = "award_plan"
    redemption = "redemption"


class Outcome(StrEnum):
    upheld_line = "upheld_line"
    corrected = "corrected"
    withdrawn = "withdrawn"


class PublishRequest(msgspec.Struct, forbid_unknown_fields=True):
    """Publish the year's grades (every graded application) or its approved redemption
    claims not yet noticed; the award plan is published by proposing it."""

    kind: PublishableKind
    year: Year
    reason: OptionalReason = None
    #: the day the notice went up on the notice board, when recorded later (default today);
    #: not in the future, and its window must still be running
    published_on: date | None = None


class ObjectionRequest(msgspec.Struct, forbid_unknown_fields=True):
    """A real-name objection to one line: name plus a phone or an identity number."""

    ref: Id
    name: Annotated[str, msgspec.Meta(min_length=1, max_length=100)]
    text: Annotated[str, msgspec.Meta(min_length=1, max_length=5000)]
    phone: Annotated[str, msgspec.Meta(max_length=24)] | None = None
    id_number: Annotated[str, msgspec.Meta(max_length=18)] | None = None


class Resolution(msgspec.Struct, forbid_unknown_fields=True):
    outcome: Outcome
    reason: Reason


class Finalization(msgspec.Struct, forbid_unknown_fields=True):
    pass


class NoticeController(Controller):
    path = "/v1/notices"
    tags = ["notices"]

    @post("/", operation_id="publishNotice", status_code=201, **access(Role.CENTER))
    async def publish(self, request: Request, db: NamedDependency[ServiceDatabase], settings: NamedDependency[Settings], data: JSONBody[PublishRequest]) -> Notice:
        """The center publishes the year's grades (R14(3)) or redemption claims (R20(3)) with
        a window of the year's working days, starting the next working day."""
        cal = load_calendar(settings)
        if data.kind is PublishableKind.grades:
            return await notices.publish_grades(db, actor_of(request), correlation_of(request), cal, year=data.year, reason=data.reason, published_on=data.published_on)
        window = policy.load_policy(settings).parameters(data.year).notice_window_workdays
        return await redemption_notices.publish_redemptions(db, actor_of(request), correlation_of(request), cal, window, year=data.year, reason=data.reason, published_on=data.published_on)

    @get("/", operation_id="listNotices", **access(PUBLIC))
    async def index(
        self,
        db: NamedDependency[ServiceDatabase],
        kind: Kind | None = Parameter(default=None),
        year: int | None = Parameter(default=None, ge=2000, le=2100),
        status: str | None = Parameter(default=None, max_length=20),
        case_no: str | None = Parameter(default=None, max_length=40, description="the notice with this case number (GS-2026-000012; case and spaces aside)"),
        page: PageNumber = 1,
        page_size: PageSize = 20,
    ) -> NoticePage:
        """Published notices, newest first; public."""
        return await notices.list_notices(db, kind=str(kind) if kind else None, year=year, status=status, case_no=case_no, page=page, page_size=page_size)

    @get("/{notice_id:str}", operation_id="getNotice", **access(PUBLIC))
    async def read(self, db: NamedDependency[ServiceDatabase], notice_id: FromPath[str]) -> Notice:
        """A notice with its lines; public."""
        return await notices.get_notice(db, notice_id)

    @post("/{notice_id:str}/objections", operation_id="raiseObjection", status_code=201, **access(PUBLIC))
    async def object(self, request: Request, db: NamedDependency[ServiceDatabase], settings: NamedDependency[Settings], notice_id: FromPath[str], data: JSONBody[ObjectionRequest]) -> Objection:
        """Anybody may object to a line until the end of the window's last working day, with a
        real name and a phone or identity number (kept encrypted, shown masked). The line is
        held and its case reopened."""
        return await objections.raise_objection(
            db, actor_of(request), correlation_of(request), settings.field_cipher(), notice_id, ref=data.ref, name=data.name, phone=data.phone, id_number=data.id_number, text=data.text
        )

    @get("/{notice_id:str}/objections", operation_id="listObjections", **access(*STAFF))
    async def objections(
        self, db: NamedDependency[ServiceDatabase], notice_id: FromPath[str], status: str | None = Parameter(default=None, max_length=20), page: PageNumber = 1, page_size: PageSize = 20
    ) -> ObjectionPage:
        """The notice's objections (contacts masked)."""
        return await objections.list_objections(db, notice_id, status=status, page=page, page_size=page_size)

    @post("/{notice_id:str}/finalize", operation_id="finalizeNotice", status_code=200, **access(Role.CENTER))
    async def finalize(self, request: Request, db: NamedDependency[ServiceDatabase], notice_id: FromPath[str], data: JSONBody[Finalization]) -> Notice:
        """Final only when the window has closed and no objection is open (``notice.window_open``,
        ``notice.objections_open``); a final notice answers as it is. The worker does the same on a timer."""
        return await notice_finalization.finalize(db, actor_of(request), correlation_of(request), notice_id)


class ObjectionController(Controller):
    path = "/v1/objections"
    tags = ["notices"]

    @post("/{objection_id:str}/resolve", operation_id="resolveObjection", status_code=200, **access(Role.CENTER))
    async def resolve(self, request: Request, db: NamedDependency[ServiceDatabase], objection_id: FromPath[str], data: JSONBody[Resolution]) -> Objection:
        """The center resolves an objection: ``upheld_line`` (the line stands), ``corrected``
        (the line takes the case as it stands now: the re-decided grade, the recomputed award,
        the claim's latest review) or ``withdrawn`` (the line leaves the list)."""
        return await objections.resolve(db, actor_of(request), correlation_of(request), objection_id, outcome=str(data.outcome), reason=data.reason)


class ProvincialAwardRequest(msgspec.Struct, forbid_unknown_fields=True):
    unit_id: Id
    year: Year
    #: the provincial decision's document number
    reference: Annotated[str, msgspec.Meta(min_length=1, max_length=200)]


class PlanRequest(msgspec.Struct, forbid_unknown_fields=True):
    reason: OptionalReason = None


class PlanNoticeRequest(msgspec.Struct, forbid_unknown_fields=True):
    reason: OptionalReason = None
    #: the day the notice went up on the notice board, when recorded later (default today)
    published_on: date | None = None


class AwardController(Controller):
    path = "/v1"
    tags = ["awards"]

    @post("/provincial-awards", operation_id="recordProvincialAward", status_code=201, **access(Role.BUREAU))
    async def provincial(self, request: Request, db: NamedDependency[ServiceDatabase], data: JSONBody[ProvincialAwardRequest]) -> ProvincialAward:
        """The bureau records a unit's provincial award for the year: no city award for it (R6)."""
        return await award_plans.record_provincial_award(db, actor_of(request), correlation_of(request), unit_id=data.unit_id, year=data.year, reference=data.reference)

    @get("/provincial-awards", operation_id="listProvincialAwards", **access(*STAFF))
    async def provincials(self, db: NamedDependency[ServiceDatabase], year: int = Parameter(ge=2000, le=2100), page: PageNumber = 1, page_size: PageSize = 20) -> ProvincialAwardPage:
        """Provincial awards recorded for a year."""
        return await award_plans.list_provincial_awards(db, year=year, page=page, page_size=page_size)

    @post("/award-plans/{year:int}", operation_id="proposeAwardPlan", status_code=201, **access(Role.BUREAU))
    async def propose(self, request: Request, db: NamedDependency[ServiceDatabase], year: FromPath[int], data: JSONBody[PlanRequest]) -> AwardPlan:
        """After the grades notice is final the bureau proposes the plan (excellent and good
        awards, none for a provincial award, capped by the budget in order of merit). It goes on
        its own notice only after the bureau approves it (R14(4): ``/approve``, then ``/notice``)."""
        return await award_plans.propose_award_plan(db, actor_of(request), correlation_of(request), year=year, reason=data.reason)

    @get("/award-plans/{year:int}", operation_id="getAwardPlan", **access(Role.CENTER, Role.BUREAU, Role.FINANCE))
    async def plan(self, db: NamedDependency[ServiceDatabase], year: FromPath[int]) -> AwardPlan:
        """The year's plan: every graded unit with its amount and why, and the bureau's approval."""
        return await award_plans.get_award_plan(db, year=year)


class RedemptionController(Controller):
    path = "/v1/redemptions"
    tags = ["notices"]

    @get("/", operation_id="listReviewedRedemptions", **access(*STAFF))
    async def index(self, db: NamedDependency[ServiceDatabase], year: int = Parameter(ge=2000, le=2100), page: PageNumber = 1, page_size: PageSize = 20) -> RedemptionPage:
        """Redemption claims as vouchers' experts reviewed them, and the notice that listed each."""
        return await redemption_notices.list_redemptions(db, year=year, page=page, page_size=page_size)
