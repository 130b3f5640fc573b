"""Voucher redemption claims over HTTP (R20): the window, evidence, claims, review."""

from __future__ import annotations

from datetime import date
from typing import Annotated
from urllib.parse import quote as urlquote

import msgspec
from litestar import Controller, Request, Response, get, post, put
from litestar.datastructures import UploadFile
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody, Parameter

from services.runtime.http.auth import PUBLIC, Principal, access, principal_of
from services.runtime.roles import Role
from services.runtime.errors import DomainError, Forbidden
from services.runtime.http.app import actor_of
from services.runtime.http.edge import correlation_of
from services.runtime.http.pagination import PageNumber, PageSize
from services.runtime.http.preconditions import ETAG_HEADER, IfMatchHeader, IfNoneMatchHeader, create_only, expected_version, tagged
from services.runtime.http.problems import DOCUMENT_MEDIA_TYPES
from services.runtime.db.service_db import ServiceDatabase
from services.runtime.settings import Settings
from services.vouchers import redemption as uc
from services.vouchers import redemption_experts
from services.vouchers import redemption_window as windows
from services.vouchers.domain.redemption import ItemDecision
from services.vouchers.redemption_files import MAX_BYTES, SUBDIR, EvidenceStore, too_large
from services.vouchers.schemas import Assignment, Claim, ClaimPage, Document, Window

#: who reads every claim
STAFF = (Role.CENTER, Role.BUREAU, Role.FINANCE, Role.EXPERT)
_ENVELOPE = 64 * 1024
Year = Annotated[int, msgspec.Meta(ge=2000, le=2100)]
Id = Annotated[str, msgspec.Meta(min_length=1, max_length=36)]


class WindowRequest(msgspec.Struct, forbid_unknown_fields=True):
    opens_on: date
    closes_on: date


class ClaimItemRequest(msgspec.Struct, forbid_unknown_fields=True):
    voucher_id: Id
    #: 20 digits for a fully digital invoice (数电票); 8 digits with ``invoice_code`` for a VAT invoice
    invoice_number: Annotated[str, msgspec.Meta(min_length=1, max_length=20)]
    #: the bank receipt of the user's payment (an uploaded document)
    receipt_document_id: Id
    #: the service results (an uploaded document)
    results_document_id: Id
    #: 10 or 12 digits, VAT invoices only
    invoice_code: Annotated[str, msgspec.Meta(max_length=12)] | None = None


class ClaimRequest(msgspec.Struct, forbid_unknown_fields=True):
    year: Year
    items: Annotated[list[ClaimItemRequest], msgspec.Meta(min_length=1, max_length=500)]


class DecisionRequest(msgspec.Struct, forbid_unknown_fields=True):
    voucher_id: Id
    approved: bool
    reason: Annotated[str, msgspec.Meta(max_length=2000)] | None = None


class ReviewRequest(msgspec.Struct, forbid_unknown_fields=True):
    decisions: Annotated[list[DecisionRequest], msgspec.Meta(min_length=1, max_length=500)]


class AssignmentRequest(msgspec.Struct, forbid_unknown_fields=True):
    expert_id: Id


def _expert_scope(p: Principal) -> str | None:
    """An expert's own id (their token's ``org``): they see only the claims assigned to them."""
    return (p.org or "") if p.role is Role.EXPERT else None


def _unit_scope(p: Principal) -> str | None:
    if p.role is Role.UNIT:
        if not p.org:
            raise Forbidden()
        return p.org
    return None


def _store(settings: Settings) -> EvidenceStore:
    return EvidenceStore(settings.data_dir / SUBDIR)


async def _upload(request: Request) -> tuple[str, bytes]:
    length = request.headers.get("content-length")
    if length is not None and length.isdigit() and int(length) > MAX_BYTES + _ENVELOPE:
        raise too_large()
    if request.content_type[0] == "multipart/form-data":
        form = await request.form()
        for value in form.values():
            if isinstance(value, UploadFile):
                content = await value.read(MAX_BYTES + 1)
                if len(content) > MAX_BYTES:
                    raise too_large()
                return value.filename or "document", content
        raise DomainError("document.no_file", "请上传文件（表单字段 file）", "no file part in the form (field 'file')", status=400)
    body = await request.body()
    if len(body) > MAX_BYTES:
        raise too_large()
    return request.query_params.get("filename") or "document", body


