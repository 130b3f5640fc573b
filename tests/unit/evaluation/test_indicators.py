"""The indicator set: the policy file's validation, each scoring rule at its
edges, the experts' means, the total and the grade thresholds."""

from __future__ import annotations

import copy
from datetime import date
from pathlib import Path

import pytest
import yaml

from services.evaluation.domain.indicator_parsing import PolicyError, parse_policy
from services.evaluation.domain.indicators import Rule, award_fen, from_json, rectification_deadline, to_json
from services.evaluation.domain.scoring import IncompleteScores, check_sheet, evaluate, expert_means, grade_of, score_rule
from services.evaluation.domain.measures import Measures
from services.evaluation.policy import DEFAULT_FILE, load_policy
from services.runtime.settings import Settings, SettingsError

DOC = yaml.safe_load(DEFAULT_FILE.read_text(encoding="utf-8"))
SET = parse_policy(DOC)
P = SET.parameters(2026)


def m(**kw: int) -> Measures:
    return Measures(unit_id="u", year=2026, **kw)


def doc() -> dict:
    return copy.deepcopy(DOC)


def test_the_packaged_set_has_three_dimensions_weighing_100_and_the_policy_numbers() -> None:
    assert [d.name_zh for d in SET.dimensions] == ["组织管理", "运行使用", "共享服务"]
    assert sum(i.max_centi for i in SET.indicators()) == 10000
    assert (P.excellent_centi, P.good_centi) == (8500, 7000)
    assert (P.excellent_award_fen, P.good_award_fen) == (5_000_000, 3_000_000)
    assert award_fen(P, "excellent") == 5_000_000 and award_fen(P, "good") == 3_000_000 and award_fen(P, "unqualified") == 0
    assert P.notice_window_workdays == 5
    assert SET.expert_roles() == ("management", "technical", "finance")


def test_grade_thresholds_at_the_hundredth() -> None:
    assert grade_of(P, 8500) == "excellent"
    assert grade_of(P, 8499) == "good"
    assert grade_of(P, 7000) == "good"
    assert grade_of(P, 6999) == "unqualified"
    assert grade_of(P, 0) == "unqualified"
    assert grade_of(P, 10000) == "excellent"


def test_ratio_rule() -> None:
    r = Rule(kind="ratio", numerator="instruments_listed_on_time", denominator="instruments_must_list", if_none="full")
    assert score_rule(r, 1000, m(instruments_must_list=3, instruments_listed_on_time=3)) == 1000
    assert score_rule(r, 1000, m(instruments_must_list=3, instruments_listed_on_time=2)) == 666  # 6.666… rounded down
    assert score_rule(r, 1000, m(instruments_must_list=3, instruments_listed_on_time=0)) == 0
    assert score_rule(r, 1000, m()) == 1000  # nothing to list: full points
    assert score_rule(Rule(kind="ratio", numerator="ratings_sum", denominator="ratings_count", target=5), 600, m()) == 0
    stars = Rule(kind="ratio", numerator="ratings_sum", denominator="ratings_count", target=5)
    assert score_rule(stars, 600, m(ratings_count=2, ratings_sum=9)) == 540  # 4.5 of 5 stars
    assert score_rule(stars, 600, m(ratings_count=2, ratings_sum=10)) == 600


def test_linear_rule_caps() -> None:
    r = Rule(kind="linear", field="orders_served", cap=50)
    assert score_rule(r, 800, m(orders_served=0)) == 0
    assert score_rule(r, 800, m(orders_served=25)) == 400
    assert score_rule(r, 800, m(orders_served=49)) == 784
    assert score_rule(r, 800, m(orders_served=50)) == 800
    assert score_rule(r, 800, m(orders_served=500)) == 800


def test_deduction_rule_floors_at_zero() -> None:
    r = Rule(kind="deduction", field="complaints", per_item_centi=200)
    assert score_rule(r, 400, m()) == 400
    assert score_rule(r, 400, m(complaints=1)) == 200
    assert score_rule(r, 400, m(complaints=2)) == 0
    assert score_rule(r, 400, m(complaints=7)) == 0


def test_expert_means_round_down_per_indicator_and_role() -> None:
    sheets = [("management", {"org.rules": 700, "org.staff": 600}), ("management", {"org.rules": 601, "org.staff": 500}), ("technical", {"org.rules": 0})]
    means = expert_means(SET, sheets)
    assert means["org.rules"] == 650  # (700 + 601) // 2; the technical sheet does not count
    assert means["org.staff"] == 550
    assert "op.condition" not in means


def full_sheets(points: dict[str, int] | None = None) -> list[tuple[str, dict[str, int]]]:
    out = []
    for role in SET.expert_roles():
        out.append((role, {i.code: (points or {}).get(i.code, i.max_centi) for i in SET.expert_indicators(role)}))
    return out


BEST = m(orders_served=50, service_hours_centi=100000, effective_minutes=96000, outside_minutes=48000, outside_users_served=20, voucher_orders=20, revenue_fen=50_000_000, ratings_count=1, ratings_sum=5)


def test_evaluate_sums_computed_and_expert_parts_to_100() -> None:
    r = evaluate(SET, 2026, BEST, full_sheets())
    assert r.total_centi == 10000 and r.grade == "excellent"
    assert set(r.scores) == {i.code for i in SET.indicators()}


