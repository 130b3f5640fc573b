"""Evidence files of the evaluation (R14(2), M14(2)) and of rectification (M15).

The unit uploads each file first (PDF, JPEG or PNG, recognised from the bytes,
at most 10 MB); the bytes go to the shared content-addressed document store
(:mod:`services.runtime.documentstore`), the name, type, size and sha256 to an
``evaluation_documents`` row. An application (or resubmission) then names its
files by id; it must include a self-evaluation report (自评报告, kind
``self_assessment``), else it is refused on the field ``documents``.

Who may read a file:
* named by an application: whoever may see the application — its unit, center
  and bureau, the unit's competent department, the experts assigned to it;
* a rectification file: the unit, center and bureau, the unit's department;
* not yet named: the uploading unit only.
Anybody else gets 404 (no existence leak).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.engine import RowMapping
from sqlalchemy.ext.asyncio import AsyncSession

from contracts.envelope import new_event_id
from services.evaluation import cycle as cy
from services.evaluation import schemas
from services.evaluation.application_rows import visible
from services.evaluation.db.followup_models import evaluation_documents
from services.evaluation.db.models import applications, unit_view
from services.evaluation.schemas import EvaluationDocument
from services.runtime import clock
from services.runtime.audit_image import audit_image
from services.runtime.roles import Role
from services.runtime.documentstore import MAX_EVIDENCE_BYTES, DocumentStore, evidence_type
from services.runtime.documentstore import evidence_too_large as too_large
from services.runtime.errors import DomainError, NotFound
from services.runtime.db.unit_of_work import Actor
from services.runtime.db.service_db import ServiceDatabase

MAX_BYTES = MAX_EVIDENCE_BYTES
SELF_ASSESSMENT = "self_assessment"
SUPPORTING = "supporting"
RECTIFICATION = "rectification"
KINDS = (SELF_ASSESSMENT, SUPPORTING, RECTIFICATION)
APPLICATION_KINDS = (SELF_ASSESSMENT, SUPPORTING)

def content_type(data: bytes) -> str:
    """The type recognised from the bytes (the declared type is not trusted)."""
    if not data:
        raise DomainError("document.empty", "文件为空", "the file is empty", status=400)
    return evidence_type(data)


def material(row: RowMapping | dict[str, Any]) -> dict[str, Any]:
    """The descriptor kept on the application: which file, exactly, the experts were given."""
    return {"document_id": row["id"], "kind": row["kind"], "name": row["name"], "content_type": row["content_type"], "sha256": row["sha256"], "size_bytes": row["size_bytes"]}


async def upload(db: ServiceDatabase, store: DocumentStore, actor: Actor, correlation_id: str | None, *, unit_id: str, kind: str, name: str, data: bytes) -> EvaluationDocument:
    if len(data) > MAX_BYTES:
        raise too_large()
    media = content_type(data)
    digest = await store.put(data)
    row = {
        "id": new_event_id(),
        "unit_id": unit_id,
        "kind": kind,
        "name": (name.strip() or "document")[:200],
        "content_type": media,
        "sha256": digest,
        "size_bytes": len(data),
        "application_id": None,
        "uploaded_at": clock.utc_now(),
        "uploaded_by": actor.label,
    }
    uploaded = schemas.evaluation_document(row)
    async with db.unit_of_work(actor, correlation_id) as uow:
        await uow.session.execute(insert(evaluation_documents).values(**row))
        await uow.audit("evaluation_document.upload", "evaluation_document", row["id"], after=audit_image(uploaded))
    return uploaded


def _refused(code: str, zh: str, en: str, **details: Any) -> DomainError:
    return DomainError(code, zh, en, field="documents", **details)


async def attach(s: AsyncSession, unit_id: str, application_id: str, document_ids: list[str]) -> list[dict[str, Any]]:
    """Name the unit's uploaded files on its application; the materials it then carries.
    A file of another unit, of another application, or of the wrong kind is refused; so is
    a list without a self-evaluation report."""
    ids = list(dict.fromkeys(document_ids))
    rows = {r["id"]: r for r in (await s.execute(select(evaluation_documents).where(evaluation_documents.c.id.in_(ids or [""])))).mappings()}
    unusable = [
        i for i in ids
        if i not in rows or rows[i]["unit_id"] != unit_id or rows[i]["kind"] not in APPLICATION_KINDS or rows[i]["application_id"] not in (None, application_id)
    ]
    if unusable:
        raise _refused("application.document_unknown", "材料文件不存在或不属于本单位本申请", "a document is unknown, not the unit's, or named by another application", documents=unusable)
    if not any(rows[i]["kind"] == SELF_ASSESSMENT for i in ids):
        raise _refused("application.self_assessment_required", "请上传自评报告", "the self-evaluation report is required")
    await s.execute(update(evaluation_documents).where(evaluation_documents.c.id.in_(ids)).values(application_id=application_id))
    return [material(rows[i]) for i in ids]


async def check_rectification_document(s: AsyncSession, unit_id: str, document_id: str) -> None:
    row = (await s.execute(select(evaluation_documents).where(evaluation_documents.c.id == document_id))).mappings().first()
    if row is None or row["unit_id"] != unit_id or row["kind"] != RECTIFICATION:
        raise DomainError("rectification.document_unknown", "整改材料文件不存在或不属于本单位", "the document is unknown, not the unit's, or not a rectification document", field="document_id")


async def _readable(s: AsyncSession, actor: Actor, row: RowMapping) -> bool:
    if actor.role == Role.UNIT and actor.org == row["unit_id"]:
        return True
    if row["application_id"] is not None:
        app = (await s.execute(select(applications).where(applications.c.id == row["application_id"]))).mappings().first()
        if app is None:
            return False
        try:
            await visible(s, actor, app)
        except NotFound:
            return False
        return True
    if row["kind"] == RECTIFICATION:
        if actor.role in cy.STAFF:
            return True
        if actor.role == Role.DEPARTMENT and actor.org:
            dept = (await s.execute(select(unit_view.c.department).where(unit_view.c.unit_id == row["unit_id"]))).scalar_one_or_none()
            return dept == actor.org
    return False


async def get_document(db: ServiceDatabase, actor: Actor, document_id: str) -> EvaluationDocument:
    async with db.read() as s:
        row = (await s.execute(select(evaluation_documents).where(evaluation_documents.c.id == document_id))).mappings().first()
        if row is None or not await _readable(s, actor, row):
            raise NotFound("evaluation_document", "材料文件", document_id)
        return schemas.evaluation_document(row)


async def read_document(db: ServiceDatabase, store: DocumentStore, actor: Actor, document_id: str) -> tuple[EvaluationDocument, bytes]:
    meta = await get_document(db, actor, document_id)
    return meta, await store.get(meta.sha256)
