"""The indicator set (指标体系) of the yearly evaluation, and its pure rules.

R11: the evaluation covers organisation management (组织管理), operation and
use (运行使用) and sharing service (共享服务) — the rationality of the sharing
rules, the degree of openness, service quality, fees and effect — and gives one
of three grades. The tree, its points, scoring rules and the per-year
parameters (grade thresholds, award amounts, notice window, rectification
deadline) come from a versioned YAML file an operator can edit
(``services/evaluation/policy/indicators-2023.yaml``, or the file named by
``XCISS_EVALUATION_POLICY_FILE``); :func:`parse_policy` validates it.

Everything is integer arithmetic: points in hundredths (``centi``), money in
fen. Rules (each rounds *down* to the hundredth of a point):

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
from datetime import date, timedelta
from decimal import Decimal, InvalidOperation
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


class PolicyError(ValueError):
    """The policy file is not valid; the message says where and why."""


class Rule(msgspec.Struct, frozen=True, kw_only=True):
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


# ---------------------------------------------------------------- parsing


def _points_centi(value: Any, where: str) -> int:
    """``85`` or ``85.5`` or ``"85.25"`` points → hundredths; more decimals are refused."""
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise PolicyError(f"{where}: {value!r} is not a number of points")
    try:
        d = Decimal(str(value)) * 100
    except InvalidOperation as exc:
        raise PolicyError(f"{where}: {value!r} is not a number of points") from exc
    if d != d.to_integral_value():
        raise PolicyError(f"{where}: {value!r} has more than two decimals")
    return int(d)


def _int(value: Any, where: str, *, minimum: int = 0) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise PolicyError(f"{where}: {value!r} must be an integer ≥ {minimum}")
    return value


def _str(node: Mapping[str, Any], key: str, where: str) -> str:
    value = node.get(key)
    if not isinstance(value, str) or not value.strip():
        raise PolicyError(f"{where}: '{key}' is required (text)")
    return value.strip()


def _keys(node: Any, where: str, allowed: set[str]) -> Mapping[str, Any]:
    if not isinstance(node, Mapping):
        raise PolicyError(f"{where}: expected a mapping")
    unknown = sorted(set(map(str, node)) - allowed)
    if unknown:
        raise PolicyError(f"{where}: unknown keys {unknown} (allowed: {sorted(allowed)})")
    return node


def _measure(value: Any, where: str) -> str:
    if value not in MEASURE_FIELDS:
        raise PolicyError(f"{where}: {value!r} is not a Measures field (known: {sorted(MEASURE_FIELDS)})")
    return str(value)


def _rule(node: Any, where: str) -> Rule:
    node = _keys(node, where, {"kind", "numerator", "denominator", "target", "target_percent", "if_none", "field", "cap", "per_item"})
    kind = node.get("kind")
    if kind == "ratio":
        if "numerator" not in node:
            raise PolicyError(f"{where}: a ratio rule needs 'numerator'")
        if node.get("if_none", "zero") not in ("full", "zero"):
            raise PolicyError(f"{where}: if_none must be 'full' or 'zero'")
        return Rule(
            kind="ratio",
            numerator=_measure(node["numerator"], f"{where}.numerator"),
            denominator=_measure(node["denominator"], f"{where}.denominator") if node.get("denominator") is not None else None,
            target=_int(node.get("target", 1), f"{where}.target", minimum=1),
            target_percent=_int(node.get("target_percent", 100), f"{where}.target_percent", minimum=1),
            if_none=node.get("if_none", "zero"),
        )
    if kind == "linear":
        for k in ("field", "cap"):
            if k not in node:
                raise PolicyError(f"{where}: a linear rule needs '{k}'")
        return Rule(kind="linear", field=_measure(node["field"], f"{where}.field"), cap=_int(node["cap"], f"{where}.cap", minimum=1))
    if kind == "deduction":
        for k in ("field", "per_item"):
            if k not in node:
                raise PolicyError(f"{where}: a deduction rule needs '{k}'")
        per = _points_centi(node["per_item"], f"{where}.per_item")
        if per <= 0:
            raise PolicyError(f"{where}.per_item: must be above 0")
        return Rule(kind="deduction", field=_measure(node["field"], f"{where}.field"), per_item_centi=per)
    raise PolicyError(f"{where}: rule kind {kind!r} is not one of {list(RULE_KINDS)}")


def _indicator(node: Any, where: str) -> Indicator:
    node = _keys(node, where, {"code", "name_zh", "name_en", "points", "source", "rule", "role"})
    code = _str(node, "code", where)
    where = f"{where} ({code})"
    if "points" not in node:
        raise PolicyError(f"{where}: 'points' is required")
    max_centi = _points_centi(node["points"], f"{where}.points")
    if max_centi <= 0:
        raise PolicyError(f"{where}.points: must be above 0")
    source = node.get("source")
    if source == "computed":
        if "rule" not in node or "role" in node:
            raise PolicyError(f"{where}: a computed indicator has a 'rule' and no 'role'")
        return Indicator(code=code, name_zh=_str(node, "name_zh", where), name_en=_str(node, "name_en", where), max_centi=max_centi, source="computed", rule=_rule(node["rule"], f"{where}.rule"))
    if source == "expert":
        if node.get("role") not in EXPERT_ROLES or "rule" in node:
            raise PolicyError(f"{where}: an expert indicator has a 'role' ({', '.join(EXPERT_ROLES)}) and no 'rule'")
        return Indicator(code=code, name_zh=_str(node, "name_zh", where), name_en=_str(node, "name_en", where), max_centi=max_centi, source="expert", role=node["role"])
    raise PolicyError(f"{where}: source must be 'computed' or 'expert', not {source!r}")


_PARAM_KEYS = {"grade_thresholds", "awards_fen", "notice_window_workdays", "rectification_days"}


def _parameters(node: Any, where: str, base: YearParameters | None) -> YearParameters:
    node = _keys(node, where, _PARAM_KEYS)
    values: dict[str, int] = msgspec.structs.asdict(base) if base is not None else {}
    if base is None:
        missing = sorted(_PARAM_KEYS - set(node))
        if missing:
            raise PolicyError(f"{where}: missing {missing}")
    if "grade_thresholds" in node:
        t = _keys(node["grade_thresholds"], f"{where}.grade_thresholds", {"excellent", "good"})
        for g in ("excellent", "good"):
            if g not in t:
                raise PolicyError(f"{where}.grade_thresholds: '{g}' is required")
            values[f"{g}_centi"] = _points_centi(t[g], f"{where}.grade_thresholds.{g}")
    if "awards_fen" in node:
        a = _keys(node["awards_fen"], f"{where}.awards_fen", {"excellent", "good"})
        for g in ("excellent", "good"):
            if g not in a:
                raise PolicyError(f"{where}.awards_fen: '{g}' is required")
            values[f"{g}_award_fen"] = _int(a[g], f"{where}.awards_fen.{g}")
    if "notice_window_workdays" in node:
        values["notice_window_workdays"] = _int(node["notice_window_workdays"], f"{where}.notice_window_workdays", minimum=1)
    if "rectification_days" in node:
        values["rectification_days"] = _int(node["rectification_days"], f"{where}.rectification_days", minimum=1)
    p = YearParameters(**values)
    if not (0 < p.good_centi < p.excellent_centi <= 10000):
        raise PolicyError(f"{where}.grade_thresholds: need 0 < good < excellent ≤ 100")
    if p.good_award_fen > p.excellent_award_fen:
        raise PolicyError(f"{where}.awards_fen: the good award exceeds the excellent award")
    return p


def parse_policy(doc: Any) -> IndicatorSet:
    """Validate a loaded policy document; :class:`PolicyError` names the first problem."""
    doc = _keys(doc, "policy", {"version", "title", "dimensions", "parameters", "years"})
    version = _str(doc, "version", "policy")
    title = _str(doc, "title", "policy")
    dims_node = doc.get("dimensions")
    if not isinstance(dims_node, list) or not dims_node:
        raise PolicyError("policy.dimensions: a list of the three dimensions is required")
    dims: list[Dimension] = []
    codes: set[str] = set()
    for n, dn in enumerate(dims_node):
        where = f"dimensions[{n}]"
        dn = _keys(dn, where, {"code", "name_zh", "name_en", "weight", "indicators"})
        dcode = _str(dn, "code", where)
        where = f"{where} ({dcode})"
        if "weight" not in dn:
            raise PolicyError(f"{where}: 'weight' is required")
        weight = _points_centi(dn["weight"], f"{where}.weight")
        inds_node = dn.get("indicators")
        if not isinstance(inds_node, list) or not inds_node:
            raise PolicyError(f"{where}.indicators: at least one indicator is required")
        inds = tuple(_indicator(i, f"{where}.indicators[{k}]") for k, i in enumerate(inds_node))
        for code in (dcode, *(i.code for i in inds)):
            if code in codes:
                raise PolicyError(f"{where}: code {code!r} is used twice")
            codes.add(code)
        if sum(i.max_centi for i in inds) != weight:
            raise PolicyError(f"{where}: the indicators' points sum to {sum(i.max_centi for i in inds) / 100:g}, not the weight {weight / 100:g}")
        dims.append(Dimension(code=dcode, name_zh=_str(dn, "name_zh", where), name_en=_str(dn, "name_en", where), weight_centi=weight, indicators=inds))
    if tuple(d.code for d in dims) != DIMENSIONS:
        raise PolicyError(f"policy.dimensions: expected the dimensions {list(DIMENSIONS)} of R11 in that order, got {[d.code for d in dims]}")
    total = sum(d.weight_centi for d in dims)
    if total != 10000:
        raise PolicyError(f"policy.dimensions: the weights sum to {total / 100:g}, not 100")
    defaults = _parameters(doc.get("parameters"), "policy.parameters", None)
    years: dict[int, YearParameters] = {}
    years_node = doc.get("years") or {}
    if not isinstance(years_node, Mapping):
        raise PolicyError("policy.years: expected a mapping of year -> parameters")
    for y, node in years_node.items():
        try:
            year = int(y)
        except (TypeError, ValueError) as exc:
            raise PolicyError(f"policy.years: {y!r} is not a year") from exc
        years[year] = _parameters(node or {}, f"policy.years.{year}", defaults)
    s = IndicatorSet(version=version, title=title, dimensions=tuple(dims), defaults=defaults, years=years)
    if not s.expert_roles():
        raise PolicyError("policy: at least one indicator must be scored by experts")
    return s


def to_json(s: IndicatorSet) -> Any:
    """The set as plain data (kept with the cycle, so a year's rules never change under it)."""
    return msgspec.to_builtins(s)


def from_json(data: Any) -> IndicatorSet:
    return msgspec.convert(data, IndicatorSet, strict=False)


# ---------------------------------------------------------------- scoring


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


def award_fen(p: YearParameters, grade: str) -> int:
    return {"excellent": p.excellent_award_fen, "good": p.good_award_fen}.get(grade, 0)


def rectification_deadline(p: YearParameters, final_on: date) -> date:
    return final_on + timedelta(days=p.rectification_days)
