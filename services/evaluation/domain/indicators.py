"""The indicator set (指标体系) of the yearly evaluation: its tree, kept with
each cycle as plain data, and the per-year parameters with their two rules
(the award of a grade, the rectification deadline).

R11: the evaluation covers organisation management (组织管理), operation and
use (运行使用) and sharing service (共享服务) — the rationality of the sharing
rules, the degree of openness, service quality, fees and effect — and gives one
of three grades. The tree, its points, scoring rules and the per-year
parameters (grade thresholds, award amounts, notice window, rectification
deadline) come from a versioned YAML file an operator can edit
(``services/evaluation/policy/indicators-2023.yaml``, or the file named by
``XCISS_EVALUATION_POLICY_FILE``);
:func:`~services.evaluation.domain.indicator_parsing.parse_policy` validates it.

Everything is integer arithmetic: points in hundredths (``centi``), money in
fen. How the points, the total and the grade are computed:
:mod:`~services.evaluation.domain.scoring`.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any, Literal

import msgspec

from services.evaluation.domain.measures import Measures

ExpertRole = Literal["management", "technical", "finance"]
EXPERT_ROLES: tuple[str, ...] = ("management", "technical", "finance")
Grade = Literal["excellent", "good", "unqualified"]
RULE_KINDS = ("ratio", "linear", "deduction")
MEASURE_FIELDS: frozenset[str] = frozenset(f for f in Measures.__struct_fields__ if f not in ("unit_id", "year"))

#: the dimensions of R11, in order
DIMENSIONS: tuple[str, ...] = ("organisation", "operation", "sharing")


class Rule(msgspec.Struct, frozen=True, kw_only=True):
    """How a computed indicator scores. Its defaults are the rule's shape, not
    policy numbers: a ratio without ``target`` / ``target_percent`` is a plain
    share (full points at 1 = 100 %), and a field another kind does not use is
    0. Every number of a rule (caps, targets, points off) is in the policy file."""

    kind: Literal["ratio", "linear", "deduction"]
    #: ratio: numerator, denominator, target, if_none
    numerator: str | None = None
    denominator: str | None = None
    target: int = 1
    #: a share reaching this percent of ``target`` scores full points (the sharing rate's 50 %)
    target_percent: int = 100
    if_none: Literal["full", "zero"] = "zero"
    #: linear: field, cap
    field: str | None = None
    cap: int = 0
    #: deduction: field, per_item_centi
    per_item_centi: int = 0

    def fields(self) -> tuple[str, ...]:
        return tuple(f for f in (self.numerator, self.denominator, self.field) if f)


class Indicator(msgspec.Struct, frozen=True, kw_only=True):
    code: str
    name_zh: str
    name_en: str
    max_centi: int
    source: Literal["computed", "expert"]
    rule: Rule | None = None
    role: ExpertRole | None = None


class Dimension(msgspec.Struct, frozen=True, kw_only=True):
    code: str
    name_zh: str
    name_en: str
    weight_centi: int
    indicators: tuple[Indicator, ...]


class YearParameters(msgspec.Struct, frozen=True, kw_only=True):
    """One year's evaluation parameters. No defaults here: their one home is the
    policy file (``parameters`` and ``years`` of indicators-2023.yaml)."""

    excellent_centi: int
    good_centi: int
    excellent_award_fen: int
    good_award_fen: int
    notice_window_workdays: int
    rectification_days: int


class IndicatorSet(msgspec.Struct, frozen=True, kw_only=True):
    version: str
    title: str
    dimensions: tuple[Dimension, ...]
    defaults: YearParameters
    years: dict[int, YearParameters] = {}

    def indicators(self) -> tuple[Indicator, ...]:
        return tuple(i for d in self.dimensions for i in d.indicators)

    def expert_indicators(self, role: str) -> tuple[Indicator, ...]:
        return tuple(i for i in self.indicators() if i.source == "expert" and i.role == role)

    def expert_roles(self) -> tuple[str, ...]:
        """The roles that have indicators to score, in the fixed order."""
        return tuple(r for r in EXPERT_ROLES if self.expert_indicators(r))

    def parameters(self, year: int) -> YearParameters:
        return self.years.get(year, self.defaults)


def to_json(s: IndicatorSet) -> Any:
    """The set as plain data (kept with the cycle, so a year's rules never change under it)."""
    return msgspec.to_builtins(s)


def from_json(data: Any) -> IndicatorSet:
    return msgspec.convert(data, IndicatorSet, strict=False)


def award_fen(p: YearParameters, grade: str) -> int:
    return {"excellent": p.excellent_award_fen, "good": p.good_award_fen}.get(grade, 0)


def rectification_deadline(p: YearParameters, final_on: date) -> date:
    return final_on + timedelta(days=p.rectification_days)
