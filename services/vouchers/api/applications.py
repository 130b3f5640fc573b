"""Voucher applications, reviews and appeals over HTTP (R19)."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

import msgspec
from litestar import Controller, Request, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody, Parameter

from services.runtime.roles import Role
from services.runtime.http.auth import access, principal_of
from services.runtime.errors import Forbidden
from services.runtime.http.app import actor_of
from services.runtime.http.edge import correlation_of
from services.runtime.http.pagination import PageNumber, PageSize
from services.runtime.db.service_db import ServiceDatabase
from services.runtime.settings import Settings
from services.vouchers import application_submissions, applications
from services.vouchers.schemas import Application, ApplicationPage

Reason = Annotated[str, msgspec.Meta(min_length=1, max_length=2000)]
Id = Annotated[str, msgspec.Meta(min_length=1, max_length=36)]

STAFF = (Role.CENTER, Role.BUREAU, Role.FINANCE)


class ApplicationRequest(msgspec.Struct, forbid_unknown_fields=True):
    """Apply for a voucher on one contracted order of your own."""

    order_id: Id


class Approval(msgspec.Struct, forbid_unknown_fields=True):
    reason: Annotated[str, msgspec.Meta(max_length=2000)] | None = None


class Rejection(msgspec.Struct, forbid_unknown_fields=True):
    reason: Reason


class AppealRequest(msgspec.Struct, forbid_unknown_fields=True):
    reason: Reason


class Outcome(StrEnum):
    uphold = "uphold"
    overturn = "overturn"


class AppealDecision(msgspec.Struct, forbid_unknown_fields=True):
    outcome: Outcome
    reason: Reason


def _own_user(request: Request) -> str:
    p = principal_of(request)
    if not p.org:
        raise Forbidden()
    return p.org


class ApplicationController(Controller):
    path = "/v1/applications"
    tags = ["applications"]

    @post("/", operation_id="submitApplication", status_code=201, **access(Role.USER))
    async def submit(self, request: Request, db: NamedDependency[ServiceDatabase], data: JSONBody[ApplicationRequest]) -> Application:
        """A user with an active account applies on one of its contracted orders (R19(1)).
        The response lists the checks that fail now; with the year's auto-approval an
        application passing every check comes back approved with its voucher."""
        return await application_submissions.submit(db, actor_of(request), correlation_of(request), user_id=_own_user(request), order_id=data.order_id)

    @post("/{application_id:str}/approve", operation_id="approveApplication", status_code=200, **access(Role.CENTER))
    async def approve(self, request: Request, db: NamedDependency[ServiceDatabase], settings: NamedDependency[Settings], application_id: FromPath[str], data: JSONBody[Approval]) -> Application:
        """The center approves: every check runs again, then the amount is reserved from the
        budget and the cap and the voucher issued, in one transaction (R19(2)). A failing
        check answers 422 with every failing code in ``details.failures``."""
        return await applications.approve(db, actor_of(request), correlation_of(request), application_id, city=settings.city, reason=data.reason)

    @post("/{application_id:str}/reject", operation_id="rejectApplication", status_code=200, **access(Role.CENTER))
    async def reject(self, request: Request, db: NamedDependency[ServiceDatabase], application_id: FromPath[str], data: JSONBody[Rejection]) -> Application:
        """The center rejects with a reason (R19(2))."""
        return await applications.reject(db, actor_of(request), correlation_of(request), application_id, reason=data.reason)

    @post("/{application_id:str}/appeal", operation_id="appealApplication", status_code=200, **access(Role.USER))
    async def appeal(self, request: Request, db: NamedDependency[ServiceDatabase], application_id: FromPath[str], data: JSONBody[AppealRequest]) -> Application:
        """The user appeals a rejection once, within the year's appeal window (R19(2))."""
        return await applications.appeal(db, actor_of(request), correlation_of(request), application_id, user_id=_own_user(request), reason=data.reason)

    @post("/{application_id:str}/appeal/decide", operation_id="decideAppeal", status_code=200, **access(Role.BUREAU))
    async def decide_appeal(
        self, request: Request, db: NamedDependency[ServiceDatabase], settings: NamedDependency[Settings], application_id: FromPath[str], data: JSONBody[AppealDecision]
    ) -> Application:
        """The bureau upholds or overturns; an overturn is approved under the budget and
        cap as they stand now (R19(2))."""
        return await applications.decide_appeal(db, actor_of(request), correlation_of(request), application_id, outcome=str(data.outcome), reason=data.reason, city=settings.city)

    @get("/{application_id:str}", operation_id="getApplication", **access(Role.USER, *STAFF))
    async def read(self, request: Request, db: NamedDependency[ServiceDatabase], application_id: FromPath[str]) -> Application:
        """One application: a user sees its own, staff all."""
        p = principal_of(request)
        user_id = _own_user(request) if p.role is Role.USER else None
        return await applications.get_application(db, application_id, user_id=user_id)

    @get("/", operation_id="listApplications", **access(Role.USER, *STAFF))
    async def index(
        self,
        request: Request,
        db: NamedDependency[ServiceDatabase],
        status: str | None = Parameter(default=None, max_length=20),
        case_no: str | None = Parameter(default=None, max_length=40, description="the application with this case number (SQ-2026-000123; case and spaces aside)"),
        order_id: str | None = Parameter(default=None, max_length=36, description="the application of this order (an order has at most one)"),
        page: PageNumber = 1,
        page_size: PageSize = 20,
    ) -> ApplicationPage:
        """Applications, newest first: a user its own, staff all; or the one with a case
        number, or the one of an order (an empty page when it is not among those the caller
        may see)."""
        p = principal_of(request)
        user_id = _own_user(request) if p.role is Role.USER else None
        return await applications.list_applications(db, user_id=user_id, status=status, case_no=case_no, order_id=order_id, page=page, page_size=page_size)
