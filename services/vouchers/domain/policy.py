"""The yearly voucher policy and the user-side eligibility rules (R4, R15, R16).

Every number is a per-year parameter of the programme row, set when the
bureau opens the year; what it leaves out comes from the vouchers' policy
file (``services/vouchers/policy/programme.yaml``: Xuchang 2023's numbers),
never from a default here. Money is integer fen.
"""

from __future__ import annotations

from enum import StrEnum

import msgspec

from contracts.registry import SPECIAL_CLASSES, USER_CLASSES
from services.runtime.yearly import ByYear


class Reason(StrEnum):
    """Why a user cannot apply; each is a stable error code suffix."""

    UNKNOWN_USER = "user_unknown"
    NOT_VERIFIED = "user_not_verified"
    NOT_IN_CITY = "user_not_in_city"
    NOT_ELIGIBLE_CLASS = "user_class_not_eligible"


class ProgrammeParameters(msgspec.Struct, frozen=True, kw_only=True):
    """The numbers a programme year runs on (R15, R16, R19(2)). No defaults:
    the year's come from its programme row, which takes what the bureau leaves
    out from the policy file."""

    #: voucher share of the eligible fee in basis points (30% = 3000, R15)
    rate_bp: int
    #: yearly cap per user (R16): 50,000 CNY; innovation leaders and gazelles 100,000 CNY
    cap_fen: int
    special_cap_fen: int
    #: days after a rejection to appeal (R19(2))
    appeal_window_days: int
    #: approve an application in the submitting request when every check passes
    auto_approve: bool
    #: the user classes that may apply (R4: 规上工业企业、高新技术企业、科技型中小企业、创新创业团队)
    eligible_classes: tuple[str, ...]
    #: the classes with the higher cap (R16: 创新龙头企业、瞪羚企业)
    special_classes: tuple[str, ...]

    def __post_init__(self) -> None:
        for name in ("rate_bp", "cap_fen", "special_cap_fen", "appeal_window_days"):
            value = getattr(self, name)
            if type(value) is not int or value < 0:
                raise ValueError(f"{name} must be a non-negative integer")
        if self.rate_bp > 10_000:
            raise ValueError("rate_bp is at most 10000 (100%)")
        if type(self.auto_approve) is not bool:
            raise ValueError("auto_approve must be true or false")
        _check_classes("eligible_classes", self.eligible_classes, USER_CLASSES, empty=False)
        _check_classes("special_classes", self.special_classes, SPECIAL_CLASSES, empty=True)


def _check_classes(name: str, given: tuple[str, ...], known: tuple[str, ...], *, empty: bool) -> None:
    """A misspelt class would silently make nobody eligible: only the registry's words, each once."""
    if not given and not empty:
        raise ValueError(f"{name} must name at least one class")
    unknown = [c for c in given if c not in known]
    if unknown:
        raise ValueError(f"{name}: unknown class(es) {', '.join(map(repr, unknown))}; the classes are {', '.join(known)}")
    if len(set(given)) != len(given):
        raise ValueError(f"{name} names a class twice")


class ProgrammeDefaults(ByYear[ProgrammeParameters], frozen=True, kw_only=True):
    """The policy file's parameters by programme year: what a year opens with when the bureau leaves them out."""

    def policy_for(self, year: int) -> VoucherPolicy:
        """The file's numbers and classes of ``year``."""
        return VoucherPolicy(**msgspec.structs.asdict(self.for_year(year)))


class VoucherPolicy(ProgrammeParameters, frozen=True, kw_only=True):
    """A year's numbers and user classes (R4, R15, R16, R19(2)) as a decision reads them."""


class UserFacts(msgspec.Struct, frozen=True, kw_only=True):
    """What vouchers knows of a user (its read model row)."""

    verified: bool
    in_xuchang: bool
    classes: tuple[str, ...]
    special_classes: tuple[str, ...] = ()


class Eligibility(msgspec.Struct, frozen=True, kw_only=True):
    eligible: bool
    reasons: tuple[Reason, ...]
    yearly_cap_fen: int


def yearly_cap(policy: VoucherPolicy, facts: UserFacts) -> int:
    """R16: the higher cap for innovation leaders and gazelles."""
    if set(facts.special_classes) & set(policy.special_classes):
        return policy.special_cap_fen
    return policy.cap_fen


def eligibility(policy: VoucherPolicy, facts: UserFacts | None) -> Eligibility:
    """The user-side checks of R4: verified, registered in the city, an eligible class."""
    if facts is None:
        return Eligibility(eligible=False, reasons=(Reason.UNKNOWN_USER,), yearly_cap_fen=0)
    reasons: list[Reason] = []
    if not facts.verified:
        reasons.append(Reason.NOT_VERIFIED)
    if not facts.in_xuchang:
        reasons.append(Reason.NOT_IN_CITY)
    if not (set(facts.classes) & set(policy.eligible_classes)):
        reasons.append(Reason.NOT_ELIGIBLE_CLASS)
    return Eligibility(eligible=not reasons, reasons=tuple(reasons), yearly_cap_fen=yearly_cap(policy, facts))
