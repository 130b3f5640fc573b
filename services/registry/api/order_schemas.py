"""Request bodies of service orders (M14(1), R19, R22–R25): the request,
contract terms, results, cancellation and rating. The order as the API shows
it is in ``services/registry/schemas/orders.py``."""

from __future__ import annotations

from typing import Annotated

import msgspec

from services.registry.domain.orders import MAX_QUANTITY, Purpose
from services.registry.domain.prices import MAX_PRICE_FEN

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
