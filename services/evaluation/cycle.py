"""The yearly evaluation up to the grade (M13, M14, R11, R14(2)(3)).

The bureau opens the year with its award budget and the indicator set in force
(the whole set is kept with the cycle); a unit applies with its materials; its
competent department forwards or returns it; the center registers experts and
assigns them with conflict-of-interest checks; each expert scores the
indicators of their role and records the on-site check; the center then
decides the grade from the computed measures and the experts' scores.

Who sees what: a unit its own applications; a department the applications of
the units whose ``department`` is its token's ``org``; an expert (token
``org`` = expert id) only its own assignments and their applications; center
and bureau everything.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import and_, func, insert, or_, select, update
from sqlalchemy.engine import RowMapping
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from contracts import evaluation as ev
from contracts.envelope import new_event_id
from services.evaluation import evidence, sources
from services.evaluation.db.models import applications, assignments, cycles, experts, unit_view
from services.evaluation.domain.redemption_window import redemption_window
from services.evaluation.domain import indicators as ind
from services.runtime import clock
from services.runtime.roles import Role
from services.runtime.errors import Conflict, DomainError, NotFound
from services.runtime.db.unit_of_work import Actor
from services.runtime.db.service_db import ServiceDatabase

SUBMITTED = "submitted"
RETURNED = "returned"
FORWARDED = "forwarded"
GRADED = "graded"
REOPENED = "reopened"
FINAL = "final"
WITHDRAWN = "withdrawn"

STAFF = (Role.CENTER, Role.BUREAU)


def by(actor: Actor) -> str:
    return f"{actor.role}:{actor.subject}"[:200]


def _now() -> datetime:
    return clock.utc_now()


# ------------------------------------------------------------------ cycles


def cycle_view(row: RowMapping | dict[str, Any]) -> dict[str, Any]:
    keys = ("year", "indicator_set_version", "award_budget_fen", "excellent_award_fen", "good_award_fen", "opened_at", "redemption_opens_on", "redemption_closes_on")
    return {k: row.get(k) for k in keys}


async def load_cycle(s: AsyncSession, year: int, *, lock: bool = False) -> RowMapping:
    """The year's cycle; ``lock`` serialises the year's notices and plan (``FOR UPDATE``)."""
    q = select(cycles).where(cycles.c.year == year)
    row = (await s.execute(q.with_for_update() if lock else q)).mappings().first()
    if row is None:
        raise DomainError("cycle.not_open", f"{year} 年度绩效评价尚未启动", f"the {year} evaluation has not been opened", status=409, year=year)
    return row


def indicator_set(cycle: RowMapping | dict[str, Any]) -> ind.IndicatorSet:
    return ind.from_json(cycle["indicator_set"])


async def open_cycle(
    db: ServiceDatabase, actor: Actor, correlation_id: str | None, *, year: int, award_budget_fen: int, policy: ind.IndicatorSet, reason: str | None,
    redemption_opens_on: date | None = None, redemption_closes_on: date | None = None,
) -> dict[str, Any]:
    """Once per year. The award budget cannot change afterwards (payments books it from CycleOpened);
    the voucher redemption window may open with it (R20(1): vouchers opens it from the event)."""
    params = policy.parameters(year)
    window = redemption_window(redemption_opens_on, redemption_closes_on)
    row = {
        "year": year,
        "indicator_set_version": policy.version,
        "indicator_set": ind.to_json(policy),
        "award_budget_fen": award_budget_fen,
        "excellent_award_fen": params.excellent_award_fen,
        "good_award_fen": params.good_award_fen,
        "opened_at": _now(),
        "opened_by": by(actor),
        "redemption_opens_on": window[0] if window else None,
        "redemption_closes_on": window[1] if window else None,
    }
    try:
        async with db.unit_of_work(actor, correlation_id) as uow:
            if (await uow.session.execute(select(cycles.c.year).where(cycles.c.year == year))).first() is not None:
                raise Conflict("cycle.already_open", f"{year} 年度绩效评价已启动", f"the {year} evaluation is already open", year=year)
            await uow.session.execute(insert(cycles).values(**row))
            await uow.emit(
                ev.CycleOpened(
                    year=year,
                    indicator_set_version=policy.version,
                    award_budget_fen=award_budget_fen,
                    excellent_award_fen=params.excellent_award_fen,
                    good_award_fen=params.good_award_fen,
                    redemption_opens_on=row["redemption_opens_on"],
                    redemption_closes_on=row["redemption_closes_on"],
                )
            )
            await uow.audit("cycle.open", "cycle", str(year), reason=reason, after=cycle_view(row))
    except IntegrityError as exc:
        raise Conflict("cycle.already_open", f"{year} 年度绩效评价已启动", f"the {year} evaluation is already open", year=year) from exc
    return cycle_view(row)


async def get_cycle(db: ServiceDatabase, year: int) -> dict[str, Any]:
    async with db.read() as s:
        return cycle_view(await load_cycle(s, year))


# ------------------------------------------------------------------ applications


def _snapshot(row: RowMapping | dict[str, Any]) -> dict[str, Any]:
    return {"application_id": row["id"], "unit_id": row["unit_id"], "year": row["year"], "status": row["status"]}


def application_view(row: RowMapping | dict[str, Any], unit: RowMapping | dict[str, Any] | None = None) -> dict[str, Any]:
    return {
        **_snapshot(row),
        "unit_name": unit["name"] if unit else None,
        "department": unit["department"] if unit else None,
        "materials": list(row["materials"]),
        "statement": row["statement"],
        "submitted_at": row["submitted_at"],
        "reviewed_at": row["reviewed_at"],
        "review_reason": row["review_reason"],
        "scores": dict(row["scores"]) if row["scores"] is not None else None,
        "total_centi": row["total_centi"],
        "grade": row["grade"],
        "decided_at": row["decided_at"],
    }


async def _unit(s: AsyncSession, unit_id: str) -> RowMapping | None:
    return (await s.execute(select(unit_view).where(unit_view.c.unit_id == unit_id))).mappings().first()


async def _load(s: AsyncSession, application_id: str) -> RowMapping:
    row = (await s.execute(select(applications).where(applications.c.id == application_id))).mappings().first()
    if row is None:
        raise NotFound("application", "绩效评价申请", application_id)
    return row


async def _visible(s: AsyncSession, actor: Actor, row: RowMapping) -> RowMapping | None:
    """The application's unit if ``actor`` may see the application; 404 otherwise (no existence leak)."""
    unit = await _unit(s, row["unit_id"])
    role = actor.role
    ok = (
        role in (Role.CENTER, Role.BUREAU)
        or (role == Role.UNIT and actor.org == row["unit_id"])
        or (role == Role.DEPARTMENT and actor.org is not None and unit is not None and unit["department"] == actor.org)
        or (
            role == Role.EXPERT
            and actor.org is not None
            and (await s.execute(select(assignments.c.id).where(assignments.c.application_id == row["id"], assignments.c.expert_id == actor.org))).first() is not None
        )
    )
    if not ok:
        raise NotFound("application", "绩效评价申请", row["id"])
    return unit


