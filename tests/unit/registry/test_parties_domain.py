"""The pure rules of units, voucher acceptance and affiliations (R18, R26, R27)."""

from __future__ import annotations

import pytest

from services.registry.domain.parties import (
    UNIT_TRANSITIONS,
    AcceptanceEvidence,
    AcceptancePolicy,
    UnitAction,
    UnitStatus,
    acceptance_failures,
    affiliated,
    allowed_unit_actions,
    check_acceptance,
    check_unit_reason,
    unit_transition,
)
from services.registry.policy import packaged
from services.runtime.errors import Conflict, DomainError

#: the packaged R18 numbers (services/registry/policy/registry.yaml): at least 1 full-time technician
POLICY = packaged().acceptance.defaults
GOOD = AcceptanceEvidence(full_time_staff=1, service_content="检测服务", service_norms="服务规范", fees_published=True, no_bad_credit=True)


@pytest.mark.parametrize(
    ("status", "action", "target"),
    [
        (UnitStatus.APPROVED, UnitAction.SUSPEND, UnitStatus.SUSPENDED),
        (UnitStatus.SUSPENDED, UnitAction.REINSTATE, UnitStatus.APPROVED),
        (UnitStatus.APPROVED, UnitAction.DISQUALIFY, UnitStatus.DISQUALIFIED),
        (UnitStatus.SUSPENDED, UnitAction.DISQUALIFY, UnitStatus.DISQUALIFIED),
    ],
)
def test_legal_transitions(status: UnitStatus, action: UnitAction, target: UnitStatus) -> None:
    assert unit_transition(str(status), action) is target


def test_every_other_transition_is_illegal_and_names_the_status() -> None:
    illegal = [(s, a) for s in UnitStatus for a in UnitAction if (s, a) not in UNIT_TRANSITIONS]
    assert len(illegal) == len(UnitStatus) * len(UnitAction) - 4
    for status, action in illegal:
        with pytest.raises(Conflict) as exc:
            unit_transition(str(status), action)
        assert exc.value.code == "unit.illegal_transition"
        assert exc.value.details["current_status"] == str(status)
        # the code in English and in the details; in Chinese the status in words (test_refusal_words)
        assert str(status) in exc.value.message_en and str(status) not in exc.value.message_zh


def test_disqualification_is_final() -> None:
    assert not any(s is UnitStatus.DISQUALIFIED for s, _ in UNIT_TRANSITIONS)


@pytest.mark.parametrize(
    ("status", "offered"),
    [
        (UnitStatus.APPLIED, []),
        (UnitStatus.APPROVED, [("suspend", True), ("disqualify", True)]),
        (UnitStatus.REJECTED, []),
        (UnitStatus.SUSPENDED, [("reinstate", False), ("disqualify", True)]),
        (UnitStatus.DISQUALIFIED, []),
    ],
)
def test_the_actions_offered_from_each_status(status: UnitStatus, offered: list[tuple[str, bool]]) -> None:
    """What getUnit offers the bureau: the changes allowed from the status, a reason asked where
    something is taken away; each offered one goes through, and every status is listed here."""
    got = allowed_unit_actions(str(status))
    assert [(str(a.action), a.reason_required) for a in got] == offered
    for a in got:
        unit_transition(str(status), a.action)
        if a.reason_required:
            with pytest.raises(DomainError):
                check_unit_reason(a.action, "")
        else:
            assert check_unit_reason(a.action, "") is None


def test_the_offered_actions_cover_every_transition() -> None:
    offered = {(s, a.action) for s in UnitStatus for a in allowed_unit_actions(s)}
    assert offered == set(UNIT_TRANSITIONS)


def test_a_reason_is_required_only_where_something_is_taken_away() -> None:
    for action in (UnitAction.SUSPEND, UnitAction.DISQUALIFY):
        with pytest.raises(DomainError) as exc:
            check_unit_reason(action, "  ")
        assert exc.value.code == "decision.reason_required"
    assert check_unit_reason(UnitAction.REINSTATE, None) is None
    assert check_unit_reason(UnitAction.SUSPEND, " 整改 ") == "整改"


