"""Evidence files over HTTP (R14(2), M14(2), M15): the unit uploads, whoever may
see the case reads (see :mod:`services.evaluation.evidence`)."""

from __future__ import annotations

from enum import StrEnum
from urllib.parse import quote as urlquote

from litestar import Controller, Request, Response, get, post
from litestar.datastructures import UploadFile
from litestar.di import NamedDependency
from litestar.params import FromPath, Parameter

from services.evaluation import evidence
from services.evaluation.schemas import EvaluationDocument
from services.runtime.roles import Role
from services.runtime.http.auth import access, principal_of
from services.runtime.documentstore import DocumentStore
from services.runtime.errors import DomainError, Forbidden
from services.runtime.http.app import actor_of
from services.runtime.http.edge import correlation_of
from services.runtime.http.problems import DOCUMENT_MEDIA_TYPES
from services.runtime.db.service_db import ServiceDatabase

#: multipart framing around the file, on top of evidence.MAX_BYTES
_ENVELOPE = 64 * 1024


class DocumentKind(StrEnum):
    self_assessment = "self_assessment"
    supporting = "supporting"
    rectification = "rectification"


async def _upload(request: Request) -> tuple[str, bytes]:
    """(filename, content) from a multipart form (the first file part) or a raw body."""
    length = request.headers.get("content-length")
    if length is not None and length.isdigit() and int(length) > evidence.MAX_BYTES + _ENVELOPE:
        raise evidence.too_large()
    if request.content_type[0] == "multipart/form-data":
        form = await request.form()
        for value in form.values():
            if isinstance(value, UploadFile):
                content = await value.read(evidence.MAX_BYTES + 1)
                if len(content) > evidence.MAX_BYTES:
                    raise evidence.too_large()
                return value.filename or "document", content
        raise DomainError("document.no_file", "请上传文件（表单字段 file）", "no file part in the form (field 'file')", status=400)
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > evidence.MAX_BYTES:
            raise evidence.too_large()
        chunks.append(chunk)
    return request.query_params.get("filename") or "document", b"".join(chunks)


def _attachment(filename: str) -> str:
    quoted = urlquote(filename)
    return f'attachment; filename="{filename}"' if quoted == filename else f"attachment; filename*=utf-8''{quoted}"


class EvidenceController(Controller):
    path = "/v1/evaluation-documents"
    tags = ["applications"]

    @post("/", operation_id="uploadEvaluationDocument", status_code=201, request_max_body_size=evidence.MAX_BYTES + _ENVELOPE, **access(Role.UNIT, errors=(413, 415)))
    async def upload(
        self,
        request: Request,
        db: NamedDependency[ServiceDatabase],
        documents: NamedDependency[DocumentStore],
        kind: DocumentKind = Parameter(description="self_assessment (自评报告), supporting, or rectification (M15)"),
        filename: str | None = Parameter(default=None, max_length=200, description="the file's name, for a raw (non-multipart) upload"),
    ) -> EvaluationDocument:
        """The unit uploads an evidence file: multipart/form-data with a file part, or the raw body.
        PDF, JPEG or PNG (recognised from the bytes, 415 ``document.unsupported_type``), at most
        10 MB (413 ``document.too_large``); stored by its sha256. Name it on the application
        (``documents``) or the rectification report (``document_id``)."""
        org = principal_of(request).org
        if not org:
            raise Forbidden()
        name, content = await _upload(request)
        return await evidence.upload(db, documents, actor_of(request), correlation_of(request), unit_id=org, kind=str(kind), name=filename or name, data=content)

    @get("/{document_id:str}", operation_id="getEvaluationDocument", **access(Role.UNIT, Role.DEPARTMENT, Role.EXPERT, Role.CENTER, Role.BUREAU))
    async def read(self, request: Request, db: NamedDependency[ServiceDatabase], document_id: FromPath[str]) -> EvaluationDocument:
        """A file's metadata: its unit; center and bureau, the unit's department and the experts
        assigned to the application naming it (a rectification file: not experts); 404 to others."""
        return await evidence.get_document(db, actor_of(request), document_id)

    @get(
        "/{document_id:str}/content",
        operation_id="downloadEvaluationDocument",
        media_type=DOCUMENT_MEDIA_TYPES,
        **access(Role.UNIT, Role.DEPARTMENT, Role.EXPERT, Role.CENTER, Role.BUREAU),
    )
    async def download(self, request: Request, db: NamedDependency[ServiceDatabase], documents: NamedDependency[DocumentStore], document_id: FromPath[str]) -> Response[bytes]:
        """The file's bytes with its content type and ``X-Content-SHA256``; the same readers as its metadata."""
        meta, data = await evidence.read_document(db, documents, actor_of(request), document_id)
        headers = {"X-Content-SHA256": meta.sha256, "Content-Disposition": _attachment(meta.name)}
        return Response(data, media_type=meta.content_type, headers=headers)
