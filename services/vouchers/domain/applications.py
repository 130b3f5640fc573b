"""Voucher applications: every check of DOMAIN.md's "Checks" list, each with
its own reason, and the amount (R4–R6, R15, R16, R18, R22, R26). Pure.

Amount: the voucher rate (30%) of the eligible fee, rounded *down* to the fen,
and no more than what is left of the user's yearly cap and of the city budget.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from enum import StrEnum

import msgspec

from services.runtime.clock import POLICY_ZONE, local_year
from services.vouchers.domain.policy import UserFacts, VoucherPolicy, yearly_cap

SHANGHAI = POLICY_ZONE


class Check(StrEnum):
    """Why an application fails; ``voucher.<value>`` is the error code."""

    USER_NOT_VERIFIED = "user_not_verified"  # R4, R19(1)
    USER_NOT_IN_CITY = "user_not_in_city"  # R4
    USER_CLASS_NOT_ELIGIBLE = "user_class_not_eligible"  # R4
    USER_BLACKLISTED = "user_blacklisted"  # R26
    USER_UNSOUND_FINANCES = "user_unsound_finances"  # R26
    AFFILIATED = "affiliated_with_unit"  # R26
    UNIT_NOT_ACCEPTOR = "unit_not_acceptor"  # R18
    UNIT_BLACKLISTED = "unit_blacklisted"  # R26, R27
    STATUTORY_TESTING = "statutory_testing"  # R5
    TESTING_FEE_NOT_LISTED = "testing_fee_not_listed"  # R22
    CONTRACT_ALREADY_USED = "contract_already_used"  # R22
    PROVINCIAL_SUBSIDY = "provincial_subsidy"  # R6
    PROGRAMME_NOT_OPEN = "programme_not_open"  # R15
    BUDGET_EXHAUSTED = "budget_exhausted"  # R15
    CAP_EXHAUSTED = "cap_exhausted"  # R16
    AMOUNT_ZERO = "amount_zero"


#: the order in which failures are reported (stable for clients and tests)
ORDER: tuple[Check, ...] = tuple(Check)

MESSAGES: dict[Check, tuple[str, str]] = {
    Check.USER_NOT_VERIFIED: ("用户尚未通过平台审核", "the user has not been verified by the center"),
    Check.USER_NOT_IN_CITY: ("用户不是在{city}登记注册的企业或团队", "the user is not registered in {city}"),
    Check.USER_CLASS_NOT_ELIGIBLE: ("用户不属于规上工业企业、高新技术企业、科技型中小企业或创新创业团队", "the user is not of an eligible class"),
    Check.USER_BLACKLISTED: ("用户在诚信黑名单中", "the user is on the credit blacklist"),
    Check.USER_UNSOUND_FINANCES: ("用户财务管理制度不健全", "the user's financial management is not sound"),
    Check.AFFILIATED: ("用户与服务单位存在隶属、共建或产权关联关系", "the user is affiliated with the unit"),
    Check.UNIT_NOT_ACCEPTOR: ("服务单位未获准接收科技创新券", "the unit is not approved to accept vouchers"),
    Check.UNIT_BLACKLISTED: ("服务单位在诚信黑名单中", "the unit is on the credit blacklist"),
    Check.STATUTORY_TESTING: ("强制性检测、法定检测不在支持范围内", "statutory or mandatory testing is outside the policy"),
    Check.TESTING_FEE_NOT_LISTED: ("合同未列明检验检测费用", "the contract does not list the testing fee"),
    Check.CONTRACT_ALREADY_USED: ("该合同已申请过科技创新券", "this contract has already had a voucher"),
    Check.PROVINCIAL_SUBSIDY: ("该服务已享受省级补贴", "this service already had a provincial subsidy"),
    Check.PROGRAMME_NOT_OPEN: ("本年度创新券尚未开放或已关闭", "the year's voucher programme is not open"),
    Check.BUDGET_EXHAUSTED: ("本年度创新券预算已用完，停止申用", "the year's voucher budget is committed: applications have stopped"),
    Check.CAP_EXHAUSTED: ("用户本年度创新券额度已用完", "the user's yearly cap is used up"),
    Check.AMOUNT_ZERO: ("可抵扣金额为零", "the voucher amount would be zero"),
}


def words(check: Check, city_zh: str, city_en: str) -> tuple[str, str]:
    """A check's refusal in Chinese and English; R4's names the city (its name in the
    city file, ``XCISS_CITY_FILE``), the others name none."""
    zh, en = MESSAGES[check]
    return zh.replace("{city}", city_zh), en.replace("{city}", city_en)


class ApplicationFacts(msgspec.Struct, frozen=True, kw_only=True):
    """Everything the checks need, gathered by the use case from read models."""

    user_verified: bool
    user_in_city: bool
    user_classes: tuple[str, ...]
    user_special_classes: tuple[str, ...] = ()
    user_blacklisted: bool = False
    user_sound_finances: bool = True
    affiliated: bool = False
    unit_accepts_vouchers: bool
    unit_blacklisted: bool = False
    statutory_testing: bool = False
    testing_fee_fen: int
    contract_used: bool = False
    provincial_subsidy: bool = False
    programme_open: bool
    budget_remaining_fen: int
    user_committed_fen: int = 0


class Decision(msgspec.Struct, frozen=True, kw_only=True):
    failures: tuple[Check, ...]
    amount_fen: int
    cap_fen: int

    @property
    def approvable(self) -> bool:
        return not self.failures


def raw_amount(fee_fen: int, rate_bp: int) -> int:
    """``rate`` of the fee, rounded down to the fen (integer arithmetic only)."""
    if type(fee_fen) is not int or fee_fen < 0:
        raise ValueError("fee_fen must be a non-negative integer")
    return fee_fen * rate_bp // 10_000


def decide(policy: VoucherPolicy, f: ApplicationFacts) -> Decision:
    """Run every check; the amount is what would be reserved if approved."""
    failures: set[Check] = set()
    if not f.user_verified:
        failures.add(Check.USER_NOT_VERIFIED)
    if not f.user_in_city:
        failures.add(Check.USER_NOT_IN_CITY)
    if not set(f.user_classes) & set(policy.eligible_classes):
        failures.add(Check.USER_CLASS_NOT_ELIGIBLE)
    if f.user_blacklisted:
        failures.add(Check.USER_BLACKLISTED)
    if not f.user_sound_finances:
        failures.add(Check.USER_UNSOUND_FINANCES)
    if f.affiliated:
        failures.add(Check.AFFILIATED)
    if not f.unit_accepts_vouchers:
        failures.add(Check.UNIT_NOT_ACCEPTOR)
    if f.unit_blacklisted:
        failures.add(Check.UNIT_BLACKLISTED)
    if f.statutory_testing:
        failures.add(Check.STATUTORY_TESTING)
    if f.testing_fee_fen <= 0:
        failures.add(Check.TESTING_FEE_NOT_LISTED)
    if f.contract_used:
        failures.add(Check.CONTRACT_ALREADY_USED)
    if f.provincial_subsidy:
        failures.add(Check.PROVINCIAL_SUBSIDY)
    if not f.programme_open:
        failures.add(Check.PROGRAMME_NOT_OPEN)
    cap = yearly_cap(policy, UserFacts(verified=f.user_verified, in_xuchang=f.user_in_city, classes=f.user_classes, special_classes=f.user_special_classes))
    cap_left = max(cap - f.user_committed_fen, 0)
    budget_left = max(f.budget_remaining_fen, 0)
    if f.programme_open and budget_left == 0:
        failures.add(Check.BUDGET_EXHAUSTED)
    if cap_left == 0:
        failures.add(Check.CAP_EXHAUSTED)
    amount = min(raw_amount(max(f.testing_fee_fen, 0), policy.rate_bp), cap_left, budget_left)
    if amount == 0 and not failures & {Check.TESTING_FEE_NOT_LISTED, Check.BUDGET_EXHAUSTED, Check.CAP_EXHAUSTED}:
        failures.add(Check.AMOUNT_ZERO)
    return Decision(failures=tuple(c for c in ORDER if c in failures), amount_fen=amount if not failures else 0, cap_fen=cap)


def overturned(policy: VoucherPolicy, f: ApplicationFacts) -> Decision:
    """R19(2) 复议: an appeal overturns a reviewer's judgement, never a rule.
    Every hard rule runs again on the facts as they stand now: R4 eligibility
    and registration, R5 statutory testing, R6 provincial subsidy, R18 the
    acceptor, R22 the contract, R26 affiliation and credit, the programme, the
    budget and the cap. A rejection for a failing rule is remedied by the facts
    changing (the registry correcting them), not by the overturn."""
    return decide(policy, f)


class ContractClaim(msgspec.Struct, frozen=True, kw_only=True):
    """An application on a contract, made or being made (R22): its order, the
    contract file (sha256) and its parties. ``id`` is None while it is being
    submitted; ``holding``: submitted, approved or appealed, so it holds its
    order and its file; ``submitted_at``, then ``id``, say which came first."""

    order_id: str
    contract_sha256: str | None
    user_id: str
    unit_id: str
    id: str | None = None
    submitted_at: datetime | None = None
    holding: bool = True
    approved: bool = False


class ContractUse(StrEnum):
    """How a contract was already applied for (:func:`contract_applied`)."""

    #: an application on the same contract already, whatever its outcome: a submission is refused (409)
    APPLIED = "applied"
    #: another application holds the order or the file: the check ``contract_already_used`` fails
    HELD = "held"


def contract_applied(claim: ContractClaim, others: Iterable[ContractClaim]) -> ContractUse | None:
    """R22 每份合同只允许申请一次, for every path (submission, single and
    batched; review; appeal), from the applications on the claim's order or
    contract file. A contract is its document and its parties, not the order
    that carries it.

    - ``APPLIED`` (a submission only): an application was made on the same
      order, or on the same file between the same user and unit, whatever
      its outcome (a rejection is remedied by appeal, R19(2), not by
      re-applying).
    - ``HELD``: another application holds the order or the file, between
      any parties: an approved one, or a pending one made before the claim
      (the first application on a contract holds it; a later one does not
      block it).
    - None: the contract is free."""
    new = claim.id is None
    held = False
    for other in others:
        if not new and other.id == claim.id:
            continue
        same_order = other.order_id == claim.order_id
        same_file = bool(claim.contract_sha256) and other.contract_sha256 == claim.contract_sha256
        if new and (same_order or (same_file and other.user_id == claim.user_id and other.unit_id == claim.unit_id)):
            return ContractUse.APPLIED
        if other.holding and (same_order or same_file) and (new or other.approved or _came_first(other, claim)):
            held = True
    return ContractUse.HELD if held else None


def _came_first(a: ContractClaim, b: ContractClaim) -> bool:
    """``a`` was submitted before ``b`` (at the same instant: the smaller id)."""
    if a.submitted_at is None or b.submitted_at is None or a.id is None or b.id is None:
        raise ValueError("claims already made have an id and a submission time")
    return (a.submitted_at, a.id) < (b.submitted_at, b.id)


def budget_committed(budget_fen: int, committed_fen: int) -> bool:
    """R15 停止申用: once the year's budget is committed, applications stop
    (refused at submission, not recorded with a failure)."""
    return committed_fen >= budget_fen


def within_year(year: int, now: datetime) -> bool:
    """R21 自然年度: an application of ``year`` is approved, and its voucher
    issued, only within that natural year (Asia/Shanghai); never afterwards
    against the old year's budget, and no voucher is issued already expired."""
    if now.tzinfo is None:
        raise ValueError("aware datetime required")
    return now < expires_at(year) and local_year(now) == year


def appeal_open(rejected_at: datetime, now: datetime, window_days: int) -> bool:
    """R19(2): a rejected user may appeal within the window (a per-year parameter,
    15 days by default) counted from the rejection; the last instant counts."""
    if rejected_at.tzinfo is None or now.tzinfo is None:
        raise ValueError("aware datetimes required")
    return now - rejected_at <= timedelta(days=window_days)


def appeal_deadline(rejected_at: datetime, window_days: int) -> datetime:
    """R19(2): the last instant an appeal of a rejection may be filed (``appeal_open`` holds until then)."""
    return rejected_at + timedelta(days=window_days)


def expires_at(year: int) -> datetime:
    """A voucher of ``year`` is void after the end of 31 December, Asia/Shanghai (R16, R21)."""
    return datetime(year + 1, 1, 1, tzinfo=SHANGHAI).astimezone(UTC)


def programme_year(at: datetime) -> int:
    """The programme year is the natural year in Asia/Shanghai."""
    return local_year(at)
