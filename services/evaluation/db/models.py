"""Evaluation tables: the units it will evaluate (from registry events), the
yearly cycle, applications, experts and their scores, public notices and
objections, the award plan, and the redemption reviews it notices."""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
)

from services.runtime.db.case_numbers import case_counter_table
from services.runtime.db.schema import UtcDateTime, new_metadata

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

#: units on the credit blacklist (registry ``blacklist.*``): no award while active (R27)
unit_blacklist_view = Table(
    "unit_blacklist_view",
    metadata,
    Column("entry_id", String(36), primary_key=True),
    Column("unit_id", String(36), nullable=False),
    Column("active", Boolean, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    Index("ix_unit_blacklist_view_unit", "unit_id"),
)

# ------------------------------------------------------------------ the yearly cycle

cycles = Table(
    "cycles",
    metadata,
    Column("year", Integer, primary_key=True, autoincrement=False),
    Column("indicator_set_version", String(60), nullable=False),
    #: the whole indicator set and parameters as opened: the year's rules never change under it
    Column("indicator_set", JSON, nullable=False),
    Column("award_budget_fen", BigInteger, nullable=False),
    Column("excellent_award_fen", BigInteger, nullable=False),
    Column("good_award_fen", BigInteger, nullable=False),
    Column("opened_at", UtcDateTime, nullable=False),
    Column("opened_by", String(200), nullable=False),
    #: R20(1): the voucher redemption window opened with the cycle (both or neither)
    Column("redemption_opens_on", Date, nullable=True),
    Column("redemption_closes_on", Date, nullable=True),
    CheckConstraint("award_budget_fen >= 0", name="budget_not_negative"),
)

applications = Table(
    "applications",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("unit_id", String(36), nullable=False),
    Column("year", Integer, nullable=False),
    #: submitted → forwarded | returned (→ submitted again) → graded → reopened (objection) → graded → final
    Column("status", String(20), nullable=False),
    Column("materials", JSON, nullable=False),
    Column("statement", Text, nullable=True),
    Column("submitted_at", UtcDateTime, nullable=False),
    Column("reviewed_at", UtcDateTime, nullable=True),
    Column("reviewed_by", String(200), nullable=True),
    Column("review_reason", Text, nullable=True),
    Column("scores", JSON, nullable=True),
    Column("total_centi", Integer, nullable=True),
    Column("grade", String(20), nullable=True),
    Column("decided_at", UtcDateTime, nullable=True),
    Column("decided_by", String(200), nullable=True),
    Column("version", Integer, nullable=False),
    UniqueConstraint("unit_id", "year", name="one_application_per_unit_year"),
    Index("ix_applications_year_status", "year", "status"),
)

experts = Table(
    "experts",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("name", String(100), nullable=False),
    Column("role", String(20), nullable=False),
    #: the unit the expert works for (None: independent)
    Column("unit_id", String(36), nullable=True),
    #: units the expert declared a tie to (past employment, co-operation, relatives)
    Column("ties", JSON, nullable=False),
    Column("registered_at", UtcDateTime, nullable=False),
)

assignments = Table(
    "assignments",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("application_id", String(36), ForeignKey("applications.id"), nullable=False),
    Column("expert_id", String(36), ForeignKey("experts.id"), nullable=False),
    Column("role", String(20), nullable=False),
    Column("assigned_at", UtcDateTime, nullable=False),
    Column("scores", JSON, nullable=True),
    Column("points_centi", Integer, nullable=True),
    Column("onsite_date", Date, nullable=True),
    Column("findings", Text, nullable=True),
    Column("scored_at", UtcDateTime, nullable=True),
    UniqueConstraint("application_id", "expert_id", name="one_assignment_per_expert"),
    Index("ix_assignments_expert", "expert_id"),
)

# ------------------------------------------------------------------ public notices

#: the last case number given per kind and year (GS 公示)
case_counters = case_counter_table(metadata)

notices = Table(
    "notices",
    metadata,
    Column("id", String(36), primary_key=True),
    #: the notice's case number, GS-<year>-<n> (services/runtime/db/case_numbers.py), by the Beijing year of publication
    Column("case_no", String(20), nullable=False, unique=True),
    Column("kind", String(20), nullable=False),
    Column("year", Integer, nullable=False),
    Column("title", String(200), nullable=False),
    #: published → final
    Column("status", String(20), nullable=False),
    Column("published_on", Date, nullable=False),
    Column("opens_on", Date, nullable=False),
    Column("closes_on", Date, nullable=False),
    Column("published_at", UtcDateTime, nullable=False),
    Column("finalized_at", UtcDateTime, nullable=True),
    Index("ix_notices_kind_year", "kind", "year"),
)

notice_items = Table(
    "notice_items",
    metadata,
    Column("notice_id", String(36), ForeignKey("notices.id"), primary_key=True),
    Column("ref", String(36), primary_key=True),
    Column("position", Integer, nullable=False),
    Column("unit_id", String(36), nullable=False),
    Column("label", String(300), nullable=False),
    Column("amount_fen", BigInteger, nullable=False),
    Column("grade", String(20), nullable=True),
    Column("total_centi", Integer, nullable=True),
    #: listed | held (an objection is open) | withdrawn
    Column("state", String(20), nullable=False),
)

objections = Table(
    "objections",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("notice_id", String(36), ForeignKey("notices.id"), nullable=False),
    Column("ref", String(36), nullable=False),
    Column("unit_id", String(36), nullable=False),
    Column("name", String(100), nullable=False),
    #: phone or identity number, AES-GCM token (field "objection.contact"); only the mask is shown
    Column("contact_kind", String(20), nullable=False),
    Column("contact_enc", Text, nullable=False),
    Column("contact_masked", String(40), nullable=False),
    Column("text", Text, nullable=False),
    #: open → resolved
    Column("status", String(20), nullable=False),
    Column("outcome", String(20), nullable=True),
    Column("resolution", Text, nullable=True),
    Column("raised_at", UtcDateTime, nullable=False),
    Column("resolved_at", UtcDateTime, nullable=True),
    Column("resolved_by", String(200), nullable=True),
    Index("ix_objections_notice", "notice_id", "status"),
)

# ------------------------------------------------------------------ awards

provincial_awards = Table(
    "provincial_awards",
    metadata,
    Column("unit_id", String(36), primary_key=True),
    Column("year", Integer, primary_key=True, autoincrement=False),
    Column("reference", String(200), nullable=False),
    Column("recorded_at", UtcDateTime, nullable=False),
    Column("recorded_by", String(200), nullable=False),
)

awards = Table(
    "awards",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("year", Integer, nullable=False),
    Column("unit_id", String(36), nullable=False),
    Column("application_id", String(36), nullable=False),
    Column("grade", String(20), nullable=False),
    Column("total_centi", Integer, nullable=False),
    Column("rank", Integer, nullable=False),
    Column("amount_fen", BigInteger, nullable=False),
    #: funded | provincial_award | budget_exhausted | unqualified | disqualified | blacklisted (R27)
    Column("outcome", String(20), nullable=False),
    #: proposed → approved | withdrawn (an objection took the line off)
    Column("status", String(20), nullable=False),
    Column("notice_id", String(36), nullable=True),
    Column("rectification_deadline", Date, nullable=True),
    UniqueConstraint("year", "unit_id", name="one_award_line_per_unit_year"),
)

# ------------------------------------------------------------------ read model: vouchers' redemption reviews

redemption_view = Table(
    "redemption_view",
    metadata,
    Column("claim_id", String(36), primary_key=True),
    Column("unit_id", String(36), nullable=False),
    Column("year", Integer, nullable=False),
    Column("approved", Boolean, nullable=False),
    Column("approved_fen", BigInteger, nullable=False),
    Column("reviewed_at", UtcDateTime, nullable=False),
    #: the redemption notice that listed the claim (None: not noticed yet)
    Column("notice_id", String(36), nullable=True),
    Index("ix_redemption_view_year", "year", "approved"),
)
