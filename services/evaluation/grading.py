"""The grade (R11, R12): the center decides it once every expert role has
scored, from the computed measures and the experts' means."""

from __future__ import annotations

from sqlalchemy import select

from contracts import evaluation as ev
from services.evaluation import schemas, sources
from services.evaluation.application_rows import ASSIGNABLE, GRADED, REOPENED, audited, load_application, transition, unit_of
from services.evaluation.cycle import indicator_set, load_cycle
from services.evaluation.db.models import assignments
from services.evaluation.domain.scoring import evaluate
from services.evaluation.schemas import Application
from services.runtime import clock
from services.runtime.errors import Conflict, DomainError
from services.runtime.db.unit_of_work import Actor
from services.runtime.db.service_db import ServiceDatabase


async def decide_grade(
    db: ServiceDatabase, actor: Actor, correlation_id: str | None, application_id: str, *, reason: str | None, source: sources.MeasuresSource
) -> Application:
    """R11, R12: every assigned expert has scored, and every expert role of the set
    is among them; computed part from the measures, expert part the means. A case an
    objection reopened (R14(3)) is decided again with the reason for it, on the record."""
    async with db.unit_of_work(actor, correlation_id) as uow:
        s = uow.session
        app = await load_application(s, application_id)
        if app["status"] not in ASSIGNABLE:
            raise Conflict("grade.application_not_ready", "该申请当前不能评定等次", "the application cannot be graded in its state", current_status=app["status"])
        if app["status"] == REOPENED and not (reason and reason.strip()):
            raise DomainError("grade.reason_required", "重新评定等次须填写理由", "deciding a reopened case again needs a reason", status=400, field="reason")
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
        result = evaluate(iset, app["year"], measures, [(r["role"], r["scores"]) for r in rows])
        after = await transition(
            s, app, ASSIGNABLE, status=GRADED, scores=result.scores, total_centi=result.total_centi, grade=result.grade, decided_at=clock.utc_now(), decided_by=actor.label
        )
        await uow.emit(ev.GradeDecided(application_id=app["id"], unit_id=app["unit_id"], year=app["year"], total_centi=result.total_centi, grade=result.grade))
        await uow.audit("evaluation_application.grade", "evaluation_application", app["id"], reason=reason, before=audited(app), after=audited(after))
        return schemas.application(after, await unit_of(s, app["unit_id"]))
