"""R14(4) 按相关程序审批后向社会公示: the bureau proposes the year's award plan
(:func:`services.evaluation.award_plans.propose_award_plan`), approves it — who,
when and why recorded and audited — and only an approved plan goes on its
public notice. Publishing a plan nobody approved is refused
(``award_plan.not_approved``). When nobody is funded there is no list to
notice: publishing then announces the plan at once (rectification and
recognition follow, as after a final notice)."""

from __future__ import annotations

from datetime import date
import msgspec
from sqlalchemy import insert, select, update
from sqlalchemy.engine import RowMapping
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from services.evaluation import cycle as cy
from services.evaluation import schemas
from services.evaluation import notices as nt
from services.evaluation.award_plans import approval_row, get_award_plan
from services.evaluation.notice_finalization import rectify_and_recognise
from services.evaluation.db.followup_models import award_plan_approvals
from services.evaluation.db.models import awards, unit_view
from services.evaluation.domain import awards as aw
from services.evaluation.schemas import AwardPlan, Notice
from services.runtime import clock
from services.runtime.audit_image import audit_image
from services.runtime.errors import Conflict, NotFound
from services.runtime.money import yuan
from services.runtime.db.unit_of_work import Actor
from services.runtime.db.service_db import ServiceDatabase
from services.runtime.workdays import WorkdayCalendar


async def _lines(s: AsyncSession, year: int) -> list[RowMapping]:
    rows = list((await s.execute(select(awards).where(awards.c.year == year).order_by(awards.c.rank))).mappings().all())
    if not rows:
        raise NotFound("award_plan", "奖励计划", str(year))
    return rows


def _already_approved(year: int) -> Conflict:
    return Conflict("award_plan.already_approved", "本年度奖励计划已审批", "this year's award plan is already approved", year=year)


async def approve(db: ServiceDatabase, actor: Actor, correlation_id: str | None, *, year: int, reason: str | None) -> AwardPlan:
    """The bureau approves the proposed plan, once; the plan with its approval."""
    try:
        await _approve(db, actor, correlation_id, year=year, reason=reason)
    except IntegrityError as exc:  # a concurrent approval won
        raise _already_approved(year) from exc
    return await get_award_plan(db, year=year)


async def _approve(db: ServiceDatabase, actor: Actor, correlation_id: str | None, *, year: int, reason: str | None) -> None:
    async with db.unit_of_work(actor, correlation_id) as uow:
        s = uow.session
        await cy.load_cycle(s, year, lock=True)
        lines = await _lines(s, year)
        if await approval_row(s, year) is not None:
            raise _already_approved(year)
        row = {"year": year, "approved_at": clock.utc_now(), "approved_by": actor.label, "reason": reason, "published_at": None}
        await s.execute(insert(award_plan_approvals).values(**row))
        funded = [r for r in lines if r["outcome"] == aw.FUNDED]
        after = {**audit_image(schemas.award_plan_approval(row)), "planned_fen": sum(r["amount_fen"] for r in funded), "funded": [r["id"] for r in funded]}
        await uow.audit("award_plan.approve", "award_plan", str(year), reason=reason, after=after)


async def put_on_notice(
    db: ServiceDatabase, actor: Actor, correlation_id: str | None, cal: WorkdayCalendar, *, year: int, reason: str | None, published_on: date | None = None
) -> AwardPlan:
    """The approved plan's funded lines go on notice with the year's window; the plan with its
    notice and the notice's lines (no notice when nobody is funded). ``NoticePublished`` leaves
    through the unit of work's outbox."""
    async with db.unit_of_work(actor, correlation_id) as uow:
        s = uow.session
        cycle = await cy.load_cycle(s, year, lock=True)
        lines = await _lines(s, year)
        approval = await approval_row(s, year)
        if approval is None:
            raise Conflict("award_plan.not_approved", "奖励计划尚未经市科技局审批，不能公示", "the award plan has not been approved by the bureau and cannot be published", year=year)
        if approval["published_at"] is not None:
            raise Conflict("notice.already_published", "本年度该类公示已发布", "this year's notice of that kind is already published", kind=nt.AWARD_PLAN, year=year)
        params = cy.indicator_set(cycle).parameters(year)
        funded = [r for r in lines if r["outcome"] == aw.FUNDED and r["status"] == "proposed"]
        names = dict((await s.execute(select(unit_view.c.unit_id, unit_view.c.name).where(unit_view.c.unit_id.in_([r["unit_id"] for r in funded] or [""])))).all())
        notice_lines = [
            {
                "ref": r["id"],
                "unit_id": r["unit_id"],
                "label": f"{names.get(r['unit_id']) or r['unit_id']}：{nt.GRADE_ZH[r['grade']]}，奖励 {yuan(r['amount_fen'])} 元",
                "amount_fen": r["amount_fen"],
                "grade": r["grade"],
                "total_centi": r["total_centi"],
            }
            for r in funded
        ]
        notice: Notice | None = None
        on = aw.publication_day(cal, published_on, nt.today(), params.notice_window_workdays)
        if notice_lines:
            title = f"{year} 年度管理单位开放共享奖励计划公示"
            notice = await nt.publish(uow, cal, kind=nt.AWARD_PLAN, year=year, title=title, window=params.notice_window_workdays, lines=notice_lines, on=on, reason=reason)
            await s.execute(update(awards).where(awards.c.year == year).values(notice_id=notice.notice_id))
        else:
            # nobody is awarded: there is no list to notice, and rectification and recognition follow at once
            await rectify_and_recognise(uow, year, params, on)
        await s.execute(update(award_plan_approvals).where(award_plan_approvals.c.year == year).values(published_at=clock.utc_now()))
    plan = await get_award_plan(db, year=year)
    return plan if notice is None else msgspec.structs.replace(plan, notice=notice)  # the notice with its lines
