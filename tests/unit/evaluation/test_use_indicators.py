"""运行使用 from the usage log (issue 16): a session's minutes per policy year
(split at local new year), the sharing rate, and how the 2023 indicator tree
scores effective hours, outside hours, the sharing rate and idle instruments."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import yaml

from contracts import registry_usage as ue
from services.evaluation.domain.indicator_parsing import parse_policy
from services.evaluation.domain.indicators import Rule
from services.evaluation.domain.measures import Measures
from services.evaluation.domain.scoring import computed_scores, score_rule
from services.evaluation.domain.usage_years import minutes_by_year
from services.evaluation.facts import hours_centi
from services.evaluation.policy import DEFAULT_FILE
from services.evaluation.use import sharing_rate_bp
from services.runtime.db.service_db import ServiceDatabase
from tests.support.evaluation_facts import feed, measures

SET = parse_policy(yaml.safe_load(DEFAULT_FILE.read_text(encoding="utf-8")))


def utc(*a: int) -> datetime:
    return datetime(*a, tzinfo=UTC)


def test_a_session_counts_in_the_local_year_of_its_start() -> None:
    # 31 December 23:00–23:59 in Xuchang is 15:00–15:59 UTC: still that year
    assert minutes_by_year(utc(2025, 12, 31, 15, 0), utc(2025, 12, 31, 15, 59), 59) == {2025: 59}
    # 1 January 00:00 in Xuchang is 16:00 UTC the day before: the next year
    assert minutes_by_year(utc(2025, 12, 31, 16, 0), utc(2025, 12, 31, 17, 30), 90) == {2026: 90}


def test_a_session_over_new_year_is_split_at_local_midnight() -> None:
    assert minutes_by_year(utc(2025, 12, 31, 15, 20), utc(2025, 12, 31, 17, 5), 105) == {2025: 40, 2026: 65}
    # seconds: the parts still add up to the minutes the registry stated
    parts = minutes_by_year(utc(2025, 12, 31, 15, 59, 30), utc(2025, 12, 31, 16, 1, 0), 1)
    assert parts == {2025: 0, 2026: 1} and sum(parts.values()) == 1


def test_the_sharing_rate_is_zero_without_use() -> None:
    assert sharing_rate_bp(0, 0) == 0
    assert sharing_rate_bp(315, 582) == 5412
    assert sharing_rate_bp(10, 10) == 10_000


def test_a_ratio_can_reach_full_points_at_a_share_below_one() -> None:
    half = Rule(kind="ratio", numerator="outside_minutes", denominator="effective_minutes", target_percent=50)
    assert score_rule(half, 400, Measures(unit_id="u", year=2025, outside_minutes=50, effective_minutes=100)) == 400
    assert score_rule(half, 400, Measures(unit_id="u", year=2025, outside_minutes=25, effective_minutes=100)) == 200
    assert score_rule(half, 400, Measures(unit_id="u", year=2025, outside_minutes=99, effective_minutes=100)) == 400
    assert score_rule(half, 400, Measures(unit_id="u", year=2025)) == 0


def test_the_2023_tree_scores_use_from_the_usage_log_not_typed_in_hours() -> None:
    scores = computed_scores(SET, Measures(unit_id="u", year=2025, service_hours_centi=100_000, effective_minutes=48_000, outside_minutes=12_000, instruments_idle=1))
    # hours typed in at delivery count for nothing any more
    assert "op.service_hours" not in scores
    # 800 of 1,600 effective hours (4 points), 200 of 800 outside hours (6), a 25 % sharing rate of the 50 % target (4), 1 idle (2, 1 off)
    assert (scores["op.effective_hours"], scores["op.outside_hours"], scores["op.sharing_rate"], scores["op.idle"]) == (200, 150, 200, 100)
    assert computed_scores(SET, Measures(unit_id="u", year=2025, instruments_idle=5))["op.idle"] == 0
    operation = next(d for d in SET.dimensions if d.code == "operation")
    assert {i.name_zh.split("（")[0] for i in operation.indicators} >= {"有效工作机时", "对外服务机时", "共享率"}


def test_an_orders_service_hours_follow_its_usage_minutes() -> None:
    # 150 minutes of use are 2.50 hours (the event's whole service_hours say 3); an old event states hours only
    assert hours_centi(3, 150) == 250
    assert hours_centi(3, None) == 300


def usage(session_id: str, version: int, start: datetime, end: datetime, *, kind: str = "internal", corrected: bool = False) -> Any:
    fields = dict(
        session_id=session_id, version=version, instrument_id="i-1", unit_id="u-1", kind=kind, order_id="o-1" if kind == "outside" else None,
        user_id="user-1" if kind == "outside" else None, source="staff", started_at=start, ended_at=end, minutes=int((end - start).total_seconds() // 60),
    )  # fmt: skip
    if corrected:
        return ue.UsageCorrected(**fields, previous_started_at=start, previous_ended_at=start, previous_minutes=0, reason="补正")
    return ue.UsageRecorded(**fields)


async def test_usage_events_redelivered_or_out_of_order_count_once_and_the_latest_times_win(db: ServiceDatabase) -> None:
    recorded = usage("s-1", 1, utc(2025, 6, 1, 1, 0), utc(2025, 6, 1, 2, 0), kind="outside")
    # the correction moves the session over new year (40 minutes in 2025, 65 in 2026)
    fixed = usage("s-1", 2, utc(2025, 12, 31, 15, 20), utc(2025, 12, 31, 17, 5), kind="outside", corrected=True)
    await feed(db, fixed, recorded, recorded, fixed)
    m25, m26 = (await measures(db, 2025, ["u-1"]))["u-1"], (await measures(db, 2026, ["u-1"]))["u-1"]
    assert (m25.effective_minutes, m25.outside_minutes, m26.effective_minutes, m26.outside_minutes) == (40, 40, 65, 65)
    # another session in 2025, recorded twice (a redelivery past the inbox)
    other = usage("s-2", 1, utc(2025, 3, 1, 0, 0), utc(2025, 3, 1, 0, 30))
    await feed(db, other, other)
    m25 = (await measures(db, 2025, ["u-1"]))["u-1"]
    assert (m25.effective_minutes, m25.outside_minutes) == (70, 40)
