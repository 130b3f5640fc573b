"""An instrument's photos (issue 17): the owning unit (or the center acting for
it, as for every other write of an instrument) uploads up to ``MAX_PHOTOS``
JPEG, PNG or WebP images, recognised from their bytes; the bytes go to the
content-addressed document store (local or S3, ``services/runtime/documentstore.py``),
the row keeps digest, size and type; each upload and deletion is audited.
Whoever may see the instrument sees its photos: the public once it is listed
and in service, its unit, its department and city staff always."""

from __future__ import annotations

import hashlib
from typing import Any

from sqlalchemy import delete, func, insert, select
from sqlalchemy.engine import RowMapping
from sqlalchemy.ext.asyncio import AsyncSession

from contracts.envelope import new_event_id
from services.registry.db.instrument_models import instruments
from services.registry.db.photo_models import instrument_photos
from services.registry.instrument_reads import is_public, visible_instrument
from services.registry.instruments import RETIRED
from services.registry.domain.photos import MAX_PHOTO_BYTES, MAX_PHOTOS, PHOTO_TYPES, check_photo, check_room, duplicate
from services.registry.schemas.photos import InstrumentPhoto, InstrumentPhotos
from services.runtime import clock
from services.runtime.audit_image import audit_image
from services.runtime.db.service_db import ServiceDatabase
from services.runtime.db.unit_of_work import Actor
from services.runtime.documentstore import DocumentStore
from services.runtime.errors import Conflict, Forbidden, NotFound
from services.runtime.http.auth import Principal


def photo_view(row: RowMapping | dict[str, Any]) -> InstrumentPhoto:
    """A photo's row as the API answers it (and the audit trail keeps it)."""
    return InstrumentPhoto(
        photo_id=row["id"],
        instrument_id=row["instrument_id"],
        content_type=row["content_type"],
        size=row["size"],
        sha256=row["sha256"],
        uploaded_by_role=row["uploaded_by"].split(":", 1)[0],
        uploaded_at=row["uploaded_at"],
    )


async def _owned(s: AsyncSession, instrument_id: str, owner: str | None, *, lock: bool) -> RowMapping:
    """The instrument, for a write by ``owner`` (a unit; None: the center): 404 when unknown,
    403 when another unit's. ``lock``: held until the transaction ends (PostgreSQL; SQLite's
    transactions are serial), so two uploads at once never count past ``MAX_PHOTOS``."""
    query = select(instruments.c.id, instruments.c.unit_id, instruments.c.status).where(instruments.c.id == instrument_id)
    row = (await s.execute(query.with_for_update() if lock else query)).mappings().first()
    if row is None:
        raise NotFound("instrument", "仪器", instrument_id)
    if owner is not None and row["unit_id"] != owner:
        raise Forbidden("单位只能管理本单位仪器的照片", "a unit may manage the photos of its own instruments only")
    return row


async def upload_photo(
    db: ServiceDatabase, store: DocumentStore, actor: Actor, correlation_id: str | None, instrument_id: str, *, owner: str | None, data: bytes
) -> InstrumentPhoto:
    """Add a photo: who may (403) before what is sent is judged; then empty (400), too large (413),
    not an image of an accepted type (415), a retired instrument (409), no room (409
    ``photo.too_many``) and the same bytes again (409 ``photo.duplicate``)."""
    async with db.unit_of_work(actor, correlation_id) as uow:
        s = uow.session
        row = await _owned(s, instrument_id, owner, lock=True)
        content_type = check_photo(data)
        if row["status"] == RETIRED:
            raise Conflict("instrument.retired", "该仪器已报废，不能再修改", "the instrument is retired; it cannot change any more")
        mine = instrument_photos.c.instrument_id == instrument_id
        check_room((await s.execute(select(func.count()).select_from(instrument_photos).where(mine))).scalar_one())
        digest = hashlib.sha256(data).hexdigest()
        if (await s.execute(select(instrument_photos.c.id).where(mine, instrument_photos.c.sha256 == digest))).first() is not None:
            raise duplicate()
        values = {
            "id": new_event_id(),
            "instrument_id": instrument_id,
            "sha256": await store.put(data),
            "size": len(data),
            "content_type": content_type,
            "uploaded_by": actor.label,
            "uploaded_at": clock.utc_now(),
        }
        await s.execute(insert(instrument_photos).values(**values))
        photo = photo_view(values)
        await uow.audit("instrument.photo_upload", "instrument", instrument_id, after=audit_image(photo))
    return photo


async def delete_photo(db: ServiceDatabase, actor: Actor, correlation_id: str | None, instrument_id: str, photo_id: str, *, owner: str | None) -> None:
    """Remove a photo (a retired instrument's too). The bytes stay in the store, which is
    content-addressed and may hold them for another row; the photo's address answers 404."""
    async with db.unit_of_work(actor, correlation_id) as uow:
        s = uow.session
        await _owned(s, instrument_id, owner, lock=False)
        where = (instrument_photos.c.id == photo_id, instrument_photos.c.instrument_id == instrument_id)
        row = (await s.execute(select(instrument_photos).where(*where))).mappings().first()
        if row is None:
            raise NotFound("photo", "照片", photo_id)
        await s.execute(delete(instrument_photos).where(*where))
        await uow.audit("instrument.photo_delete", "instrument", instrument_id, before=audit_image(photo_view(row)))


async def _public(db: ServiceDatabase, instrument_id: str, p: Principal) -> bool:
    """Whether the instrument is public (listed, in service); one the caller may not see is 404."""
    return is_public(await visible_instrument(db, p, instrument_id))


async def list_photos(db: ServiceDatabase, instrument_id: str, p: Principal) -> InstrumentPhotos:
    """The instrument's photos, oldest first, for whoever may see the instrument."""
    await _public(db, instrument_id, p)
    async with db.read() as s:
        query = select(instrument_photos).where(instrument_photos.c.instrument_id == instrument_id)
        rows = (await s.execute(query.order_by(instrument_photos.c.uploaded_at, instrument_photos.c.id))).mappings().all()
    return InstrumentPhotos(items=[photo_view(r) for r in rows], max_photos=MAX_PHOTOS, max_bytes=MAX_PHOTO_BYTES, content_types=list(PHOTO_TYPES))


async def photo_for_download(db: ServiceDatabase, instrument_id: str, photo_id: str, p: Principal) -> tuple[InstrumentPhoto, bool]:
    """A photo's metadata and whether anybody may see it (a shared cache may keep it)."""
    public = await _public(db, instrument_id, p)
    async with db.read() as s:
        where = (instrument_photos.c.id == photo_id, instrument_photos.c.instrument_id == instrument_id)
        row = (await s.execute(select(instrument_photos).where(*where))).mappings().first()
    if row is None:
        raise NotFound("photo", "照片", photo_id)
    return photo_view(row), public
