"""User-side voucher eligibility and caps (R4, R16), at their edges."""

from __future__ import annotations

import msgspec
import pytest

from services.vouchers.domain.policy import (
    Reason,
    UserFacts,
    eligibility,
    yearly_cap,
)
from services.vouchers.policy import packaged

#: the packaged numbers (services/vouchers/policy/programme.yaml): Xuchang 2023
POLICY = packaged().policy_for(2026)


def facts(**kw: object) -> UserFacts:
    base: dict[str, object] = dict(verified=True, in_xuchang=True, classes=("high_tech",), special_classes=())
    base.update(kw)
    return UserFacts(**base)  # type: ignore[arg-type]


def test_defaults_are_xuchang_2023() -> None:
    assert POLICY.rate_bp == 3000
    assert POLICY.cap_fen == 5_000_000  # 50,000 CNY
    assert POLICY.special_cap_fen == 10_000_000  # 100,000 CNY


@pytest.mark.parametrize("special", [("innovation_leader",), ("gazelle",), ("gazelle", "innovation_leader")])
def test_leaders_and_gazelles_get_the_higher_cap(special: tuple[str, ...]) -> None:
    assert yearly_cap(POLICY, facts(special_classes=special)) == 10_000_000


def test_ordinary_user_gets_the_ordinary_cap() -> None:
    assert yearly_cap(POLICY, facts()) == 5_000_000


def test_caps_are_parameters_of_the_year() -> None:
    other = msgspec.structs.replace(POLICY, cap_fen=6_000_000, special_cap_fen=12_000_000)
    assert yearly_cap(other, facts()) == 6_000_000
    assert yearly_cap(other, facts(special_classes=("gazelle",))) == 12_000_000


@pytest.mark.parametrize(
    ("kw", "reasons"),
    [
        ({}, ()),
        ({"verified": False}, (Reason.NOT_VERIFIED,)),
        ({"in_xuchang": False}, (Reason.NOT_IN_CITY,)),
        ({"classes": ()}, (Reason.NOT_ELIGIBLE_CLASS,)),
        ({"verified": False, "in_xuchang": False, "classes": ()}, (Reason.NOT_VERIFIED, Reason.NOT_IN_CITY, Reason.NOT_ELIGIBLE_CLASS)),
    ],
)
def test_each_failing_check_gives_its_own_reason(kw: dict[str, object], reasons: tuple[Reason, ...]) -> None:
    result = eligibility(POLICY, facts(**kw))
    assert result.reasons == reasons
    assert result.eligible is (not reasons)


def test_unknown_user() -> None:
    assert eligibility(POLICY, None).reasons == (Reason.UNKNOWN_USER,)


@pytest.mark.parametrize("bad", [dict(rate_bp=10_001), dict(cap_fen=-1), dict(cap_fen=5.0)])
def test_policy_refuses_nonsense(bad: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        msgspec.structs.replace(POLICY, **bad)
