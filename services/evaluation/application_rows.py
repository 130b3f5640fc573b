"""An evaluation application's row: its states, its views, loading it, who may
see it, and the guarded change of its state that every step uses.

Who sees what: a unit its own applications; a department the applications of
the units whose ``department`` is its token's ``org``; an expert (token
``org`` = expert id) only its own assignments and their applications; center
and bureau everything.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select, update
from sqlalchemy.engine import RowMapping
from sqlalchemy.ext.asyncio import AsyncSession

from services.evaluation.db.models import applications, assignments, unit_view
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


def application_view(row: RowMapping | dict[str, Any], unit: RowMapping | dict[str, Any] | None = None) -> dict[str, Any]:
    return {
        **snapshot(row),
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
