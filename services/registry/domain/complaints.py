"""Complaints: the platform accepts public supervision (M11(6) of attachment 1:
接受社会监督).

Anybody — the public without signing in, with a contact if they wish, or a
signed-in user — complains about a unit or one of its orders, in a category
and with a text. The center handles each complaint within N working days of
the day it was filed (the filing day is not counted, Civil Code art. 201; make-up
working days count, public holidays do not) and records the outcome, upheld or
dismissed, with a reason. An open complaint past its deadline is *overdue*.

N is a per-year parameter: the bureau sets a year's (``complaint_policies``);
a year it has not set takes :class:`ComplaintPolicy` of the registry's policy
file (section ``complaints`` of ``services/registry/policy/registry.yaml``:
**choice: 15 working days**, the time Chinese public-service hotlines commonly
give for a reply).
"""

from __future__ import annotations

from datetime import date
from enum import StrEnum

import msgspec

from services.runtime.errors import Conflict, DomainError
from services.runtime.workdays import WorkdayCalendar
from services.runtime.yearly import ByYear

__all__ = [
    "MAX_CONTACT_CHARS",
    "MAX_REASON_CHARS",
    "MAX_TEXT_CHARS",
    "ComplaintCategory",
    "ComplaintPolicies",
    "ComplaintPolicy",
    "ComplaintStatus",
    "Outcome",
    "check_decision",
    "check_handling_workdays",
    "check_text",
    "due_on",
    "is_overdue",
]

#: a deadline longer than this many working days (a year) is refused
MAX_HANDLING_WORKDAYS = 250
#: the longest texts taken (characters, after stripping); the one home of these limits: a
#: longer one is refused by :func:`check_text` with ``details`` ``{"field", "limit"}``, which
#: is what the portal shows (the API's request schema leaves the length to this check)
MAX_TEXT_CHARS = 5000
MAX_CONTACT_CHARS = 200
MAX_REASON_CHARS = 2000


class ComplaintCategory(StrEnum):
    fees = "fees"  # 收费
    service_quality = "service_quality"  # 服务质量
    refusal = "refusal"  # 拒绝或拖延开放共享
    confidentiality = "confidentiality"  # 泄露技术秘密或成果（R23）
    other = "other"  # 其他


class ComplaintStatus(StrEnum):
    open = "open"  # 待处理
    upheld = "upheld"  # 投诉成立
    dismissed = "dismissed"  # 投诉不成立


class Outcome(StrEnum):
    upheld = "upheld"
    dismissed = "dismissed"


def check_text(text: str | None, *, field: str, limit: int, required: bool, what_zh: str, what_en: str) -> str | None:
    """A stripped text field; empty is None (refused when required), too long refused
    (``complaint.field_too_long`` with ``details`` ``{"field": field, "limit": limit}``)."""
    value = (text or "").strip()
    if required and not value:
        raise DomainError("complaint.field_required", f"请填写{what_zh}", f"{what_en} is required", field=field)
    if len(value) > limit:
        raise DomainError("complaint.field_too_long", f"{what_zh}不得超过 {limit} 字", f"{what_en} has at most {limit} characters", field=field, limit=limit)
    return value or None


def check_handling_workdays(n: int) -> int:
    if isinstance(n, bool) or not isinstance(n, int) or not 1 <= n <= MAX_HANDLING_WORKDAYS:
        raise DomainError(
            "complaint.invalid_deadline",
            f"处理时限应为 1 至 {MAX_HANDLING_WORKDAYS} 个工作日",
            f"the handling deadline is 1 to {MAX_HANDLING_WORKDAYS} working days",
            field="handling_workdays",
        )
    return n


class ComplaintPolicy(msgspec.Struct, frozen=True, kw_only=True):
    """A year's handling deadline when the bureau has not set one (from the policy file; no default here)."""

    handling_workdays: int

    def __post_init__(self) -> None:
        n = self.handling_workdays
        if isinstance(n, bool) or not isinstance(n, int) or not 1 <= n <= MAX_HANDLING_WORKDAYS:
            raise ValueError(f"handling_workdays must be an int from 1 to {MAX_HANDLING_WORKDAYS}, got {n!r}")


class ComplaintPolicies(ByYear[ComplaintPolicy], frozen=True, kw_only=True):
    """The file's handling deadlines by year of filing (Asia/Shanghai)."""


def due_on(filed_on: date, handling_workdays: int, calendar: WorkdayCalendar) -> date:
    """The last day to handle a complaint filed on ``filed_on`` (a local date):
    the ``handling_workdays``-th working day after it."""
    return calendar.add_workdays(filed_on, handling_workdays)


def is_overdue(status: str, due: date, today: date) -> bool:
    """Open after its last day."""
    return ComplaintStatus(status) is ComplaintStatus.open and today > due


def check_decision(status: str, outcome: Outcome | str, reason: str | None) -> tuple[ComplaintStatus, str]:
    """An open complaint is upheld or dismissed once, always with a reason."""
    if ComplaintStatus(status) is not ComplaintStatus.open:
        raise Conflict("complaint.already_decided", "该投诉已处理", "the complaint has already been decided", status_now=str(status))
    text = check_text(reason, field="reason", limit=MAX_REASON_CHARS, required=True, what_zh="处理理由", what_en="the reason of the outcome")
    assert text is not None
    return ComplaintStatus(str(Outcome(outcome))), text
