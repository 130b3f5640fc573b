"""Registry tables of supervision (R26, R27): ties between users and units,
the credit blacklist, and the bureau's fraud findings. Times UTC."""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    ForeignKey,
    Index,
    String,
    Table,
    Text,
)

from services.registry.db.metadata import metadata
from services.runtime.db.dialect_ddl import partial_index
from services.runtime.db.schema import UtcDateTime

#: R26: subordination, co-construction or property-right ties between a user and a unit
affiliations = Table(
    "affiliations",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("user_id", String(36), ForeignKey("users.id"), nullable=False),
    Column("unit_id", String(36), ForeignKey("units.id"), nullable=False),
    #: subordination / co_construction / property_right
    Column("kind", String(30), nullable=False),
    #: declared_by_user / declared_by_unit / recorded_by_reviewer
    Column("source", String(30), nullable=False),
    Column("recorded_by", String(200), nullable=False),
    Column("recorded_at", UtcDateTime, nullable=False),
    Column("note", Text, nullable=True),
    Column("removed_by", String(200), nullable=True),
    Column("removed_at", UtcDateTime, nullable=True),
    Column("removal_reason", Text, nullable=True),
    partial_index("uq_affiliations_active", "user_id", "unit_id", "kind", unique=True, where="removed_at IS NULL"),
    Index("ix_affiliations_unit_id", "unit_id"),
)

#: R26, R27: the Xuchang credit blacklist as the platform applies it (public)
blacklist = Table(
    "blacklist",
    metadata,
    Column("id", String(36), primary_key=True),
    #: user / unit
    Column("party_type", String(10), nullable=False),
    Column("party_id", String(36), nullable=False),
    Column("party_name", String(200), nullable=False),
    Column("credit_code", String(18), nullable=True),
    Column("reason", Text, nullable=False),
    Column("added_by", String(200), nullable=False),
    Column("added_at", UtcDateTime, nullable=False),
    Column("removed_by", String(200), nullable=True),
    Column("removed_at", UtcDateTime, nullable=True),
    Column("removal_reason", Text, nullable=True),
    partial_index("uq_blacklist_active", "party_type", "party_id", unique=True, where="removed_at IS NULL"),
)

#: a fraud finding of the bureau (R27): who, when, why, what it concerns and the
#: sanctions it applied. One finding per party and scope: the same finding twice is refused.
fraud_findings = Table(
    "fraud_findings",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("party_type", String(10), nullable=False),
    Column("party_id", String(36), nullable=False),
    Column("party_name", String(200), nullable=False),
    Column("years", JSON, nullable=False),
    Column("voucher_ids", JSON, nullable=False),
    Column("award_ids", JSON, nullable=False),
    #: sha256 of the scope (years, voucher ids, award ids; empty = all of the party's)
    Column("scope_key", String(64), nullable=False),
    Column("sanctions", JSON, nullable=False),
    #: the sanctions include public criticism (通报批评): the finding is on the public list
    Column("criticised", Boolean, nullable=False),
    Column("credit_code", String(40), nullable=True),
    Column("reason", Text, nullable=False),
    Column("evidence_ref", String(500), nullable=True),
    Column("blacklist_entry_id", String(36), nullable=True),
    Column("recorded_by", String(200), nullable=False),
    Column("recorded_at", UtcDateTime, nullable=False),
    Index("uq_fraud_findings_scope", "party_type", "party_id", "scope_key", unique=True),
    Index("ix_fraud_findings_recorded", "recorded_at"),
    Index("ix_fraud_findings_criticised", "criticised", "recorded_at"),
)
