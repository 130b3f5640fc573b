"""Events produced by the evaluation service (stream ``EVALUATION``).

Evaluation owns the yearly cycle of unit evaluation (M13–M15, R11–R14), the
public notices (公示) used for grades, award plans and voucher redemptions
(R14(3), R20), and the award plan. Amounts in fen; scores in hundredths of a
point (``8550`` = 85.50 of 100) so that no float crosses the bus.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import ClassVar, Literal

import msgspec

from contracts.envelope import Event
from contracts.subjects import subject

Grade = Literal["excellent", "good", "unqualified"]
NoticeKind = Literal["grades", "award_plan", "redemption"]


class CycleOpened(Event, frozen=True, kw_only=True):
    subject: ClassVar[str] = subject("evaluation", "cycle", "opened")
    summary: ClassVar[str] = "The bureau opened the year's evaluation with its indicator set and award budget (M13, R11)."
    year: int
    indicator_set_version: str
    award_budget_fen: int
    excellent_award_fen: int
    good_award_fen: int
    #: R20(1): the voucher redemption window opened with the cycle (both or neither)
    redemption_opens_on: date | None = None
    redemption_closes_on: date | None = None


class ApplicationSnapshot(Event, frozen=True, kw_only=True):
    application_id: str
    unit_id: str
    year: int
    status: str


class ApplicationSubmitted(ApplicationSnapshot, frozen=True, kw_only=True):
    subject: ClassVar[str] = subject("evaluation", "application", "submitted")
    summary: ClassVar[str] = "A unit applied for the year's evaluation with its materials (M14(2), R14(2))."


class ApplicationForwarded(ApplicationSnapshot, frozen=True, kw_only=True):
    subject: ClassVar[str] = subject("evaluation", "application", "forwarded")
    summary: ClassVar[str] = "The unit's competent department reviewed the application and forwarded it (M10, R8)."


class ApplicationReturned(ApplicationSnapshot, frozen=True, kw_only=True):
    subject: ClassVar[str] = subject("evaluation", "application", "returned")
    summary: ClassVar[str] = "The competent department returned the application to the unit, with a reason (M10, R8)."
    reason: str


class ScoreRecorded(Event, frozen=True, kw_only=True):
    subject: ClassVar[str] = subject("evaluation", "score", "recorded")
    summary: ClassVar[str] = "An assigned expert recorded scores and the on-site check for an application (R14(3))."
    application_id: str
    unit_id: str
    year: int
    assignment_id: str
    expert_role: Literal["management", "technical", "finance"]
    points_centi: int


class GradeDecided(Event, frozen=True, kw_only=True):
    subject: ClassVar[str] = subject("evaluation", "grade", "decided")
    summary: ClassVar[str] = "Computed and expert scores were combined into the unit's total and grade for the year (R11, R12)."
    application_id: str
    unit_id: str
    year: int
    total_centi: int
    grade: Grade


class NoticeItem(msgspec.Struct, frozen=True, kw_only=True):
    #: what the line is about: an application id (grades), an award id
    #: (award plan) or a redemption claim id (redemption)
    ref: str
    unit_id: str
    label: str
    amount_fen: int = 0
    grade: Grade | None = None


class NoticePublished(Event, frozen=True, kw_only=True):
    subject: ClassVar[str] = subject("evaluation", "notice", "published")
    summary: ClassVar[str] = "A public notice (公示) opened with its list and its objection window in working days (R14(3), R20)."
    notice_id: str
    kind: NoticeKind
    year: int
    title: str
    opens_on: date
    closes_on: date
    items: list[NoticeItem]
    #: the notice's case number people read and say (GS-2026-000012); None from producers before it was added
    case_no: str | None = None


class ObjectionRaised(Event, frozen=True, kw_only=True):
    subject: ClassVar[str] = subject("evaluation", "objection", "raised")
    summary: ClassVar[str] = "A real-name objection was raised against a line of a notice; that case is reopened (R14(3))."
    notice_id: str
    objection_id: str
    kind: NoticeKind
    year: int
    ref: str
    unit_id: str
    #: the notice's case number people read and say (GS-2026-000012); None from producers before it was added
    case_no: str | None = None
    #: the objected line as the notice shows it (public); None from producers before it was added
    label: str | None = None


class ObjectionResolved(Event, frozen=True, kw_only=True):
    subject: ClassVar[str] = subject("evaluation", "objection", "resolved")
    summary: ClassVar[str] = "The center resolved an objection: the line stands, is corrected, or is withdrawn from the list."
    notice_id: str
    objection_id: str
    kind: NoticeKind
    year: int
    ref: str
    unit_id: str
    outcome: Literal["upheld_line", "corrected", "withdrawn"]


class NoticeFinalized(Event, frozen=True, kw_only=True):
    subject: ClassVar[str] = subject("evaluation", "notice", "finalized")
    summary: ClassVar[str] = "A notice's window closed with no open objection; its list (as corrected) is final (R14(3), R20)."
    notice_id: str
    kind: NoticeKind
    year: int
    finalized_at: datetime
    items: list[NoticeItem]
    #: the notice's case number people read and say (GS-2026-000012); None from producers before it was added
    case_no: str | None = None


class AwardApproved(Event, frozen=True, kw_only=True):
    subject: ClassVar[str] = subject("evaluation", "award", "approved")
    summary: ClassVar[str] = "A unit's city award for the year is approved after the award plan's notice became final (R12, R14(4))."
    award_id: str
    unit_id: str
    year: int
    grade: Grade
    amount_fen: int
    notice_id: str


class RectificationRequired(Event, frozen=True, kw_only=True):
    subject: ClassVar[str] = subject("evaluation", "rectification", "required")
    summary: ClassVar[str] = "An unqualified unit was notified and given a rectification deadline (M15)."
    unit_id: str
    year: int
    deadline: date


class RectificationRechecked(Event, frozen=True, kw_only=True):
    subject: ClassVar[str] = subject("evaluation", "rectification", "rechecked")
    summary: ClassVar[str] = "The bureau re-checked an unqualified unit's rectification report: passed or failed (M15 限期整改)."
    unit_id: str
    year: int
    #: the rectification deadline the report was made by
    deadline: date
    outcome: Literal["passed", "failed"]


class UnitRecognised(Event, frozen=True, kw_only=True):
    subject: ClassVar[str] = subject("evaluation", "unit", "recognised")
    summary: ClassVar[str] = "An excellent unit is announced for priority support in equipment purchase and project approval (M15)."
    unit_id: str
    year: int
    grade: Grade


ExpertRole = Literal["management", "technical", "finance"]


class ExpertRegistered(Event, frozen=True, kw_only=True):
    subject: ClassVar[str] = subject("evaluation", "expert", "registered")
    summary: ClassVar[str] = (
        "The center registered an expert: role, own unit and declared ties, for the conflict-of-interest check when experts are assigned"
        " to evaluation applications or voucher redemption claims (R14(3)). Internal (no name)."
    )
    expert_id: str
    role: ExpertRole
    unit_id: str | None = None
    ties: list[str] = []


EVENTS: tuple[type[Event], ...] = (
    CycleOpened,
    ExpertRegistered,
    ApplicationSubmitted,
    ApplicationForwarded,
    ApplicationReturned,
    ScoreRecorded,
    GradeDecided,
    NoticePublished,
    ObjectionRaised,
    ObjectionResolved,
    NoticeFinalized,
    AwardApproved,
    RectificationRequired,
    RectificationRechecked,
    UnitRecognised,
)
