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
from services.runtime import clock
from services.runtime.http.auth import Principal, access, principal_of
from services.runtime.roles import Role
from services.runtime.bus.commands import request as send_command
from services.runtime.errors import Forbidden
from services.runtime.http.app import actor_of, correlation_of
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


class Payment(msgspec.Struct):
    payment_id: str
    settlement_id: str
    amount_fen: int
    bank_reference: str
    idempotency_key: str
    created_at: datetime


class Settlement(msgspec.Struct):
    settlement_id: str
    order_id: str
    user_id: str
    unit_id: str
    fee_fen: int
    voucher_fen: int
    payable_fen: int
    paid_fen: int
    remaining_fen: int
    year: int
    status: str
    created_at: datetime
    updated_at: datetime
    voucher_id: str | None = None
    #: the code vouchers refused the order's voucher with (e.g. voucher.expired)
    voucher_refusal: str | None = None
    payments: list[Payment] = []


class PaymentResult(msgspec.Struct):
    payment: Payment
    settlement: Settlement
    paid_in_full: bool


class SettlementPage(msgspec.Struct):
    items: list[Settlement]
    total: int
    page: int
    page_size: int


class Balance(msgspec.Struct):
    account: str
    debit_fen: int
    credit_fen: int
    #: debit minus credit
    balance_fen: int


class Balances(msgspec.Struct):
    items: list[Balance]


class TrialBalance(msgspec.Struct):
    debit_fen: int
    credit_fen: int
    balanced: bool
    entries: int
    #: the books up to this moment (None: all of them)
    as_of: datetime | None = None


def _payment(p: Principal, row: dict) -> Payment:
    ref = row["bank_reference"] if p.role is Role.FINANCE else uc.mask(row["bank_reference"])
    return Payment(**{**row, "bank_reference": ref})


def _settlement(p: Principal, row: dict, pays: list[dict] | None = None) -> Settlement:
    return Settlement(**row, payments=[_payment(p, x) for x in pays or []])


def _may_see(p: Principal, row: dict) -> bool:
    if p.role is Role.USER:
        return row["user_id"] == p.org
    if p.role is Role.UNIT:
        return row["unit_id"] == p.org
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

        row, created = await uc.settle(
            db, actor_of(request), correlation, data.order_id, user_id=p.org if p.role is Role.USER else None, ask_voucher=ask
        )
        return Response(_settlement(p, row), status_code=201 if created else 200)

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
        payment, settlement, created = await uc.pay(
            db,
            actor_of(request),
            correlation_of(request),
            settlement_id,
            user_id=p.org,
            amount_fen=data.amount_fen,
            bank_reference=data.bank_reference,
            idempotency_key=data.idempotency_key,
        )
        body = PaymentResult(payment=_payment(p, payment), settlement=_settlement(p, settlement), paid_in_full=settlement["remaining_fen"] == 0)
        return Response(body, status_code=201 if created else 200)

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
        items, total = await uc.list_settlements(db, order_id=order_id, user_id=user_id, unit_id=unit_id, page=page, page_size=page_size)
        return SettlementPage(items=[_settlement(p, i) for i in items], total=total, page=page, page_size=page_size)

    @get("/{settlement_id:str}", operation_id="getSettlement", **access(Role.USER, Role.UNIT, *STAFF))
    async def read(self, request: Request, db: NamedDependency[ServiceDatabase], settlement_id: FromPath[str]) -> Settlement:
        """One settlement with its payments: its user, its unit, or staff (404 to anyone else)."""
        p = principal_of(request)
        row, pays = await uc.get_settlement(db, settlement_id)
        if not _may_see(p, row):
            raise uc.NotFound("settlement", "结算单", settlement_id)
        return _settlement(p, row, pays)


class LedgerController(Controller):
    path = "/v1/ledger"
    tags = ["ledger"]

    @get("/balances", operation_id="ledgerBalances", **access(Role.FINANCE, Role.CENTER, Role.BUREAU))
    async def balances(self, db: NamedDependency[ServiceDatabase], account: str | None = Parameter(default=None, max_length=120)) -> Balances:
        """Σdebit, Σcredit and debit − credit per account (one account, or all)."""
        return Balances(items=[Balance(**b) for b in await uc.balances(db, account)])

    @get("/trial-balance", operation_id="trialBalance", **access(Role.FINANCE))
    async def trial_balance(
        self,
        db: NamedDependency[ServiceDatabase],
        as_of: datetime | None = Parameter(default=None, description="the books as of this moment (ISO 8601 with zone, not in the future); default: all"),
    ) -> TrialBalance:
        """Σdebit and Σcredit over the ledger (the entries booked up to `as_of`, e.g. the year's
        close at 00:00 on 1 January, Asia/Shanghai); they are equal when the books balance.
        422 `as_of.naive` or `as_of.in_future` (field `as_of`)."""
        return TrialBalance(**await uc.trial_balance(db, None if as_of is None else clock.as_of(as_of)))


def routes(_settings: Settings) -> list[type[Controller]]:
    return [SettlementController, LedgerController]
