"""Units and users: kinds, classes, the unit state machine, voucher
acceptance (R18), affiliations (R26) and the blacklist (R26, R27)
(M3, R3, R4, R7, R13). Pure: no I/O."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from enum import StrEnum

import msgspec

from services.runtime.city import City
from services.runtime.errors import Conflict, DomainError
from services.runtime.yearly import ByYear


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


def check_reason(reason: str | None, *, required: bool, what_zh: str = "驳回", what_en: str = "a rejection") -> str | None:
    text = (reason or "").strip()
    if required and not text:
        raise DomainError("decision.reason_required", f"{what_zh}必须填写理由", f"{what_en} needs a reason")
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


def check_county(county_code: str | None, city: City) -> str | None:
    """A unit's county is one of ``city``'s divisions (the city file, XCISS_CITY_FILE), or
    none: another code would put the unit outside every county report and filter."""
    if county_code is None or county_code in city.divisions:
        return county_code
    raise unknown_county(county_code, city)


def unknown_county(county_code: str, city: City, *, search: bool = False) -> DomainError:
    """The refusal of a county code that is none of ``city``'s divisions, in the one wording
    of a unit's application (422 ``unit.unknown_county``) and the catalogue search (400
    ``search.unknown_county``), with the field and the codes allowed."""
    county_zh = f"“{county_code}”不是{city.name.zh}的县（市、区）代码"
    county_en = f"{county_code!r} is not a county code of {city.name.en}"
    if search:
        return DomainError("search.unknown_county", county_zh, county_en, status=400, field="county_code", allowed=list(city.divisions))
    return DomainError("unit.unknown_county", county_zh, county_en, field="county_code", allowed=list(city.divisions))


# --- unit lifecycle (R7, R27) --------------------------------------------------


class UnitAction(StrEnum):
    SUSPEND = "suspend"
    REINSTATE = "reinstate"
    DISQUALIFY = "disqualify"


#: what the bureau may do to an approved unit, from which status, to which
#: status. Disqualification is final: nothing leaves DISQUALIFIED.
UNIT_TRANSITIONS: Mapping[tuple[UnitStatus, UnitAction], UnitStatus] = {
    (UnitStatus.APPROVED, UnitAction.SUSPEND): UnitStatus.SUSPENDED,
    (UnitStatus.SUSPENDED, UnitAction.REINSTATE): UnitStatus.APPROVED,
    (UnitStatus.APPROVED, UnitAction.DISQUALIFY): UnitStatus.DISQUALIFIED,
    (UnitStatus.SUSPENDED, UnitAction.DISQUALIFY): UnitStatus.DISQUALIFIED,
}

#: actions that take something away from the unit: they need a reason
REASON_REQUIRED = frozenset({UnitAction.SUSPEND, UnitAction.DISQUALIFY})


class UnitStatusChange(msgspec.Struct, frozen=True, kw_only=True):
    """A status change the bureau may make to a unit now, and whether it needs a reason."""

    action: UnitAction
    reason_required: bool


def allowed_unit_actions(status: UnitStatus | str) -> tuple[UnitStatusChange, ...]:
    """The status changes ``UNIT_TRANSITIONS`` allows from ``status``, in ``UnitAction``'s
    order, each with whether ``REASON_REQUIRED`` asks for a reason: what a client offers
    (the registry still refuses any other, ``unit_transition``)."""
    here = UnitStatus(status)
    return tuple(UnitStatusChange(action=a, reason_required=a in REASON_REQUIRED) for a in UnitAction if (here, a) in UNIT_TRANSITIONS)


#: a unit's status as a refusal says it (never the code)
_STATUS_ZH = {UnitStatus.APPLIED: "待审核", UnitStatus.APPROVED: "已批准", UnitStatus.REJECTED: "已驳回", UnitStatus.SUSPENDED: "已暂停共享", UnitStatus.DISQUALIFIED: "已取消共享资格"}
_ACTION_ZH = {UnitAction.SUSPEND: "暂停共享", UnitAction.REINSTATE: "恢复共享", UnitAction.DISQUALIFY: "取消共享资格"}
_ACTION_EN = {UnitAction.SUSPEND: "suspended", UnitAction.REINSTATE: "reinstated", UnitAction.DISQUALIFY: "disqualified"}
_DOING_EN = {UnitAction.SUSPEND: "suspending a unit's sharing", UnitAction.REINSTATE: "reinstating a unit's sharing", UnitAction.DISQUALIFY: "disqualifying a unit from sharing"}


def unit_transition(status: str, action: UnitAction) -> UnitStatus:
    """The status after ``action``; Conflict ``unit.illegal_transition`` otherwise."""
    target = UNIT_TRANSITIONS.get((UnitStatus(status), action))
    if target is None:
        raise Conflict(
            "unit.illegal_transition",
            f"该单位当前状态为“{_STATUS_ZH[UnitStatus(status)]}”，不能{_ACTION_ZH[action]}",
            f"a unit in status {status} cannot be {_ACTION_EN[action]}",
            current_status=status,
            action=str(action),
        )
    return target


def check_unit_reason(action: UnitAction, reason: str | None) -> str | None:
    return check_reason(reason, required=action in REASON_REQUIRED, what_zh=_ACTION_ZH[action], what_en=_DOING_EN[action])


# --- voucher acceptance (R18) -------------------------------------------------


class AcceptancePolicy(msgspec.Struct, frozen=True, kw_only=True):
    """R18 "有一定数量的专职技术人员": the number is a per-year policy parameter.
    No default here: its one home is the registry's policy file (section
    ``acceptance`` of ``services/registry/policy/registry.yaml``)."""

    min_full_time_staff: int

    def __post_init__(self) -> None:
        if isinstance(self.min_full_time_staff, bool) or not isinstance(self.min_full_time_staff, int) or self.min_full_time_staff < 0:
            raise ValueError(f"min_full_time_staff must be an int >= 0, got {self.min_full_time_staff!r}")


class AcceptancePolicies(ByYear[AcceptancePolicy], frozen=True, kw_only=True):
    """The R18 parameters by year; a grant is judged by those of its day's year (Asia/Shanghai)."""


