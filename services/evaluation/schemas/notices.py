"""Public notices and what follows them: notices and their lines, objections,
provincial awards, the award plan with its approval, and reviewed voucher
redemptions (see :mod:`services.evaluation.schemas`)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from typing import Annotated, Any

import msgspec
from sqlalchemy.engine import RowMapping

from services.runtime.http.pagination import Page, page_schema

Row = RowMapping | dict[str, Any]


# ---------------------------------------------------------------- notices


class NoticeItem(msgspec.Struct):
    ref: str
    unit_id: str
    label: str
    amount_fen: int
    grade: str | None
    total_centi: int | None
    #: listed | held (an objection is open) | withdrawn
    state: str


def notice_item(row: Row) -> NoticeItem:
    return NoticeItem(ref=row["ref"], unit_id=row["unit_id"], label=row["label"], amount_fen=row["amount_fen"], grade=row["grade"], total_centi=row["total_centi"],
                      state=row["state"])


class Notice(msgspec.Struct):
    notice_id: str
    #: the case number people read and say (GS-2026-000012): unique, numbered per Beijing year of publication
    case_no: str
    kind: str
    year: int
    title: str
    status: str
    published_on: date
    opens_on: date
    closes_on: date
    published_at: datetime
    finalized_at: datetime | None
    items: list[NoticeItem] | None = None
    open_objections: int | None = None


def notice(row: Row, items: Iterable[Row] | None = None, open_objections: int | None = None) -> Notice:
    """The notice; with its lines (``items``, in order) and open objections when given."""
    return Notice(
        notice_id=row["id"],
        case_no=row["case_no"],
        kind=row["kind"],
        year=row["year"],
        title=row["title"],
        status=row["status"],
        published_on=row["published_on"],
        opens_on=row["opens_on"],
        closes_on=row["closes_on"],
        published_at=row["published_at"],
        finalized_at=row["finalized_at"],
        items=[notice_item(i) for i in items] if items is not None else None,
        open_objections=open_objections,
    )


NoticePage = Annotated[Page[Notice], page_schema("NoticePage")]


# ---------------------------------------------------------------- objections


class Objection(msgspec.Struct):
    objection_id: str
    notice_id: str
    ref: str
    unit_id: str
    name: str
    contact_kind: str
    #: masked: 138****5678, 411002********1234
    contact: str
    text: str
    status: str
    outcome: str | None
    resolution: str | None
    raised_at: datetime
    resolved_at: datetime | None


def objection(row: Row) -> Objection:
    """The objection with its contact masked (the encrypted contact never leaves the row)."""
    return Objection(
        objection_id=row["id"],
        notice_id=row["notice_id"],
        ref=row["ref"],
        unit_id=row["unit_id"],
        name=row["name"],
        contact_kind=row["contact_kind"],
        contact=row["contact_masked"],
        text=row["text"],
        status=row["status"],
        outcome=row["outcome"],
        resolution=row["resolution"],
        raised_at=row["raised_at"],
        resolved_at=row["resolved_at"],
    )


ObjectionPage = Annotated[Page[Objection], page_schema("ObjectionPage")]


# ---------------------------------------------------------------- awards


class ProvincialAward(msgspec.Struct):
    unit_id: str
    year: int
    reference: str
    recorded_at: datetime


def provincial_award(row: Row) -> ProvincialAward:
    return ProvincialAward(unit_id=row["unit_id"], year=row["year"], reference=row["reference"], recorded_at=row["recorded_at"])


ProvincialAwardPage = Annotated[Page[ProvincialAward], page_schema("ProvincialAwardPage")]


class AwardLine(msgspec.Struct):
    award_id: str
    year: int
    unit_id: str
    application_id: str
    grade: str
    total_centi: int
    rank: int
    amount_fen: int
    #: funded | provincial_award | budget_exhausted | unqualified | disqualified | blacklisted (R27)
    outcome: str
    #: proposed | approved | withdrawn | not_awarded
    status: str
    notice_id: str | None
    rectification_deadline: date | None


def award_line(row: Row) -> AwardLine:
    return AwardLine(
        award_id=row["id"],
        year=row["year"],
        unit_id=row["unit_id"],
        application_id=row["application_id"],
        grade=row["grade"],
        total_centi=row["total_centi"],
        rank=row["rank"],
        amount_fen=row["amount_fen"],
        outcome=row["outcome"],
        status=row["status"],
        notice_id=row["notice_id"],
        rectification_deadline=row["rectification_deadline"],
    )


class AwardPlanApproval(msgspec.Struct):
    """R14(4): the bureau's approval of the plan, before its notice."""

    year: int
    approved_at: datetime
    #: ``role:subject`` of the approver
    approved_by: str
    reason: str | None
    #: when it went on notice (None: approved, not yet published)
    published_at: datetime | None


def award_plan_approval(row: Row) -> AwardPlanApproval:
    return AwardPlanApproval(year=row["year"], approved_at=row["approved_at"], approved_by=row["approved_by"], reason=row["reason"], published_at=row["published_at"])


class AwardPlan(msgspec.Struct):
    year: int
    budget_fen: int
    planned_fen: int
    #: None until the approved plan is published, and when nobody is awarded (no list to notice)
    notice: Notice | None
    lines: list[AwardLine]
    #: None while the plan awaits the bureau's approval
    approval: AwardPlanApproval | None = None


# ---------------------------------------------------------------- redemptions


class Redemption(msgspec.Struct):
    claim_id: str
    unit_id: str
    year: int
    approved: bool
    approved_fen: int
    reviewed_at: datetime
    notice_id: str | None


def redemption(row: Row) -> Redemption:
    return Redemption(claim_id=row["claim_id"], unit_id=row["unit_id"], year=row["year"], approved=row["approved"], approved_fen=row["approved_fen"],
                      reviewed_at=row["reviewed_at"], notice_id=row["notice_id"])


RedemptionPage = Annotated[Page[Redemption], page_schema("RedemptionPage")]
