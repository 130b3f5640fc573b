"""Registry table of an instrument's photos (issue 17): at most
``domain/photos.MAX_PHOTOS`` an instrument; the bytes in the document store by
their sha256, the row with the type recognised from the bytes; a new upload is a
new id (the bytes at a photo's address never change). Times UTC."""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, ForeignKey, Index, String, Table

from services.registry.db.metadata import metadata
from services.runtime.db.schema import UtcDateTime

#: issue 17: an instrument's photos (at most domain/photos.MAX_PHOTOS); the bytes in the
#: document store by their sha256, the row with the sniffed type; a new upload is a new id
instrument_photos = Table(
    "instrument_photos",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("instrument_id", String(36), ForeignKey("instruments.id"), nullable=False),
    Column("sha256", String(64), nullable=False),
    Column("size", BigInteger, nullable=False),
    Column("content_type", String(40), nullable=False),
    #: "<role>:<subject>"
    Column("uploaded_by", String(200), nullable=False),
    Column("uploaded_at", UtcDateTime, nullable=False),
    Index("ix_instrument_photos_instrument", "instrument_id", "uploaded_at"),
    Index("uq_instrument_photos_content", "instrument_id", "sha256", unique=True),
)
