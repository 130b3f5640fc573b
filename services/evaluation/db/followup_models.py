"""Tables of the evaluation's follow-up steps (issue 15): the evidence files a
unit hands in (R14(2), M14(2)), the bureau's approval of the year's award plan
before it goes on notice (R14(4)), and an unqualified unit's rectification
report and the bureau's re-check (M15). They share ``metadata`` with the rest
of evaluation, so one alembic history covers them."""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, Date, Index, Integer, String, Table, Text

from services.evaluation.db.models import metadata
from services.runtime.db.schema import UtcDateTime

#: a file the unit uploaded (bytes in the shared document store, by sha256);
#: ``application_id`` is set once an application (or resubmission) names it
evaluation_documents = Table(
    "evaluation_documents",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("unit_id", String(36), nullable=False),
    #: self_assessment (自评报告) | supporting | rectification
    Column("kind", String(20), nullable=False),
    Column("name", String(200), nullable=False),
    Column("content_type", String(100), nullable=False),
    Column("sha256", String(64), nullable=False),
    Column("size_bytes", BigInteger, nullable=False),
    Column("application_id", String(36), nullable=True),
    Column("uploaded_at", UtcDateTime, nullable=False),
    Column("uploaded_by", String(200), nullable=False),
    Index("ix_evaluation_documents_unit", "unit_id"),
    Index("ix_evaluation_documents_application", "application_id"),
)

#: R14(4): the bureau approved the year's award plan (who, when, why) before its notice
award_plan_approvals = Table(
    "award_plan_approvals",
    metadata,
    Column("year", Integer, primary_key=True, autoincrement=False),
    Column("approved_at", UtcDateTime, nullable=False),
    Column("approved_by", String(200), nullable=False),
    Column("reason", Text, nullable=True),
    #: when the approved plan went on notice (or, nobody funded, was announced without one)
    Column("published_at", UtcDateTime, nullable=True),
)

#: M15: an unqualified unit's rectification report and the bureau's re-check
rectifications = Table(
    "rectifications",
    metadata,
    Column("unit_id", String(36), primary_key=True),
    Column("year", Integer, primary_key=True, autoincrement=False),
    Column("deadline", Date, nullable=False),
    Column("report", Text, nullable=False),
    Column("document_id", String(36), nullable=True),
    Column("reported_at", UtcDateTime, nullable=False),
    Column("reported_by", String(200), nullable=False),
    #: None until re-checked: passed | failed
    Column("outcome", String(10), nullable=True),
    Column("outcome_reason", Text, nullable=True),
    Column("checked_at", UtcDateTime, nullable=True),
    Column("checked_by", String(200), nullable=True),
    #: the record's ETag: a new report or a re-check makes the next one (issue 17)
    Column("version", Integer, nullable=False),
)
