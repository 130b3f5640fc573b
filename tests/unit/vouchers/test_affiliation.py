"""R26 隶属 as one pure rule: a user whose credit code is the unit's, its
parent's or one of its colleges' is that unit; a recorded tie with any of
them counts the same; an unrelated party, or a party without a code, does not."""

from __future__ import annotations

from services.vouchers.domain.affiliation import (
    Affiliation,
    UnitNode,
    affiliated,
    affiliation,
    family,
)

UNI, COLLEGE, OTHER_COLLEGE, ELSEWHERE = "91411002MA00000011", "12411002MB00000022", "12411002MB00000033", "91411082MA00000044"
uni = UnitNode(unit_id="uni", credit_code=UNI)
college = UnitNode(unit_id="college", credit_code=COLLEGE, parent_unit_id="uni")
other_college = UnitNode(unit_id="other-college", credit_code=OTHER_COLLEGE, parent_unit_id="uni")
elsewhere = UnitNode(unit_id="elsewhere", credit_code=ELSEWHERE)
ALL = (uni, college, other_college, elsewhere)


def test_the_university_as_a_user_is_its_own_unit_and_its_colleges() -> None:
    assert affiliation(user_credit_code=UNI, tied_unit_ids=(), unit=uni, others=ALL) is Affiliation.SAME_CREDIT_CODE
    assert affiliation(user_credit_code=UNI, tied_unit_ids=(), unit=college, others=ALL) is Affiliation.SAME_CREDIT_CODE  # parent -> child
    assert affiliated(user_credit_code=UNI.lower(), tied_unit_ids=(), unit=college, others=ALL)  # codes compare without case


def test_a_college_as_a_user_is_its_university() -> None:
    assert affiliation(user_credit_code=COLLEGE, tied_unit_ids=(), unit=uni, others=ALL) is Affiliation.SAME_CREDIT_CODE  # child -> parent


def test_a_college_is_not_its_sibling_nor_an_unrelated_unit() -> None:
    assert not affiliated(user_credit_code=COLLEGE, tied_unit_ids=(), unit=other_college, others=ALL)
    assert not affiliated(user_credit_code=UNI, tied_unit_ids=(), unit=elsewhere, others=ALL)


def test_an_unrelated_enterprise_or_a_team_without_a_code_is_not_affiliated() -> None:
    for code in (ELSEWHERE, None, ""):
        assert not affiliated(user_credit_code=code, tied_unit_ids=(), unit=college, others=ALL)
    # a unit known without its code (an old read-model row) matches no empty code
    assert not affiliated(user_credit_code=None, tied_unit_ids=(), unit=UnitNode(unit_id="x"), others=())


def test_recorded_ties_count_with_the_parent_and_the_colleges() -> None:
    assert affiliation(user_credit_code=ELSEWHERE, tied_unit_ids={"uni"}, unit=college, others=ALL) is Affiliation.RECORDED_TIE
    assert affiliated(user_credit_code=None, tied_unit_ids={"college"}, unit=uni, others=ALL)
    # the parent counts by id even when its row is not known
    assert affiliated(user_credit_code=None, tied_unit_ids={"uni"}, unit=college, others=())
    assert not affiliated(user_credit_code=None, tied_unit_ids={"other-college"}, unit=college, others=ALL)


def test_family_is_the_unit_its_parent_and_its_children() -> None:
    assert {n.unit_id for n in family(college, ALL)} == {"college", "uni"}
    assert {n.unit_id for n in family(uni, ALL)} == {"uni", "college", "other-college"}
