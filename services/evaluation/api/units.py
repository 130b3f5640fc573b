"""The units evaluation knows of (from registry events)."""

from __future__ import annotations

from litestar import Controller, Request, get
from litestar.di import NamedDependency
from litestar.params import Parameter

from services.evaluation import readmodel
from services.evaluation.schemas import EvaluatedUnitPage
from services.runtime.roles import Role
from services.runtime.http.auth import access, principal_of
from services.runtime.http.pagination import PageNumber, PageSize
from services.runtime.db.service_db import ServiceDatabase


class UnitController(Controller):
    path = "/v1/units"
    tags = ["units"]

    @get("/", operation_id="listEvaluationUnits", **access(Role.CENTER, Role.BUREAU, Role.DEPARTMENT))
    async def list_(
        self,
        request: Request,
        db: NamedDependency[ServiceDatabase],
        page: PageNumber = 1,
        page_size: PageSize = 20,
        status: str | None = Parameter(default=None, max_length=20),
    ) -> EvaluatedUnitPage:
        """Units known to evaluation, as the registry reported them: center and bureau all, a
        competent department only the units whose ``department`` is its token's ``org``
        (the same scope as registry's, services/registry/scope.py)."""
        p = principal_of(request)
        department = (p.org or "") if p.role is Role.DEPARTMENT else None
        return await readmodel.list_units(db, status=status, page=page, page_size=page_size, department=department)
