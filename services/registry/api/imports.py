"""Ledger imports over HTTP: the template, the upload, the job to poll."""

from __future__ import annotations

from litestar import Controller, Request, Response, get, post
from litestar.datastructures import UploadFile
from litestar.di import NamedDependency
from litestar.params import FromPath, Parameter

from services.registry import imports, ledger
from services.registry.domain.listing import ListingPolicies
from services.registry.schemas.imports import ImportJob, ImportJobPage
from services.registry.scope import may_see_unit
from services.runtime.http.auth import PUBLIC, access, principal_of
from services.runtime.roles import Role
from services.runtime.errors import DomainError, Forbidden
from services.runtime.http.app import actor_of
from services.runtime.http.edge import correlation_of
from services.runtime.http.pagination import PageNumber, PageSize
from services.runtime.http.problems import replayed
from services.runtime.db.service_db import ServiceDatabase
from services.runtime.settings import Settings
from services.runtime.workdays import WorkdayCalendar

STAFF = (Role.CENTER, Role.BUREAU, Role.DEPARTMENT)
#: multipart framing around the file, on top of imports.MAX_BYTES
_ENVELOPE = 64 * 1024


async def _upload(request: Request) -> tuple[str, bytes]:
    """(filename, content) from a multipart form (the first file part) or a
    raw body; more than imports.MAX_BYTES is refused with 413 import.too_large."""
    length = request.headers.get("content-length")
    if length is not None and length.isdigit() and int(length) > imports.MAX_BYTES + _ENVELOPE:
        raise imports.too_large()
    media = request.content_type[0]
    if media == "multipart/form-data":
        form = await request.form()
        for value in form.values():
            if isinstance(value, UploadFile):
                content = await value.read(imports.MAX_BYTES + 1)
                if len(content) > imports.MAX_BYTES:
                    raise imports.too_large()
                return value.filename or "upload", content
        raise DomainError("import.no_file", "请上传台账文件（表单字段 file）", "no file part in the form (field 'file')", status=400)
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > imports.MAX_BYTES:
            raise imports.too_large()
        chunks.append(chunk)
    content = b"".join(chunks)
    if not content:
        raise DomainError("import.no_file", "请上传台账文件", "the request has no file", status=400)
    name = request.query_params.get("filename") or ("upload.xlsx" if ledger.file_kind(content) == "xlsx" else "upload.csv")
    return name, content


class ImportController(Controller):
    tags = ["imports"]

    @get("/v1/imports/template.xlsx", operation_id="getImportTemplateXlsx", **access(PUBLIC), media_type=ledger.XLSX_MEDIA_TYPE)
    async def template_xlsx(self) -> Response[bytes]:
        """The ledger template (public): sheet 仪器台账 with the Chinese headers and an
        example row, sheet 填写说明 with the allowed values."""
        return Response(
            ledger.template_xlsx(),
            media_type=ledger.XLSX_MEDIA_TYPE,
            headers={"Content-Disposition": "attachment; filename=\"instrument-ledger.xlsx\"; filename*=UTF-8''%E4%BB%AA%E5%99%A8%E5%8F%B0%E8%B4%A6.xlsx"},
        )

    @get("/v1/imports/template.csv", operation_id="getImportTemplateCsv", **access(PUBLIC), media_type=ledger.CSV_MEDIA_TYPE)
    async def template_csv(self) -> Response[bytes]:
        """The ledger template as UTF-8 CSV with a BOM (public)."""
        return Response(
            ledger.template_csv(),
            media_type=ledger.CSV_MEDIA_TYPE,
            headers={"Content-Disposition": "attachment; filename=\"instrument-ledger.csv\"; filename*=UTF-8''%E4%BB%AA%E5%99%A8%E5%8F%B0%E8%B4%A6.csv"},
        )

    @post("/v1/units/{unit_id:str}/imports", operation_id="importLedger", **access(Role.UNIT, Role.CENTER, errors=(413,), responses=replayed(ImportJob)))
    async def import_(
        self,
        request: Request,
        db: NamedDependency[ServiceDatabase],
        calendar: NamedDependency[WorkdayCalendar],
        listing_policy: NamedDependency[ListingPolicies],
        settings: NamedDependency[Settings],
        unit_id: FromPath[str],
        filename: str | None = Parameter(default=None, description="the file's name, for a raw (non-multipart) upload"),
    ) -> Response[ImportJob]:
        """Import the unit's instrument ledger (.xlsx or .csv in UTF-8 or GB18030; at
        most 5 MB and ``XCISS_IMPORT_MAX_ROWS`` rows, 20 000 by default): multipart/form-data with a file part, or the file as the raw body.
        All rows or none: 201 with the ``imported`` job; 422 (``import.rows_invalid``
        or a file-level code) with ``details.job_id`` and ``details.errors`` listing
        every problem, nothing imported; 200 with the earlier job when this unit
        already imported the same file. The unit itself or the center."""
        p = principal_of(request)
        if p.role is Role.UNIT and p.org != unit_id:
            raise Forbidden("单位只能导入本单位的仪器台账", "a unit may import only its own ledger")
        name, content = await _upload(request)
        job, earlier = await imports.import_ledger(
            db,
            actor_of(request),
            correlation_of(request),
            calendar=calendar,
            policy=listing_policy,
            unit_id=unit_id,
            filename=name,
            data=content,
            max_rows=settings.import_max_rows,
        )
        return Response(job, status_code=200 if earlier else 201)

    @get("/v1/units/{unit_id:str}/imports", operation_id="listLedgerImports", **access(Role.UNIT, *STAFF))
    async def list_(
        self,
        request: Request,
        db: NamedDependency[ServiceDatabase],
        unit_id: FromPath[str],
        page: PageNumber = 1,
        page_size: PageSize = 20,
    ) -> ImportJobPage:
        """The unit's imports, newest first (a running one is ``validating``); the unit itself and staff."""
        if not await may_see_unit(db, principal_of(request), unit_id):
            raise Forbidden()
        return await imports.list_jobs(db, unit_id, page=page, page_size=page_size)

    @get("/v1/imports/{job_id:str}", operation_id="getLedgerImport", **access(Role.UNIT, *STAFF))
    async def get_(self, request: Request, db: NamedDependency[ServiceDatabase], job_id: FromPath[str]) -> ImportJob:
        """One import: status, total_rows, processed_rows (poll while ``validating``),
        counts and errors. The importing unit and staff."""
        job = await imports.get_job(db, job_id)
        if not await may_see_unit(db, principal_of(request), job.unit_id):
            raise imports.not_found(job_id)
        return job