class RedemptionController(Controller):
    path = "/v1/redemption"
    tags = ["redemption"]

    @put("/windows/{year:int}", operation_id="setRedemptionWindow", response_headers=ETAG_HEADER, **access(Role.CENTER))
    async def set_window(
        self, request: Request, db: NamedDependency[ServiceDatabase], year: FromPath[int], data: JSONBody[WindowRequest], if_match: IfMatchHeader = None,
        if_none_match: IfNoneMatchHeader = None,
    ) -> Response[Window]:
        """The days (Asia/Shanghai, both inclusive) on which units claim for a programme year (R20: once a year).
        With ``If-Match`` only the version read is replaced (412 otherwise); a window not set yet
        takes no ``If-Match`` (a tag or ``*`` is 412: there is none yet); with ``If-None-Match: *`` only a first one is saved (412 ``request.record_exists`` when one exists)."""
        body = await windows.set_window(
            db, actor_of(request), correlation_of(request), year, data.opens_on, data.closes_on, expected_version=expected_version(if_match), if_match_sent=if_match is not None,
            only_create=create_only(if_none_match),
        )
        return tagged(body, body.version)

    @get("/windows/{year:int}", operation_id="getRedemptionWindow", response_headers=ETAG_HEADER, **access(PUBLIC))
    async def get_window(self, db: NamedDependency[ServiceDatabase], year: FromPath[int]) -> Response[Window]:
        """The claim window of a programme year (404 when not set); its ``version`` is the ``ETag``."""
        body = await windows.get_window(db, year)
        return tagged(body, body.version)

    @post("/documents", operation_id="uploadRedemptionDocument", status_code=201, request_max_body_size=MAX_BYTES + _ENVELOPE, **access(Role.UNIT, errors=(413, 415)))
    async def upload(
        self,
        request: Request,
        db: NamedDependency[ServiceDatabase],
        settings: NamedDependency[Settings],
        filename: str | None = Parameter(default=None, max_length=255, description="the file's name, for a raw (non-multipart) upload"),
    ) -> Document:
        """Upload evidence (a bank receipt or service results): multipart/form-data with a file part,
        or the raw body. PDF, JPEG or PNG, at most 10 MB (413 ``document.too_large``, 415
        ``document.unsupported_type``). The document belongs to the uploading unit."""
        p = principal_of(request)
        unit_id = _unit_scope(p) or ""
        name, content = await _upload(request)
        return await uc.upload_document(db, _store(settings), actor_of(request), correlation_of(request), unit_id=unit_id, filename=filename or name, data=content)

    @get("/documents/{document_id:str}", operation_id="downloadRedemptionDocument", media_type=DOCUMENT_MEDIA_TYPES, **access(Role.UNIT, *STAFF))
    async def download(
        self, request: Request, db: NamedDependency[ServiceDatabase], settings: NamedDependency[Settings], document_id: FromPath[str]
    ) -> Response[bytes]:
        """The bytes of an evidence document: its unit, an expert assigned to a claim it backs,
        or staff (404 to any other unit or expert)."""
        p = principal_of(request)
        meta = await uc.document(db, document_id, unit_id=_unit_scope(p), expert_id=_expert_scope(p))
        disposition = f"attachment; filename*=utf-8''{urlquote(meta.filename)}"
        return Response(await _store(settings).get(meta.sha256), media_type=meta.content_type, headers={"Content-Disposition": disposition})

    @post("/claims", operation_id="claimRedemption", status_code=201, **access(Role.UNIT))
    async def claim(self, request: Request, db: NamedDependency[ServiceDatabase], data: JSONBody[ClaimRequest]) -> Claim:
        """A unit claims the vouchers it received that were used at settlement, each with its invoice,
        the bank receipt and the service results (R20). Inside the year's window only (409
        ``redemption.window_closed``); 422 ``redemption.invoice_invalid``; 409
        ``redemption.invoice_reused`` (one invoice, one claim, across all units and years) and
        ``redemption.voucher_claimed`` (a voucher is redeemed at most once)."""
        unit_id = _unit_scope(principal_of(request)) or ""
        items = [
            uc.ClaimItem(
                voucher_id=i.voucher_id,
                invoice_code=i.invoice_code,
                invoice_number=i.invoice_number,
                receipt_document_id=i.receipt_document_id,
                results_document_id=i.results_document_id,
            )
            for i in data.items
        ]
        return await uc.claim(db, actor_of(request), correlation_of(request), unit_id=unit_id, year=data.year, items=items)

    @post("/claims/{claim_id:str}/review", operation_id="reviewRedemption", status_code=200, **access(Role.EXPERT, Role.CENTER))
    async def review(self, request: Request, db: NamedDependency[ServiceDatabase], claim_id: FromPath[str], data: JSONBody[ReviewRequest]) -> Claim:
        """An assigned expert or the center checks the claim: one decision per voucher; a rejected
        voucher needs a reason. All approved, some (approved in part) or none (rejected); the
        approved amount goes on the public notice. 409 ``redemption.not_claimed`` once reviewed;
        404 to an expert the claim is not assigned to."""
        decisions = [ItemDecision(d.voucher_id, d.approved, d.reason) for d in data.decisions]
        return await uc.review(db, actor_of(request), correlation_of(request), claim_id, decisions)

    @get("/claims", operation_id="listRedemptionClaims", **access(Role.UNIT, *STAFF))
    async def index(
        self,
        request: Request,
        db: NamedDependency[ServiceDatabase],
        year: int | None = Parameter(default=None, ge=2000, le=2100),
        status: str | None = Parameter(default=None, max_length=20),
        unit_id: str | None = Parameter(default=None, max_length=36),
        case_no: str | None = Parameter(default=None, max_length=40, description="the claim with this case number (DF-2026-000123; case and spaces aside)"),
        page: PageNumber = 1,
        page_size: PageSize = 20,
    ) -> ClaimPage:
        """Claims, newest first: a unit its own (``unit_id`` is ignored), an expert those assigned to
        them, the center, the bureau and finance all; filter by year, status, unit, or find one by
        its case number (an empty page when it is not among those the caller may see)."""
        p = principal_of(request)
        scope = _unit_scope(p)
        return await uc.list_claims(
            db, unit_id=scope or unit_id, year=year, status=status, case_no=case_no, page=page, page_size=page_size, expert_id=_expert_scope(p)
        )

    @get("/claims/{claim_id:str}", operation_id="getRedemptionClaim", **access(Role.UNIT, *STAFF))
    async def read(self, request: Request, db: NamedDependency[ServiceDatabase], claim_id: FromPath[str]) -> Claim:
        """One claim with its vouchers and evidence: its unit, its assigned experts, the center, the
        bureau and finance (404 to any other unit or expert)."""
        p = principal_of(request)
        return await uc.get_claim(db, claim_id, unit_id=_unit_scope(p), expert_id=_expert_scope(p))

    @post("/claims/{claim_id:str}/assignments", operation_id="assignRedemptionExpert", status_code=201, **access(Role.CENTER, Role.BUREAU))
    async def assign(self, request: Request, db: NamedDependency[ServiceDatabase], claim_id: FromPath[str], data: JSONBody[AssignmentRequest]) -> Assignment:
        """The center or the bureau assigns an expert (registered in evaluation) to a claim awaiting
        review; the expert then sees and reviews it. An expert of the claimant unit, its parent or
        child unit, or with a declared tie to one of them is refused: 409
        ``assignment.conflict_of_interest`` (evaluation's rule and status, R14(3)); 404 ``expert.not_found``,
        409 ``assignment.duplicate``, 409 ``redemption.not_claimed`` once reviewed."""
        return await redemption_experts.assign(db, actor_of(request), correlation_of(request), claim_id, expert_id=data.expert_id)

    @get("/claims/{claim_id:str}/assignments", operation_id="listRedemptionAssignments", **access(Role.CENTER, Role.BUREAU))
    async def assignments(self, db: NamedDependency[ServiceDatabase], claim_id: FromPath[str]) -> list[Assignment]:
        """The experts assigned to a claim, in the order they were assigned."""
        await uc.get_claim(db, claim_id, unit_id=None)
        return await redemption_experts.assigned_experts(db, claim_id)
