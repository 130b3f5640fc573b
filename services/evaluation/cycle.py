"""The yearly evaluation up to the grade (M13, M14, R11, R14(2)(3)), and its cycle.

The bureau opens the year with its award budget and the indicator set in force
(the whole set is kept with the cycle: this module); a unit applies with its
materials and its competent department forwards or returns it
(:mod:`~services.evaluation.applications`); the center registers experts and
assigns them with conflict-of-interest checks, and each expert scores the
indicators of their role and records the on-site check
(:mod:`~services.evaluation.experts`); the center then decides the grade from
the computed measures and the experts' scores
(:mod:`~services.evaluation.grading`). Who sees an application:
:mod:`~services.evaluation.application_rows`.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.engine import RowMapping
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from contracts import evaluation as ev
from services.evaluation import schemas
from services.evaluation.schemas import Cycle
from services.evaluation.db.models import cycles
from services.evaluation.domain.redemption_window import redemption_window
from services.evaluation.domain import indicators as ind
from services.runtime import clock
from services.runtime.audit_image import audit_image
from services.runtime.roles import Role
from services.runtime.errors import Conflict, DomainError
from services.runtime.db.unit_of_work import Actor
from services.runtime.db.service_db import ServiceDatabase

STAFF = (Role.CENTER, Role.BUREAU)


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
) -> Cycle:
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
        "opened_at": clock.utc_now(),
        "opened_by": actor.label,
        "redemption_opens_on": window[0] if window else None,
        "redemption_closes_on": window[1] if window else None,
    }
    opened = schemas.cycle(row)
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
            await uow.audit("cycle.open", "cycle", str(year), reason=reason, after=audit_image(opened))
    except IntegrityError as exc:
        raise Conflict("cycle.already_open", f"{year} 年度绩效评价已启动", f"the {year} evaluation is already open", year=year) from exc
    return opened


async def get_cycle(db: ServiceDatabase, year: int) -> Cycle:
    async with db.read() as s:
        return schemas.cycle(await load_cycle(s, year))
