"""An order's documents (R19(1) contract and R&D proof, R19(3) results): the
bytes in the content-addressed store, the row with their digest, size and
sniffed type; read back by whoever may see the order."""

from __future__ import annotations

from sqlalchemy import insert, select

from contracts.envelope import new_event_id
from services.registry.db.order_models import order_documents
from services.registry.domain.orders import MAX_DOCUMENT_BYTES, DocumentKind, check_upload, sniff_content_type
from services.registry.order_rows import Viewer, document_view, load_order
from services.registry.schemas.orders import OrderDocument
from services.runtime import clock
from services.runtime.documentstore import DocumentStore
from services.runtime.errors import DomainError, NotFound
from services.runtime.http.idempotency import Idempotency, remember
from services.runtime.db.unit_of_work import Actor
from services.runtime.db.service_db import ServiceDatabase


def too_large() -> DomainError:
    return DomainError(
        "document.too_large",
        f"文件不能超过 {MAX_DOCUMENT_BYTES // (1024 * 1024)} MB",
        f"a document may not exceed {MAX_DOCUMENT_BYTES} bytes",
        status=413,
        limit=MAX_DOCUMENT_BYTES,
    )


async def upload_document(
    db: ServiceDatabase,
    store: DocumentStore,
    actor: Actor,
    correlation_id: str | None,
    order_id: str,
    viewer: Viewer,
    *,
    kind: DocumentKind,
    filename: str,
    data: bytes,
    idempotency: Idempotency | None = None,
) -> OrderDocument:
    """A party uploads a document of the order (contract and R&D proof while the
    contract is open, results in service by the unit). The bytes go to the
    content-addressed store; the row keeps sha256, size and the sniffed type."""
    if len(data) > MAX_DOCUMENT_BYTES:
        raise too_large()
    if not data:
        raise DomainError("document.empty", "文件为空", "the document is empty", status=400)
    now = clock.utc_now()
    async with db.unit_of_work(actor, correlation_id) as uow:
        s = uow.session
        row = await load_order(s, order_id, viewer)
        assert viewer.party is not None  # staff do not upload (access declaration)
        check_upload(row["status"], kind, viewer.party, signed=row["user_signed_at"] is not None or row["unit_signed_at"] is not None)
        content_type = sniff_content_type(data)
        sha = await store.put(data)
        doc = {
            "id": new_event_id(),
            "order_id": order_id,
            "kind": str(DocumentKind(kind)),
            "sha256": sha,
            "size": len(data),
            "content_type": content_type,
            "filename": (filename.strip() or "document")[-255:],
            "uploaded_by": actor.label,
            "uploaded_at": now,
        }
        await s.execute(insert(order_documents).values(**doc))
        meta = document_view(doc)
        image = {"document_id": meta.document_id, "kind": meta.kind, "sha256": meta.sha256, "size": meta.size, "content_type": meta.content_type}
        await uow.audit("order.document_upload", "order", order_id, after=image)
        await remember(uow, idempotency, meta)
    return meta


async def document_for_download(db: ServiceDatabase, order_id: str, document_id: str, viewer: Viewer) -> OrderDocument:
    """A document's metadata, for whoever may see its order (else 404)."""
    async with db.read() as s:
        await load_order(s, order_id, viewer)
        row = (
            await s.execute(select(order_documents).where(order_documents.c.id == document_id, order_documents.c.order_id == order_id))
        ).mappings().first()
        if row is None:
            raise NotFound("document", "文件", document_id)
        return document_view(row)
