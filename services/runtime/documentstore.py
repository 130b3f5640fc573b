"""Content-addressed document stores, shared by the services that keep files
(registry: order documents — contracts, R&D proofs, results; evaluation: a
unit's evidence and rectification documents). A blob is named by the sha256 of
its content; the same bytes are stored once.

Two stores, chosen by ``XCISS_DOCUMENT_STORE`` when the app is created
(``store_of``):

* unset — ``LocalDocumentStore``: files under ``<data_dir>/documents/<aa>/<sha256>``;
  a blob is written to a temporary file and renamed into place, so a reader
  never sees half a file.
* ``s3://bucket[/prefix]`` — ``S3DocumentStore``: objects ``[prefix/]<aa>/<sha256>``
  in S3-compatible object storage (``XCISS_S3_ENDPOINT``, ``XCISS_S3_ACCESS_KEY``,
  ``XCISS_S3_SECRET_KEY``, ``XCISS_S3_REGION``, ``XCISS_S3_SECURE``). An object
  is put only if absent; a PUT is atomic, so a reader never sees half an object.
  The bucket must exist.

The content type, name and size stay in the owning service's row (registry's
``order_documents``, evaluation's ``evaluation_documents``). Who may read a
document is decided by that row and the case it belongs to, never by the
store: a blob is reachable only through such a row. A blob whose database row
was rolled back stays behind unreferenced (harmless: content-addressed, and
the same upload reuses it).
"""

from __future__ import annotations

import abc
import asyncio
import hashlib
import io
import os
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from services.runtime.errors import DomainError
from services.runtime.settings import Settings, SettingsError

SUBDIR = "documents"
_MISSING = ("NoSuchKey", "NoSuchObject", "NotFound", "ResourceNotFound")


#: uploaded evidence (redemption claims, evaluation applications): PDF, JPEG or PNG, at most 10 MB
MAX_EVIDENCE_BYTES = 10 * 1024 * 1024
_EVIDENCE_TYPES = ((b"%PDF-", "application/pdf"), (b"\x89PNG\r\n\x1a\n", "image/png"), (b"\xff\xd8\xff", "image/jpeg"))


def evidence_too_large() -> DomainError:
    return DomainError("document.too_large", "文件不得超过10MB", "the file is larger than 10 MB", status=413, max_bytes=MAX_EVIDENCE_BYTES)


def evidence_type(data: bytes) -> str:
    """The type recognised from the bytes (a declared type is not trusted), or ``document.unsupported_type``."""
    for magic, media in _EVIDENCE_TYPES:
        if data.startswith(magic):
            return media
    raise DomainError("document.unsupported_type", "仅支持PDF、JPEG或PNG文件", "only PDF, JPEG or PNG files are accepted", status=415)


if TYPE_CHECKING:
    from minio import Minio

class DocumentMissing(LookupError):
    """A referenced blob is not in the store (an integrity failure, not a 404)."""


def check_digest(sha256: str) -> str:
    if len(sha256) != 64 or any(c not in "0123456789abcdef" for c in sha256):
        raise ValueError(f"not a sha256 digest: {sha256!r}")
    return sha256


class DocumentStore(abc.ABC):
    """Where the bytes of documents live, addressed by their sha256 (hex)."""

    @abc.abstractmethod
    async def put(self, data: bytes) -> str:
        """Store ``data`` (once per content); returns its sha256 (hex)."""

    @abc.abstractmethod
    async def get(self, sha256: str) -> bytes:
        """The bytes stored under ``sha256``; DocumentMissing if absent."""

    @staticmethod
    def key(sha256: str) -> str:
        """The relative name of a blob: ``<first two hex digits>/<sha256>``."""
        check_digest(sha256)
        return f"{sha256[:2]}/{sha256}"


class LocalDocumentStore(DocumentStore):
    def __init__(self, root: Path) -> None:
        self.root = root

    @classmethod
    def of(cls, settings: Settings) -> LocalDocumentStore:
        return cls(settings.data_dir / SUBDIR)

    def path(self, sha256: str) -> Path:
        return self.root / self.key(sha256)

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

    def _get(self, sha256: str) -> bytes:

        try:
            return self.path(sha256).read_bytes()
        except FileNotFoundError as exc:
            raise DocumentMissing(sha256) from exc

    async def put(self, data: bytes) -> str:
        return await asyncio.to_thread(self._put, data)

    async def get(self, sha256: str) -> bytes:
        return await asyncio.to_thread(self._get, sha256)


class S3DocumentStore(DocumentStore):
    """Objects in one bucket of S3-compatible storage; the blocking client runs in a thread."""

    def __init__(self, client: Minio, bucket: str, prefix: str = "") -> None:
        self.client = client
        self.bucket = bucket
        self.prefix = prefix.strip("/")

    def object_name(self, sha256: str) -> str:
        key = self.key(sha256)
        return f"{self.prefix}/{key}" if self.prefix else key

    def _size(self, name: str) -> int | None:
        # minio is imported only where an S3 store is configured
        from minio.error import S3Error

        try:
            return self.client.stat_object(self.bucket, name).size
        except S3Error as exc:
            if exc.code in _MISSING:
                return None
            raise

    def _put(self, data: bytes) -> str:
        digest = hashlib.sha256(data).hexdigest()
        name = self.object_name(digest)
        if self._size(name) == len(data):
            return digest
        self.client.put_object(self.bucket, name, io.BytesIO(data), len(data), content_type="application/octet-stream")
        return digest

    def _get(self, sha256: str) -> bytes:
        from minio.error import S3Error

        try:
            response = self.client.get_object(self.bucket, self.object_name(sha256))
        except S3Error as exc:
            if exc.code in _MISSING:
                raise DocumentMissing(sha256) from exc
            raise
        try:
            return response.read()
        finally:
            response.close()
            response.release_conn()

    async def put(self, data: bytes) -> str:
        return await asyncio.to_thread(self._put, data)

    async def get(self, sha256: str) -> bytes:
        return await asyncio.to_thread(self._get, sha256)

    @classmethod
    def of(cls, settings: Settings) -> S3DocumentStore:
        url = urlsplit(settings.document_store_url or "")
        if url.scheme != "s3" or not url.netloc:
            raise SettingsError(f"XCISS_DOCUMENT_STORE must be s3://bucket[/prefix], not {settings.document_store_url!r}")
        endpoint, secure = settings.s3_endpoint or "s3.amazonaws.com", settings.s3_secure
        if "://" in endpoint:  # an endpoint given as a URL: its scheme decides TLS
            parts = urlsplit(endpoint)
            if parts.scheme not in ("http", "https") or not parts.netloc or parts.path.strip("/"):
                raise SettingsError(f"XCISS_S3_ENDPOINT must be host[:port] or http(s)://host[:port], not {endpoint!r}")
            endpoint, secure = parts.netloc, parts.scheme == "https"
        from minio import Minio  # imported only where an S3 store is configured

        client = Minio(
            endpoint,
            access_key=settings.s3_access_key,
            secret_key=settings.s3_secret_key,
            region=settings.s3_region,
            secure=secure,
        )
        return cls(client, url.netloc, url.path)


def store_of(settings: Settings) -> DocumentStore:
    """The store the settings ask for: S3 for ``s3://…``, else the data directory."""
    if settings.document_store_url:
        return S3DocumentStore.of(settings)
    return LocalDocumentStore.of(settings)
