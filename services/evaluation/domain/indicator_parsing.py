"""Reading the indicator set from its policy document (the YAML file an
operator can edit, :mod:`services.evaluation.policy`): every key checked,
points to hundredths, the dimensions of R11 weighing 100 in all, per-year
parameters over the defaults; :class:`PolicyError` names the first problem."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

import msgspec

from services.evaluation.domain.indicators import (
    DIMENSIONS,
    EXPERT_ROLES,
    MEASURE_FIELDS,
    RULE_KINDS,
    Dimension,
    Indicator,
    IndicatorSet,
    Rule,
    YearParameters,
)


class PolicyError(ValueError):
    """The policy file is not valid; the message says where and why."""


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
        if "if_none" in node and node["if_none"] not in ("full", "zero"):
            raise PolicyError(f"{where}: if_none must be 'full' or 'zero'")
        # a key left out takes Rule's own default (a plain ratio: target 1 at 100 %, zero without a denominator)
        given: dict[str, Any] = {k: _int(node[k], f"{where}.{k}", minimum=1) for k in ("target", "target_percent") if k in node}
        if "if_none" in node:
            given["if_none"] = node["if_none"]
        return Rule(
            kind="ratio",
            numerator=_measure(node["numerator"], f"{where}.numerator"),
            denominator=_measure(node["denominator"], f"{where}.denominator") if node.get("denominator") is not None else None,
            **given,
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
