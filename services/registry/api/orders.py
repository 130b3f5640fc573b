"""Service orders over HTTP (M14(1), R19, R22–R25): request, quote, contract
documents and terms, signatures, service, results, cancellation.

An order and its documents are visible to its user, its unit and staff
reviewers (center, bureau) only; to anybody else they do not exist (404, R23).
Settlement and rating follow the payment (not built yet)."""

from __future__ import annotations

import hashlib
from urllib.parse import quote as urlquote

from litestar import Controller, Request, Response, get, post, put
from litestar.datastructures import UploadFile
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody, Parameter

from services.registry import order_documents, order_rows, orders, quote_deviations
from services.registry.api.order_schemas import CancelRequest, ContractRequest, OrderRequest, RateRequest, ResultsRequest
from services.registry.api.quote_deviations import QuoteRequest
from services.registry.domain.orders import (
    MAX_DOCUMENT_BYTES,
    RESULT_STATEMENT_EN,
    RESULT_STATEMENT_ZH,
    ContractTerms,
    DocumentKind,
    OrderStatus,
    Party,
)
from services.registry.schemas.orders import Order, OrderDocument, OrderPage
from services.runtime.http.auth import Principal, access, principal_of
from services.runtime.roles import Role
from services.runtime.documentstore import DocumentStore
from services.runtime.errors import DomainError
from services.runtime.http.app import actor_of
from services.runtime.http.edge import correlation_of
from services.runtime.http.idempotency import Idempotency, IdempotencyKeyHeader, idempotent
from services.runtime.http.pagination import PageNumber, PageSize
from services.runtime.http.preconditions import ETAG_HEADER, IfMatchHeader, expected_version, tagged
from services.runtime.http.problems import DOCUMENT_MEDIA_TYPES
from services.runtime.db.service_db import ServiceDatabase
from services.runtime.settings import Settings

#: staff reviewers see every order (R23: "the reviewers who need them")
STAFF = (Role.CENTER, Role.BUREAU)
#: multipart framing around the file, on top of MAX_DOCUMENT_BYTES
_ENVELOPE = 64 * 1024


def _viewer(p: Principal) -> order_rows.Viewer:
    if p.role is Role.USER:
        return order_rows.Viewer(Party.user, p.org)
    if p.role is Role.UNIT:
        return order_rows.Viewer(Party.unit, p.org)
    return order_rows.STAFF


def _attachment(filename: str) -> str:
    """``Content-Disposition`` for a download (RFC 6266; RFC 5987 for a non-ASCII name)."""
    quoted = urlquote(filename)
    return f'attachment; filename="{filename}"' if quoted == filename else f"attachment; filename*=utf-8''{quoted}"


async def _upload(request: Request) -> tuple[str, bytes]:
    """(filename, content) from a multipart form (the first file part) or a raw
    body; more than MAX_DOCUMENT_BYTES is refused with 413 document.too_large."""
    length = request.headers.get("content-length")
    if length is not None and length.isdigit() and int(length) > MAX_DOCUMENT_BYTES + _ENVELOPE:
        raise order_documents.too_large()
    if request.content_type[0] == "multipart/form-data":
        form = await request.form()
        for value in form.values():
            if isinstance(value, UploadFile):
                content = await value.read(MAX_DOCUMENT_BYTES + 1)
                if len(content) > MAX_DOCUMENT_BYTES:
                    raise order_documents.too_large()
                return value.filename or "document", content
        raise DomainError("document.no_file", "请上传文件（表单字段 file）", "no file part in the form (field 'file')", status=400)
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_DOCUMENT_BYTES:
            raise order_documents.too_large()
        chunks.append(chunk)
    return request.query_params.get("filename") or "document", b"".join(chunks)


