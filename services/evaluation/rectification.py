"""M15 限期整改: an unqualified unit rectifies by its deadline.

When the award plan is announced, an unqualified unit gets a rectification
deadline (:func:`services.evaluation.notice_finalization.rectify_and_recognise`, kept on
its award line). Before the end of that day (Asia/Shanghai) the unit submits a
rectification report — text and optionally an uploaded file of kind
``rectification`` — and may replace it until the bureau has re-checked it or
after a failed re-check. The bureau records the re-check: ``passed`` or
``failed``, always with a reason, who and when; ``RectificationRechecked``
tells partners. A report after the deadline is refused
(``rectification.deadline_passed``), a re-check before a report too
(``rectification.not_reported``); both steps are audited and shown on the
unit's evaluation record. Readers: the unit, center and bureau, the unit's
department (404 to anybody else).
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import select, update
from sqlalchemy.engine import RowMapping
from sqlalchemy.ext.asyncio import AsyncSession

from contracts import evaluation as ev
from services.evaluation import cycle as cy
from services.evaluation import evidence, schemas
from services.evaluation import notices as nt
from services.evaluation.db.followup_models import rectifications
from services.evaluation.db.models import awards, unit_view
from services.evaluation.schemas import Rectification
from services.runtime import clock
from services.runtime.audit_image import audit_image
from services.runtime.roles import Role
from services.runtime.errors import Conflict, NotFound
from services.runtime.http.preconditions import write_versioned
from services.runtime.db.unit_of_work import Actor
from services.runtime.db.service_db import ServiceDatabase

PASSED = "passed"
FAILED = "failed"


async def _deadline(s: AsyncSession, unit_id: str, year: int) -> date | None:
    q = select(awards.c.rectification_deadline).where(awards.c.unit_id == unit_id, awards.c.year == year, awards.c.rectification_deadline.is_not(None))
    return (await s.execute(q)).scalar_one_or_none()


async def _row(s: AsyncSession, unit_id: str, year: int) -> RowMapping | None:
    return (await s.execute(select(rectifications).where(rectifications.c.unit_id == unit_id, rectifications.c.year == year))).mappings().first()


def _not_required(unit_id: str, year: int) -> Conflict:
    return Conflict("rectification.not_required", "该单位本年度无整改要求", "the unit has no rectification to make for the year", unit_id=unit_id, year=year)


async def of_unit(s: AsyncSession, unit_id: str, year: int) -> Rectification | None:
    """The unit's rectification for the year, or None when none was required (also shown on
    the unit's evaluation record, its application)."""
    deadline = await _deadline(s, unit_id, year)
    return None if deadline is None else schemas.rectification(deadline, await _row(s, unit_id, year), unit_id, year)


async def _may_read(s: AsyncSession, actor: Actor, unit_id: str) -> bool:
    if actor.role in cy.STAFF or (actor.role == Role.UNIT and actor.org == unit_id):
        return True
    if actor.role == Role.DEPARTMENT and actor.org:
        return (await s.execute(select(unit_view.c.department).where(unit_view.c.unit_id == unit_id))).scalar_one_or_none() == actor.org
    return False


async def get(db: ServiceDatabase, actor: Actor, *, unit_id: str, year: int) -> Rectification:
    async with db.read() as s:
        out = await of_unit(s, unit_id, year) if await _may_read(s, actor, unit_id) else None
    if out is None:
        raise NotFound("rectification", "整改要求", f"{unit_id}/{year}")
    return out


def _concurrent() -> Conflict:
    return Conflict("rectification.concurrent_change", "整改报告已同时提交，请刷新后重试", "another report was submitted meanwhile; reload and retry")


async def submit_report(
    db: ServiceDatabase, actor: Actor, correlation_id: str | None, *, unit_id: str, year: int, report: str, document_id: str | None,
    expected_version: int | None = None, if_match_sent: bool = False, only_create: bool = False,
) -> Rectification:
    """The unit's report, by the end of its deadline day; replaceable until a re-check passes it.
    With ``expected_version`` (If-Match) only the version read is replaced, 412 otherwise; with
    ``only_create`` (If-None-Match: *) only a first report is made (412 when one exists). Two
    first reports at once: the insert of the second does nothing (write_versioned), and it is
    told so (409), not a database error."""
    on = nt.today()
    async with db.unit_of_work(actor, correlation_id) as uow:
        s = uow.session
        deadline = await _deadline(s, unit_id, year)
        if deadline is None:
            raise _not_required(unit_id, year)
        if on > deadline:
            raise Conflict("rectification.deadline_passed", f"整改期限（{deadline.isoformat()}）已过，不再受理整改报告", f"the rectification deadline ({deadline.isoformat()}) has passed", deadline=deadline.isoformat())
        if document_id is not None:
            await evidence.check_rectification_document(s, unit_id, document_id)
        before = await _row(s, unit_id, year)
        if before is not None and before["outcome"] == PASSED:
            raise Conflict("rectification.already_passed", "整改已通过复查", "the rectification has already passed its re-check")
        values = {"deadline": deadline, "report": report, "document_id": document_id, "reported_at": clock.utc_now(), "reported_by": actor.label, "outcome": None, "outcome_reason": None, "checked_at": None, "checked_by": None}
        written = await write_versioned(s, rectifications, {"unit_id": unit_id, "year": year}, values, before,
                                        expected=expected_version, if_match_sent=if_match_sent, only_create=only_create)
        if written is None:  # another report was written between the read and this one
            raise _concurrent()
        after = schemas.rectification(deadline, await _row(s, unit_id, year), unit_id, year)
        audit_before = audit_image(schemas.rectification(deadline, before, unit_id, year)) if before is not None else None
        await uow.audit("rectification.report", "unit", unit_id, before=audit_before, after=audit_image(after))
        return after


async def recheck(db: ServiceDatabase, actor: Actor, correlation_id: str | None, *, unit_id: str, year: int, outcome: str, reason: str) -> Rectification:
    """The bureau's re-check of the report: passed or failed, with its reason."""
    async with db.unit_of_work(actor, correlation_id) as uow:
        s = uow.session
        deadline = await _deadline(s, unit_id, year)
        if deadline is None:
            raise _not_required(unit_id, year)
        before = await _row(s, unit_id, year)
        if before is None:
            raise Conflict("rectification.not_reported", "该单位尚未提交整改报告，不能复查", "the unit has not submitted its rectification report yet")
        if before["outcome"] is not None:
            raise Conflict("rectification.already_checked", "该整改报告已复查", "this rectification report has already been re-checked", outcome=before["outcome"])
        done = await s.execute(
            update(rectifications)
            .where(rectifications.c.unit_id == unit_id, rectifications.c.year == year, rectifications.c.outcome.is_(None), rectifications.c.version == before["version"])
            .values(outcome=outcome, outcome_reason=reason, checked_at=clock.utc_now(), checked_by=actor.label, version=before["version"] + 1)
        )
        if done.rowcount != 1:
            raise Conflict("rectification.concurrent_change", "整改报告已变化，请刷新后重试", "the report changed meanwhile; reload and retry")
        after = schemas.rectification(deadline, await _row(s, unit_id, year), unit_id, year)
        await uow.emit(ev.RectificationRechecked(unit_id=unit_id, year=year, deadline=deadline, outcome=outcome))  # type: ignore[arg-type]
        await uow.audit("rectification.recheck", "unit", unit_id, reason=reason, before=audit_image(schemas.rectification(deadline, before, unit_id, year)), after=audit_image(after))
        return after
