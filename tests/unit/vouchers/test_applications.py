"""Every voucher check fails on its own, and the amount at its edges (R4–R6,
R15, R16, R18, R22, R26)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import msgspec
import pytest

from services.vouchers.domain.applications import (
    MESSAGES,
    ApplicationFacts,
    Check,
    ContractClaim,
    ContractUse,
    budget_committed,
    contract_applied,
    decide,
    expires_at,
    programme_year,
    raw_amount,
    within_year,
)
from services.vouchers.policy import packaged

#: the packaged numbers (services/vouchers/policy/programme.yaml): Xuchang 2023
POLICY = packaged().policy_for(2026)

GOOD = ApplicationFacts(
    user_verified=True,
    user_in_city=True,
    user_classes=("tech_sme",),
    unit_accepts_vouchers=True,
    testing_fee_fen=1_000_000,  # 10,000 CNY
    programme_open=True,
    budget_remaining_fen=100_000_000,
)


def with_(**kw: object) -> ApplicationFacts:
    return msgspec.structs.replace(GOOD, **kw)


def test_a_good_application_gets_30_percent() -> None:
    d = decide(POLICY, GOOD)
    assert d.approvable and d.amount_fen == 300_000 and d.cap_fen == 5_000_000


@pytest.mark.parametrize(
    ("change", "check"),
    [
        ({"user_verified": False}, Check.USER_NOT_VERIFIED),
        ({"user_in_city": False}, Check.USER_NOT_IN_CITY),
        ({"user_classes": ()}, Check.USER_CLASS_NOT_ELIGIBLE),
        ({"user_blacklisted": True}, Check.USER_BLACKLISTED),
        ({"user_sound_finances": False}, Check.USER_UNSOUND_FINANCES),
        ({"affiliated": True}, Check.AFFILIATED),
        ({"unit_accepts_vouchers": False}, Check.UNIT_NOT_ACCEPTOR),
        ({"unit_blacklisted": True}, Check.UNIT_BLACKLISTED),
        ({"statutory_testing": True}, Check.STATUTORY_TESTING),
        ({"testing_fee_fen": 0}, Check.TESTING_FEE_NOT_LISTED),
        ({"contract_used": True}, Check.CONTRACT_ALREADY_USED),
        ({"provincial_subsidy": True}, Check.PROVINCIAL_SUBSIDY),
        ({"programme_open": False}, Check.PROGRAMME_NOT_OPEN),
        ({"budget_remaining_fen": 0}, Check.BUDGET_EXHAUSTED),
        ({"user_committed_fen": 5_000_000}, Check.CAP_EXHAUSTED),
        ({"testing_fee_fen": 3}, Check.AMOUNT_ZERO),  # 30% of 3 fen rounds down to 0
    ],
)
def test_each_check_fails_alone_with_its_own_reason(change: dict[str, object], check: Check) -> None:
    d = decide(POLICY, with_(**change))
    assert d.failures == (check,)
    assert d.amount_fen == 0 and not d.approvable


def test_every_check_has_both_messages() -> None:
    assert set(MESSAGES) == set(Check)
    assert all(zh and en for zh, en in MESSAGES.values())


def test_all_failures_are_reported_together_in_a_stable_order() -> None:
    d = decide(POLICY, with_(user_verified=False, affiliated=True, contract_used=True))
    assert d.failures == (Check.USER_NOT_VERIFIED, Check.AFFILIATED, Check.CONTRACT_ALREADY_USED)


@pytest.mark.parametrize(("fee", "amount"), [(0, 0), (3, 0), (4, 1), (10, 3), (333, 99), (1_000_001, 300_000)])
def test_amount_is_rounded_down_to_the_fen(fee: int, amount: int) -> None:
    assert raw_amount(fee, 3000) == amount


def test_amount_never_uses_floats() -> None:
    with pytest.raises(ValueError):
        raw_amount(10.0, 3000)  # type: ignore[arg-type]


def test_amount_is_limited_by_what_is_left_of_the_cap() -> None:
    d = decide(POLICY, with_(testing_fee_fen=10_000_000, user_committed_fen=4_900_000))
    assert d.amount_fen == 100_000  # 1,000 CNY left of 50,000


def test_cap_edge_one_fen_left() -> None:
    assert decide(POLICY, with_(user_committed_fen=4_999_999)).amount_fen == 1
    assert decide(POLICY, with_(user_committed_fen=5_000_000)).failures == (Check.CAP_EXHAUSTED,)


def test_gazelle_cap_is_100000_cny() -> None:
    d = decide(POLICY, with_(user_special_classes=("gazelle",), user_committed_fen=5_000_000))
    assert d.approvable and d.cap_fen == 10_000_000 and d.amount_fen == 300_000


def test_amount_is_limited_by_what_is_left_of_the_budget() -> None:
    assert decide(POLICY, with_(budget_remaining_fen=12_345)).amount_fen == 12_345
    assert decide(POLICY, with_(budget_remaining_fen=0)).failures == (Check.BUDGET_EXHAUSTED,)


def test_rate_is_a_parameter() -> None:
    assert decide(msgspec.structs.replace(POLICY, rate_bp=4000), GOOD).amount_fen == 400_000


def test_expiry_is_the_end_of_31_december_in_shanghai() -> None:
    assert expires_at(2026) == datetime(2026, 12, 31, 16, 0, tzinfo=UTC)


def test_programme_year_follows_shanghai_not_utc() -> None:
    assert programme_year(datetime(2026, 12, 31, 15, 59, tzinfo=UTC)) == 2026
    assert programme_year(datetime(2026, 12, 31, 16, 0, tzinfo=UTC)) == 2027


def test_appeal_window_is_open_to_its_last_instant() -> None:
    """R19(2) with the 15-day window (a per-year parameter), at its edge."""
    from datetime import timedelta

    from services.vouchers.domain.applications import appeal_open

    rejected = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)
    days = POLICY.appeal_window_days
    assert days == 15
    assert appeal_open(rejected, rejected + timedelta(days=days), days)
    assert not appeal_open(rejected, rejected + timedelta(days=days, seconds=1), days)
    assert appeal_open(rejected, rejected + timedelta(days=20), 20)
    with pytest.raises(ValueError):
        appeal_open(datetime(2026, 3, 2), rejected, days)


AT = datetime(2026, 3, 2, 9, tzinfo=UTC)
#: a rejected application on order o1, contract file c…, between user u and unit n
REJECTED = ContractClaim(order_id="o1", contract_sha256="c" * 64, user_id="u", unit_id="n", id="a1", submitted_at=AT, holding=False)


def test_r22_a_contract_is_its_document_and_parties_not_its_order() -> None:
    new = ContractClaim(order_id="o2", contract_sha256="c" * 64, user_id="u", unit_id="n")
    # the same document and parties on another order: the same contract, whatever the first one's outcome
    assert contract_applied(new, [REJECTED]) is ContractUse.APPLIED
    # the same order carrying another (or no) document
    assert contract_applied(msgspec.structs.replace(new, order_id="o1", contract_sha256="d" * 64), [REJECTED]) is ContractUse.APPLIED
    assert contract_applied(msgspec.structs.replace(new, order_id="o1", contract_sha256=None), [REJECTED]) is ContractUse.APPLIED
    # the same document between other parties: another contract; a rejected application holds nothing
    assert contract_applied(msgspec.structs.replace(new, unit_id="other"), [REJECTED]) is None
    assert contract_applied(msgspec.structs.replace(new, user_id="other"), [REJECTED]) is None
    # another document, or none on either side
    assert contract_applied(msgspec.structs.replace(new, contract_sha256="d" * 64), [REJECTED]) is None
    assert contract_applied(msgspec.structs.replace(new, contract_sha256=None), [msgspec.structs.replace(REJECTED, contract_sha256=None)]) is None
    assert contract_applied(new, []) is None


def test_r22_a_document_held_between_other_parties_fails_the_check() -> None:
    pending = msgspec.structs.replace(REJECTED, holding=True)
    other_unit = ContractClaim(order_id="o2", contract_sha256="c" * 64, user_id="u", unit_id="other")
    assert contract_applied(other_unit, [pending]) is ContractUse.HELD
    assert contract_applied(other_unit, [pending, msgspec.structs.replace(REJECTED, id="a0", order_id="o0")]) is ContractUse.HELD
    # between the same parties it is the same contract: refused, not merely held
    assert contract_applied(msgspec.structs.replace(other_unit, unit_id="n"), [pending]) is ContractUse.APPLIED


def test_r22_an_application_made_is_blocked_only_by_the_first_on_its_contract_or_an_approved_one() -> None:
    first = ContractClaim(order_id="o1", contract_sha256="c" * 64, user_id="u", unit_id="n", id="a1", submitted_at=AT)
    later = ContractClaim(order_id="o2", contract_sha256="c" * 64, user_id="u", unit_id="other", id="a2", submitted_at=AT + timedelta(seconds=1))
    assert contract_applied(later, [first, later]) is ContractUse.HELD
    assert contract_applied(first, [first, later]) is None  # a later pending one does not block it, nor does it block itself
    assert contract_applied(first, [first, msgspec.structs.replace(later, approved=True)]) is ContractUse.HELD
    assert contract_applied(later, [msgspec.structs.replace(first, holding=False), later]) is None  # a rejected one holds nothing
    # at the same instant the smaller id came first
    same_instant = msgspec.structs.replace(later, submitted_at=AT)
    assert contract_applied(same_instant, [first]) is ContractUse.HELD
    assert contract_applied(first, [same_instant]) is None


def test_r15_applications_stop_when_the_budget_is_committed() -> None:
    assert not budget_committed(600_000, 599_999)
    assert budget_committed(600_000, 600_000)


def test_r21_decided_within_its_year_to_the_last_instant() -> None:
    end = expires_at(2026)
    assert within_year(2026, end - timedelta(microseconds=1))
    assert not within_year(2026, end)
    assert not within_year(2026, datetime(2025, 12, 31, 15, 59, tzinfo=UTC))  # still 2025 in Shanghai
