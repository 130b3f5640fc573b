"""The award plan's approval and its notice over HTTP (R14(4))."""

from __future__ import annotations

from litestar import Controller, Request, post
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody

from services.evaluation import award_approval
from services.evaluation.api.notices import PlanNoticeRequest, PlanRequest
from services.evaluation.schemas import AwardPlan
from services.runtime.roles import Role
from services.runtime.http.auth import access
from services.runtime.http.app import actor_of
from services.runtime.http.edge import correlation_of
from services.runtime.db.service_db import ServiceDatabase
from services.runtime.settings import Settings
from services.runtime.workdays import load_calendar


class AwardApprovalController(Controller):
    path = "/v1/award-plans"
    tags = ["awards"]

    @post("/{year:int}/approve", operation_id="approveAwardPlan", status_code=200, **access(Role.BUREAU))
    async def approve(self, request: Request, db: NamedDependency[ServiceDatabase], year: FromPath[int], data: JSONBody[PlanRequest]) -> AwardPlan:
        """The bureau approves the proposed plan (按相关程序审批); who, when and why are recorded
        and audited. Once per year (409 ``award_plan.already_approved``)."""
        return await award_approval.approve(db, actor_of(request), correlation_of(request), year=year, reason=data.reason)

    @post("/{year:int}/notice", operation_id="publishAwardPlanNotice", status_code=201, **access(Role.BUREAU, Role.CENTER))
    async def publish(self, request: Request, db: NamedDependency[ServiceDatabase], settings: NamedDependency[Settings], year: FromPath[int], data: JSONBody[PlanNoticeRequest]) -> AwardPlan:
        """The approved plan's funded lines go on public notice with the year's window (R14(4));
        a plan the bureau has not approved is refused (409 ``award_plan.not_approved``). When
        nobody is funded there is no list: rectification and recognition follow at once."""
        return await award_approval.put_on_notice(db, actor_of(request), correlation_of(request), load_calendar(settings), year=year, reason=data.reason, published_on=data.published_on)
