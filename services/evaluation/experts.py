"""The experts of the evaluation (R14(3)): the center registers them and
assigns them to forwarded applications, refusing an expert tied to the unit,
its parent or child unit; each assigned expert scores the indicators of their
role and records the on-site check."""

from __future__ import annotations

from datetime import date

from sqlalchemy import and_, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from contracts import evaluation as ev
from contracts.envelope import new_event_id
from services.evaluation import schemas
from services.evaluation.application_rows import ASSIGNABLE, load_application
from services.evaluation.cycle import indicator_set, load_cycle
from services.evaluation.db.models import assignments, experts, unit_view
from services.evaluation.domain.scoring import check_sheet
from services.evaluation.schemas import Assignment, AssignmentPage, Expert, ExpertPage
from services.runtime import clock
from services.runtime.audit_image import audit_image
from services.runtime.roles import Role
from services.runtime.errors import Conflict, DomainError, NotFound
from services.runtime.db.unit_of_work import Actor
from services.runtime.db.service_db import ServiceDatabase
from services.runtime.http.pagination import read_page


async def register_expert(db: ServiceDatabase, actor: Actor, correlation_id: str | None, *, name: str, role: str, unit_id: str | None, ties: list[str]) -> Expert:
    row = {"id": new_event_id(), "name": name.strip(), "role": role, "unit_id": unit_id, "ties": sorted(set(ties)), "registered_at": clock.utc_now()}
    registered = schemas.expert(row)
    async with db.unit_of_work(actor, correlation_id) as uow:
        await uow.session.execute(insert(experts).values(**row))
        await uow.emit(ev.ExpertRegistered(expert_id=row["id"], role=role, unit_id=unit_id, ties=row["ties"]))  # type: ignore[arg-type]
        await uow.audit("expert.register", "expert", row["id"], after=audit_image(registered))
    return registered


async def list_experts(db: ServiceDatabase, *, role: str | None, page: int, page_size: int) -> ExpertPage:
    where = experts.c.role == role if role else and_(True)
    async with db.read() as s:
        return await read_page(s, select(experts).where(where), order_by=[experts.c.name, experts.c.id], page=page, page_size=page_size, item=schemas.expert)


async def related_units(s: AsyncSession, unit_id: str) -> set[str]:
    """The unit, its parent (a college's university) and its children (its colleges)."""
    related = {unit_id}
    parent = (await s.execute(select(unit_view.c.parent_unit_id).where(unit_view.c.unit_id == unit_id))).scalar_one_or_none()
    if parent:
        related.add(parent)
    related.update((await s.execute(select(unit_view.c.unit_id).where(unit_view.c.parent_unit_id == unit_id))).scalars())
    return related


async def assign(db: ServiceDatabase, actor: Actor, correlation_id: str | None, application_id: str, *, expert_id: str) -> Assignment:
    """R14(3): no expert scores a unit they belong to, its parent or child unit, or a unit they declared a tie to."""
    try:
        async with db.unit_of_work(actor, correlation_id) as uow:
            s = uow.session
            app = await load_application(s, application_id)
            if app["status"] not in ASSIGNABLE:
                raise Conflict("assignment.application_not_forwarded", "只能为已转报的申请指派专家", "experts are assigned to forwarded applications only", current_status=app["status"])
            expert = (await s.execute(select(experts).where(experts.c.id == expert_id))).mappings().first()
            if expert is None:
                raise NotFound("expert", "专家", expert_id)
            related = await related_units(s, app["unit_id"])
            own = {expert["unit_id"]} if expert["unit_id"] else set()
            ties = set(expert["ties"])
            if related & (own | ties):
                raise Conflict(
                    "assignment.conflict_of_interest",
                    "该专家与被评单位存在隶属或关联关系，须回避",
                    "the expert belongs to or is tied to the unit (or its parent or child unit) and must recuse",
                    expert_id=expert_id,
                    units=sorted(related & (own | ties)),
                )
            if (await s.execute(select(assignments.c.id).where(assignments.c.application_id == application_id, assignments.c.expert_id == expert_id))).first():
                raise Conflict("assignment.duplicate", "该专家已被指派评审此申请", "the expert is already assigned to this application")
            row = {"id": new_event_id(), "application_id": application_id, "expert_id": expert_id, "role": expert["role"], "assigned_at": clock.utc_now()}
            await s.execute(insert(assignments).values(**row))
            saved = (await s.execute(select(assignments).where(assignments.c.id == row["id"]))).mappings().one()
            assigned = schemas.assignment(saved)
            await uow.audit("assignment.create", "assignment", row["id"], after=audit_image(assigned))
            return assigned
    except IntegrityError as exc:
        raise Conflict("assignment.duplicate", "该专家已被指派评审此申请", "the expert is already assigned to this application") from exc


async def list_assignments(db: ServiceDatabase, actor: Actor, *, application_id: str | None, page: int, page_size: int) -> AssignmentPage:
    conds = []
    if actor.role == Role.EXPERT:
        conds.append(assignments.c.expert_id == (actor.org or ""))
    if application_id:
        conds.append(assignments.c.application_id == application_id)
    where = and_(True, *conds)
    async with db.read() as s:
        return await read_page(s, select(assignments).where(where), order_by=[assignments.c.assigned_at, assignments.c.id], page=page, page_size=page_size, item=schemas.assignment)


async def record_scores(
    db: ServiceDatabase, actor: Actor, correlation_id: str | None, assignment_id: str, *, scores: dict[str, int], onsite_date: date, findings: str
) -> Assignment:
    """The assigned expert scores every indicator of their role and records the
    on-site check; they may correct their sheet until the grade is decided."""
    async with db.unit_of_work(actor, correlation_id) as uow:
        s = uow.session
        a = (await s.execute(select(assignments).where(assignments.c.id == assignment_id))).mappings().first()
        if a is None or actor.role != Role.EXPERT or a["expert_id"] != actor.org:
            raise NotFound("assignment", "评审任务", assignment_id)
        app = await load_application(s, a["application_id"])
        if app["status"] not in ASSIGNABLE:
            raise Conflict("score.application_closed", "该申请已不在评审阶段", "the application is no longer being scored", current_status=app["status"])
        cycle = await load_cycle(s, app["year"])
        problems = check_sheet(indicator_set(cycle), a["role"], scores)
        if problems:
            raise DomainError("score.sheet_invalid", "评分表不完整或分值超出范围", "the score sheet is incomplete or out of range", problems=problems)
        points = sum(scores.values())
        await s.execute(update(assignments).where(assignments.c.id == assignment_id).values(scores=scores, points_centi=points, onsite_date=onsite_date, findings=findings, scored_at=clock.utc_now()))
        scored = schemas.assignment((await s.execute(select(assignments).where(assignments.c.id == assignment_id))).mappings().one())
        await uow.emit(ev.ScoreRecorded(application_id=app["id"], unit_id=app["unit_id"], year=app["year"], assignment_id=assignment_id, expert_role=a["role"], points_centi=points))
        await uow.audit("assignment.score", "assignment", assignment_id, before=audit_image(schemas.assignment(a)), after=audit_image(scored))
        return scored
