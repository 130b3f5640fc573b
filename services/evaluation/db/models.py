"""Evaluation tables: the units it will evaluate, from registry events."""

from __future__ import annotations

from sqlalchemy import Column, Integer, String, Table

from services.runtime.database import UtcDateTime, new_metadata

metadata = new_metadata()

unit_view = Table(
    "unit_view",
    metadata,
    Column("unit_id", String(36), primary_key=True),
    Column("version", Integer, nullable=False),
    Column("name", String(200), nullable=False),
    Column("kind", String(30), nullable=False),
    Column("status", String(20), nullable=False),
    Column("county_code", String(6), nullable=True),
    Column("department", String(100), nullable=True),
    Column("parent_unit_id", String(36), nullable=True),
    Column("updated_at", UtcDateTime, nullable=False),
)
