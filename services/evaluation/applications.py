"""A unit's application for the year's evaluation (M14(2), R8): submitted with
its evidence, forwarded or returned by its competent department, resubmitted
when returned; read and listed by whoever may see it
(:func:`services.evaluation.application_rows.visible`)."""

from __future__ import annotations

from sqlalchemy import and_, insert, select
from sqlalchemy.exc import IntegrityError

from contracts import evaluation as ev
from contracts.envelope import new_event_id
from services.evaluation import evidence, rectification, schemas
from services.evaluation.application_rows import (
    FORWARDED,
    RETURNED,
    SUBMITTED,
    audited,
    load_application,
    snapshot,
    transition,
    unit_of,
    visible,
)
from services.evaluation.cycle import load_cycle
from services.evaluation.db.models import applications, assignments, unit_view
from services.evaluation.schemas import Application, ApplicationPage
from services.runtime import clock
from services.runtime.roles import Role
from services.runtime.errors import Conflict, DomainError
from services.runtime.db.unit_of_work import Actor
from services.runtime.db.service_db import ServiceDatabase
from services.runtime.http.pagination import read_page


async def submit(db: ServiceDatabase, actor: Actor, correlation_id: str | None, *, unit_id: str, year: int, documents: list[str], statement: str | None) -> Application:
    """M14(2): the unit applies online for an open year with its uploaded evidence
    (a self-evaluation report among it); one application per unit and year."""
    now = clock.utc_now()
    try:
        async with db.unit_of_work(actor, correlation_id) as uow:
            s = uow.session
            await load_cycle(s, year)
            unit = await unit_of(s, unit_id)
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
            app = await load_application(s, row["id"])
            await uow.emit(ev.ApplicationSubmitted(**snapshot(app)))
            await uow.audit("evaluation_application.submit", "evaluation_application", app["id"], after=audited(app))
            return schemas.application(app, unit)
    except IntegrityError as exc:
        raise Conflict("application.duplicate", "本单位本年度已提交绩效评价申请", "the unit has already applied for this year", year=year) from exc


async def resubmit(db: ServiceDatabase, actor: Actor, correlation_id: str | None, application_id: str, *, documents: list[str], statement: str | None) -> Application:
    """A returned application goes back to its department with its evidence as now named."""
    async with db.unit_of_work(actor, correlation_id) as uow:
        s = uow.session
        app = await load_application(s, application_id)
        unit = await visible(s, actor, app)
        if app["status"] != RETURNED:
            raise Conflict("application.illegal_transition", "只有被退回的申请可以重新提交", "only a returned application can be resubmitted", current_status=app["status"])
        materials = await evidence.attach(s, app["unit_id"], app["id"], documents)
        after = await transition(s, app, (RETURNED,), status=SUBMITTED, materials=materials, statement=statement, submitted_at=clock.utc_now())
        await uow.emit(ev.ApplicationSubmitted(**snapshot(after)))
        await uow.audit("evaluation_application.resubmit", "evaluation_application", app["id"], before=audited(app), after=audited(after))
        return schemas.application(after, unit)


async def review(db: ServiceDatabase, actor: Actor, correlation_id: str | None, application_id: str, *, forward: bool, reason: str | None) -> Application:
    """M14(2), R8: the unit's competent department forwards it to the bureau, or returns it with a reason."""
    if not forward and not (reason and reason.strip()):
        raise DomainError("decision.reason_required", "退回须说明理由", "a return needs a reason")
    async with db.unit_of_work(actor, correlation_id) as uow:
        s = uow.session
        app = await load_application(s, application_id)
        unit = await visible(s, actor, app)
        if app["status"] != SUBMITTED:
            raise Conflict("application.not_submitted", "该申请不在待审核状态", "the application is not awaiting the department's review", current_status=app["status"])
        after = await transition(s, app, (SUBMITTED,), status=FORWARDED if forward else RETURNED, reviewed_at=clock.utc_now(), reviewed_by=actor.label, review_reason=reason)
        if forward:
            await uow.emit(ev.ApplicationForwarded(**snapshot(after)))
        else:
            await uow.emit(ev.ApplicationReturned(**snapshot(after), reason=reason or ""))
        action = "forward" if forward else "return"
        await uow.audit(f"evaluation_application.{action}", "evaluation_application", app["id"], reason=reason, before=audited(app), after=audited(after))
        return schemas.application(after, unit)


async def get_application(db: ServiceDatabase, actor: Actor, application_id: str) -> Application:
    """One application for whoever may see it (404 to others), with the unit's rectification of
    that year if one is required; experts do not see the rectification."""
    async with db.read() as s:
        app = await load_application(s, application_id)
        unit = await visible(s, actor, app)
        rect = None if actor.role == Role.EXPERT else await rectification.of_unit(s, app["unit_id"], app["year"])
        return schemas.application(app, unit, rect)


async def list_applications(
    db: ServiceDatabase, actor: Actor, *, year: int | None, status: str | None, unit_id: str | None, page: int, page_size: int
) -> ApplicationPage:
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
        return await read_page(
            s, q.where(where), order_by=[applications.c.submitted_at, applications.c.id], page=page, page_size=page_size,
            item=lambda r: schemas.application(r, {"name": r["unit_name"], "department": r["unit_department"]}),
        )
