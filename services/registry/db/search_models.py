"""The registry's table of the catalogue's synonym and abbreviation dictionary
(domain/synonyms.py), which the center edits. It shares ``metadata`` with the
rest of the registry, so one alembic history covers it (the migrations' env
imports this module)."""

from __future__ import annotations

from sqlalchemy import JSON, Column, String, Table

from services.registry.db.models import metadata
from services.runtime.database import UtcDateTime

#: one entry: a canonical term and its synonyms and abbreviations
search_synonyms = Table(
    "search_synonyms",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("canonical", String(50), nullable=False),
    #: the canonical term as forms are compared (domain/synonyms.form_key); unique
    Column("canonical_key", String(50), nullable=False, unique=True),
    Column("synonyms", JSON, nullable=False),
    Column("created_by", String(200), nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
)