class OrderController(Controller):
    path = "/v1/orders"
    tags = ["orders"]

    @post("/", operation_id="requestOrder", status_code=201, **access(Role.USER))
    async def request_(
        self,
        request: Request,
        db: NamedDependency[ServiceDatabase],
        settings: NamedDependency[Settings],
        data: JSONBody[OrderRequest],
        idempotency_key: IdempotencyKeyHeader = None,
    ) -> Order:
        """A verified user requests service on price items (with quantities) of one unit's listed,
        in-service instruments, for research, technology development or statutory testing (R5:
        statutory testing is recorded but earns no voucher). Safe to retry with an
        ``Idempotency-Key`` header: the same key and body answer the first order again
        (``Idempotent-Replayed: true``); another body is 409 ``request.idempotency_key_reused``."""
        p = principal_of(request)

        async def call(idem: Idempotency | None) -> Order:
            return await orders.request_order(
                db,
                actor_of(request),
                correlation_of(request),
                user_id=p.org or "",
                purpose=data.purpose,
                description=data.description,
                items=[(i.price_item_id, i.quantity) for i in data.items],
                idempotency=idem,
            )

        return await idempotent(request, db, settings, idempotency_key, operation="requestOrder", status=201, request_parts=(data,), render=lambda order: order, call=call)  # type: ignore[no-any-return]

    @post("/{order_id:str}/quote", operation_id="quoteOrder", status_code=200, **access(Role.UNIT))
    async def quote(self, request: Request, db: NamedDependency[ServiceDatabase], order_id: FromPath[str], data: JSONBody[QuoteRequest]) -> Order:
        """The order's unit quotes the amount in fen (requested → quoted). Above the list amount of an
        order with a fiscally funded instrument it needs a ``reason`` (M11(4), 422 ``order.quote_reason_required``)."""
        v = _viewer(principal_of(request))
        return await quote_deviations.quote(db, actor_of(request), correlation_of(request), order_id, v, amount_fen=data.amount_fen, note=data.note, reason=data.reason)

    @post(
        "/{order_id:str}/documents",
        operation_id="uploadOrderDocument",
        status_code=201,
        request_max_body_size=MAX_DOCUMENT_BYTES + _ENVELOPE,
        **access(Role.USER, Role.UNIT, errors=(413, 415)),
    )
    async def upload(
        self,
        request: Request,
        db: NamedDependency[ServiceDatabase],
        documents: NamedDependency[DocumentStore],
        settings: NamedDependency[Settings],
        order_id: FromPath[str],
        kind: DocumentKind = Parameter(description="contract / rd_proof (either party, before signing) or result (the unit, in service)"),
        filename: str | None = Parameter(default=None, description="the file's name, for a raw (non-multipart) upload"),
        idempotency_key: IdempotencyKeyHeader = None,
    ) -> OrderDocument:
        """Upload a document of the order: multipart/form-data with a file part, or the raw body.
        PDF, JPEG, PNG or DOCX (recognised from the bytes), at most 10 MB (413 ``document.too_large``).
        Stored by its sha256. Safe to retry with an ``Idempotency-Key`` header (the same
        order, kind, file name and bytes answer the first document again)."""
        name, content = await _upload(request)
        stored_name = filename or name

        async def call(idem: Idempotency | None) -> OrderDocument:
            return await order_documents.upload_document(
                db,
                documents,
                actor_of(request),
                correlation_of(request),
                order_id,
                _viewer(principal_of(request)),
                kind=kind,
                filename=stored_name,
                data=content,
                idempotency=idem,
            )

        parts = (order_id, str(kind), stored_name, hashlib.sha256(content).hexdigest())
        return await idempotent(  # type: ignore[no-any-return]
            request, db, settings, idempotency_key, operation="uploadOrderDocument", status=201, request_parts=parts, render=lambda document: document, call=call
        )

    @get("/{order_id:str}/documents/{document_id:str}", operation_id="downloadOrderDocument", media_type=DOCUMENT_MEDIA_TYPES, **access(Role.USER, Role.UNIT, *STAFF))
    async def download(
        self,
        request: Request,
        db: NamedDependency[ServiceDatabase],
        documents: NamedDependency[DocumentStore],
        order_id: FromPath[str],
        document_id: FromPath[str],
    ) -> Response[bytes]:
        """A document's bytes with its stored content type and ``X-Content-SHA256``; a result
        document also carries ``X-Result-Statement`` (R24; ``X-Result-Statement-Zh``
        percent-encoded UTF-8). The order's parties and staff only."""
        meta = await order_documents.document_for_download(db, order_id, document_id, _viewer(principal_of(request)))
        headers = {"X-Content-SHA256": meta.sha256}
        if meta.statement is not None:
            headers["X-Result-Statement"] = RESULT_STATEMENT_EN
            headers["X-Result-Statement-Zh"] = urlquote(RESULT_STATEMENT_ZH)
        headers["Content-Disposition"] = _attachment(meta.filename)
        return Response(await documents.get(meta.sha256), media_type=meta.content_type, headers=headers)

    @put("/{order_id:str}/contract", operation_id="setOrderContract", response_headers=ETAG_HEADER, **access(Role.USER, Role.UNIT))
    async def contract(
        self, request: Request, db: NamedDependency[ServiceDatabase], order_id: FromPath[str], data: JSONBody[ContractRequest], if_match: IfMatchHeader = None
    ) -> Response[Order]:
        """Either party fills in the contract of a quoted order before anybody signs: testing fee
        (R22), IP ownership, confidentiality, damage compensation (M12, R25), the uploaded contract
        and R&D proof documents, and whether a provincial subsidy applies (R6). With
        ``If-Match`` (the order's ``ETag``) only that version: another is 412 ``request.precondition_failed``."""
        terms = ContractTerms(
            testing_fee_fen=data.testing_fee_fen,
            ip_ownership=data.ip_ownership,
            confidentiality=data.confidentiality,
            damage_compensation=data.damage_compensation,
            contract_document_id=data.contract_document_id,
            rd_proof_document_id=data.rd_proof_document_id,
        )
        v = _viewer(principal_of(request))
        order = await orders.set_contract(
            db, actor_of(request), correlation_of(request), order_id, v, terms=terms, provincial_subsidy=data.provincial_subsidy, expected_version=expected_version(if_match)
        )
        return tagged(order, order.version)

    @post("/{order_id:str}/sign", operation_id="signOrderContract", status_code=200, response_headers=ETAG_HEADER, **access(Role.USER, Role.UNIT))
    async def sign(self, request: Request, db: NamedDependency[ServiceDatabase], order_id: FromPath[str], if_match: IfMatchHeader = None) -> Response[Order]:
        """The user or the unit signs the complete contract; when both have signed the order is
        contracted (OrderContracted). Signing twice is 409 ``order.already_signed``. Send
        ``If-Match`` with the ``ETag`` of the order as read, so a contract the other party
        changed since is not signed unseen: 412 ``request.precondition_failed``."""
        order = await orders.sign_contract(db, actor_of(request), correlation_of(request), order_id, _viewer(principal_of(request)), expected_version=expected_version(if_match))
        return tagged(order, order.version)

    @post("/{order_id:str}/start", operation_id="startOrderService", status_code=200, **access(Role.UNIT))
    async def start(self, request: Request, db: NamedDependency[ServiceDatabase], order_id: FromPath[str]) -> Order:
        """The unit begins the service (contracted → in_service)."""
        return await orders.start_service(db, actor_of(request), correlation_of(request), order_id, _viewer(principal_of(request)))

    @post("/{order_id:str}/results", operation_id="deliverOrderResults", status_code=200, **access(Role.UNIT))
    async def results(self, request: Request, db: NamedDependency[ServiceDatabase], order_id: FromPath[str], data: JSONBody[ResultsRequest]) -> Order:
        """The unit delivers the results (R19(3)): an uploaded result document and the service time
        (in_service → results_delivered, OrderResultsDelivered). An order with usage sessions takes its
        service time from them (``service_minutes``, and ``service_hours`` rounded; a stated
        ``service_hours`` must agree, 422 ``order.service_hours_mismatch``; an open session is 409
        ``order.usage_open``); an order without any states ``service_hours`` (422 ``order.service_hours_required``)."""
        v = _viewer(principal_of(request))
        return await orders.deliver_results(db, actor_of(request), correlation_of(request), order_id, v, document_id=data.document_id, service_hours=data.service_hours)

    @post("/{order_id:str}/cancel", operation_id="cancelOrder", status_code=200, **access(Role.USER, Role.UNIT))
    async def cancel(self, request: Request, db: NamedDependency[ServiceDatabase], order_id: FromPath[str], data: JSONBody[CancelRequest]) -> Order:
        """The user or the unit cancels the order before service begins, with a reason (OrderCancelled)."""
        v = _viewer(principal_of(request))
        return await orders.cancel(db, actor_of(request), correlation_of(request), order_id, v, reason=data.reason)

    @post("/{order_id:str}/rate", operation_id="rateOrder", status_code=200, **access(Role.USER))
    async def rate(self, request: Request, db: NamedDependency[ServiceDatabase], order_id: FromPath[str], data: JSONBody[RateRequest]) -> Order:
        """The order's user rates the service of a settled order once (settled → rated, OrderRated):
        1–5 and an optional comment of at most 500 characters (422 ``order.invalid_rating``).
        Rating again is 409 ``order.already_rated``; before settlement 409 ``order.illegal_transition``."""
        v = _viewer(principal_of(request))
        return await orders.rate(db, actor_of(request), correlation_of(request), order_id, v, rating=data.rating, comment=data.comment)

    @get("/{order_id:str}", operation_id="getOrder", response_headers=ETAG_HEADER, **access(Role.USER, Role.UNIT, *STAFF))
    async def get_(self, request: Request, db: NamedDependency[ServiceDatabase], order_id: FromPath[str]) -> Response[Order]:
        """One order with its items, contract and documents: its user, its unit and staff (else 404).
        ``ETag`` is its version: send it as ``If-Match`` when changing the contract or signing it."""
        order = await orders.get_order(db, order_id, _viewer(principal_of(request)))
        return tagged(order, order.version)

    @get("/", operation_id="listOrders", **access(Role.USER, Role.UNIT, *STAFF))
    async def list_(
        self,
        request: Request,
        db: NamedDependency[ServiceDatabase],
        status: OrderStatus | None = Parameter(default=None, description="only orders in this status"),
        case_no: str | None = Parameter(default=None, max_length=40, description="the order with this case number (DD-2026-000123; case and spaces aside)"),
        page: PageNumber = 1,
        page_size: PageSize = 20,
    ) -> OrderPage:
        """Orders, newest first: a user its own, a unit its own, staff every order; or the
        one with a case number (an empty page when it is not among those the caller may see)."""
        return await orders.list_orders(db, _viewer(principal_of(request)), status=status, case_no=case_no, page=page, page_size=page_size)
