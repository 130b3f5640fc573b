"""Programme years and voucher accounts over HTTP (R15, R16, R19(1))."""

from __future__ import annotations

from typing import Annotated

import msgspec
from litestar import Controller, Request, Response, get, patch, post
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody

from services.runtime.http.auth import PUBLIC, access, principal_of
from services.runtime.roles import Role
from services.runtime.errors import Forbidden
from services.runtime.http.app import actor_of
from services.runtime.http.edge import correlation_of
from services.runtime.http.preconditions import ETAG_HEADER, IfMatchHeader, expected_version, tagged
from services.runtime.db.service_db import ServiceDatabase
from services.vouchers import programmes
from services.vouchers.domain.policy import ProgrammeDefaults
from services.vouchers.schemas import Account, Programme

Fen = Annotated[int, msgspec.Meta(ge=0, le=10**15, description="amount in fen (分), an integer ≥ 0")]
Year = Annotated[int, msgspec.Meta(ge=2023, le=2100)]
Reason = Annotated[str, msgspec.Meta(min_length=1, max_length=2000)]


class ProgrammeOpening(msgspec.Struct, forbid_unknown_fields=True):
    """A year's budget and parameters; omitted parameters take the year's numbers of the
    vouchers' policy file (``services/vouchers/policy/programme.yaml``: 30%, 50,000 / 100,000
    CNY caps, 15-day appeal window, no auto-approval, R4's four classes, R16's two)."""

    year: Year
    budget_fen: Fen
    rate_bp: Annotated[int, msgspec.Meta(ge=0, le=10_000)] | None = None
    cap_fen: Fen | None = None
    special_cap_fen: Fen | None = None
    appeal_window_days: Annotated[int, msgspec.Meta(ge=0, le=365)] | None = None
    auto_approve: bool | None = None
    #: R4: the user classes that may apply this year (the registry's words; at least one)
    eligible_classes: Annotated[list[str], msgspec.Meta(max_length=20)] | None = None
    #: R16: the classes with special_cap_fen this year
    special_classes: Annotated[list[str], msgspec.Meta(max_length=20)] | None = None


class BudgetChange(msgspec.Struct, forbid_unknown_fields=True):
    budget_fen: Fen
    reason: Reason


class ProgrammeController(Controller):
    path = "/v1/programmes"
    tags = ["programmes"]

    @post("/", operation_id="openProgramme", status_code=201, **access(Role.BUREAU))
    async def open_year(
        self, request: Request, db: NamedDependency[ServiceDatabase], programme_defaults: NamedDependency[ProgrammeDefaults], data: JSONBody[ProgrammeOpening]
    ) -> Programme:
        """The bureau publishes a year's voucher budget and opens the programme (R15)."""
        return await programmes.open_programme(db, actor_of(request), correlation_of(request), **msgspec.structs.asdict(data), defaults=programme_defaults)

    @patch("/{year:int}/budget", operation_id="changeProgrammeBudget", response_headers=ETAG_HEADER, **access(Role.BUREAU, Role.FINANCE))
    async def budget(
        self, request: Request, db: NamedDependency[ServiceDatabase], year: FromPath[int], data: JSONBody[BudgetChange], if_match: IfMatchHeader = None
    ) -> Response[Programme]:
        """Bureau or finance change the budget, never below what is committed; a raise
        reopens a programme that closed because its budget was committed (R15). With
        ``If-Match`` only the version read is changed (412 otherwise; each commitment
        of the budget is a new version too)."""
        body = await programmes.change_budget(
            db, actor_of(request), correlation_of(request), year, budget_fen=data.budget_fen, reason=data.reason, expected_version=expected_version(if_match)
        )
        return tagged(body, body.version)

    @get("/{year:int}", operation_id="getProgramme", response_headers=ETAG_HEADER, **access(PUBLIC))
    async def read(self, db: NamedDependency[ServiceDatabase], year: FromPath[int]) -> Response[Programme]:
        """A year's budget, what is committed, what remains, and whether it is open (R15).
        Its ``version`` is the ``ETag`` (send it as ``If-Match`` when changing the budget)."""
        body = await programmes.get_programme(db, year)
        return tagged(body, body.version)


class AccountController(Controller):
    path = "/v1/accounts"
    tags = ["accounts"]

    @post("/{year:int}", operation_id="activateAccount", status_code=201, **access(Role.USER))
    async def activate(self, request: Request, db: NamedDependency[ServiceDatabase], year: FromPath[int]) -> Account:
        """A verified user opens its voucher account for the year, with its cap (R16, R19(1))."""
        p = principal_of(request)
        if not p.org:
            raise Forbidden()
        return await programmes.activate_account(db, actor_of(request), correlation_of(request), p.org, year)

    @get("/{year:int}", operation_id="getOwnAccount", **access(Role.USER))
    async def read(self, request: Request, db: NamedDependency[ServiceDatabase], year: FromPath[int]) -> Account:
        """The caller's account for the year: its cap, what is committed, what remains."""
        p = principal_of(request)
        if not p.org:
            raise Forbidden()
        return await programmes.get_account(db, p.org, year)
