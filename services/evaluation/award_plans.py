"""The year's award plan (R14(4)): provincial awards recorded (R6: excluded
from the city's award), the plan proposed within the award budget, and the
plan as it stands with its notice and approval. Approving it and putting it on
notice: award_approval.py."""

from __future__ import annotations

from sqlalchemy import insert, select
from sqlalchemy.engine import RowMapping
from sqlalchemy.ext.asyncio import AsyncSession

from contracts.envelope import new_event_id
from services.evaluation import application_rows as app_rows
from services.evaluation import cycle as cy
from services.evaluation import schemas
from services.evaluation.db.followup_models import award_plan_approvals
from services.evaluation.db.models import applications, awards, notices, provincial_awards
from services.evaluation.domain import awards as aw
from services.evaluation.notices import FINAL, GRADES, load_notice
from services.evaluation.readmodel import excluded_units
from services.evaluation.schemas import AwardPlan, ProvincialAward, ProvincialAwardPage
from services.runtime import clock
from services.runtime.audit_image import audit_image
from services.runtime.errors import Conflict, NotFound
from services.runtime.db.unit_of_work import Actor
from services.runtime.db.service_db import ServiceDatabase
from services.runtime.http.pagination import read_page


async def approval_row(s: AsyncSession, year: int, *, lock: bool = False) -> RowMapping | None:
    """The bureau's approval of the year's plan (R14(4)), None before it."""
    q = select(award_plan_approvals).where(award_plan_approvals.c.year == year)
    return (await s.execute(q.with_for_update() if lock else q)).mappings().first()


async def record_provincial_award(db: ServiceDatabase, actor: Actor, correlation_id: str | None, *, unit_id: str, year: int, reference: str) -> ProvincialAward:
    """R6: the bureau records a unit's provincial award for the year; such a unit gets no city award."""
    row = {"unit_id": unit_id, "year": year, "reference": reference, "recorded_at": clock.utc_now(), "recorded_by": actor.label}
    async with db.unit_of_work(actor, correlation_id) as uow:
        s = uow.session
        if (await s.execute(select(provincial_awards.c.unit_id).where(provincial_awards.c.unit_id == unit_id, provincial_awards.c.year == year))).first():
            raise Conflict("provincial_award.duplicate", "已登记该单位本年度的省级奖补", "the unit's provincial award for the year is already recorded")
        await s.execute(insert(provincial_awards).values(**row))
        await uow.audit("provincial_award.record", "unit", unit_id, reason=reference, after={"year": year, "reference": reference})
    return schemas.provincial_award(row)


async def list_provincial_awards(db: ServiceDatabase, *, year: int, page: int, page_size: int) -> ProvincialAwardPage:
    async with db.read() as s:
        return await read_page(s, select(provincial_awards).where(provincial_awards.c.year == year), order_by=[provincial_awards.c.unit_id], page=page, page_size=page_size, item=schemas.provincial_award)


async def propose_award_plan(db: ServiceDatabase, actor: Actor, correlation_id: str | None, *, year: int, reason: str | None) -> AwardPlan:
    """R14(4): after the grades are final, the bureau proposes the plan under the
    year's budget (rule in :mod:`services.evaluation.domain.awards`). It goes on notice
    only once approved (:mod:`services.evaluation.award_approval`)."""
    async with db.unit_of_work(actor, correlation_id) as uow:
        s = uow.session
        cycle = await cy.load_cycle(s, year, lock=True)
        grades = (await s.execute(select(notices).where(notices.c.kind == GRADES, notices.c.year == year))).mappings().first()
        if grades is None or grades["status"] != FINAL:
            raise Conflict("award_plan.grades_not_final", "绩效评价结果公示尚未结束", "the year's grades notice is not final yet", year=year)
        if (await s.execute(select(awards.c.id).where(awards.c.year == year).limit(1))).first() is not None:
            raise Conflict("award_plan.already_proposed", "本年度奖励计划已提出", "this year's award plan is already proposed", year=year)
        params = cy.indicator_set(cycle).parameters(year)
        finals = (await s.execute(select(applications).where(applications.c.year == year, applications.c.status == app_rows.FINAL))).mappings().all()
        provincial = set((await s.execute(select(provincial_awards.c.unit_id).where(provincial_awards.c.year == year))).scalars())
        candidates = [aw.Candidate(unit_id=a["unit_id"], grade=a["grade"], total_centi=a["total_centi"], ref=a["id"]) for a in finals]
        excluded = await excluded_units(s, [c.unit_id for c in candidates])
        lines = aw.plan(params, cycle["award_budget_fen"], candidates, provincial, excluded)
        rows = []
        for rank, line in enumerate(lines, start=1):
            c = line.candidate
            rows.append(
                {
                    "id": new_event_id(),
                    "year": year,
                    "unit_id": c.unit_id,
                    "application_id": c.ref,
                    "grade": c.grade,
                    "total_centi": c.total_centi,
                    "rank": rank,
                    "amount_fen": line.amount_fen,
                    "outcome": line.outcome,
                    "status": "proposed" if line.outcome == aw.FUNDED else "not_awarded",
                    "notice_id": None,
                    "rectification_deadline": None,
                }
            )
        if not rows:
            raise Conflict("award_plan.nothing_to_plan", "本年度没有评定等次的单位", "no unit has a final grade this year", year=year)
        await s.execute(insert(awards), rows)
        funded = [r for r in rows if r["outcome"] == aw.FUNDED]
        lines = [schemas.award_line(r) for r in rows]
        for r, line in zip(rows, lines):
            await uow.audit("award.propose", "award", r["id"], reason=f"{r['outcome']}: {reason}" if reason else r["outcome"], after=audit_image(line))
        return AwardPlan(year=year, budget_fen=cycle["award_budget_fen"], planned_fen=sum(r["amount_fen"] for r in funded), notice=None, lines=lines)


async def get_award_plan(db: ServiceDatabase, *, year: int) -> AwardPlan:
    """The year's plan: every graded unit with its amount and why, its notice (without the
    lines) once published, and the bureau's approval."""
    async with db.read() as s:
        cycle = await cy.load_cycle(s, year)
        rows = (await s.execute(select(awards).where(awards.c.year == year).order_by(awards.c.rank))).mappings().all()
        if not rows:
            raise NotFound("award_plan", "奖励计划", str(year))
        notice = await load_notice(s, rows[0]["notice_id"]) if rows[0]["notice_id"] else None
        live = [r for r in rows if r["status"] in ("proposed", "approved")]
        approval = await approval_row(s, year)
        return AwardPlan(
            year=year,
            budget_fen=cycle["award_budget_fen"],
            planned_fen=sum(r["amount_fen"] for r in live),
            notice=schemas.notice(notice) if notice is not None else None,
            lines=[schemas.award_line(r) for r in rows],
            approval=schemas.award_plan_approval(approval) if approval is not None else None,
        )
