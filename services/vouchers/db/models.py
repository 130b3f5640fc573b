"""Vouchers tables: read models of registry facts (more come with issue 4)."""

from __future__ import annotations

from sqlalchemy import JSON, Boolean, Column, Integer, String, Table

from services.runtime.database import UtcDateTime, new_metadata

metadata = new_metadata()

#: what vouchers knows of each user, from registry events (event-carried state)
user_view = Table(
    "user_view",
    metadata,
    Column("user_id", String(36), primary_key=True),
    Column("version", Integer, nullable=False),
    Column("name", String(200), nullable=False),
    Column("kind", String(20), nullable=False),
    Column("credit_code", String(18), nullable=True),
    Column("classes", JSON, nullable=False),
    Column("special_classes", JSON, nullable=False),
    Column("in_xuchang", Boolean, nullable=False),
    Column("verified", Boolean, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
)

unit_view = Table(
    "unit_view",
    metadata,
    Column("unit_id", String(36), primary_key=True),
    Column("version", Integer, nullable=False),
    Column("name", String(200), nullable=False),
    Column("status", String(20), nullable=False),
    Column("accepts_vouchers", Boolean, nullable=False),
    Column("parent_unit_id", String(36), nullable=True),
    Column("updated_at", UtcDateTime, nullable=False),
)