#: who may see an application (and the evidence it names)
visible = _visible


async def submit(db: ServiceDatabase, actor: Actor, correlation_id: str | None, *, unit_id: str, year: int, documents: list[str], statement: str | None) -> dict[str, Any]:
    """M14(2): the unit applies online for an open year with its uploaded evidence
    (a self-evaluation report among it); one application per unit and year."""
    now = _now()
    try:
        async with db.unit_of_work(actor, correlation_id) as uow:
            s = uow.session
            await load_cycle(s, year)
            unit = await _unit(s, unit_id)
            if unit is None or unit["status"] != "approved":
                raise DomainError("application.unit_not_approved", "只有经批准入网的管理单位可以申请绩效评价", "only a unit approved on the platform may apply", status=409)
            if (await s.execute(select(applications.c.id).where(applications.c.unit_id == unit_id, applications.c.year == year))).first() is not None:
                raise Conflict("application.duplicate", "本单位本年度已提交绩效评价申请", "the unit has already applied for this year", year=year)
            app_id = new_event_id()
            materials = await evidence.attach(s, unit_id, app_id, documents)
            row = {
                "id": app_id,
                "unit_id": unit_id,
                "year": year,
                "status": SUBMITTED,
                "materials": materials,
                "statement": statement,
                "submitted_at": now,
                "version": 1,
            }
            await s.execute(insert(applications).values(**row))
            app = await _load(s, row["id"])
            await uow.emit(ev.ApplicationSubmitted(**_snapshot(app)))
            await uow.audit("evaluation_application.submit", "evaluation_application", app["id"], after=application_view(app))
            return application_view(app, unit)
    except IntegrityError as exc:
        raise Conflict("application.duplicate", "本单位本年度已提交绩效评价申请", "the unit has already applied for this year", year=year) from exc


