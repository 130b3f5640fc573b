"""M10, R8 over HTTP: a competent department's figures for its own units."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, Request, get
from litestar.di import NamedDependency
from litestar.params import FromPath, Parameter

from services.evaluation.api.reports import MAX_YEAR, MIN_YEAR
from services.evaluation.department_summary import department_summary
from services.evaluation.domain.department_summary import (
    DepartmentSummary,
    department_in_scope,
)
from services.runtime.roles import Role
from services.runtime.http.auth import access, principal_of
from services.runtime.errors import DomainError
from services.runtime.db.service_db import ServiceDatabase

Department = Annotated[
    str | None, Parameter(max_length=100, description="the competent department (center and bureau); a department may omit it or name its own")
]


class DepartmentReportController(Controller):
    path = "/v1/reports"
    tags = ["reports"]

    @get("/{year:int}/department", operation_id="getDepartmentSummary", **access(Role.DEPARTMENT, Role.CENTER, Role.BUREAU))
    async def summary(self, request: Request[Any, Any, Any], db: NamedDependency[ServiceDatabase], year: FromPath[int], department: Department = None) -> DepartmentSummary:
        """M10, R8: the year's figures of a competent department's units, added
        up: units (by status and county), instruments and their listing
        compliance, supervision (overdue listings, refused vouchers, suspended,
        disqualified and blacklisted units), service, vouchers used, and the
        evaluation's applications, grades and approved awards. Money in fen,
        hours in hundredths.

        Who may call: a department reads its own units' figures (the units
        whose ``department`` is its token's organisation); naming another
        department answers 403 ``report.other_department``, a department token
        without an organisation 403 ``report.department_unknown``. The center
        and the bureau read any department's, naming it (400
        ``report.department_required`` otherwise). A department with no units
        reads zeros. 400 ``report.year_out_of_range``."""
        if not MIN_YEAR <= year <= MAX_YEAR:
            raise DomainError("report.year_out_of_range", f"年度须在 {MIN_YEAR}–{MAX_YEAR} 之间", f"year must be between {MIN_YEAR} and {MAX_YEAR}", status=400, year=year)
        p = principal_of(request)
        return await department_summary(db, year, department_in_scope(p.role, p.org, department))
