"""Evidence files of redemption claims (bank receipts, service results) under
``<data_dir>/redemption/<aa>/<sha256>``: content-addressed, written to a
temporary file and renamed into place. PDF, JPEG or PNG (recognised from the
bytes), at most 10 MB. Who may read a file is decided by its
``redemption_documents`` row (the uploading unit, or staff), never by the store."""

from __future__ import annotations

import asyncio
import hashlib
import os
import tempfile
from pathlib import Path

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


class EvidenceStore:
    def __init__(self, root: Path) -> None:
        self.root = root

    def path(self, sha256: str) -> Path:
        if len(sha256) != 64 or any(c not in "0123456789abcdef" for c in sha256):
            raise ValueError(f"not a sha256 digest: {sha256!r}")
        return self.root / sha256[:2] / sha256

    def _put(self, data: bytes) -> str:
        digest = hashlib.sha256(data).hexdigest()
        target = self.path(digest)
        if target.exists() and target.stat().st_size == len(data):
            return digest
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".upload-")
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(data)
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return digest

    async def put(self, data: bytes) -> str:
        if len(data) > MAX_BYTES:
            raise too_large()
        if not data:
            raise DomainError("document.empty", "文件为空", "the file is empty", status=422)
        return await asyncio.to_thread(self._put, data)

    async def get(self, sha256: str) -> bytes:
        return await asyncio.to_thread(self.path(sha256).read_bytes)
