"""Evidence files of redemption claims (bank receipts, service results) under
``<data_dir>/redemption/<aa>/<sha256>``: the shared content-addressed local store
(:class:`services.runtime.documentstore.LocalDocumentStore`, written to a
temporary file and renamed into place) with redemption's own checks on the way
in. PDF, JPEG or PNG (recognised from the bytes), at most 10 MB. Who may read a
file is decided by its ``redemption_documents`` row (the uploading unit, or
staff), never by the store."""

from __future__ import annotations

from services.runtime.documentstore import LocalDocumentStore
from services.runtime.errors import DomainError

SUBDIR = "redemption"
MAX_BYTES = 10 * 1024 * 1024

_TYPES = ((b"%PDF-", "application/pdf"), (b"\x89PNG\r\n\x1a\n", "image/png"), (b"\xff\xd8\xff", "image/jpeg"))


def too_large() -> DomainError:
    return DomainError("document.too_large", "文件不得超过10MB", "the file is larger than 10 MB", status=413, max_bytes=MAX_BYTES)


def content_type(data: bytes) -> str:
    """The type recognised from the bytes, or ``document.unsupported_type``."""
    for magic, media in _TYPES:
        if data.startswith(magic):
            return media
    raise DomainError("document.unsupported_type", "仅支持PDF、JPEG或PNG文件", "only PDF, JPEG or PNG files are accepted", status=415)


class EvidenceStore(LocalDocumentStore):
    async def put(self, data: bytes) -> str:
        if len(data) > MAX_BYTES:
            raise too_large()
        if not data:
            raise DomainError("document.empty", "文件为空", "the file is empty", status=422)
        return await super().put(data)
