"""Registry tables of the parties: units (管理单位) and users (enterprises and
start-up teams), and the evidence on which a unit was approved to accept
vouchers (R18). Times UTC."""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Column,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    text,
)

from services.registry.db.metadata import metadata
from services.runtime.db.dialect_ddl import partial_index
from services.runtime.db.schema import UtcDateTime

units = Table(
    "units",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("name", String(200), nullable=False),
    Column("credit_code", String(18), nullable=False),
    Column("kind", String(30), nullable=False),
    Column("parent_unit_id", String(36), ForeignKey("units.id"), nullable=True),
    Column("county_code", String(6), nullable=True),
    Column("department", String(100), nullable=True),
    Column("status", String(20), nullable=False),
    Column("accepts_vouchers", Boolean, nullable=False, server_default=text("false")),
    Column("version", Integer, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    Column("decided_by", String(200), nullable=True),
    Column("decided_at", UtcDateTime, nullable=True),
    Column("decision_reason", Text, nullable=True),
    #: R18 published service information (domain/service_info.py); required to accept vouchers
    Column("service_content", Text, nullable=True),
    Column("contact_person", String(50), nullable=True),
    Column("contact_phone", String(40), nullable=True),
    Column("address", String(200), nullable=True),
    # a college (R13) shares its university's credit code; top-level units are unique
    partial_index("uq_units_credit_code_top", "credit_code", unique=True, where="parent_unit_id IS NULL"),
    Index("ix_units_status", "status"),
)

users = Table(
    "users",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("name", String(200), nullable=False),
    Column("kind", String(20), nullable=False),
    #: not unique: a second registration of a code goes to the center's review
    #: (``duplicate_of``); only one *verified* user holds a code (the index below)
    Column("credit_code", String(18), nullable=True),
    #: a start-up team's leader: only a keyed digest (uniqueness) and a mask are kept
    Column("leader_name", String(100), nullable=True),
    Column("leader_id_digest", String(64), nullable=True, unique=True),
    Column("leader_id_masked", String(32), nullable=True),
    Column("incubator_credit_code", String(18), nullable=True),
    Column("classes", JSON, nullable=False),
    Column("special_classes", JSON, nullable=False),
    Column("in_xuchang", Boolean, nullable=False),
    Column("verified", Boolean, nullable=False),
    #: R26: sound financial management, as the center last assessed it
    Column("sound_finances", Boolean, nullable=False, server_default=text("true")),
    Column("version", Integer, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    Column("verified_by", String(200), nullable=True),
    Column("verified_at", UtcDateTime, nullable=True),
    #: the user that already held the credit code when this one registered (center's review)
    Column("duplicate_of", String(36), nullable=True),
    #: the center rejected the registration (e.g. the code belongs to another enterprise)
    Column("rejected_at", UtcDateTime, nullable=True),
    Column("rejected_by", String(200), nullable=True),
    Column("rejection_reason", Text, nullable=True),
    partial_index("uq_users_credit_code_verified", "credit_code", unique=True, where="verified"),
    Index("ix_users_credit_code", "credit_code"),
)

#: R18: the evidence on which a unit was approved to accept vouchers
voucher_acceptance = Table(
    "voucher_acceptance",
    metadata,
    Column("unit_id", String(36), ForeignKey("units.id"), primary_key=True),
    Column("full_time_staff", Integer, nullable=False),
    Column("service_content", Text, nullable=False),
    Column("service_norms", Text, nullable=False),
    Column("fees_published", Boolean, nullable=False),
    Column("no_bad_credit", Boolean, nullable=False),
    Column("granted", Boolean, nullable=False),
    Column("decided_by", String(200), nullable=False),
    Column("decided_at", UtcDateTime, nullable=False),
    Column("reason", Text, nullable=True),
    CheckConstraint("full_time_staff >= 0", name="full_time_staff_not_negative"),
)
