"""Experts on redemption claims (R20, R14(3)): the experts evaluation
registered (from ``evaluation.expert.registered``), the center's or the
bureau's assignment of an expert to a claim with the conflict-of-interest
check, and the scope that follows from it: an expert (token ``org`` = expert
id) reads and reviews only the claims assigned to them and their evidence;
any other claim does not exist for them (404)."""

from __future__ import annotations

import uuid

from sqlalchemy import ColumnElement, and_, exists, insert, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from contracts import evaluation as ee
from services.runtime import clock
from services.runtime.audit_image import audit_image
from services.runtime.roles import Role
from services.runtime.errors import Conflict, NotFound
from services.runtime.db.unit_of_work import Actor, UnitOfWork
from services.runtime.db.service_db import ServiceDatabase
from services.vouchers import schemas
from services.vouchers.db.models import expert_view, redemption_assignments, redemption_claims, redemption_items, unit_view
from services.vouchers.domain import redemption as rules
from services.vouchers.domain.conflicts import conflicting_units
from services.vouchers.schemas import Assignment


async def on_expert_registered(uow: UnitOfWork, e: ee.ExpertRegistered) -> None:
    """Keep the expert's own unit and ties (registered once; a redelivery changes nothing)."""
    s = uow.session
    if (await s.execute(select(expert_view.c.expert_id).where(expert_view.c.expert_id == e.expert_id))).first() is None:
        await s.execute(insert(expert_view).values(expert_id=e.expert_id, role=e.role, unit_id=e.unit_id, ties=sorted(set(e.ties)), updated_at=clock.utc_now()))


def expert_of(actor: Actor) -> str | None:
    """The expert id whose claims ``actor`` is limited to; None for everybody else."""
    return (actor.org or "") if actor.role == Role.EXPERT else None


def assigned_to(expert_id: str) -> ColumnElement[bool]:
    """Claims (``redemption_claims``) assigned to ``expert_id``."""
    return redemption_claims.c.id.in_(select(redemption_assignments.c.claim_id).where(redemption_assignments.c.expert_id == expert_id))


async def is_assigned(s: AsyncSession, claim_id: str, expert_id: str) -> bool:
    q = select(redemption_assignments.c.id).where(redemption_assignments.c.claim_id == claim_id, redemption_assignments.c.expert_id == expert_id)
    return (await s.execute(q)).first() is not None


async def document_assigned(s: AsyncSession, document_id: str, expert_id: str) -> bool:
    """Whether the document is evidence in a claim assigned to the expert."""
    q = select(
        exists().where(
            redemption_items.c.claim_id == redemption_assignments.c.claim_id,
            redemption_assignments.c.expert_id == expert_id,
            or_(redemption_items.c.receipt_document_id == document_id, redemption_items.c.results_document_id == document_id),
        )
    )
    return bool((await s.execute(q)).scalar())


async def related_units(s: AsyncSession, unit_id: str) -> set[str]:
    """The unit, its parent and its children, as vouchers knows them from registry."""
    related = {unit_id}
    parent = (await s.execute(select(unit_view.c.parent_unit_id).where(unit_view.c.unit_id == unit_id))).scalar_one_or_none()
    if parent:
        related.add(parent)
    related.update((await s.execute(select(unit_view.c.unit_id).where(unit_view.c.parent_unit_id == unit_id))).scalars())
    return related


def duplicate() -> Conflict:
    return Conflict("assignment.duplicate", "该专家已被指派审核此兑付申报", "the expert is already assigned to this claim")


async def assign(db: ServiceDatabase, actor: Actor, correlation_id: str | None, claim_id: str, *, expert_id: str) -> Assignment:
    """The center or the bureau assigns an expert to a claim awaiting review.
    404 for an unknown claim or expert, 409 ``redemption.not_claimed`` once
    reviewed, 409 ``assignment.conflict_of_interest`` (as in evaluation: the expert's
    ties as they stand conflict with the claim), 409 ``assignment.duplicate``."""
    try:
        async with db.unit_of_work(actor, correlation_id) as uow:
            s = uow.session
            claim = (await s.execute(select(redemption_claims).where(redemption_claims.c.id == claim_id))).mappings().first()
            if claim is None:
                raise NotFound("redemption_claim", "兑付申报", claim_id)
            if claim["status"] != rules.CLAIMED:
                raise Conflict("redemption.not_claimed", "该申报已审核", f"the claim is {claim['status']}; experts are assigned before the review", status_now=claim["status"])
            expert = (await s.execute(select(expert_view).where(expert_view.c.expert_id == expert_id))).mappings().first()
            if expert is None:
                raise NotFound("expert", "专家", expert_id)
            conflicts = conflicting_units(await related_units(s, claim["unit_id"]), expert["unit_id"], expert["ties"])
            if conflicts:
                raise Conflict(
                    "assignment.conflict_of_interest",
                    "该专家与申报单位存在隶属或关联关系，须回避",
                    "the expert belongs to or is tied to the claimant unit (or its parent or child unit) and must recuse",
                    expert_id=expert_id,
                    units=conflicts,
                )
            if await is_assigned(s, claim_id, expert_id):
                raise duplicate()
            row = {"id": str(uuid.uuid4()), "claim_id": claim_id, "expert_id": expert_id, "assigned_at": clock.utc_now(), "assigned_by": actor.label}
            await s.execute(insert(redemption_assignments).values(**row))
            assigned = schemas.assignment(row)
            await uow.audit("redemption.assign", "redemption_claim", claim_id, after=audit_image(assigned))
    except IntegrityError as exc:
        raise duplicate() from exc
    return assigned


async def assigned_experts(db: ServiceDatabase, claim_id: str) -> list[Assignment]:
    async with db.read() as s:
        rows = (await s.execute(select(redemption_assignments).where(redemption_assignments.c.claim_id == claim_id).order_by(redemption_assignments.c.assigned_at))).mappings().all()
    return [schemas.assignment(r) for r in rows]


def scope(expert_id: str | None) -> ColumnElement[bool]:
    """The claims a caller limited to ``expert_id`` may see (all when None)."""
    return assigned_to(expert_id) if expert_id is not None else and_(True)
