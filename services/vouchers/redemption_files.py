"""Evidence files of redemption claims (bank receipts, service results) under
``<data_dir>/redemption/<aa>/<sha256>``: the shared content-addressed local store
(:class:`services.runtime.documentstore.LocalDocumentStore`, written to a
temporary file and renamed into place) with redemption's own checks on the way
in. PDF, JPEG or PNG (recognised from the bytes), at most 10 MB. Who may read a
file is decided by its ``redemption_documents`` row (the uploading unit, or
staff), never by the store."""

from __future__ import annotations

from services.runtime.documentstore import MAX_EVIDENCE_BYTES as MAX_BYTES
from services.runtime.documentstore import LocalDocumentStore
from services.runtime.documentstore import evidence_too_large as too_large
from services.runtime.documentstore import evidence_type as content_type
from services.runtime.errors import DomainError

SUBDIR = "redemption"
__all__ = ["MAX_BYTES", "SUBDIR", "EvidenceStore", "content_type", "too_large"]


class EvidenceStore(LocalDocumentStore):
    async def put(self, data: bytes) -> str:
        if len(data) > MAX_BYTES:
            raise too_large()
        if not data:
            raise DomainError("document.empty", "文件为空", "the file is empty", status=400)
        return await super().put(data)
