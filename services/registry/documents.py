"""A local content-addressed document store: the bytes of order documents
(contracts, R&D proofs, results) under ``<data_dir>/documents``, named by the
sha256 of their content. The same bytes are stored once; a blob is written to
a temporary file and renamed into place, so a reader never sees half a file.

Who may read a document is decided by the order it belongs to (R23), never by
the store: a blob is reachable only through an ``order_documents`` row.
A blob whose database row was rolled back stays behind unreferenced (harmless:
content-addressed, and the same upload reuses it).
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import tempfile
from pathlib import Path

from services.runtime.settings import Settings

SUBDIR = "documents"


class DocumentStore:
    def __init__(self, root: Path) -> None:
        self.root = root

    @classmethod
    def of(cls, settings: Settings) -> DocumentStore:
        return cls(settings.data_dir / SUBDIR)

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
        """Store ``data``; returns its sha256 (hex)."""
        return await asyncio.to_thread(self._put, data)