def test_evaluate_at_the_excellent_edge() -> None:
    # 15.00 points off: exactly 85.00
    r = evaluate(SET, 2026, BEST, full_sheets({"op.condition": 0, "share.effect": 100}))
    assert r.total_centi == 8500 and r.grade == "excellent"
    r = evaluate(SET, 2026, BEST, full_sheets({"op.condition": 0, "share.effect": 99}))
    assert r.total_centi == 8499 and r.grade == "good"


def test_evaluate_at_the_good_edge() -> None:
    weaker = m(orders_served=50, service_hours_centi=100000, effective_minutes=96000, outside_minutes=48000, outside_users_served=20, voucher_orders=20, revenue_fen=50_000_000, ratings_count=1, ratings_sum=5, complaints=2)
    # computed 56 (4 off for complaints); experts: 40 max, need 14.00 → 70.00
    pts = {"op.condition": 0, "share.effect": 0, "org.rules": 0, "org.staff": 400, "org.finance": 600, "share.fees": 400}
    r = evaluate(SET, 2026, weaker, full_sheets(pts))
    assert r.total_centi == 7000 and r.grade == "good"
    r = evaluate(SET, 2026, weaker, full_sheets({**pts, "org.staff": 399}))
    assert r.total_centi == 6999 and r.grade == "unqualified"


def test_evaluate_refuses_missing_expert_scores() -> None:
    with pytest.raises(IncompleteScores) as e:
        evaluate(SET, 2026, BEST, [s for s in full_sheets() if s[0] != "finance"])
    assert set(e.value.missing) == {"org.finance", "share.fees"}


def test_check_sheet() -> None:
    assert check_sheet(SET, "finance", {"org.finance": 600, "share.fees": 0}) == []
    problems = check_sheet(SET, "finance", {"org.finance": 601, "org.rules": 1})
    assert "org.finance: 601 is outside 0..600" in problems and "share.fees: missing" in problems
    assert "org.rules: not an indicator of the finance experts" in problems


def test_set_survives_the_json_round_trip_kept_with_the_cycle() -> None:
    assert from_json(to_json(SET)) == SET


def test_year_overrides_and_rectification_deadline() -> None:
    d = doc()
    d["years"] = {2027: {"awards_fen": {"excellent": 6_000_000, "good": 3_500_000}}}
    s = parse_policy(d)
    assert s.parameters(2027).excellent_award_fen == 6_000_000 and s.parameters(2027).excellent_centi == 8500
    assert s.parameters(2026).excellent_award_fen == 5_000_000
    assert rectification_deadline(P, date(2026, 12, 1)) == date(2027, 3, 1)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda d: d["dimensions"][0].__setitem__("weight", 21), "weight"),
        (lambda d: d["dimensions"][2]["indicators"][0].__setitem__("code", "org.rules"), "used twice"),
        (lambda d: d["dimensions"][1]["indicators"][0]["rule"].__setitem__("numerator", "instruments_on_time"), "not a Measures field"),
        (lambda d: d["dimensions"][1]["indicators"][0]["rule"].__setitem__("kind", "log"), "rule kind"),
        (lambda d: d["dimensions"][0]["indicators"][0].__setitem__("role", "legal"), "role"),
        (lambda d: d["dimensions"][0]["indicators"][0].__setitem__("points", 8.125), "two decimals"),
        (lambda d: d["parameters"]["grade_thresholds"].__setitem__("good", 90), "good < excellent"),
        (lambda d: d.__setitem__("colour", "red"), "unknown keys"),
        (lambda d: d["dimensions"].pop(), "R11"),
        (lambda d: (d["dimensions"][0].__setitem__("weight", 21), d["dimensions"][0]["indicators"][0].__setitem__("points", 9)), "weights sum to 101"),
    ],
)
def test_invalid_policies_are_refused_with_a_clear_message(change, message: str) -> None:
    d = doc()
    change(d)
    with pytest.raises(PolicyError, match=message):
        parse_policy(d)


def test_the_setting_points_to_another_file(tmp_path: Path) -> None:
    d = doc()
    d["version"] = "xuchang-2027.1"
    f = tmp_path / "p.yaml"
    f.write_text(yaml.safe_dump(d, allow_unicode=True), encoding="utf-8")
    assert load_policy(Settings(data_dir=tmp_path, evaluation_policy_file=f)).version == "xuchang-2027.1"
    assert Settings.from_env({"XCISS_EVALUATION_POLICY_FILE": str(f)}).evaluation_policy_file == f.resolve()
    d["dimensions"][0]["weight"] = 30
    f.write_text(yaml.safe_dump(d, allow_unicode=True), encoding="utf-8")
    with pytest.raises(SettingsError, match="XCISS_EVALUATION_POLICY_FILE .*weight"):
        load_policy(Settings(data_dir=tmp_path, evaluation_policy_file=tmp_path / "p.yaml"))
    with pytest.raises(SettingsError, match="XCISS_EVALUATION_POLICY_FILE"):
        load_policy(Settings(data_dir=tmp_path, evaluation_policy_file=tmp_path / "missing.yaml"))
