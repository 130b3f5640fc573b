"""An overturned appeal sets aside a reviewer's judgement, never a rule:
every hard rule runs again, and the budget and the cap still limit (R19(2))."""

from __future__ import annotations

import msgspec
import pytest

from services.vouchers.domain.applications import ApplicationFacts, Check, overturned
from services.vouchers.policy import packaged

#: the packaged numbers (services/vouchers/policy/programme.yaml): Xuchang 2023
POLICY = packaged().policy_for(2026)

#: rejected on the reviewer's judgement: every rule passes
JUDGED = ApplicationFacts(
    user_verified=True,
    user_in_city=True,
    user_classes=("tech_sme",),
    unit_accepts_vouchers=True,
    testing_fee_fen=1_000_000,
    programme_open=True,
    budget_remaining_fen=100_000_000,
)


def test_overturn_sets_aside_a_judgement() -> None:
    d = overturned(POLICY, JUDGED)
    assert d.failures == () and d.amount_fen == 300_000 and d.cap_fen == 5_000_000


@pytest.mark.parametrize(
    ("change", "check"),
    [
        ({"user_verified": False}, Check.USER_NOT_VERIFIED),  # R4
        ({"user_in_city": False}, Check.USER_NOT_IN_CITY),  # R4
        ({"user_classes": ("other",)}, Check.USER_CLASS_NOT_ELIGIBLE),  # R4
        ({"statutory_testing": True}, Check.STATUTORY_TESTING),  # R5
        ({"provincial_subsidy": True}, Check.PROVINCIAL_SUBSIDY),  # R6
        ({"unit_accepts_vouchers": False}, Check.UNIT_NOT_ACCEPTOR),  # R18
        ({"affiliated": True}, Check.AFFILIATED),  # R26
        ({"user_blacklisted": True}, Check.USER_BLACKLISTED),  # R26
        ({"unit_blacklisted": True}, Check.UNIT_BLACKLISTED),  # R26, R27
        ({"user_sound_finances": False}, Check.USER_UNSOUND_FINANCES),  # R26
        ({"contract_used": True}, Check.CONTRACT_ALREADY_USED),  # R22
    ],
)
def test_overturn_reruns_every_hard_rule(change: dict[str, object], check: Check) -> None:
    d = overturned(POLICY, msgspec.structs.replace(JUDGED, **change))
    assert d.failures == (check,) and d.amount_fen == 0


def test_overturn_is_limited_by_what_is_left() -> None:
    assert overturned(POLICY, msgspec.structs.replace(JUDGED, budget_remaining_fen=7)).amount_fen == 7
    assert overturned(POLICY, msgspec.structs.replace(JUDGED, user_committed_fen=4_999_999)).amount_fen == 1
    assert overturned(POLICY, msgspec.structs.replace(JUDGED, budget_remaining_fen=0)).failures == (Check.BUDGET_EXHAUSTED,)
    assert overturned(POLICY, msgspec.structs.replace(JUDGED, user_committed_fen=5_000_000)).failures == (Check.CAP_EXHAUSTED,)
    assert overturned(POLICY, msgspec.structs.replace(JUDGED, programme_open=False)).failures == (Check.PROGRAMME_NOT_OPEN,)
    assert overturned(POLICY, msgspec.structs.replace(JUDGED, testing_fee_fen=3)).failures == (Check.AMOUNT_ZERO,)


def test_auto_approval_is_off_by_default() -> None:
    assert POLICY.auto_approve is False
