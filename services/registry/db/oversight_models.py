"""Registry tables of public oversight (M11(4), M11(6) of attachment 1):
quotes above the published price list, and complaints. They share
``metadata`` with the rest of the registry, so one alembic history covers
them (``db/models.py`` imports this module). Money in fen; times UTC."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Column,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
)

from services.registry.db.metadata import metadata
from services.runtime.db.schema import UtcDateTime

#: M11(4): every quote above the published price list's total, with its reason
#: (one row per such quote; the center and the bureau list them)
quote_deviations = Table(
    "quote_deviations",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("order_id", String(36), ForeignKey("orders.id"), nullable=False),
    Column("unit_id", String(36), ForeignKey("units.id"), nullable=False),
    Column("user_id", String(36), ForeignKey("users.id"), nullable=False),
    #: the policy year (Asia/Shanghai) of the quote
    Column("year", Integer, nullable=False),
    Column("list_amount_fen", BigInteger, nullable=False),
    Column("amount_fen", BigInteger, nullable=False),
    Column("reason", Text, nullable=False),
    #: "<role>:<subject>"
    Column("quoted_by", String(200), nullable=False),
    Column("quoted_at", UtcDateTime, nullable=False),
    CheckConstraint("amount_fen > list_amount_fen", name="quote_deviation_above_list"),
    Index("ix_quote_deviations_year_unit", "year", "unit_id", "quoted_at"),
    Index("ix_quote_deviations_unit", "unit_id", "quoted_at"),
)

#: M11(6): complaints about a unit or an order, and how the center handled them
complaints = Table(
    "complaints",
    metadata,
    Column("id", String(36), primary_key=True),
    #: the complaint's case number, TS-<year>-<n> (services/runtime/db/case_numbers.py): what people read and say
    Column("case_no", String(20), nullable=False, unique=True),
    Column("unit_id", String(36), ForeignKey("units.id"), nullable=False),
    Column("order_id", String(36), ForeignKey("orders.id"), nullable=True),
    #: fees / service_quality / refusal / confidentiality / other
    Column("category", String(30), nullable=False),
    Column("text", Text, nullable=False),
    #: the complainant's contact (name, phone or e-mail as given); never shown to the unit
    Column("contact", String(200), nullable=True),
    #: the signed-in user who filed it (its user id); None for the public
    Column("complainant_user_id", String(36), nullable=True),
    #: "<role>:<subject>" of the caller (``anonymous:anonymous`` for the public)
    Column("filed_by", String(200), nullable=False),
    Column("filed_at", UtcDateTime, nullable=False),
    #: the policy year (Asia/Shanghai) of the filing
    Column("year", Integer, nullable=False),
    #: the handling deadline: the N-th working day after the filing day (N of the year's policy)
    Column("handling_workdays", Integer, nullable=False),
    Column("due_on", Date, nullable=False),
    #: open / upheld / dismissed
    Column("status", String(20), nullable=False),
    Column("outcome_reason", Text, nullable=True),
    Column("decided_by", String(200), nullable=True),
    Column("decided_at", UtcDateTime, nullable=True),
    Column("version", Integer, nullable=False),
    CheckConstraint("handling_workdays > 0", name="complaint_workdays_positive"),
    Index("ix_complaints_status_due", "status", "due_on"),
    Index("ix_complaints_unit", "unit_id", "filed_at"),
    Index("ix_complaints_user", "complainant_user_id", "filed_at"),
)

#: M11(6): the handling deadline in working days, per year (absent: the default of
#: services/registry/domain/complaints.py); every change is kept in the audit log
complaint_policies = Table(
    "complaint_policies",
    metadata,
    Column("year", Integer, primary_key=True, autoincrement=False),
    Column("handling_workdays", Integer, nullable=False),
    #: the ``ETag`` of the year's value (If-Match on a change, issue 17)
    Column("version", Integer, nullable=False),
    Column("set_by", String(200), nullable=False),
    Column("set_at", UtcDateTime, nullable=False),
    CheckConstraint("handling_workdays > 0", name="complaint_policy_workdays_positive"),
)
