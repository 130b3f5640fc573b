"""An evaluation application's row: its states, loading it, who may see it, its
image in the audit trail, and the guarded change of its state that every step uses.

Who sees what: a unit its own applications; a department the applications of
the units whose ``department`` is its token's ``org``; an expert (token
``org`` = expert id) only its own assignments and their applications; center
and bureau everything.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, or_, select, update
from sqlalchemy.engine import RowMapping
from sqlalchemy.ext.asyncio import AsyncSession

from services.evaluation import schemas
from services.evaluation.db.models import applications, assignments, unit_view
from services.runtime.audit_image import audit_image
from services.runtime.roles import Role
from services.runtime.errors import Conflict, NotFound
from services.runtime.db.unit_of_work import Actor

SUBMITTED = "submitted"
RETURNED = "returned"
FORWARDED = "forwarded"
GRADED = "graded"
REOPENED = "reopened"
FINAL = "final"
WITHDRAWN = "withdrawn"

#: the states in which experts are assigned, score and the grade is decided
ASSIGNABLE = (FORWARDED, REOPENED)


def snapshot(row: RowMapping | dict[str, Any]) -> dict[str, Any]:
    return {"application_id": row["id"], "unit_id": row["unit_id"], "year": row["year"], "status": row["status"]}


def audited(row: RowMapping | dict[str, Any]) -> dict[str, Any]:
    """The application's state in the audit trail: the record without its unit's name and
    department (None, as always) and without the rectification (audited on its own)."""
    return audit_image(schemas.application(row), leave_out=("rectification",))


async def pending_count(s: AsyncSession, year: int) -> int:
    """Applications of the year still on their way to a grade (submitted, forwarded)."""
    q = select(func.count()).select_from(applications).where(applications.c.year == year, or_(applications.c.status == SUBMITTED, applications.c.status == FORWARDED))
    return (await s.execute(q)).scalar_one()


async def unit_of(s: AsyncSession, unit_id: str) -> RowMapping | None:
    return (await s.execute(select(unit_view).where(unit_view.c.unit_id == unit_id))).mappings().first()


async def load_application(s: AsyncSession, application_id: str) -> RowMapping:
    row = (await s.execute(select(applications).where(applications.c.id == application_id))).mappings().first()
    if row is None:
        raise NotFound("application", "绩效评价申请", application_id)
    return row


async def visible(s: AsyncSession, actor: Actor, row: RowMapping) -> RowMapping | None:
    """The application's unit if ``actor`` may see the application; 404 otherwise (no existence leak)."""
    unit = await unit_of(s, row["unit_id"])
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


async def transition(s: AsyncSession, app: RowMapping, from_status: tuple[str, ...], **values: Any) -> RowMapping:
    done = await s.execute(
        update(applications).where(applications.c.id == app["id"], applications.c.status.in_(from_status), applications.c.version == app["version"]).values(version=app["version"] + 1, **values)
    )
    if done.rowcount != 1:
        raise Conflict("application.illegal_transition", "申请当前状态不允许该操作", "the application's state does not allow this", current_status=app["status"])
    return await load_application(s, app["id"])
