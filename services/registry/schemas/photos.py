"""An instrument's photos as the registry answers with them (issue 17)."""

from __future__ import annotations

from datetime import datetime

import msgspec


class InstrumentPhoto(msgspec.Struct, frozen=True):
    """One photo's metadata; its bytes are at ``/v1/instruments/{instrument_id}/photos/{photo_id}``."""

    photo_id: str
    instrument_id: str
    content_type: str
    size: int
    sha256: str
    uploaded_by_role: str
    uploaded_at: datetime


class InstrumentPhotos(msgspec.Struct, frozen=True):
    """An instrument's photos, oldest first, with the limits an upload must keep."""

    items: list[InstrumentPhoto]
    max_photos: int
    max_bytes: int
    content_types: list[str]
