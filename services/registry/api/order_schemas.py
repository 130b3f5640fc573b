"""Request and response bodies of service orders (M14(1), R19, R22–R25):
the request, contract terms, results, cancellation and rating, and the order
as the API shows it with its items, contract and documents."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import msgspec

from services.registry.domain.orders import MAX_QUANTITY, DocumentKind, OrderStatus, Purpose
from services.registry.domain.prices import MAX_PRICE_FEN, BillingUnit
from services.runtime.http.pagination import Page, page_schema

Fen = Annotated[int, msgspec.Meta(ge=0, le=MAX_PRICE_FEN, description="an amount in fen (分), an integer ≥ 0")]
Text = Annotated[str, msgspec.Meta(max_length=5000)]
Reason = Annotated[str, msgspec.Meta(max_length=4000)]


class OrderLineRequest(msgspec.Struct, forbid_unknown_fields=True):
    price_item_id: str
    quantity: Annotated[int, msgspec.Meta(ge=1, le=MAX_QUANTITY)]


class OrderRequest(msgspec.Struct, forbid_unknown_fields=True):
    """A service request on one unit's price items; purpose per R5."""

    purpose: Purpose
    items: Annotated[list[OrderLineRequest], msgspec.Meta(min_length=1, max_length=50)]
    description: Text | None = None


class ContractRequest(msgspec.Struct, forbid_unknown_fields=True):
    """The contract terms; every one is required (422 ``order.contract_incomplete`` lists the missing)."""

    testing_fee_fen: Fen | None = None
    ip_ownership: Text | None = None
    confidentiality: Text | None = None
    damage_compensation: Text | None = None
    contract_document_id: str | None = None
    rd_proof_document_id: str | None = None
    #: the order also receives a provincial subsidy (R6: no double subsidy)
    provincial_subsidy: bool = False


class ResultsRequest(msgspec.Struct, forbid_unknown_fields=True):
    document_id: str
    #: required for an order without usage sessions; with sessions the hours come from them
    #: (a stated number must equal their rounded total, else 422 ``order.service_hours_mismatch``)
    service_hours: Annotated[int, msgspec.Meta(ge=0, le=1_000_000)] | None = None


class CancelRequest(msgspec.Struct, forbid_unknown_fields=True):
    reason: Reason | None = None


class RateRequest(msgspec.Struct, forbid_unknown_fields=True):
    """The user's rating of the service (R19(4)): 1–5, and a comment of at most 500 characters."""

    rating: Annotated[int, msgspec.Meta(ge=1, le=5, description="1 (poor) to 5 (excellent)")]
    comment: Reason | None = None


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
