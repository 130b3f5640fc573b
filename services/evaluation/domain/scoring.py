"""Scoring a unit against the indicator set (pure). Rules (each rounds *down*
to the hundredth of a point):

* ``ratio``: value = numerator / denominator (the denominator defaults to 1);
  points = max × min(1, value / (target × target_percent / 100)). A zero
  denominator scores ``if_none`` (``full`` or ``zero``).
* ``linear``: points = max × min(value, cap) / cap.
* ``deduction``: points = max − per_item × value, never below 0.
* ``expert``: scored by experts of ``role``; the indicator's points are the
  mean over the experts of that role who scored it, rounded down to the
  hundredth (no expert yet: the indicator is missing and no grade is decided).

The total is the sum of every leaf's points (at most 100.00). Grades:
total ≥ excellent threshold → excellent; ≥ good threshold → good; otherwise
unqualified.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from services.evaluation.domain.indicators import Grade, IndicatorSet, Rule, YearParameters
from services.evaluation.domain.measures import Measures


def score_rule(rule: Rule, max_centi: int, m: Measures) -> int:
    """Points in hundredths (0 ≤ points ≤ max), rounded down."""
    if rule.kind == "ratio":
        assert rule.numerator
        num = getattr(m, rule.numerator)
        den = getattr(m, rule.denominator) if rule.denominator else 1
        if den <= 0:
            return max_centi if rule.if_none == "full" else 0
        whole = den * rule.target * rule.target_percent
        return max(0, max_centi * min(num * 100, whole) // whole)
    if rule.kind == "linear":
        assert rule.field
        value = max(0, getattr(m, rule.field))
        return max_centi * min(value, rule.cap) // rule.cap
    assert rule.field
    return max(0, max_centi - rule.per_item_centi * max(0, getattr(m, rule.field)))


def computed_scores(s: IndicatorSet, m: Measures) -> dict[str, int]:
    return {i.code: score_rule(i.rule, i.max_centi, m) for i in s.indicators() if i.source == "computed" and i.rule is not None}


def expert_means(s: IndicatorSet, sheets: list[tuple[str, Mapping[str, int]]]) -> dict[str, int]:
    """``sheets``: (role, {indicator code: points_centi}) per expert. The mean
    per indicator over the experts of its role who scored it, rounded down."""
    out: dict[str, int] = {}
    for i in s.indicators():
        if i.source != "expert":
            continue
        given = [sheet[i.code] for role, sheet in sheets if role == i.role and i.code in sheet]
        if given:
            out[i.code] = sum(given) // len(given)
    return out


def check_sheet(s: IndicatorSet, role: str, sheet: Mapping[str, int]) -> list[str]:
    """What is wrong with an expert's score sheet (empty when it is complete and in range)."""
    wanted = {i.code: i for i in s.expert_indicators(role)}
    problems = [f"{code}: not an indicator of the {role} experts" for code in sorted(set(sheet) - set(wanted))]
    problems += [f"{code}: missing" for code in sorted(set(wanted) - set(sheet))]
    for code, points in sorted(sheet.items()):
        i = wanted.get(code)
        if i is not None and not (0 <= points <= i.max_centi):
            problems.append(f"{code}: {points} is outside 0..{i.max_centi}")
    return problems


@dataclass(frozen=True)
class Result:
    scores: dict[str, int]
    total_centi: int
    grade: Grade


def grade_of(p: YearParameters, total_centi: int) -> Grade:
    if total_centi >= p.excellent_centi:
        return "excellent"
    if total_centi >= p.good_centi:
        return "good"
    return "unqualified"


class IncompleteScores(ValueError):
    def __init__(self, missing: list[str]):
        super().__init__(f"indicators without a score: {missing}")
        self.missing = missing


def evaluate(s: IndicatorSet, year: int, m: Measures, sheets: list[tuple[str, Mapping[str, int]]]) -> Result:
    """Computed part from the measures plus the experts' means, the total and the grade."""
    scores = {**computed_scores(s, m), **expert_means(s, sheets)}
    missing = [i.code for i in s.indicators() if i.code not in scores]
    if missing:
        raise IncompleteScores(missing)
    total = sum(scores.values())
    return Result(scores=scores, total_centi=total, grade=grade_of(s.parameters(year), total))
