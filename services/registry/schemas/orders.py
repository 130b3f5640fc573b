"""Service orders (M14(1), R19, R22–R25) and the quotes above the published
price list (M11(4)) as the registry answers with them: the order with its
items, contract and documents, and the center's list of deviations."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import msgspec

from services.registry.domain.orders import DocumentKind, OrderStatus, Purpose
from services.registry.domain.prices import BillingUnit
from services.runtime.http.pagination import Page, page_schema


class OrderLine(msgspec.Struct):
    instrument_id: str
    price_item_id: str
    name: str
    billing_unit: BillingUnit
    price_fen: int
    quantity: int
    amount_fen: int


class OrderContract(msgspec.Struct):
    provincial_subsidy: bool
    testing_fee_fen: int | None = None
    ip_ownership: str | None = None
    confidentiality: str | None = None
    damage_compensation: str | None = None
    contract_document_id: str | None = None
    rd_proof_document_id: str | None = None
    user_signed_at: datetime | None = None
    unit_signed_at: datetime | None = None


class OrderDocument(msgspec.Struct):
    """A document's metadata; a result document carries the R24 statement."""

    document_id: str
    order_id: str
    kind: DocumentKind
    sha256: str
    size: int
    content_type: str
    filename: str
    uploaded_by_role: str
    uploaded_at: datetime
    statement: str | None = None


class Order(msgspec.Struct):
    order_id: str
    #: the case number people read and say (DD-2026-000123): unique, one per order, issued when it is requested
    case_no: str
    version: int
    user_id: str
    unit_id: str
    purpose: Purpose
    status: OrderStatus
    list_amount_fen: int
    amount_fen: int
    items: list[OrderLine]
    contract: OrderContract
    documents: list[OrderDocument]
    created_at: datetime
    updated_at: datetime
    description: str | None = None
    #: the name of the enterprise or start-up team that placed the order (the registry's users
    #: table): the party the contract names, shown to the unit that serves it as to staff
    user_name: str | None = None
    quote_note: str | None = None
    #: M11(4): why the quote lies above the published list (list_amount_fen); None at or below it
    quote_reason: str | None = None
    result_document_id: str | None = None
    service_hours: int | None = None
    #: the service time in minutes: the total of the order's usage sessions, or the stated hours × 60
    service_minutes: int | None = None
    cancel_reason: str | None = None
    #: payments' settlement of the order (R19(4))
    settlement_id: str | None = None
    #: the voucher deduction, in fen (once settled)
    voucher_fen: int | None = None
    #: what the user has paid of the rest so far, in fen
    paid_fen: int | None = None
    rating: int | None = None
    rating_comment: str | None = None
    quoted_at: datetime | None = None
    contracted_at: datetime | None = None
    started_at: datetime | None = None
    delivered_at: datetime | None = None
    cancelled_at: datetime | None = None
    settled_at: datetime | None = None
    rated_at: datetime | None = None


OrderPage = Annotated[Page[Order], page_schema("OrderPage")]


class QuoteDeviation(msgspec.Struct):
    deviation_id: str
    order_id: str
    unit_id: str
    user_id: str
    #: the policy year (Asia/Shanghai) of the quote
    year: int
    #: the order's total at the published prices, fen
    list_amount_fen: int
    #: the quoted amount, fen
    amount_fen: int
    #: amount_fen − list_amount_fen
    excess_fen: int
    reason: str
    quoted_at: datetime


QuoteDeviationPage = Annotated[Page[QuoteDeviation], page_schema("QuoteDeviationPage")]