async def _transition(s: AsyncSession, app: RowMapping, from_status: tuple[str, ...], **values: Any) -> RowMapping:
    done = await s.execute(
        update(applications).where(applications.c.id == app["id"], applications.c.status.in_(from_status), applications.c.version == app["version"]).values(version=app["version"] + 1, **values)
    )
    if done.rowcount != 1:
        raise Conflict("application.illegal_transition", "申请当前状态不允许该操作", "the application's state does not allow this", current_status=app["status"])
    return await _load(s, app["id"])


async def resubmit(db: ServiceDatabase, actor: Actor, correlation_id: str | None, application_id: str, *, documents: list[str], statement: str | None) -> dict[str, Any]:
    """A returned application goes back to its department with its evidence as now named."""
    async with db.unit_of_work(actor, correlation_id) as uow:
        s = uow.session
        app = await _load(s, application_id)
        unit = await _visible(s, actor, app)
        if app["status"] != RETURNED:
            raise Conflict("application.illegal_transition", "只有被退回的申请可以重新提交", "only a returned application can be resubmitted", current_status=app["status"])
        materials = await evidence.attach(s, app["unit_id"], app["id"], documents)
        after = await _transition(s, app, (RETURNED,), status=SUBMITTED, materials=materials, statement=statement, submitted_at=_now())
        await uow.emit(ev.ApplicationSubmitted(**_snapshot(after)))
        await uow.audit("evaluation_application.resubmit", "evaluation_application", app["id"], before=application_view(app), after=application_view(after))
        return application_view(after, unit)


async def review(db: ServiceDatabase, actor: Actor, correlation_id: str | None, application_id: str, *, forward: bool, reason: str | None) -> dict[str, Any]:
    """M14(2), R8: the unit's competent department forwards it to the bureau, or returns it with a reason."""
    if not forward and not (reason and reason.strip()):
        raise DomainError("decision.reason_required", "退回须说明理由", "a return needs a reason")
    async with db.unit_of_work(actor, correlation_id) as uow:
        s = uow.session
        app = await _load(s, application_id)
        unit = await _visible(s, actor, app)
        if app["status"] != SUBMITTED:
            raise Conflict("application.not_submitted", "该申请不在待审核状态", "the application is not awaiting the department's review", current_status=app["status"])
        after = await _transition(s, app, (SUBMITTED,), status=FORWARDED if forward else RETURNED, reviewed_at=_now(), reviewed_by=by(actor), review_reason=reason)
        if forward:
            await uow.emit(ev.ApplicationForwarded(**_snapshot(after)))
        else:
            await uow.emit(ev.ApplicationReturned(**_snapshot(after), reason=reason or ""))
        action = "forward" if forward else "return"
        await uow.audit(f"evaluation_application.{action}", "evaluation_application", app["id"], reason=reason, before=application_view(app), after=application_view(after))
        return application_view(after, unit)


async def get_application(db: ServiceDatabase, actor: Actor, application_id: str) -> dict[str, Any]:
    async with db.read() as s:
        app = await _load(s, application_id)
        unit = await _visible(s, actor, app)
        return application_view(app, unit)


async def list_applications(
    db: ServiceDatabase, actor: Actor, *, year: int | None, status: str | None, unit_id: str | None, page: int, page_size: int
) -> tuple[list[dict[str, Any]], int]:
    q = select(applications, unit_view.c.name.label("unit_name"), unit_view.c.department.label("unit_department")).select_from(
        applications.outerjoin(unit_view, unit_view.c.unit_id == applications.c.unit_id)
    )
    conds = []
    if actor.role == Role.UNIT:
        conds.append(applications.c.unit_id == (actor.org or ""))
    elif actor.role == Role.DEPARTMENT:
        conds.append(unit_view.c.department == (actor.org or ""))
    elif actor.role == Role.EXPERT:
        conds.append(applications.c.id.in_(select(assignments.c.application_id).where(assignments.c.expert_id == (actor.org or ""))))
    if year is not None:
        conds.append(applications.c.year == year)
    if status:
        conds.append(applications.c.status == status)
    if unit_id:
        conds.append(applications.c.unit_id == unit_id)
    where = and_(True, *conds)
    async with db.read() as s:
        total = (await s.execute(select(func.count()).select_from(applications.outerjoin(unit_view, unit_view.c.unit_id == applications.c.unit_id)).where(where))).scalar_one()
        rows = (await s.execute(q.where(where).order_by(applications.c.submitted_at, applications.c.id).offset((page - 1) * page_size).limit(page_size))).mappings().all()
    return [application_view(r, {"name": r["unit_name"], "department": r["unit_department"]}) for r in rows], total


