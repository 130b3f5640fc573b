"""An overturned appeal sets the checks aside, not the budget or the cap (R19(2))."""

from __future__ import annotations

import msgspec

from services.vouchers.domain.applications import ApplicationFacts, Check, overturned
from services.vouchers.domain.policy import VoucherPolicy

POLICY = VoucherPolicy(year=2026)

FAILING = ApplicationFacts(
    user_verified=True,
    user_in_city=True,
    user_classes=("tech_sme",),
    unit_accepts_vouchers=False,  # the reason it was rejected
    statutory_testing=True,
    testing_fee_fen=1_000_000,
    programme_open=True,
    budget_remaining_fen=100_000_000,
)


def test_overturn_ignores_the_checks() -> None:
    d = overturned(POLICY, FAILING)
    assert d.failures == () and d.amount_fen == 300_000 and d.cap_fen == 5_000_000


def test_overturn_is_limited_by_what_is_left() -> None:
    assert overturned(POLICY, msgspec.structs.replace(FAILING, budget_remaining_fen=7)).amount_fen == 7
    assert overturned(POLICY, msgspec.structs.replace(FAILING, user_committed_fen=4_999_999)).amount_fen == 1
    assert overturned(POLICY, msgspec.structs.replace(FAILING, budget_remaining_fen=0)).failures == (Check.BUDGET_EXHAUSTED,)
    assert overturned(POLICY, msgspec.structs.replace(FAILING, user_committed_fen=5_000_000)).failures == (Check.CAP_EXHAUSTED,)
    assert overturned(POLICY, msgspec.structs.replace(FAILING, programme_open=False)).failures == (Check.PROGRAMME_NOT_OPEN,)
    assert overturned(POLICY, msgspec.structs.replace(FAILING, testing_fee_fen=3)).failures == (Check.AMOUNT_ZERO,)


def test_auto_approval_is_off_by_default() -> None:
    assert POLICY.auto_approve is False
