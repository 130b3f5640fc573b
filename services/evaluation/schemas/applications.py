"""The yearly cycle up to the grade: the cycle, applications, experts and
their assignments, evidence files, and an unqualified unit's rectification
(see :mod:`services.evaluation.schemas`)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any

import msgspec
from sqlalchemy.engine import RowMapping

from services.evaluation.domain import indicators as ind
from services.runtime.http.pagination import Page, page_schema

Row = RowMapping | dict[str, Any]


# ---------------------------------------------------------------- cycle


class Cycle(msgspec.Struct):
    year: int
    indicator_set_version: str
    award_budget_fen: int
    excellent_award_fen: int
    good_award_fen: int
    opened_at: datetime
    redemption_opens_on: date | None = None
    redemption_closes_on: date | None = None


def cycle(row: Row) -> Cycle:
    return Cycle(
        year=row["year"],
        indicator_set_version=row["indicator_set_version"],
        award_budget_fen=row["award_budget_fen"],
        excellent_award_fen=row["excellent_award_fen"],
        good_award_fen=row["good_award_fen"],
        opened_at=row["opened_at"],
        redemption_opens_on=row.get("redemption_opens_on"),
        redemption_closes_on=row.get("redemption_closes_on"),
    )


class IndicatorSetInForce(ind.IndicatorSet, frozen=True, kw_only=True):
    """The indicator set in force (public, ``getIndicatorSet``): the set as a cycle keeps it and,
    when a year is asked, that year's parameters (the key is absent otherwise)."""

    parameters_of_year: ind.YearParameters | msgspec.UnsetType = msgspec.UNSET


def indicator_set_in_force(s: ind.IndicatorSet, year: int | None) -> IndicatorSetInForce:
    return IndicatorSetInForce(**msgspec.structs.asdict(s), parameters_of_year=msgspec.UNSET if year is None else s.parameters(year))


# ---------------------------------------------------------------- rectification


class Rectification(msgspec.Struct):
    unit_id: str
    year: int
    deadline: date
    #: required (no report yet) | reported | passed | failed
    status: str
    report: str | None
    document_id: str | None
    reported_at: datetime | None
    outcome: str | None
    outcome_reason: str | None
    checked_at: datetime | None
    #: ``role:subject`` of the bureau's re-checker
    checked_by: str | None
    #: the report's version, its ``ETag`` (0 while no report was made: a first report
    #: is sent with ``If-None-Match: *``)
    version: int = 0


def rectification(deadline: date, row: Row | None, unit_id: str, year: int) -> Rectification:
    """The unit's rectification for the year: ``row`` None while no report was made."""
    if row is None:
        return Rectification(unit_id=unit_id, year=year, deadline=deadline, status="required", report=None, document_id=None, reported_at=None, outcome=None,
                             outcome_reason=None, checked_at=None, checked_by=None)
    return Rectification(
        unit_id=unit_id,
        year=year,
        deadline=deadline,
        status=row["outcome"] or "reported",
        report=row["report"],
        document_id=row["document_id"],
        reported_at=row["reported_at"],
        outcome=row["outcome"],
        outcome_reason=row["outcome_reason"],
        checked_at=row["checked_at"],
        checked_by=row["checked_by"],
        version=row["version"],
    )


# ---------------------------------------------------------------- applications


class Application(msgspec.Struct):
    application_id: str
    unit_id: str
    year: int
    status: str
    unit_name: str | None
    department: str | None
    #: the evidence files named, as the experts were given them (services.evaluation.evidence.material)
    materials: list[dict[str, Any]]
    statement: str | None
    submitted_at: datetime
    reviewed_at: datetime | None
    review_reason: str | None
    scores: dict[str, int] | None
    total_centi: int | None
    grade: str | None
    decided_at: datetime | None
    #: M15: an unqualified unit's rectification (deadline, report, re-check); on the single
    #: application's view for the unit, its department, center and bureau
    rectification: Rectification | None = None


def application(row: Row, unit: Row | None = None, rectification: Rectification | None = None) -> Application:
    """The application with its unit's name and department (``unit``: a ``unit_view`` row)."""
    return Application(
        application_id=row["id"],
        unit_id=row["unit_id"],
        year=row["year"],
        status=row["status"],
        unit_name=unit["name"] if unit else None,
        department=unit["department"] if unit else None,
        materials=list(row["materials"]),
        statement=row["statement"],
        submitted_at=row["submitted_at"],
        reviewed_at=row["reviewed_at"],
        review_reason=row["review_reason"],
        scores=dict(row["scores"]) if row["scores"] is not None else None,
        total_centi=row["total_centi"],
        grade=row["grade"],
        decided_at=row["decided_at"],
        rectification=rectification,
    )


ApplicationPage = Annotated[Page[Application], page_schema("ApplicationPage")]


# ---------------------------------------------------------------- experts


class Expert(msgspec.Struct):
    expert_id: str
    name: str
    role: str
    unit_id: str | None
    ties: list[str]
    registered_at: datetime


def expert(row: Row) -> Expert:
    return Expert(expert_id=row["id"], name=row["name"], role=row["role"], unit_id=row["unit_id"], ties=list(row["ties"]), registered_at=row["registered_at"])


ExpertPage = Annotated[Page[Expert], page_schema("ExpertPage")]


class Assignment(msgspec.Struct):
    assignment_id: str
    application_id: str
    expert_id: str
    role: str
    assigned_at: datetime
    scores: dict[str, int] | None
    points_centi: int | None
    onsite_date: date | None
    findings: str | None
    scored_at: datetime | None


def assignment(row: Row) -> Assignment:
    return Assignment(
        assignment_id=row["id"],
        application_id=row["application_id"],
        expert_id=row["expert_id"],
        role=row["role"],
        assigned_at=row["assigned_at"],
        scores=dict(row["scores"]) if row["scores"] is not None else None,
        points_centi=row["points_centi"],
        onsite_date=row["onsite_date"],
        findings=row["findings"],
        scored_at=row["scored_at"],
    )


AssignmentPage = Annotated[Page[Assignment], page_schema("AssignmentPage")]


# ---------------------------------------------------------------- evidence


class EvaluationDocument(msgspec.Struct):
    document_id: str
    unit_id: str
    #: self_assessment (自评报告) | supporting | rectification
    kind: str
    name: str
    content_type: str
    sha256: str
    size_bytes: int
    #: the application that names the file (None: not named yet, or a rectification file)
    application_id: str | None
    uploaded_at: datetime


def evaluation_document(row: Row) -> EvaluationDocument:
    return EvaluationDocument(
        document_id=row["id"],
        unit_id=row["unit_id"],
        kind=row["kind"],
        name=row["name"],
        content_type=row["content_type"],
        sha256=row["sha256"],
        size_bytes=row["size_bytes"],
        application_id=row["application_id"],
        uploaded_at=row["uploaded_at"],
    )