class AcceptanceEvidence(msgspec.Struct, frozen=True, kw_only=True):
    full_time_staff: int
    service_content: str
    service_norms: str
    fees_published: bool
    no_bad_credit: bool


#: (code, message_zh, message_en) of each R18 condition that can fail
_ACCEPTANCE_FAILURES = {
    "acceptance.unit_not_approved": ("单位尚未获批加入平台或已被暂停、取消资格", "the unit is not an approved platform member"),
    "acceptance.no_staff": ("专职技术人员人数不足", "not enough full-time technical staff"),
    "acceptance.no_service_content": ("未明确服务内容", "no service content is stated"),
    "acceptance.no_service_norms": ("未明确服务规范", "no service norms are stated"),
    "acceptance.fees_not_published": ("收费标准未公开", "the fees are not published"),
    "acceptance.service_info_unpublished": (
        "未在平台公布服务内容和联系方式（联系人、联系电话、地址）",
        "the unit has not published its service content and contact (person, phone, address)",
    ),
    "acceptance.bad_credit": ("存在不良信用记录", "the unit has a bad credit record"),
    "acceptance.blacklisted": ("单位已列入诚信黑名单", "the unit is on the blacklist"),
}


def acceptance_failures(
    status: str, evidence: AcceptanceEvidence, policy: AcceptancePolicy, *, blacklisted: bool, unpublished: Sequence[str] = ()
) -> list[str]:
    """Every R18 condition the unit fails, in a stable order; empty means grant.
    ``unpublished``: the service-information fields the unit has not published."""
    failed: list[str] = []
    if UnitStatus(status) is not UnitStatus.APPROVED:
        failed.append("acceptance.unit_not_approved")
    if evidence.full_time_staff < policy.min_full_time_staff:
        failed.append("acceptance.no_staff")
    if not evidence.service_content.strip():
        failed.append("acceptance.no_service_content")
    if not evidence.service_norms.strip():
        failed.append("acceptance.no_service_norms")
    if not evidence.fees_published:
        failed.append("acceptance.fees_not_published")
    if unpublished:
        failed.append("acceptance.service_info_unpublished")
    if not evidence.no_bad_credit:
        failed.append("acceptance.bad_credit")
    if blacklisted:
        failed.append("acceptance.blacklisted")
    return failed


def check_acceptance(
    status: str, evidence: AcceptanceEvidence, policy: AcceptancePolicy, *, blacklisted: bool, unpublished: Sequence[str] = ()
) -> None:
    """422 ``acceptance.refused`` listing every failing condition (or the one code when only one fails);
    ``details.unpublished`` names the service-information fields still to publish."""
    failed = acceptance_failures(status, evidence, policy, blacklisted=blacklisted, unpublished=unpublished)
    if not failed:
        return
    failures = [{"code": c, "message_zh": _ACCEPTANCE_FAILURES[c][0], "message_en": _ACCEPTANCE_FAILURES[c][1]} for c in failed]
    first = failed[0] if len(failed) == 1 else "acceptance.refused"
    zh = "；".join(f["message_zh"] for f in failures)
    en = "; ".join(f["message_en"] for f in failures)
    extra = {"unpublished": list(unpublished)} if unpublished else {}
    raise DomainError(first, f"不符合接收科技创新券的条件（细则第十八条）：{zh}", f"the unit may not accept vouchers (R18): {en}", failures=failures, codes=failed, **extra)


# --- affiliations (R26) -------------------------------------------------------


class AffiliationKind(StrEnum):
    SUBORDINATION = "subordination"
    CO_CONSTRUCTION = "co_construction"
    PROPERTY_RIGHT = "property_right"


class AffiliationSource(StrEnum):
    DECLARED_BY_USER = "declared_by_user"
    DECLARED_BY_UNIT = "declared_by_unit"
    RECORDED_BY_REVIEWER = "recorded_by_reviewer"


def _lineage(unit_id: str, parent_of: Mapping[str, str | None]) -> list[str]:
    """``unit_id`` and its ancestors, nearest first (a cycle stops the walk)."""
    chain = [unit_id]
    parent = parent_of.get(unit_id)
    while parent is not None and parent not in chain:
        chain.append(parent)
        parent = parent_of.get(parent)
    return chain


def affiliated(user_ties: Iterable[str], unit_id: str, parent_of: Mapping[str, str | None]) -> bool:
    """Whether a user with active ties to the units ``user_ties`` is affiliated
    with ``unit_id`` (R26). A tie to a unit covers its parent and its children:
    a tie to a university covers its colleges (R13), and a tie to a college
    covers its university. Sibling colleges are not covered by each other."""
    target = _lineage(unit_id, parent_of)
    for tied in user_ties:
        if tied in target or unit_id in _lineage(tied, parent_of):
            return True
    return False


# --- blacklist (R26, R27) -----------------------------------------------------


class PartyType(StrEnum):
    USER = "user"
    UNIT = "unit"
