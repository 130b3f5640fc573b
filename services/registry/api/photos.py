"""An instrument's photos over HTTP (issue 17): the owning unit or the center
uploads and deletes; anybody who may see the instrument lists them and reads
their bytes. A photo never changes (a new upload is a new id), so its bytes are
served with a year-long ``Cache-Control``."""

from __future__ import annotations

from litestar import Controller, Request, Response, delete, get, post
from litestar.datastructures import UploadFile
from litestar.di import NamedDependency
from litestar.params import FromPath

from services.registry import photos
from services.registry.domain.photos import MAX_PHOTO_BYTES, too_large
from services.registry.schemas.photos import InstrumentPhoto, InstrumentPhotos
from services.runtime.db.service_db import ServiceDatabase
from services.runtime.documentstore import DocumentStore
from services.runtime.errors import DomainError
from services.runtime.http.app import actor_of
from services.runtime.http.edge import correlation_of
from services.runtime.http.auth import PUBLIC, access, principal_of
from services.runtime.http.problems import DOCUMENT_MEDIA_TYPES
from services.runtime.roles import Role

#: multipart framing around the file, on top of MAX_PHOTO_BYTES
_ENVELOPE = 64 * 1024
#: a photo's bytes never change: a year, and no revalidation
IMMUTABLE = "max-age=31536000, immutable"


async def _photo_bytes(request: Request) -> bytes:
    """The photo from a multipart form (its first file part) or the raw body; more than
    MAX_PHOTO_BYTES is refused (413 ``photo.too_large``) without reading it all."""
    length = request.headers.get("content-length")
    if length is not None and length.isdigit() and int(length) > MAX_PHOTO_BYTES + _ENVELOPE:
        raise too_large()
    if request.content_type[0] == "multipart/form-data":
        form = await request.form()
        for value in form.values():
            if isinstance(value, UploadFile):
                content = await value.read(MAX_PHOTO_BYTES + 1)
                if len(content) > MAX_PHOTO_BYTES:
                    raise too_large()
                return content
        raise DomainError("document.no_file", "请上传文件（表单字段 file）", "no file part in the form (field 'file')", status=400, field="file")
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_PHOTO_BYTES:
            raise too_large()
        chunks.append(chunk)
    return b"".join(chunks)


def _owner(request: Request) -> str | None:
    """The unit a write is limited to; None for the center, which acts for any unit."""
    p = principal_of(request)
    return (p.org or "") if p.role is Role.UNIT else None


class PhotoController(Controller):
    path = "/v1/instruments/{instrument_id:str}/photos"
    tags = ["instruments"]

    @post(
        "/",
        operation_id="uploadInstrumentPhoto",
        status_code=201,
        request_max_body_size=MAX_PHOTO_BYTES + _ENVELOPE,
        **access(Role.UNIT, Role.CENTER, errors=(413, 415)),
    )
    async def upload(
        self, request: Request, db: NamedDependency[ServiceDatabase], documents: NamedDependency[DocumentStore], instrument_id: FromPath[str]
    ) -> InstrumentPhoto:
        """The owning unit (or the center) adds a photo of the instrument: multipart/form-data with
        a file part, or the raw body. JPEG, PNG or WebP recognised from the bytes, whatever the
        declared type or name (415 ``photo.type_not_allowed``); at most 5 MiB (413
        ``photo.too_large``); at most 6 photos an instrument (409 ``photo.too_many``); the same
        bytes twice are 409 ``photo.duplicate``. The limits are answered by ``listInstrumentPhotos``."""
        owner = _owner(request)
        data = await _photo_bytes(request)
        return await photos.upload_photo(db, documents, actor_of(request), correlation_of(request), instrument_id, owner=owner, data=data)

    @get("/", operation_id="listInstrumentPhotos", **access(PUBLIC))
    async def list_(self, request: Request, db: NamedDependency[ServiceDatabase], instrument_id: FromPath[str]) -> InstrumentPhotos:
        """The instrument's photos, oldest first, with the upload limits (``max_photos``,
        ``max_bytes``, ``content_types``). Whoever may see the instrument: the public once it is
        listed and in service; its unit, its department and staff always (else 404)."""
        return await photos.list_photos(db, instrument_id, principal_of(request))

    @get("/{photo_id:str}", operation_id="getInstrumentPhoto", media_type=DOCUMENT_MEDIA_TYPES, **access(PUBLIC))
    async def bytes_(
        self, request: Request, db: NamedDependency[ServiceDatabase], documents: NamedDependency[DocumentStore], instrument_id: FromPath[str], photo_id: FromPath[str]
    ) -> Response[bytes]:
        """A photo's bytes with its type as recognised at upload, ``X-Content-Type-Options: nosniff``
        and a year-long, immutable ``Cache-Control`` (``public`` for a public instrument's photo,
        ``private`` otherwise); the same callers as the list."""
        photo, public = await photos.photo_for_download(db, instrument_id, photo_id, principal_of(request))
        headers = {
            "Cache-Control": f"{'public' if public else 'private'}, {IMMUTABLE}",
            "X-Content-Type-Options": "nosniff",
            "X-Content-SHA256": photo.sha256,
            "Content-Disposition": f'inline; filename="{photo.photo_id}.{photo.content_type.split("/")[1]}"',
        }
        return Response(await documents.get(photo.sha256), media_type=photo.content_type, headers=headers)

    @delete("/{photo_id:str}", operation_id="deleteInstrumentPhoto", status_code=204, **access(Role.UNIT, Role.CENTER))
    async def delete_(self, request: Request, db: NamedDependency[ServiceDatabase], instrument_id: FromPath[str], photo_id: FromPath[str]) -> None:
        """The owning unit (or the center) removes a photo; its address then answers 404."""
        await photos.delete_photo(db, actor_of(request), correlation_of(request), instrument_id, photo_id, owner=_owner(request))
