"""Unit tests for services.runtime.workdays (M11(3), Civil Code art. 201)."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import chinese_calendar
import pytest

from services.runtime.workdays import (
    CalendarConfigError,
    UnknownCalendarYear,
    WorkdayCalendar,
    YearCalendar,
    parse_calendar_config,
)

MON, TUE, WED, THU, FRI, SAT, SUN = range(7)

# A *hypothetical* 2027 arrangement (the real one is not published yet): the
# values only need to be self-consistent.
CONFIG_2027 = {
    "2027": {
        "holidays": ["2027-01-01", "2027-01-02", "2027-01-03", "2027-02-08"],
        "makeup_workdays": ["2027-01-09", "2027-02-07"],
    }
}


@pytest.fixture
def cal() -> WorkdayCalendar:
    return WorkdayCalendar()


@pytest.fixture
def cal_2027() -> WorkdayCalendar:
    return WorkdayCalendar.from_config(CONFIG_2027)


def test_hypothetical_2027_fixture_weekdays() -> None:
    # Guard the fixture itself: what the tests below rely on.
    assert date(2027, 1, 1).weekday() == FRI
    assert date(2027, 1, 9).weekday() == SAT
    assert date(2027, 2, 7).weekday() == SUN
    assert date(2027, 2, 8).weekday() == MON


# --- is_workday ---------------------------------------------------------------


class TestIsWorkday:
    def test_ordinary_weekday_and_weekend(self, cal: WorkdayCalendar) -> None:
        assert date(2024, 9, 18).weekday() == WED
        assert cal.is_workday(date(2024, 9, 18))
        assert not cal.is_workday(date(2024, 9, 21))  # Saturday
        assert not cal.is_workday(date(2024, 9, 22))  # Sunday

    def test_makeup_working_days_are_on(self, cal: WorkdayCalendar) -> None:
        assert date(2024, 9, 29).weekday() == SUN
        assert date(2024, 10, 12).weekday() == SAT
        assert cal.is_workday(date(2024, 9, 29))
        assert cal.is_workday(date(2024, 10, 12))

    @pytest.mark.parametrize("day", range(1, 8))
    def test_national_day_holidays_are_off(self, cal: WorkdayCalendar, day: int) -> None:
        assert not cal.is_workday(date(2024, 10, day))

    def test_agrees_with_library_for_every_day_of_2024(self, cal: WorkdayCalendar) -> None:
        d = date(2024, 1, 1)
        while d.year == 2024:
            assert cal.is_workday(d) is chinese_calendar.is_workday(d), d
            d += timedelta(days=1)

    def test_returns_plain_bool(self, cal: WorkdayCalendar) -> None:
        assert cal.is_workday(date(2024, 9, 18)) is True
        assert cal.is_workday(date(2024, 10, 1)) is False

    @pytest.mark.parametrize("year", [2003, 2099, 1999])
    def test_unknown_year_raises(self, cal: WorkdayCalendar, year: int) -> None:
        with pytest.raises(UnknownCalendarYear) as info:
            cal.is_workday(date(year, 6, 1))
        err = info.value
        assert err.year == year
        assert err.code == "calendar.unknown_year"
        assert str(year) in err.message_en and str(year) in err.message_zh
        assert "工作日历" in err.message_zh
        assert "calendar" in err.message_en
        assert str(err) == err.message_en

    def test_library_bounds_are_known(self, cal: WorkdayCalendar) -> None:
        assert cal.knows_year(2004)
        assert cal.knows_year(2026)
        assert not cal.knows_year(2003)
        assert not cal.knows_year(2099)

    def test_workday_or_none_is_is_workday_or_none_for_an_unknown_year(self, cal_2027: WorkdayCalendar) -> None:
        days = [date(2026, 12, 20) + timedelta(days=k) for k in range(30)] + [date(2099, 1, 1)]  # into 2027, and 2099
        for fresh in (WorkdayCalendar(), WorkdayCalendar.from_config(CONFIG_2027)):
            first = [fresh.workday_or_none(d) for d in days]  # before is_workday remembers anything
            again = [fresh.workday_or_none(d) for d in days]
            expected = [fresh.is_workday(d) if fresh.knows_year(d.year) else None for d in days]
            assert first == again == expected
            assert all(type(x) is bool for x in expected[:12])  # 2026 is known to the library
        assert WorkdayCalendar().workday_or_none(date(2099, 6, 1)) is None
        assert cal_2027.workday_or_none(date(2027, 1, 9)) is True  # a configured make-up Saturday
        assert cal_2027.workday_or_none(date(2027, 1, 1)) is False  # a configured holiday

    def test_rejects_datetime_and_other_types(self, cal: WorkdayCalendar) -> None:
        with pytest.raises(TypeError):
            cal.is_workday(datetime(2024, 9, 18, 12, 0))  # type: ignore[arg-type]
        with pytest.raises(TypeError):
            cal.is_workday("2024-09-18")  # type: ignore[arg-type]


# --- add_workdays -------------------------------------------------------------


class TestAddWorkdays:
    def test_policy_example_2024_national_day(self, cal: WorkdayCalendar) -> None:
        """DOMAIN.md: accepted Fri 2024-09-20 → 30th working day Wed 2024-11-06."""
        start = date(2024, 9, 20)
        assert start.weekday() == FRI
        result = cal.add_workdays(start, 30)
        assert result == date(2024, 11, 6)
        assert result.weekday() == WED

    def test_start_day_is_not_counted(self, cal: WorkdayCalendar) -> None:
        # Wednesday is a working day, but the first one counted is Thursday.
        assert cal.add_workdays(date(2024, 9, 18), 1) == date(2024, 9, 19)

    def test_friday_plus_one_is_monday(self, cal: WorkdayCalendar) -> None:
        assert cal.add_workdays(date(2024, 9, 6), 1) == date(2024, 9, 9)

    def test_start_on_non_working_day(self, cal: WorkdayCalendar) -> None:
        assert cal.add_workdays(date(2024, 9, 21), 1) == date(2024, 9, 23)  # Sat → Mon

    def test_makeup_sunday_counts(self, cal: WorkdayCalendar) -> None:
        # Sat 2024-09-28 → the next working day is the make-up Sunday 09-29.
        assert cal.add_workdays(date(2024, 9, 28), 1) == date(2024, 9, 29)

    def test_skips_holiday_week(self, cal: WorkdayCalendar) -> None:
        # Mon 09-30 → Oct 1–7 are off → Tue 10-08.
        assert cal.add_workdays(date(2024, 9, 30), 1) == date(2024, 10, 8)

    def test_result_is_always_a_working_day(self, cal: WorkdayCalendar) -> None:
        start = date(2024, 1, 1)
        for offset in range(0, 366, 7):
            for n in (1, 5, 30):
                assert cal.is_workday(cal.add_workdays(start + timedelta(days=offset), n))

    @pytest.mark.parametrize("n", [0, -1, -30])
    def test_n_must_be_positive(self, cal: WorkdayCalendar, n: int) -> None:
        with pytest.raises(ValueError):
            cal.add_workdays(date(2024, 9, 20), n)

    @pytest.mark.parametrize("n", [1.0, True, "30", None])
    def test_n_must_be_int(self, cal: WorkdayCalendar, n: object) -> None:
        with pytest.raises(TypeError):
            cal.add_workdays(date(2024, 9, 20), n)  # type: ignore[arg-type]

    def test_rejects_datetime_start(self, cal: WorkdayCalendar) -> None:
        with pytest.raises(TypeError):
            cal.add_workdays(datetime(2024, 9, 20), 30)  # type: ignore[arg-type]

    def test_unknown_year_raises(self, cal: WorkdayCalendar) -> None:
        with pytest.raises(UnknownCalendarYear) as info:
            cal.add_workdays(date(2099, 3, 2), 1)
        assert info.value.year == 2099

    def test_last_known_day_is_fine(self, cal: WorkdayCalendar) -> None:
        assert date(2026, 12, 31).weekday() == THU
        assert cal.add_workdays(date(2026, 12, 30), 1) == date(2026, 12, 31)

    def test_crossing_into_unconfigured_2027_raises(self, cal: WorkdayCalendar) -> None:
        with pytest.raises(UnknownCalendarYear) as info:
            cal.add_workdays(date(2026, 12, 31), 1)
        assert info.value.year == 2027
        with pytest.raises(UnknownCalendarYear):
            cal.add_workdays(date(2026, 12, 20), 30)

    def test_crossing_into_configured_2027(self, cal_2027: WorkdayCalendar) -> None:
        # Thu 2026-12-31 → Fri 01-01, Sat, Sun are holidays → Mon 2027-01-04.
        assert cal_2027.add_workdays(date(2026, 12, 31), 1) == date(2027, 1, 4)


# --- workdays_between ---------------------------------------------------------


class TestWorkdaysBetween:
    def test_half_open_interval(self, cal: WorkdayCalendar) -> None:
        # (Fri 09-06, Mon 09-09]: only Monday.
        assert cal.workdays_between(date(2024, 9, 6), date(2024, 9, 9)) == 1
        # (Thu, Fri]: Friday is counted, Thursday not.
        assert cal.workdays_between(date(2024, 9, 5), date(2024, 9, 6)) == 1

    def test_empty_or_reversed_interval_is_zero(self, cal: WorkdayCalendar) -> None:
        assert cal.workdays_between(date(2024, 9, 6), date(2024, 9, 6)) == 0
        assert cal.workdays_between(date(2024, 9, 9), date(2024, 9, 6)) == 0

    def test_over_national_day(self, cal: WorkdayCalendar) -> None:
        assert cal.workdays_between(date(2024, 9, 30), date(2024, 10, 8)) == 1
        assert cal.workdays_between(date(2024, 9, 20), date(2024, 11, 6)) == 30

    @pytest.mark.parametrize("n", [1, 2, 5, 6, 30, 60])
    @pytest.mark.parametrize("start", [date(2024, 9, 20), date(2024, 9, 28), date(2025, 1, 20), date(2026, 9, 24)])
    def test_inverse_of_add_workdays(self, cal: WorkdayCalendar, start: date, n: int) -> None:
        assert cal.workdays_between(start, cal.add_workdays(start, n)) == n

    def test_unknown_year_raises(self, cal: WorkdayCalendar) -> None:
        with pytest.raises(UnknownCalendarYear):
            cal.workdays_between(date(2026, 12, 1), date(2027, 1, 10))


# --- configured years ---------------------------------------------------------


class TestConfiguredYears:
    def test_configured_2027_works(self, cal_2027: WorkdayCalendar) -> None:
        assert cal_2027.knows_year(2027)
        assert cal_2027.configured_years == frozenset({2027})
        assert not cal_2027.is_workday(date(2027, 1, 1))  # holiday (Friday)
        assert cal_2027.is_workday(date(2027, 1, 4))  # ordinary Monday
        assert cal_2027.is_workday(date(2027, 1, 9))  # make-up Saturday
        assert not cal_2027.is_workday(date(2027, 1, 16))  # ordinary Saturday
        assert cal_2027.is_workday(date(2027, 2, 7))  # make-up Sunday
        assert not cal_2027.is_workday(date(2027, 2, 8))  # holiday (Monday)
        assert cal_2027.add_workdays(date(2027, 2, 5), 1) == date(2027, 2, 7)
        assert cal_2027.add_workdays(date(2027, 2, 7), 1) == date(2027, 2, 9)

    def test_library_years_still_work_alongside_config(self, cal_2027: WorkdayCalendar) -> None:
        assert cal_2027.add_workdays(date(2024, 9, 20), 30) == date(2024, 11, 6)
        with pytest.raises(UnknownCalendarYear):
            cal_2027.is_workday(date(2028, 1, 3))

    def test_configured_year_overrides_library(self) -> None:
        # Replace 2024 by a calendar without holidays and with one make-up day.
        override = WorkdayCalendar.from_config(
            {"2024": {"holidays": ["2024-12-31"], "makeup_workdays": ["2024-12-28"]}}
        )
        assert not override.is_workday(date(2024, 12, 31))  # Tuesday, now off
        assert override.is_workday(date(2024, 12, 28))  # Saturday, now on
        assert override.is_workday(date(2024, 10, 1))  # library holiday, replaced
        assert not override.is_workday(date(2024, 9, 29))  # library make-up day, replaced
        # Other years keep the library's data.
        assert not override.is_workday(date(2025, 1, 1))
        assert override.is_workday(date(2025, 1, 26))  # 2025 make-up Sunday

    def test_constructor_accepts_year_calendar_objects(self) -> None:
        yc = YearCalendar(holidays=frozenset({date(2027, 1, 1)}), makeup_workdays=frozenset())
        cal = WorkdayCalendar({2027: yc})
        assert not cal.is_workday(date(2027, 1, 1))
        assert cal.is_workday(date(2027, 1, 4))

    def test_calendar_is_isolated_from_caller_mapping(self) -> None:
        years = {2027: YearCalendar(holidays=frozenset(), makeup_workdays=frozenset())}
        cal = WorkdayCalendar(years)
        years.clear()
        assert cal.knows_year(2027)

    def test_year_calendar_is_frozen_and_hashable(self) -> None:
        yc = YearCalendar(holidays=frozenset({date(2027, 1, 1)}), makeup_workdays=frozenset())
        with pytest.raises(AttributeError):
            yc.holidays = frozenset()  # type: ignore[misc]
        assert hash(yc) == hash(YearCalendar(holidays=frozenset({date(2027, 1, 1)}), makeup_workdays=frozenset()))


# --- configuration parsing and validation -------------------------------------


def _year(holidays: list[object], makeup: list[object]) -> dict[str, object]:
    return {"2027": {"holidays": holidays, "makeup_workdays": makeup}}


class TestParseConfig:
    def test_parses_strings(self) -> None:
        years = parse_calendar_config(CONFIG_2027)
        assert set(years) == {2027}
        assert date(2027, 1, 1) in years[2027].holidays
        assert years[2027].makeup_workdays == frozenset({date(2027, 1, 9), date(2027, 2, 7)})

    def test_accepts_int_keys_and_date_values(self) -> None:
        # As loaded from TOML (native dates) or built in Python (int keys).
        years = parse_calendar_config({2027: {"holidays": [date(2027, 1, 1)], "makeup_workdays": []}})
        assert years[2027].holidays == frozenset({date(2027, 1, 1)})
        assert years[2027].makeup_workdays == frozenset()

    def test_empty_config(self) -> None:
        assert parse_calendar_config({}) == {}
        assert WorkdayCalendar.from_config({}).configured_years == frozenset()

    def test_duplicate_dates_are_harmless(self) -> None:
        years = parse_calendar_config(_year(["2027-01-01", "2027-01-01"], []))
        assert years[2027].holidays == frozenset({date(2027, 1, 1)})

    @pytest.mark.parametrize("bad", ["2027-02-30", "2027/01/01", "20270101", "2027-1-1", "", "tomorrow", 20270101, None])
    def test_bad_date(self, bad: object) -> None:
        with pytest.raises(CalendarConfigError) as info:
            parse_calendar_config(_year([bad], []))
        err = info.value
        assert isinstance(err, ValueError)
        assert err.code == "calendar.config_invalid"
        assert err.year == 2027
        assert "2027" in err.message_en and "2027" in err.message_zh

    def test_datetime_value_rejected(self) -> None:
        with pytest.raises(CalendarConfigError):
            parse_calendar_config(_year([datetime(2027, 1, 1)], []))

    @pytest.mark.parametrize(
        ("holidays", "makeup"),
        [(["2026-12-31"], []), (["2028-01-01"], []), ([], ["2026-12-27"])],
    )
    def test_date_outside_its_year(self, holidays: list[str], makeup: list[str]) -> None:
        with pytest.raises(CalendarConfigError) as info:
            parse_calendar_config(_year(holidays, makeup))
        assert "不在 2027 年内" in info.value.message_zh
        assert "not in 2027" in info.value.message_en

    def test_date_both_holiday_and_makeup(self) -> None:
        with pytest.raises(CalendarConfigError) as info:
            parse_calendar_config(_year(["2027-01-09"], ["2027-01-09"]))
        assert "2027-01-09" in info.value.message_en
        assert "同时" in info.value.message_zh

    def test_makeup_day_must_be_weekend(self) -> None:
        with pytest.raises(CalendarConfigError) as info:
            parse_calendar_config(_year([], ["2027-01-04"]))  # a Monday
        assert "2027-01-04" in info.value.message_en

    @pytest.mark.parametrize("key", ["27", "abcd", "20270", "", True, 0, -2027, 2027.0])
    def test_bad_year_key(self, key: object) -> None:
        with pytest.raises(CalendarConfigError):
            parse_calendar_config({key: {"holidays": [], "makeup_workdays": []}})

    def test_year_configured_twice(self) -> None:
        with pytest.raises(CalendarConfigError):
            parse_calendar_config(
                {
                    "2027": {"holidays": [], "makeup_workdays": []},
                    2027: {"holidays": [], "makeup_workdays": []},
                }
            )

    @pytest.mark.parametrize(
        "entry",
        [
            {"holidays": []},
            {"makeup_workdays": []},
            {"holidays": [], "makeup_workdays": [], "note": "x"},
            {"holidays": [], "makeup_workday": []},
        ],
    )
    def test_missing_or_unknown_keys(self, entry: dict[str, object]) -> None:
        with pytest.raises(CalendarConfigError):
            parse_calendar_config({"2027": entry})

    @pytest.mark.parametrize("entry", [[], "2027-01-01", None, 5])
    def test_entry_not_a_mapping(self, entry: object) -> None:
        with pytest.raises(CalendarConfigError):
            parse_calendar_config({"2027": entry})

    @pytest.mark.parametrize("value", ["2027-01-01", None, 5])
    def test_dates_not_a_list(self, value: object) -> None:
        with pytest.raises(CalendarConfigError):
            parse_calendar_config({"2027": {"holidays": value, "makeup_workdays": []}})

    @pytest.mark.parametrize("config", [[], "2027", None])
    def test_config_not_a_mapping(self, config: object) -> None:
        with pytest.raises(CalendarConfigError):
            parse_calendar_config(config)  # type: ignore[arg-type]

    def test_from_config_propagates_errors(self) -> None:
        with pytest.raises(CalendarConfigError):
            WorkdayCalendar.from_config(_year(["2027-13-01"], []))


class TestYearCalendarValidation:
    def test_overlap(self) -> None:
        d = date(2027, 1, 9)
        with pytest.raises(CalendarConfigError):
            YearCalendar(holidays=frozenset({d}), makeup_workdays=frozenset({d}))

    def test_requires_frozensets_of_dates(self) -> None:
        with pytest.raises(TypeError):
            YearCalendar(holidays={date(2027, 1, 1)}, makeup_workdays=frozenset())  # type: ignore[arg-type]
        with pytest.raises(TypeError):
            YearCalendar(holidays=frozenset({"2027-01-01"}), makeup_workdays=frozenset())  # type: ignore[arg-type]
        with pytest.raises(TypeError):
            YearCalendar(holidays=frozenset({datetime(2027, 1, 1)}), makeup_workdays=frozenset())

    def test_constructor_checks_dates_belong_to_their_year(self) -> None:
        yc = YearCalendar(holidays=frozenset({date(2026, 1, 1)}), makeup_workdays=frozenset())
        with pytest.raises(CalendarConfigError):
            WorkdayCalendar({2027: yc})

    def test_constructor_checks_types(self) -> None:
        with pytest.raises(TypeError):
            WorkdayCalendar({"2027": YearCalendar(holidays=frozenset(), makeup_workdays=frozenset())})  # type: ignore[dict-item]
        with pytest.raises(TypeError):
            WorkdayCalendar({2027: {"holidays": [], "makeup_workdays": []}})  # type: ignore[dict-item]
