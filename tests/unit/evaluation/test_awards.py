"""The award plan's amounts, the provincial-award exclusion (R6), the fraud
exclusion (R27), the budget cap at its edges, and the notice window across a holiday."""

from __future__ import annotations

from datetime import date

from services.evaluation.domain.awards import (
    BLACKLISTED,
    BUDGET_EXHAUSTED,
    DISQUALIFIED,
    FUNDED,
    PROVINCIAL_AWARD,
    UNQUALIFIED,
    Candidate,
    notice_window,
    publication_day,
    objections_open,
    plan,
    window_closed,
)
from services.evaluation.policy import load_policy
from services.runtime.settings import Settings
from services.runtime.workdays import WorkdayCalendar

#: the packaged 2023 policy's parameters (50,000 / 30,000 CNY awards, a 5-working-day notice)
P = load_policy(Settings.from_env({})).defaults
A = Candidate("a", "excellent", 9000)
B = Candidate("b", "excellent", 8600)
C = Candidate("c", "good", 8000)
D = Candidate("d", "good", 7500)
E = Candidate("e", "unqualified", 5000)


def outcomes(lines) -> list[tuple[str, int, str]]:
    return [(line.candidate.unit_id, line.amount_fen, line.outcome) for line in lines]


def test_amounts_by_grade_with_enough_budget() -> None:
    assert outcomes(plan(P, 100_000_000, [E, D, C, B, A], set())) == [
        ("a", 5_000_000, FUNDED), ("b", 5_000_000, FUNDED), ("c", 3_000_000, FUNDED), ("d", 3_000_000, FUNDED), ("e", 0, UNQUALIFIED)
    ]


def test_a_provincial_award_excludes_the_city_award_and_costs_no_budget() -> None:
    lines = plan(P, 8_000_000, [A, B, C], {"a"})
    assert outcomes(lines) == [("a", 0, PROVINCIAL_AWARD), ("b", 5_000_000, FUNDED), ("c", 3_000_000, FUNDED)]


def test_a_disqualified_or_blacklisted_unit_gets_nothing_and_costs_no_budget() -> None:
    # R27: from the finding on, the unit fails the award check; the next in merit takes its place
    lines = plan(P, 8_000_000, [A, B, C, D], set(), {"a": DISQUALIFIED, "c": BLACKLISTED})
    assert outcomes(lines) == [("a", 0, DISQUALIFIED), ("b", 5_000_000, FUNDED), ("c", 0, BLACKLISTED), ("d", 3_000_000, FUNDED)]


def test_budget_exactly_enough_funds_everyone() -> None:
    lines = plan(P, 16_000_000, [A, B, C, D], set())
    assert [line.outcome for line in lines] == [FUNDED] * 4
    assert sum(line.amount_fen for line in lines) == 16_000_000


def test_one_fen_short_stops_at_the_first_award_that_does_not_fit() -> None:
    lines = plan(P, 15_999_999, [A, B, C, D], set())
    assert outcomes(lines) == [("a", 5_000_000, FUNDED), ("b", 5_000_000, FUNDED), ("c", 3_000_000, FUNDED), ("d", 0, BUDGET_EXHAUSTED)]


def test_a_lower_ranked_smaller_award_is_not_funded_past_the_first_miss() -> None:
    # 9,000,000: A fits (4,000,000 left); B's 5,000,000 does not. C's 3,000,000 would fit,
    # but funding it would put a good unit ahead of an excellent one: the plan stops at B.
    lines = plan(P, 9_000_000, [A, B, C], set())
    assert outcomes(lines) == [("a", 5_000_000, FUNDED), ("b", 0, BUDGET_EXHAUSTED), ("c", 0, BUDGET_EXHAUSTED)]


def test_ties_rank_by_total_then_unit_id() -> None:
    x, y = Candidate("y", "good", 8000), Candidate("x", "good", 8000)
    lines = plan(P, 3_000_000, [x, y], set())
    assert outcomes(lines) == [("x", 3_000_000, FUNDED), ("y", 0, BUDGET_EXHAUSTED)]


def test_notice_window_starts_the_next_working_day_and_skips_a_holiday() -> None:
    cal = WorkdayCalendar()
    # Published Friday 2024-09-27: Sunday 29 Sept was a make-up working day, 1–7 October holidays.
    opens, closes = notice_window(cal, date(2024, 9, 27), 5)
    assert opens == date(2024, 9, 29)
    assert closes == date(2024, 10, 10)  # 29, 30 Sept, then 8, 9, 10 Oct
    assert objections_open(closes, date(2024, 10, 10)) and not window_closed(closes, date(2024, 10, 10))
    assert not objections_open(closes, date(2024, 10, 11)) and window_closed(closes, date(2024, 10, 11))
    # Published on a Monday: the window is Tue–Fri and the next Monday.
    assert notice_window(cal, date(2024, 11, 4), 5) == (date(2024, 11, 5), date(2024, 11, 11))


def test_a_notice_posted_earlier_is_recorded_on_its_day_while_its_window_runs() -> None:
    """The publication day is data: today by default; a day in the past while its
    window is still running (to its last day); never a future day."""
    import pytest

    from services.runtime.errors import DomainError

    cal = WorkdayCalendar()
    today = date(2024, 10, 10)  # the last day of a notice published 2024-09-27
    assert publication_day(cal, None, today, 5) == today
    assert publication_day(cal, date(2024, 9, 27), today, 5) == date(2024, 9, 27)
    with pytest.raises(DomainError) as err:
        publication_day(cal, date(2024, 9, 27), date(2024, 10, 11), 5)
    assert err.value.code == "notice.window_already_closed" and err.value.details["field"] == "published_on"
    with pytest.raises(DomainError) as err:
        publication_day(cal, date(2024, 10, 11), today, 5)
    assert err.value.code == "notice.published_in_future"
