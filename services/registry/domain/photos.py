"""An instrument's photos (issue 17): how many, how large and of which types,
recognised from the file's own bytes (its magic number), never from the type
or the name the client declares. The one home of these limits: the API
answers them with every list of photos, and the portal reads them from there."""

from __future__ import annotations

from services.runtime.errors import Conflict, DomainError

#: photos per instrument, at most
MAX_PHOTOS = 6
#: bytes per photo, at most (5 MiB)
MAX_PHOTO_BYTES = 5 * 1024 * 1024
JPEG, PNG, WEBP = "image/jpeg", "image/png", "image/webp"
#: the accepted types, in the order the portal names them
PHOTO_TYPES: tuple[str, ...] = (JPEG, PNG, WEBP)


def photo_type(data: bytes) -> str:
    """The photo's type from its first bytes: JPEG, PNG or WebP; anything else
    (a text file renamed ``.jpg``, a GIF, a PDF) is 415 ``photo.type_not_allowed``."""
    if data.startswith(b"\xff\xd8\xff"):
        return JPEG
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return PNG
    if len(data) >= 12 and data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return WEBP
    raise DomainError(
        "photo.type_not_allowed",
        "照片仅支持 JPEG、PNG 或 WebP 格式",
        "a photo must be a JPEG, PNG or WebP image",
        status=415,
        field="file",
        accepted=list(PHOTO_TYPES),
    )


def too_large() -> DomainError:
    return DomainError(
        "photo.too_large",
        f"每张照片不能超过 {MAX_PHOTO_BYTES // (1024 * 1024)} MB",
        f"a photo may not exceed {MAX_PHOTO_BYTES // (1024 * 1024)} MiB",
        status=413,
        field="file",
        max_bytes=MAX_PHOTO_BYTES,
    )


def check_photo(data: bytes) -> str:
    """The upload's type, after its size: empty (400 ``document.empty``, as every upload
    of the project), too large (413), then its type (415)."""
    if not data:
        raise DomainError("document.empty", "文件为空", "the file is empty", status=400, field="file")
    if len(data) > MAX_PHOTO_BYTES:
        raise too_large()
    return photo_type(data)


def check_room(existing: int) -> None:
    """One more photo fits beside ``existing`` ones, else 409 ``photo.too_many``."""
    if existing >= MAX_PHOTOS:
        raise Conflict(
            "photo.too_many",
            f"每台仪器最多上传 {MAX_PHOTOS} 张照片，请先删除不需要的照片",
            f"an instrument has at most {MAX_PHOTOS} photos; delete one first",
            field="file",
            max_photos=MAX_PHOTOS,
        )


def duplicate() -> Conflict:
    return Conflict("photo.duplicate", "该照片已上传过", "this photo is already one of the instrument's photos", field="file")
