"""M10, R8: who reads which department's figures, and how they add up. Pure."""

from __future__ import annotations

import pytest

from services.evaluation.domain.department_summary import (
    GradeLine,
    UnitLine,
    department_in_scope,
    summarize,
)
from services.runtime.roles import Role
from services.runtime.errors import DomainError

OURS, THEIRS = "魏都区科技局", "长葛市科技局"


def test_a_department_reads_its_own_figures_only() -> None:
    assert department_in_scope(Role.DEPARTMENT, OURS, None) == OURS
    assert department_in_scope(Role.DEPARTMENT, OURS, OURS) == OURS
    with pytest.raises(DomainError) as e:
        department_in_scope(Role.DEPARTMENT, OURS, THEIRS)
    assert (e.value.code, e.value.status) == ("report.other_department", 403)
    with pytest.raises(DomainError) as e:
        department_in_scope(Role.DEPARTMENT, None, None)
    assert (e.value.code, e.value.status) == ("report.department_unknown", 403)


def test_city_staff_name_the_department_and_nobody_else_reads() -> None:
    assert department_in_scope(Role.CENTER, None, THEIRS) == THEIRS
    assert department_in_scope(Role.BUREAU, "x", OURS) == OURS
    with pytest.raises(DomainError) as e:
        department_in_scope(Role.BUREAU, None, " ")
    assert (e.value.code, e.value.status) == ("report.department_required", 400)
    for role in (Role.UNIT, Role.USER, Role.EXPERT, Role.FINANCE):
        with pytest.raises(DomainError) as e:
            department_in_scope(role, OURS, OURS)
        assert e.value.status == 403


def test_the_figures_add_up() -> None:
    units = [
        UnitLine(unit_id="a", status="approved", county_code="411002"),
        UnitLine(unit_id="b", status="suspended", county_code="411002", blacklisted=True),
        UnitLine(unit_id="c", status="approved", county_code=None),
    ]
    grades = [
        GradeLine(unit_id="a", status="final", grade="excellent"),
        GradeLine(unit_id="b", status="graded", grade="unqualified"),
        GradeLine(unit_id="c", status="reopened", grade="good"),  # an objection reopened it: no grade stands
    ]
    measures = {"instruments_must_list": 5, "instruments_listed": 3, "instruments_listed_on_time": 2, "instruments_overdue": 2, "vouchers_refused": 1, "voucher_orders": 4}
    s = summarize(department=OURS, year=2026, units=units, measures=measures, vouchers_used=(4, 120_000), grades=grades, awards_approved=(1, 5_000_000))
    assert s.units.total == 3 and s.units.by_status == {"approved": 2, "suspended": 1}
    assert [(c.county_code, c.units) for c in s.units.counties] == [("411002", 2), ("", 1)]
    assert (s.instruments.must_list, s.instruments.listed, s.instruments.overdue) == (5, 3, 2)
    assert s.compliance.on_time_rate_bp == 6666 and s.compliance.units_suspended == 1 and s.compliance.units_blacklisted == 1
    assert (s.vouchers.used, s.vouchers.used_fen, s.vouchers.voucher_orders) == (4, 120_000, 4)
    assert s.evaluation.grades == {"excellent": 1, "good": 0, "unqualified": 1} and s.evaluation.grades_final == 1
    assert s.evaluation.by_status == {"final": 1, "graded": 1, "reopened": 1} and s.evaluation.awards_approved_fen == 5_000_000


def test_a_department_without_units_reads_zeros() -> None:
    s = summarize(department="禹州市科技局", year=2026, units=[], measures={}, vouchers_used=(0, 0), grades=[], awards_approved=(0, 0))
    assert s.units.total == 0 and s.instruments.must_list == 0 and s.compliance.on_time_rate_bp is None and s.evaluation.grades == {"excellent": 0, "good": 0, "unqualified": 0}
