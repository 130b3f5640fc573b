"""Payee accounts, payouts, payment orders and the budget execution report over HTTP (R14(4), R20)."""

from __future__ import annotations

from typing import Annotated, Literal

import msgspec
from litestar import Controller, Request, Response, get, post, put
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody, Parameter

from services.payments import exports, payouts, reports
from services.payments.schemas import BudgetExecution, DueList, Payee, PaymentOrder, PaymentOrderPage, Payout, PayoutPage
from services.runtime.http.auth import Principal, access, principal_of
from services.runtime.roles import Role
from services.runtime.errors import Forbidden
from services.runtime.http.app import actor_of
from services.runtime.http.edge import correlation_of
from services.runtime.http.pagination import PageNumber, PageSize
from services.runtime.http.preconditions import ETAG_HEADER, IfMatchHeader, IfNoneMatchHeader, create_only, expected_version, tagged
from services.runtime.http.problems import replayed
from services.runtime.db.service_db import ServiceDatabase
from services.runtime.settings import Settings

READERS = (Role.FINANCE, Role.CENTER, Role.BUREAU)
Kind = Literal["award", "redemption"]
Name = Annotated[str, msgspec.Meta(min_length=1, max_length=200)]


class PayeeRequest(msgspec.Struct, forbid_unknown_fields=True):
    bank_name: Name
    account_name: Name
    #: 8 to 32 digits (spaces ignored); stored encrypted, shown masked
    account_number: Annotated[str, msgspec.Meta(min_length=8, max_length=40)]


class OrderRequest(msgspec.Struct, forbid_unknown_fields=True):
    """Which due payouts to order: the listed ones, or every due one (of a kind, of a year)
    whose unit has payee details."""

    payout_ids: Annotated[list[Annotated[str, msgspec.Meta(max_length=36)]], msgspec.Meta(min_length=1, max_length=1000)] | None = None
    kind: Kind | None = None
    year: Annotated[int, msgspec.Meta(ge=2000, le=2100)] | None = None


class PaidRequest(msgspec.Struct, forbid_unknown_fields=True):
    bank_reference: Annotated[str, msgspec.Meta(min_length=1, max_length=100)]


def _own_unit(p: Principal, unit_id: str) -> None:
    if p.role is Role.UNIT and (not p.org or p.org != unit_id):
        raise Forbidden()


def _xlsx(data: bytes, filename: str) -> Response[bytes]:
    return Response(data, media_type=exports.XLSX, headers={"Content-Disposition": f'attachment; filename="{filename}"'})


class PayeeController(Controller):
    path = "/v1/payees"
    tags = ["payouts"]

    @put("/{unit_id:str}", operation_id="setPayeeAccount", response_headers=ETAG_HEADER, **access(Role.UNIT))
    async def set_(self, request: Request, db: NamedDependency[ServiceDatabase], settings: NamedDependency[Settings], unit_id: FromPath[str],
                   data: JSONBody[PayeeRequest], if_match: IfMatchHeader = None, if_none_match: IfNoneMatchHeader = None) -> Response[Payee]:
        """A unit sets its own bank details for payouts; the account number is stored encrypted and
        shown masked. 403 for another unit; 422 ``payee.account_invalid``. With ``If-Match`` only the
        version read is replaced (412 otherwise); the first details take no ``If-Match`` (a tag or
        ``*`` is 412: there are none yet); with ``If-None-Match: *`` only first details are saved (412 ``request.record_exists`` when some exist)."""
        _own_unit(principal_of(request), unit_id)
        body = await payouts.set_payee(db, settings.field_cipher(), actor_of(request), correlation_of(request), unit_id, bank_name=data.bank_name,
                                       account_name=data.account_name, account_number=data.account_number,
                                       expected_version=expected_version(if_match), if_match_sent=if_match is not None,
                                       only_create=create_only(if_none_match))
        return tagged(body, body.version)

    @get("/{unit_id:str}", operation_id="getPayeeAccount", response_headers=ETAG_HEADER, **access(Role.UNIT, *READERS))
    async def read(self, request: Request, db: NamedDependency[ServiceDatabase], unit_id: FromPath[str]) -> Response[Payee]:
        """A unit's bank details (masked): the unit itself or staff. Their ``version`` is the ``ETag``."""
        _own_unit(principal_of(request), unit_id)
        body = await payouts.get_payee(db, unit_id)
        return tagged(body, body.version)


