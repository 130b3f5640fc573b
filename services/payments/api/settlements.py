"""Settlements, user payments and the ledger over HTTP (R19(2), R19(4))."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import msgspec
from litestar import Controller, Request, Response, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody, Parameter

from contracts.commands import USE_VOUCHER, UseVoucher, UseVoucherReply
from services.payments import settlements as uc
from services.payments.schemas import Balances, PaymentResult, Settlement, SettlementPage, TrialBalance
from services.runtime import clock
from services.runtime.http.auth import Principal, access, principal_of
from services.runtime.roles import Role
from services.runtime.bus.commands import request as send_command
from services.runtime.errors import Forbidden
from services.runtime.http.app import actor_of
from services.runtime.http.edge import correlation_of
from services.runtime.http.pagination import PageNumber, PageSize
from services.runtime.http.problems import replayed
from services.runtime.service import NatsHandle
from services.runtime.db.service_db import ServiceDatabase
from services.runtime.settings import Settings

STAFF = (Role.CENTER, Role.BUREAU, Role.FINANCE)
#: how long settlement waits for vouchers to answer USE_VOUCHER
COMMAND_TIMEOUT_S = 5.0


class SettlementRequest(msgspec.Struct, forbid_unknown_fields=True):
    order_id: Annotated[str, msgspec.Meta(min_length=1, max_length=36)]


class PaymentRequest(msgspec.Struct, forbid_unknown_fields=True):
    amount_fen: Annotated[int, msgspec.Meta(gt=0, le=10**13)]
    bank_reference: Annotated[str, msgspec.Meta(min_length=1, max_length=100)]
    idempotency_key: Annotated[str, msgspec.Meta(min_length=8, max_length=100)]


def _may_see(p: Principal, st: Settlement) -> bool:
    if p.role is Role.USER:
        return st.user_id == p.org
    if p.role is Role.UNIT:
        return st.unit_id == p.org
    return p.role in STAFF


class SettlementController(Controller):
    path = "/v1/settlements"
    tags = ["settlements"]

    @post("/", operation_id="settleOrder", **access(Role.USER, Role.CENTER, responses=replayed(Settlement)))
    async def settle(
        self, request: Request, db: NamedDependency[ServiceDatabase], nats: NamedDependency[NatsHandle], data: JSONBody[SettlementRequest]
    ) -> Response[Settlement]:
        """Settle an order whose results were delivered: the order's voucher is used
        in vouchers (deducted only when vouchers agrees; a refusal such as
        ``voucher.expired`` settles without it and is recorded), the rest is what
        the user pays. 201 when settled now, 200 with the same settlement when
        already settled. 409 ``settlement.results_not_delivered``; 503
        ``command.*`` when vouchers cannot answer (retry)."""
        p = principal_of(request)
        if p.role is Role.USER and not p.org:
            raise Forbidden()
        correlation = correlation_of(request)

        async def ask(cmd: UseVoucher) -> UseVoucherReply:
            nc = await nats.connection()
            return await send_command(nc, USE_VOUCHER, cmd, UseVoucherReply, COMMAND_TIMEOUT_S, correlation_id=correlation)

        settlement, created = await uc.settle(
            db, actor_of(request), correlation, data.order_id, user_id=p.org if p.role is Role.USER else None, ask_voucher=ask
        )
        return Response(settlement, status_code=201 if created else 200)

    @post("/{settlement_id:str}/payments", operation_id="paySettlement", **access(Role.USER, responses=replayed(PaymentResult)))
    async def pay(
        self, request: Request, db: NamedDependency[ServiceDatabase], settlement_id: FromPath[str], data: JSONBody[PaymentRequest]
    ) -> Response[PaymentResult]:
        """The user pays (part of) what is left. The same ``idempotency_key`` again
        returns the same payment (200) and posts nothing. 422
        ``payment.exceeds_remaining``; 409 ``payment.idempotency_key_reused``."""
        p = principal_of(request)
        if not p.org:
            raise Forbidden()
        result, created = await uc.pay(
            db,
            actor_of(request),
            correlation_of(request),
            settlement_id,
            user_id=p.org,
            amount_fen=data.amount_fen,
            bank_reference=data.bank_reference,
            idempotency_key=data.idempotency_key,
            reveal_bank_reference=p.role is Role.FINANCE,
        )
        return Response(result, status_code=201 if created else 200)

    @get("/", operation_id="listSettlements", **access(Role.USER, Role.UNIT, *STAFF))
    async def index(
        self,
        request: Request,
        db: NamedDependency[ServiceDatabase],
        order_id: str | None = Parameter(default=None, max_length=36),
        page: PageNumber = 1,
        page_size: PageSize = 20,
    ) -> SettlementPage:
        """Settlements, newest first: a user its own, a unit those for its services, staff all."""
        p = principal_of(request)
        user_id = unit_id = None
        if p.role in (Role.USER, Role.UNIT):
            if not p.org:
                raise Forbidden()
            user_id, unit_id = (p.org, None) if p.role is Role.USER else (None, p.org)
        return await uc.list_settlements(db, order_id=order_id, user_id=user_id, unit_id=unit_id, page=page, page_size=page_size)

    @get("/{settlement_id:str}", operation_id="getSettlement", **access(Role.USER, Role.UNIT, *STAFF))
    async def read(self, request: Request, db: NamedDependency[ServiceDatabase], settlement_id: FromPath[str]) -> Settlement:
        """One settlement with its payments: its user, its unit, or staff (404 to anyone else)."""
        p = principal_of(request)
        settlement = await uc.get_settlement(db, settlement_id, reveal_bank_reference=p.role is Role.FINANCE)
        if not _may_see(p, settlement):
            raise uc.NotFound("settlement", "结算单", settlement_id)
        return settlement


class LedgerController(Controller):
    path = "/v1/ledger"
    tags = ["ledger"]

    @get("/balances", operation_id="ledgerBalances", **access(Role.FINANCE, Role.CENTER, Role.BUREAU))
    async def balances(
        self,
        db: NamedDependency[ServiceDatabase],
        account: str | None = Parameter(default=None, max_length=120),
        page: PageNumber = 1,
        page_size: PageSize = 20,
    ) -> Balances:
        """Σdebit, Σcredit and debit − credit per account (one account, or all), a page of them
        in the accounts' order, each with the parts its name encodes (``kind``, ``money``,
        ``year``, ``party_type``, ``party_id``; docs/payouts.md "Ledger accounts"), and
        ``totals``: Σdebit and Σcredit of every account selected, not only the page's."""
        return await uc.balances(db, account, page=page, page_size=page_size)

    @get("/trial-balance", operation_id="trialBalance", **access(Role.FINANCE))
    async def trial_balance(
        self,
        db: NamedDependency[ServiceDatabase],
        as_of: datetime | None = Parameter(default=None, description="the books as of this moment (ISO 8601 with zone, not in the future); default: all"),
    ) -> TrialBalance:
        """Σdebit and Σcredit over the ledger (the entries booked up to `as_of`, e.g. the year's
        close at 00:00 on 1 January, Asia/Shanghai); they are equal when the books balance.
        422 `as_of.naive` or `as_of.in_future` (field `as_of`)."""
        return await uc.trial_balance(db, None if as_of is None else clock.as_of(as_of))


def routes(_settings: Settings) -> list[type[Controller]]:
    return [SettlementController, LedgerController]
