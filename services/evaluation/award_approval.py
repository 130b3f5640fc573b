"""R14(4) 按相关程序审批后向社会公示: the bureau proposes the year's award plan
(:func:`services.evaluation.award_plans.propose_award_plan`), approves it — who,
when and why recorded and audited — and only an approved plan goes on its
public notice. Publishing a plan nobody approved is refused
(``award_plan.not_approved``). When nobody is funded there is no list to
notice: publishing then announces the plan at once (rectification and
recognition follow, as after a final notice)."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.engine import RowMapping
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from services.evaluation import cycle as cy
from services.evaluation import notices as nt
from services.evaluation.notice_finalization import rectify_and_recognise
from services.evaluation.db.followup_models import award_plan_approvals
from services.evaluation.db.models import awards, unit_view
from services.evaluation.domain import awards as aw
from services.runtime import clock
from services.runtime.errors import Conflict, NotFound
from services.runtime.db.unit_of_work import Actor
from services.runtime.db.service_db import ServiceDatabase
from services.runtime.workdays import WorkdayCalendar


def approval_view(row: RowMapping | dict[str, Any] | None) -> dict[str, Any] | None:
    if row is None:
        return None
    return {k: row[k] for k in ("year", "approved_at", "approved_by", "reason", "published_at")}


async def _lines(s: AsyncSession, year: int) -> list[RowMapping]:
    rows = list((await s.execute(select(awards).where(awards.c.year == year).order_by(awards.c.rank))).mappings().all())
    if not rows:
        raise NotFound("award_plan", "奖励计划", str(year))
    return rows


async def _approval(s: AsyncSession, year: int, *, lock: bool = False) -> RowMapping | None:
    q = select(award_plan_approvals).where(award_plan_approvals.c.year == year)
    return (await s.execute(q.with_for_update() if lock else q)).mappings().first()


async def approval_of(db: ServiceDatabase, year: int) -> dict[str, Any] | None:
    async with db.read() as s:
        return approval_view(await _approval(s, year))


def _already_approved(year: int) -> Conflict:
    return Conflict("award_plan.already_approved", "本年度奖励计划已审批", "this year's award plan is already approved", year=year)


async def approve(db: ServiceDatabase, actor: Actor, correlation_id: str | None, *, year: int, reason: str | None) -> dict[str, Any] | None:
    """The bureau approves the proposed plan, once."""
    try:
        return await _approve(db, actor, correlation_id, year=year, reason=reason)
    except IntegrityError as exc:  # a concurrent approval won
        raise _already_approved(year) from exc


async def _approve(db: ServiceDatabase, actor: Actor, correlation_id: str | None, *, year: int, reason: str | None) -> dict[str, Any] | None:
    async with db.unit_of_work(actor, correlation_id) as uow:
        s = uow.session
        await cy.load_cycle(s, year, lock=True)
        lines = await _lines(s, year)
        if await _approval(s, year) is not None:
            raise _already_approved(year)
        row = {"year": year, "approved_at": clock.utc_now(), "approved_by": actor.label, "reason": reason, "published_at": None}
        await s.execute(insert(award_plan_approvals).values(**row))
        funded = [r for r in lines if r["outcome"] == aw.FUNDED]
        after = {**(approval_view(row) or {}), "planned_fen": sum(r["amount_fen"] for r in funded), "funded": [r["id"] for r in funded]}
        await uow.audit("award_plan.approve", "award_plan", str(year), reason=reason, after=after)
        return approval_view(row)


async def put_on_notice(
    db: ServiceDatabase, actor: Actor, correlation_id: str | None, cal: WorkdayCalendar, *, year: int, reason: str | None, published_on: date | None = None
) -> dict[str, Any] | None:
    """The approved plan's funded lines go on notice with the year's window; the notice (None
    when nobody is funded). ``NoticePublished`` leaves through the unit of work's outbox."""
    async with db.unit_of_work(actor, correlation_id) as uow:
        s = uow.session
        cycle = await cy.load_cycle(s, year, lock=True)
        lines = await _lines(s, year)
        approval = await _approval(s, year)
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
                "label": f"{names.get(r['unit_id']) or r['unit_id']}：{nt.GRADE_ZH[r['grade']]}，奖励 {r['amount_fen'] / 100:,.2f} 元",
                "amount_fen": r["amount_fen"],
                "grade": r["grade"],
                "total_centi": r["total_centi"],
            }
            for r in funded
        ]
        notice: dict[str, Any] | None = None
        on = aw.publication_day(cal, published_on, nt.today(), params.notice_window_workdays)
        if notice_lines:
            title = f"{year} 年度管理单位开放共享奖励计划公示"
            notice = await nt.publish(uow, cal, kind=nt.AWARD_PLAN, year=year, title=title, window=params.notice_window_workdays, lines=notice_lines, on=on, reason=reason)
            await s.execute(update(awards).where(awards.c.year == year).values(notice_id=notice["notice_id"]))
        else:
            # nobody is awarded: there is no list to notice, and rectification and recognition follow at once
            await rectify_and_recognise(uow, year, params, on)
        await s.execute(update(award_plan_approvals).where(award_plan_approvals.c.year == year).values(published_at=clock.utc_now()))
        return notice
