"""The conflict-of-interest rule for experts on redemption claims (evaluation's rule, R14(3))."""

from services.vouchers.domain.conflicts import conflicting_units


def test_an_expert_of_the_unit_its_parent_or_child_or_with_a_tie_must_recuse() -> None:
    related = {"college", "university", "sister-college"}  # claimant, its parent, its children
    assert conflicting_units(related, "university", []) == ["university"]
    assert conflicting_units(related, None, ["college", "elsewhere"]) == ["college"]
    assert conflicting_units(related, "college", ["sister-college"]) == ["college", "sister-college"]


def test_an_expert_without_ties_to_the_units_may_review() -> None:
    assert conflicting_units({"college", "university"}, "another-unit", ["third-unit"]) == []
    assert conflicting_units({"college"}, None, []) == []