def test_acceptance_granted_at_the_edge() -> None:
    assert acceptance_failures("approved", GOOD, POLICY, blacklisted=False) == []
    check_acceptance("approved", GOOD, POLICY, blacklisted=False)


@pytest.mark.parametrize(
    ("status", "change", "blacklisted", "code"),
    [
        ("suspended", {}, False, "acceptance.unit_not_approved"),
        ("applied", {}, False, "acceptance.unit_not_approved"),
        ("approved", {"full_time_staff": 0}, False, "acceptance.no_staff"),
        ("approved", {"service_content": "  "}, False, "acceptance.no_service_content"),
        ("approved", {"service_norms": ""}, False, "acceptance.no_service_norms"),
        ("approved", {"fees_published": False}, False, "acceptance.fees_not_published"),
        ("approved", {"no_bad_credit": False}, False, "acceptance.bad_credit"),
        ("approved", {}, True, "acceptance.blacklisted"),
    ],
)
def test_each_acceptance_condition_has_its_own_code(status: str, change: dict, blacklisted: bool, code: str) -> None:
    import msgspec

    evidence = msgspec.structs.replace(GOOD, **change)
    assert acceptance_failures(status, evidence, POLICY, blacklisted=blacklisted) == [code]
    with pytest.raises(DomainError) as exc:
        check_acceptance(status, evidence, POLICY, blacklisted=blacklisted)
    assert exc.value.code == code and exc.value.status == 422 and exc.value.details["codes"] == [code]


def test_all_failures_are_reported_at_once() -> None:
    bad = AcceptanceEvidence(full_time_staff=0, service_content="", service_norms="", fees_published=False, no_bad_credit=False)
    with pytest.raises(DomainError) as exc:
        check_acceptance("suspended", bad, POLICY, blacklisted=True)
    assert exc.value.code == "acceptance.refused"
    assert exc.value.details["codes"] == [
        "acceptance.unit_not_approved",
        "acceptance.no_staff",
        "acceptance.no_service_content",
        "acceptance.no_service_norms",
        "acceptance.fees_not_published",
        "acceptance.bad_credit",
        "acceptance.blacklisted",
    ]


def test_the_staff_minimum_is_a_policy_parameter() -> None:
    assert POLICY.min_full_time_staff == 1
    policy = AcceptancePolicy(min_full_time_staff=3)
    for staff, failures in ((2, ["acceptance.no_staff"]), (3, []), (4, [])):
        evidence = AcceptanceEvidence(full_time_staff=staff, service_content="x", service_norms="y", fees_published=True, no_bad_credit=True)
        assert acceptance_failures("approved", evidence, policy, blacklisted=False) == failures
    for bad in (-1, True, 1.5):
        with pytest.raises(ValueError):
            AcceptancePolicy(min_full_time_staff=bad)  # type: ignore[arg-type]


PARENT_OF = {"uni": None, "college-a": "uni", "college-b": "uni", "other": None}


def test_a_direct_tie_is_an_affiliation() -> None:
    assert affiliated(["other"], "other", PARENT_OF)
    assert not affiliated(["other"], "uni", PARENT_OF)
    assert not affiliated([], "uni", PARENT_OF)


def test_a_tie_to_a_university_covers_its_colleges_and_vice_versa() -> None:
    assert affiliated(["uni"], "college-a", PARENT_OF)
    assert affiliated(["college-a"], "uni", PARENT_OF)


def test_sibling_colleges_do_not_cover_each_other() -> None:
    assert not affiliated(["college-a"], "college-b", PARENT_OF)


def test_unknown_units_and_cycles_do_not_loop() -> None:
    assert not affiliated(["x"], "y", {"x": "y2", "y2": "x"})
    assert affiliated(["x"], "y", {"y": "x"})