class PayoutController(Controller):
    path = "/v1/payouts"
    tags = ["payouts"]

    @get("/", operation_id="listPayouts", **access(Role.UNIT, *READERS))
    async def index(
        self,
        request: Request,
        db: NamedDependency[ServiceDatabase],
        kind: Kind | None = Parameter(default=None),
        year: int | None = Parameter(default=None, ge=2000, le=2100),
        status: str | None = Parameter(default=None, max_length=20),
        payment_order_id: str | None = Parameter(default=None, max_length=36),
        unit_id: str | None = Parameter(default=None, max_length=36),
        case_no: str | None = Parameter(default=None, max_length=40, description="the payout with this case number (BF-2026-000007), or the payouts of the payment order with this case number (FK-2026-000003); case and spaces aside"),
        page: PageNumber = 1,
        page_size: PageSize = 20,
    ) -> PayoutPage:
        """Award and redemption payouts, oldest first: a unit its own, staff all; filterable."""
        p = principal_of(request)
        if p.role is Role.UNIT:
            if not p.org:
                raise Forbidden()
            unit_id = p.org
        return await payouts.list_payouts(db, unit_id=unit_id, kind=kind, year=year, status=status, order_id=payment_order_id, case_no=case_no, page=page, page_size=page_size)

    @get("/due", operation_id="listDuePayouts", **access(*READERS))
    async def due(self, db: NamedDependency[ServiceDatabase], kind: Kind | None = Parameter(default=None), year: int | None = Parameter(default=None, ge=2000, le=2100)) -> DueList:
        """Payouts due (their notice final, not yet on a payment order); ``blocked`` is
        ``payout.payee_missing`` for a unit without bank details."""
        return await payouts.due_list(db, kind=kind, year=year)

    @get("/{payout_id:str}", operation_id="getPayout", **access(Role.UNIT, *READERS))
    async def read(self, request: Request, db: NamedDependency[ServiceDatabase], payout_id: FromPath[str]) -> Payout:
        """One payout: its unit or staff (404 to another unit)."""
        payout = await payouts.get_payout(db, payout_id)
        p = principal_of(request)
        if p.role is Role.UNIT and payout.unit_id != p.org:
            raise payouts.NotFound("payout", "付款", payout_id)
        return payout

    @post("/{payout_id:str}/paid", operation_id="confirmPayoutPaid", **access(Role.FINANCE, responses=replayed(Payout)))
    async def paid(self, request: Request, db: NamedDependency[ServiceDatabase], payout_id: FromPath[str], data: JSONBody[PaidRequest]) -> Response[Payout]:
        """Finance confirms an ordered payout paid (the bank's reference): the ledger moves it from
        payable to paid and ``PayoutPaid`` goes out. 201 when confirmed now, 200 when it already was;
        409 ``payout.not_ordered``."""
        payout, created = await payouts.confirm_paid(db, actor_of(request), correlation_of(request), payout_id, bank_reference=data.bank_reference)
        return Response(payout, status_code=201 if created else 200)


class PaymentOrderController(Controller):
    path = "/v1/payment-orders"
    tags = ["payouts"]

    @post("/", operation_id="createPaymentOrder", status_code=201, **access(Role.FINANCE))
    async def create(self, request: Request, db: NamedDependency[ServiceDatabase], data: JSONBody[OrderRequest]) -> PaymentOrder:
        """Put due payouts on a payment order (``PayoutOrdered`` each). Listed payouts must be due and
        their units have payee details (409 ``payout.payee_missing``); without a list, units without
        details are left on the due list. 409 ``payment_order.nothing_due``."""
        return await payouts.create_order(db, actor_of(request), correlation_of(request), payout_ids=data.payout_ids, kind=data.kind, year=data.year)

    @get("/", operation_id="listPaymentOrders", **access(*READERS))
    async def index(
        self,
        db: NamedDependency[ServiceDatabase],
        case_no: str | None = Parameter(default=None, max_length=40, description="the payment order with this case number (FK-2026-000003; case and spaces aside)"),
        page: PageNumber = 1,
        page_size: PageSize = 20,
    ) -> PaymentOrderPage:
        """Payment orders, newest first (staff only, who see them all); ``case_no`` finds one as typed."""
        return await payouts.list_orders(db, case_no=case_no, page=page, page_size=page_size)

    @get("/{order_id:str}", operation_id="getPaymentOrder", **access(*READERS))
    async def read(self, db: NamedDependency[ServiceDatabase], order_id: FromPath[str]) -> PaymentOrder:
        """A payment order with its payouts (account numbers masked)."""
        return await payouts.get_order(db, order_id)

    @get("/{order_id:str}/export", operation_id="exportPaymentOrder", media_type=exports.XLSX, **access(Role.FINANCE))
    async def export(self, db: NamedDependency[ServiceDatabase], settings: NamedDependency[Settings], order_id: FromPath[str]) -> Response[bytes]:
        """The payment order as an Excel file finance's system imports (see docs/payouts.md): payee,
        bank, account name, account number (decrypted only in this file), amount in yuan as text
        with two decimals, purpose, reference (the payout id), the payout's and the payment order's case
        numbers; named by the order's case number (``payment-order-FK-2026-000003.xlsx``)."""
        filename, data = await payouts.order_file(db, settings.field_cipher(), order_id)
        return _xlsx(data, filename)


class ReportController(Controller):
    path = "/v1/reports/budget-execution"
    tags = ["payouts"]

    @get("/{year:int}", operation_id="budgetExecution", **access(*READERS))
    async def read(self, db: NamedDependency[ServiceDatabase], year: FromPath[int]) -> BudgetExecution:
        """The year's budget execution from the ledger: voucher and award budgets, with the checks
        that tie it to the records (``balanced`` when all agree to the fen)."""
        return await reports.budget_execution(db, year)

    @get("/{year:int}/export", operation_id="exportBudgetExecution", media_type=exports.XLSX, **access(*READERS))
    async def export(self, db: NamedDependency[ServiceDatabase], year: FromPath[int]) -> Response[bytes]:
        """The same report as an Excel file."""
        return _xlsx(exports.report_xlsx(await reports.budget_execution(db, year)), f"budget-execution-{year}.xlsx")


CONTROLLERS = [PayeeController, PayoutController, PaymentOrderController, ReportController]