# ------------------------------------------------------------------ experts


def expert_view(row: RowMapping | dict[str, Any]) -> dict[str, Any]:
    return {"expert_id": row["id"], "name": row["name"], "role": row["role"], "unit_id": row["unit_id"], "ties": list(row["ties"]), "registered_at": row["registered_at"]}


async def register_expert(db: ServiceDatabase, actor: Actor, correlation_id: str | None, *, name: str, role: str, unit_id: str | None, ties: list[str]) -> dict[str, Any]:
    row = {"id": new_event_id(), "name": name.strip(), "role": role, "unit_id": unit_id, "ties": sorted(set(ties)), "registered_at": _now()}
    async with db.unit_of_work(actor, correlation_id) as uow:
        await uow.session.execute(insert(experts).values(**row))
        await uow.emit(ev.ExpertRegistered(expert_id=row["id"], role=role, unit_id=unit_id, ties=row["ties"]))  # type: ignore[arg-type]
        await uow.audit("expert.register", "expert", row["id"], after=expert_view(row))
    return expert_view(row)


async def list_experts(db: ServiceDatabase, *, role: str | None, page: int, page_size: int) -> tuple[list[dict[str, Any]], int]:
    where = experts.c.role == role if role else and_(True)
    async with db.read() as s:
        total = (await s.execute(select(func.count()).select_from(experts).where(where))).scalar_one()
        rows = (await s.execute(select(experts).where(where).order_by(experts.c.name, experts.c.id).offset((page - 1) * page_size).limit(page_size))).mappings().all()
    return [expert_view(r) for r in rows], total


async def related_units(s: AsyncSession, unit_id: str) -> set[str]:
    """The unit, its parent (a college's university) and its children (its colleges)."""
    related = {unit_id}
    parent = (await s.execute(select(unit_view.c.parent_unit_id).where(unit_view.c.unit_id == unit_id))).scalar_one_or_none()
    if parent:
        related.add(parent)
    related.update((await s.execute(select(unit_view.c.unit_id).where(unit_view.c.parent_unit_id == unit_id))).scalars())
    return related


def assignment_view(row: RowMapping | dict[str, Any]) -> dict[str, Any]:
    return {
        "assignment_id": row["id"],
        "application_id": row["application_id"],
        "expert_id": row["expert_id"],
        "role": row["role"],
        "assigned_at": row["assigned_at"],
        "scores": dict(row["scores"]) if row["scores"] is not None else None,
        "points_centi": row["points_centi"],
        "onsite_date": row["onsite_date"],
        "findings": row["findings"],
        "scored_at": row["scored_at"],
    }


ASSIGNABLE = (FORWARDED, REOPENED)


async def assign(db: ServiceDatabase, actor: Actor, correlation_id: str | None, application_id: str, *, expert_id: str) -> dict[str, Any]:
    """R14(3): no expert scores a unit they belong to, its parent or child unit, or a unit they declared a tie to."""
    try:
        async with db.unit_of_work(actor, correlation_id) as uow:
            s = uow.session
            app = await _load(s, application_id)
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
            row = {"id": new_event_id(), "application_id": application_id, "expert_id": expert_id, "role": expert["role"], "assigned_at": _now()}
            await s.execute(insert(assignments).values(**row))
            saved = (await s.execute(select(assignments).where(assignments.c.id == row["id"]))).mappings().one()
            await uow.audit("assignment.create", "assignment", row["id"], after=assignment_view(saved))
            return assignment_view(saved)
    except IntegrityError as exc:
        raise Conflict("assignment.duplicate", "该专家已被指派评审此申请", "the expert is already assigned to this application") from exc


async def list_assignments(db: ServiceDatabase, actor: Actor, *, application_id: str | None, page: int, page_size: int) -> tuple[list[dict[str, Any]], int]:
    conds = []
    if actor.role == Role.EXPERT:
        conds.append(assignments.c.expert_id == (actor.org or ""))
    if application_id:
        conds.append(assignments.c.application_id == application_id)
    where = and_(True, *conds)
    async with db.read() as s:
        total = (await s.execute(select(func.count()).select_from(assignments).where(where))).scalar_one()
        rows = (await s.execute(select(assignments).where(where).order_by(assignments.c.assigned_at, assignments.c.id).offset((page - 1) * page_size).limit(page_size))).mappings().all()
    return [assignment_view(r) for r in rows], total


