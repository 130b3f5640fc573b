"""M10, R8: a competent department's figures for its units, from evaluation's
own records (the registry's units and instruments, vouchers' uses, payments'
settlements, all kept from events, and the year's evaluation). Only the units
whose ``department`` is the department count; who may read whose figures is
:func:`services.evaluation.domain.department_summary.department_in_scope`."""

from __future__ import annotations

from sqlalchemy import func, select

from services.evaluation import reports, unit_report
from services.evaluation.db.facts_models import fact_voucher_use
from services.evaluation.db.models import applications, awards, unit_blacklist_view
from services.evaluation.domain.department_summary import (
    DepartmentSummary,
    GradeLine,
    UnitLine,
    summarize,
)
from services.runtime.db.service_db import ServiceDatabase

#: an award line the bureau approved (the plan's notice finalised)
AWARD_APPROVED = "approved"


async def department_summary(db: ServiceDatabase, year: int, department: str) -> DepartmentSummary:
    """The figures of ``department``'s units for ``year``; zeros when it has none."""
    rows = await unit_report.unit_rows(db, year, reports.UnitFilter(department=department))
    ids = [r.unit_id for r in rows]
    used, awarded = (0, 0), (0, 0)
    blacklisted: set[str] = set()
    grades: list[GradeLine] = []
    if ids:
        async with db.read() as s:
            u = fact_voucher_use.c
            n, fen = (await s.execute(select(func.count(), func.coalesce(func.sum(u.amount_fen), 0)).where(u.year == year, u.unit_id.in_(ids)))).one()
            used = (int(n), int(fen))
            b = unit_blacklist_view.c
            blacklisted = set((await s.execute(select(b.unit_id).where(b.unit_id.in_(ids), b.active.is_(True)))).scalars())
            a = applications.c
            grades = [GradeLine(unit_id=i, status=st, grade=g) for i, st, g in (await s.execute(select(a.unit_id, a.status, a.grade).where(a.year == year, a.unit_id.in_(ids)))).all()]
            w = awards.c
            q = select(func.count(), func.coalesce(func.sum(w.amount_fen), 0)).where(w.year == year, w.unit_id.in_(ids), w.status == AWARD_APPROVED)
            n, fen = (await s.execute(q)).one()
            awarded = (int(n), int(fen))
    return summarize(
        department=department,
        year=year,
        units=[UnitLine(unit_id=r.unit_id, status=r.status or "", county_code=r.county_code, blacklisted=r.unit_id in blacklisted) for r in rows],
        measures=reports.totals([r.measures for r in rows]),
        vouchers_used=used,
        grades=grades,
        awards_approved=awarded,
    )
