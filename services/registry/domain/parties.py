"""Units and users: kinds, classes and the unit approval state machine
(M3, R3, R4, R7, R13). Pure: no I/O."""

from __future__ import annotations

from enum import StrEnum

from services.runtime.errors import Conflict, DomainError


class UnitKind(StrEnum):
    UNIVERSITY = "university"
    INSTITUTE = "institute"
    NEW_RD_INSTITUTION = "new_rd_institution"
    ENTERPRISE = "enterprise"
    COLLEGE = "college"
    OTHER = "other"


class UnitStatus(StrEnum):
    APPLIED = "applied"
    APPROVED = "approved"
    REJECTED = "rejected"
    SUSPENDED = "suspended"
    DISQUALIFIED = "disqualified"


class UserKind(StrEnum):
    ENTERPRISE = "enterprise"
    TEAM = "team"


class UserClass(StrEnum):
    ABOVE_SCALE_INDUSTRIAL = "above_scale_industrial"
    HIGH_TECH = "high_tech"
    TECH_SME = "tech_sme"
    STARTUP_TEAM = "startup_team"


class SpecialClass(StrEnum):
    INNOVATION_LEADER = "innovation_leader"
    GAZELLE = "gazelle"


#: the bureau decides an application once (R7); later changes are suspensions
DECIDABLE = frozenset({UnitStatus.APPLIED})


def check_decidable(status: str) -> None:
    if UnitStatus(status) not in DECIDABLE:
        raise Conflict(
            "unit.already_decided",
            f"该单位的申请已处理（当前状态：{status}），不能重复审批",
            f"the unit's application was already decided (status {status})",
        )


def check_reason(reason: str | None, *, required: bool) -> str | None:
    text = (reason or "").strip()
    if required and not text:
        raise DomainError("decision.reason_required", "驳回必须填写理由", "a rejection needs a reason")
    if len(text) > 2000:
        raise DomainError("decision.reason_too_long", "理由不能超过2000字", "the reason may not exceed 2000 characters")
    return text or None


def check_user_classes(kind: UserKind, classes: list[UserClass], special: list[SpecialClass]) -> None:
    """A team is a start-up team and nothing else; an enterprise is not a team."""
    if kind is UserKind.TEAM and set(classes) != {UserClass.STARTUP_TEAM}:
        raise DomainError("user.team_class", "创新创业团队只能登记为“创新创业团队”类别", "a team's only class is startup_team")
    if kind is UserKind.ENTERPRISE and UserClass.STARTUP_TEAM in classes:
        raise DomainError("user.enterprise_class", "企业不能登记为创新创业团队", "an enterprise cannot have the startup_team class")
    if len(set(classes)) != len(classes) or len(set(special)) != len(special):
        raise DomainError("user.duplicate_class", "类别不能重复", "classes must not repeat")
