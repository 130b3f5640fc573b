"""Whether a user may apply for vouchers, from vouchers' own read model."""

from __future__ import annotations

from litestar import Controller, Request, get
from litestar.di import NamedDependency
from litestar.params import FromPath, Parameter

from services.runtime.roles import Role
from services.runtime.http.auth import access, principal_of
from services.runtime.clock import local_year
from services.runtime.errors import Forbidden
from services.runtime.db.service_db import ServiceDatabase
from services.vouchers import programmes
from services.vouchers.domain.policy import ProgrammeDefaults
from services.vouchers.schemas import EligibilityView


class EligibilityController(Controller):
    path = "/v1/eligibility"
    tags = ["vouchers"]

    @get("/users/{user_id:str}", operation_id="getUserEligibility", **access(Role.USER, Role.CENTER, Role.BUREAU))
    async def user(
        self,
        request: Request,
        db: NamedDependency[ServiceDatabase],
        programme_defaults: NamedDependency[ProgrammeDefaults],
        user_id: FromPath[str],
        year: int | None = Parameter(default=None, ge=2023, le=2100, description="programme year (default: this year, Asia/Shanghai)"),
    ) -> EligibilityView:
        """Can this user apply for vouchers this year, and up to what cap (R4, R16)? The cap is
        the year's programme's, or before the bureau opens it the vouchers' policy file's."""
        p = principal_of(request)
        if p.role is Role.USER and p.org != user_id:
            raise Forbidden()
        return await programmes.eligibility_of(db, user_id, year or local_year(), programme_defaults)
