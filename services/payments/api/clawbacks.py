"""Clawbacks after a fraud finding (R27) over HTTP: finance, the center and the
bureau see them; finance records repayments."""

from __future__ import annotations

from typing import Annotated, Literal

import msgspec
from litestar import Controller, Request, Response, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody, Parameter

from services.payments import clawbacks
from services.payments.schemas import Clawback, ClawbackPage
from services.runtime.roles import Role
from services.runtime.http.auth import access
from services.runtime.http.app import actor_of
from services.runtime.http.edge import correlation_of
from services.runtime.http.pagination import PageNumber, PageSize
from services.runtime.http.problems import replayed
from services.runtime.db.service_db import ServiceDatabase

READERS = (Role.FINANCE, Role.CENTER, Role.BUREAU)


class RepaymentRequest(msgspec.Struct, forbid_unknown_fields=True):
    amount_fen: Annotated[int, msgspec.Meta(gt=0, le=10**15, description="amount in fen (分), an integer")]
    bank_reference: Annotated[str, msgspec.Meta(min_length=1, max_length=100)]
    idempotency_key: Annotated[str, msgspec.Meta(min_length=8, max_length=100)]


class ClawbackController(Controller):
    path = "/v1/clawbacks"
    tags = ["clawbacks"]

    @get("/", operation_id="listClawbacks", **access(*READERS))
    async def index(
        self,
        db: NamedDependency[ServiceDatabase],
        page: PageNumber = 1,
        page_size: PageSize = 20,
        party_id: str | None = Parameter(default=None),
        finding_id: str | None = Parameter(default=None),
        status: Literal["outstanding", "repaid"] | None = Parameter(default=None),
    ) -> ClawbackPage:
        """Money to be recovered after fraud findings, oldest first."""
        return await clawbacks.list_clawbacks(db, party_id=party_id, finding_id=finding_id, status=status, page=page, page_size=page_size)

    @get("/{clawback_id:str}", operation_id="getClawback", **access(*READERS))
    async def read(self, db: NamedDependency[ServiceDatabase], clawback_id: FromPath[str]) -> Clawback:
        return await clawbacks.get_clawback(db, clawback_id)

    @post("/{clawback_id:str}/repayments", operation_id="recordClawbackRepayment", **access(Role.FINANCE, responses=replayed(Clawback)))
    async def repay(self, request: Request, db: NamedDependency[ServiceDatabase], clawback_id: FromPath[str], data: JSONBody[RepaymentRequest]) -> Response[Clawback]:
        """Finance records money the party paid back (201); the same ``idempotency_key``
        again returns the clawback unchanged (200). 409 ``clawback.exceeds_outstanding``,
        ``clawback.idempotency_key_reused``."""
        clawback, created = await clawbacks.repay(
            db, actor_of(request), correlation_of(request), clawback_id, amount_fen=data.amount_fen, bank_reference=data.bank_reference,
            idempotency_key=data.idempotency_key,
        )
        return Response(clawback, status_code=201 if created else 200)
