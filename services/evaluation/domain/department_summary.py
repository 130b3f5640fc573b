"""M10, R8: a competent department's figures for its own units, aggregated.

A county (or city) department (县（市、区）科技主管部门 / 市直有关部门) sees
the units whose competent department it is, and only those: how many units
and instruments, how the instruments comply with the listing rules (M5, M6,
M11(3)), the service and the vouchers used (R19), and the year's evaluation
grades (M14, R14). Pure: the use case gathers the rows, this module decides
who may read which department's figures and adds them up.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping

import msgspec

from services.runtime.roles import Role
from services.runtime.errors import DomainError

#: city-wide staff may read any department's figures (they name it)
CITY_STAFF = frozenset({Role.CENTER, Role.BUREAU})
GRADES = ("excellent", "good", "unqualified")
#: an application whose grade stands (graded, or final after its notice); a reopened case has none yet
GRADED_STATUSES = frozenset({"graded", "final"})


def department_in_scope(role: Role, org: str | None, requested: str | None) -> str:
    """The department whose figures the caller reads.

    A department reads its own (its token's ``org``); naming another is
    refused, 403 ``report.other_department``; a department token without an
    organisation is refused, 403 ``report.department_unknown``. The center and
    the bureau name the department, 400 ``report.department_required``."""
    wanted = (requested or "").strip() or None
    if role is Role.DEPARTMENT:
        own = (org or "").strip()
        if not own:
            raise DomainError("report.department_unknown", "令牌未载明所属主管部门", "the token names no department", status=403)
        if wanted is not None and wanted != own:
            raise DomainError(
                "report.other_department",
                "主管部门只能查看本部门（本县区）所属单位的汇总数据",
                "a department sees the figures of its own units only",
                status=403,
                field="department",
            )
        return own
    if role in CITY_STAFF:
        if wanted is None:
            raise DomainError("report.department_required", "请指明主管部门", "name the department", status=400, field="department")
        return wanted
    raise DomainError("auth.forbidden", "无权访问该对象", "you may not access this object", status=403)


class UnitLine(msgspec.Struct, frozen=True, kw_only=True):
    """One of the department's units as evaluation knows it."""

    unit_id: str
    status: str
    county_code: str | None = None
    blacklisted: bool = False


class GradeLine(msgspec.Struct, frozen=True, kw_only=True):
    """One unit's evaluation application of the year."""

    unit_id: str
    status: str
    grade: str | None = None


class CountyCount(msgspec.Struct, frozen=True, kw_only=True):
    #: "" for units that gave no county
    county_code: str
    units: int


class UnitFigures(msgspec.Struct, frozen=True, kw_only=True):
    total: int
    #: by status: applied, approved, suspended, disqualified, rejected
    by_status: dict[str, int]
    counties: list[CountyCount]


class InstrumentFigures(msgspec.Struct, frozen=True, kw_only=True):
    #: instruments that must be listed (M5, M6) and are in service
    must_list: int
    listed: int
    listed_on_time: int
    listed_voluntarily: int
    #: must-list instruments not listed although their deadline had passed (M11(3))
    overdue: int
    listed_value_fen: int


class ComplianceFigures(msgspec.Struct, frozen=True, kw_only=True):
    """Supervision: what the department's units owe the rules (M11(3), R19(2), R26, R27)."""

    instruments_overdue: int
    #: listed by its deadline, of the listed must-list instruments, in basis points (10000 = all); None when none is listed
    on_time_rate_bp: int | None
    vouchers_refused: int
    units_suspended: int
    units_disqualified: int
    units_blacklisted: int


class ServiceFigures(msgspec.Struct, frozen=True, kw_only=True):
    orders_contracted: int
    orders_served: int
    service_hours_centi: int
    outside_users_served: int
    revenue_fen: int


class VoucherFigures(msgspec.Struct, frozen=True, kw_only=True):
    """Vouchers deducted at the department's units in the year (R19(2))."""

    used: int
    used_fen: int
    #: orders settled with a voucher, and the voucher part of their fees
    voucher_orders: int
    revenue_voucher_fen: int


class EvaluationFigures(msgspec.Struct, frozen=True, kw_only=True):
    """The year's evaluation of the department's units (M14, R14)."""

    applications: int
    #: applications by status: submitted, returned, forwarded, graded, reopened, final
    by_status: dict[str, int]
    #: the grades that stand (graded or final), excellent / good / unqualified
    grades: dict[str, int]
    grades_final: int
    awards_approved: int
    awards_approved_fen: int


class DepartmentSummary(msgspec.Struct, frozen=True, kw_only=True):
    department: str
    year: int
    units: UnitFigures
    instruments: InstrumentFigures
    compliance: ComplianceFigures
    service: ServiceFigures
    vouchers: VoucherFigures
    evaluation: EvaluationFigures


def summarize(
    *,
    department: str,
    year: int,
    units: Iterable[UnitLine],
    measures: Mapping[str, int],
    vouchers_used: tuple[int, int],
    grades: Iterable[GradeLine],
    awards_approved: tuple[int, int],
) -> DepartmentSummary:
    """Add up the department's figures. ``measures`` is the sum of its units'
    yearly measures (:class:`services.evaluation.domain.measures.Measures`
    fields); ``vouchers_used`` and ``awards_approved`` are (count, fen)."""
    lines = list(units)
    by_status = Counter(u.status for u in lines)
    counties = Counter(u.county_code or "" for u in lines)
    apps = list(grades)
    standing = [g for g in apps if g.status in GRADED_STATUSES and g.grade]
    m = dict(measures)
    listed = m.get("instruments_listed", 0)
    return DepartmentSummary(
        department=department,
        year=year,
        units=UnitFigures(
            total=len(lines),
            by_status=dict(sorted(by_status.items())),
            counties=[CountyCount(county_code=k, units=counties[k]) for k in sorted(counties, key=lambda k: (k == "", k))],
        ),
        instruments=InstrumentFigures(
            must_list=m.get("instruments_must_list", 0),
            listed=listed,
            listed_on_time=m.get("instruments_listed_on_time", 0),
            listed_voluntarily=m.get("instruments_listed_voluntarily", 0),
            overdue=m.get("instruments_overdue", 0),
            listed_value_fen=m.get("listed_value_fen", 0),
        ),
        compliance=ComplianceFigures(
            instruments_overdue=m.get("instruments_overdue", 0),
            on_time_rate_bp=(m.get("instruments_listed_on_time", 0) * 10_000 // listed) if listed else None,
            vouchers_refused=m.get("vouchers_refused", 0),
            units_suspended=by_status.get("suspended", 0),
            units_disqualified=by_status.get("disqualified", 0),
            units_blacklisted=sum(1 for u in lines if u.blacklisted),
        ),
        service=ServiceFigures(
            orders_contracted=m.get("orders_contracted", 0),
            orders_served=m.get("orders_served", 0),
            service_hours_centi=m.get("service_hours_centi", 0),
            outside_users_served=m.get("outside_users_served", 0),
            revenue_fen=m.get("revenue_fen", 0),
        ),
        vouchers=VoucherFigures(
            used=vouchers_used[0],
            used_fen=vouchers_used[1],
            voucher_orders=m.get("voucher_orders", 0),
            revenue_voucher_fen=m.get("revenue_voucher_fen", 0),
        ),
        evaluation=EvaluationFigures(
            applications=len(apps),
            by_status=dict(sorted(Counter(g.status for g in apps).items())),
            grades={g: sum(1 for a in standing if a.grade == g) for g in GRADES},
            grades_final=sum(1 for a in standing if a.status == "final"),
            awards_approved=awards_approved[0],
            awards_approved_fen=awards_approved[1],
        ),
    )