async def record_scores(
    db: ServiceDatabase, actor: Actor, correlation_id: str | None, assignment_id: str, *, scores: dict[str, int], onsite_date: date, findings: str
) -> dict[str, Any]:
    """The assigned expert scores every indicator of their role and records the
    on-site check; they may correct their sheet until the grade is decided."""
    async with db.unit_of_work(actor, correlation_id) as uow:
        s = uow.session
        a = (await s.execute(select(assignments).where(assignments.c.id == assignment_id))).mappings().first()
        if a is None or actor.role != Role.EXPERT or a["expert_id"] != actor.org:
            raise NotFound("assignment", "评审任务", assignment_id)
        app = await _load(s, a["application_id"])
        if app["status"] not in ASSIGNABLE:
            raise Conflict("score.application_closed", "该申请已不在评审阶段", "the application is no longer being scored", current_status=app["status"])
        cycle = await load_cycle(s, app["year"])
        problems = ind.check_sheet(indicator_set(cycle), a["role"], scores)
        if problems:
            raise DomainError("score.sheet_invalid", "评分表不完整或分值超出范围", "the score sheet is incomplete or out of range", problems=problems)
        points = sum(scores.values())
        await s.execute(update(assignments).where(assignments.c.id == assignment_id).values(scores=scores, points_centi=points, onsite_date=onsite_date, findings=findings, scored_at=_now()))
        after = (await s.execute(select(assignments).where(assignments.c.id == assignment_id))).mappings().one()
        await uow.emit(ev.ScoreRecorded(application_id=app["id"], unit_id=app["unit_id"], year=app["year"], assignment_id=assignment_id, expert_role=a["role"], points_centi=points))
        await uow.audit("assignment.score", "assignment", assignment_id, before=assignment_view(a), after=assignment_view(after))
        return assignment_view(after)


# ------------------------------------------------------------------ the grade


async def decide_grade(
    db: ServiceDatabase, actor: Actor, correlation_id: str | None, application_id: str, *, reason: str | None, source: sources.MeasuresSource
) -> dict[str, Any]:
    """R11, R12: every assigned expert has scored, and every expert role of the set
    is among them; computed part from the measures, expert part the means."""
    async with db.unit_of_work(actor, correlation_id) as uow:
        s = uow.session
        app = await _load(s, application_id)
        if app["status"] not in ASSIGNABLE:
            raise Conflict("grade.application_not_ready", "该申请当前不能评定等次", "the application cannot be graded in its state", current_status=app["status"])
        cycle = await load_cycle(s, app["year"])
        iset = indicator_set(cycle)
        rows = (await s.execute(select(assignments).where(assignments.c.application_id == application_id))).mappings().all()
        unscored = sorted(r["id"] for r in rows if r["scores"] is None)
        missing_roles = sorted(set(iset.expert_roles()) - {r["role"] for r in rows})
        if unscored or missing_roles:
            raise Conflict(
                "grade.scores_incomplete",
                "尚有专家未评分或缺少管理、技术、财务专家",
                "some assigned experts have not scored, or an expert role is not assigned",
                unscored_assignments=unscored,
                missing_roles=missing_roles,
            )
        measures = await sources.measures_of(source, s, app["year"], app["unit_id"])
        result = ind.evaluate(iset, app["year"], measures, [(r["role"], r["scores"]) for r in rows])
        after = await _transition(
            s, app, ASSIGNABLE, status=GRADED, scores=result.scores, total_centi=result.total_centi, grade=result.grade, decided_at=_now(), decided_by=by(actor)
        )
        await uow.emit(ev.GradeDecided(application_id=app["id"], unit_id=app["unit_id"], year=app["year"], total_centi=result.total_centi, grade=result.grade))
        await uow.audit("evaluation_application.grade", "evaluation_application", app["id"], reason=reason, before=application_view(app), after=application_view(after))
        return application_view(after, await _unit(s, app["unit_id"]))


async def pending_count(s: AsyncSession, year: int) -> int:
    """Applications of the year still on their way to a grade (submitted, forwarded)."""
    q = select(func.count()).select_from(applications).where(applications.c.year == year, or_(applications.c.status == SUBMITTED, applications.c.status == FORWARDED))
    return (await s.execute(q)).scalar_one()
