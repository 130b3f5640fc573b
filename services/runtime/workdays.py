"""China's official working-day calendar (工作日历).

Used for the listing deadline of M11(3) (Measures, attachment 1): an instrument
must be listed "自完成安装使用验收之日起 30 个工作日内".

Rules implemented here:

* A *make-up working day* (调休上班日: a Saturday or Sunday the State Council
  declares a working day) is a working day.
* A *public holiday* (法定节假日 and the rest days joined to it) is not.
* Otherwise Monday to Friday are working days and weekends are not.
* Counting "n working days after" a date never counts the start day itself
  (Civil Code art. 201: 按照年、月、日计算期间的，开始的当日不计入).

The data come from the maintained ``chinese-calendar`` library (which covers
2004 up to the year its release knows about). The State Council publishes each
next year's arrangement in November, usually before a library release has it,
so operators can supply whole years by configuration (:func:`parse_calendar_config`).
A configured year *replaces* the library's data for that year. A date in a
year known to neither raises :class:`UnknownCalendarYear`: the calendar never
guesses.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from datetime import date, datetime, timedelta
from types import MappingProxyType
from typing import Any

import chinese_calendar
import msgspec

from services.runtime.errors import DomainError
from services.runtime.settings import Settings, SettingsError

__all__ = [
    "CalendarConfigError",
    "UnknownCalendarYear",
    "WorkdayCalendar",
    "YearCalendar",
    "parse_calendar_config",
]

_ONE_DAY = timedelta(days=1)
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_CONFIG_KEYS = frozenset({"holidays", "makeup_workdays"})


class UnknownCalendarYear(DomainError, LookupError):
    """No official working-day calendar is known for ``year``.

    Raised instead of guessing whenever a computation touches a year that is
    neither covered by the ``chinese-calendar`` library nor configured.
    """

    code = "calendar.unknown_year"

    def __init__(self, year: int) -> None:
        self.year = year
        self.message_zh = (
            f"缺少 {year} 年的工作日历：chinese-calendar 库未收录该年，运维配置中也没有。"
            f"请在国务院办公厅公布 {year} 年节假日安排后，在配置中补充该年的节假日和调休上班日。"
        )
        self.message_en = (
            f"No working-day calendar for {year}: the chinese-calendar library does not "
            f"cover it and the configuration does not supply it. Add {year}'s public "
            "holidays and make-up working days (as published by the State Council) "
            "to the configuration."
        )
        DomainError.__init__(self, self.code, self.message_zh, self.message_en, year=year)


class CalendarConfigError(ValueError):
    """An operator-supplied year calendar is malformed or inconsistent."""

    code = "calendar.config_invalid"

    def __init__(self, message_en: str, message_zh: str, *, year: int | None = None) -> None:
        self.year = year
        self.message_en = message_en
        self.message_zh = message_zh
        super().__init__(message_en)


def _check_dates(dates: object, field: str) -> None:
    if not isinstance(dates, frozenset):
        raise TypeError(f"YearCalendar.{field} must be a frozenset of datetime.date")
    for d in dates:
        # datetime is a subclass of date; a calendar of datetimes would never match.
        if not isinstance(d, date) or isinstance(d, datetime):
            raise TypeError(f"YearCalendar.{field} must contain datetime.date values, got {d!r}")


class YearCalendar(msgspec.Struct, frozen=True):
    """One year's official arrangement (国务院办公厅关于某年部分节假日安排的通知).

    ``holidays``: every day off for a public holiday, including the weekend
    days joined to it (e.g. 1–7 October). ``makeup_workdays``: the weekend days
    declared working days (调休上班). A date cannot be both, and a make-up
    working day is always a Saturday or Sunday (a weekday is a working day
    anyway, so listing one is a configuration mistake).
    """

    holidays: frozenset[date]
    makeup_workdays: frozenset[date]

    def __post_init__(self) -> None:
        _check_dates(self.holidays, "holidays")
        _check_dates(self.makeup_workdays, "makeup_workdays")
        both = self.holidays & self.makeup_workdays
        if both:
            first = min(both).isoformat()
            raise CalendarConfigError(
                f"{first} is listed both as a holiday and as a make-up working day",
                f"{first} 同时被列为节假日和调休上班日",
                year=min(both).year,
            )
        weekdays = sorted(d for d in self.makeup_workdays if d.weekday() < 5)
        if weekdays:
            first = weekdays[0].isoformat()
            raise CalendarConfigError(
                f"make-up working day {first} is not a Saturday or Sunday",
                f"调休上班日 {first} 不是周六或周日",
                year=weekdays[0].year,
            )


def _check_year_key(year: object) -> int:
    if isinstance(year, bool):
        year = str(year)  # reject below with the generic message
    if isinstance(year, str) and re.fullmatch(r"\d{4}", year.strip()):
        year = int(year.strip())
    if not isinstance(year, int) or not (1 <= year <= 9999):
        raise CalendarConfigError(
            f"calendar year {year!r} is not a four-digit year",
            f"日历年份 {year!r} 不是四位数年份",
        )
    return year


def _parse_date(value: object, year: int, field: str) -> date:
    if isinstance(value, date) and not isinstance(value, datetime):
        return value  # TOML has native date literals
    if isinstance(value, str) and _ISO_DATE.fullmatch(value.strip()):
        try:
            return date.fromisoformat(value.strip())
        except ValueError:
            pass
    raise CalendarConfigError(
        f"{year}.{field}: {value!r} is not a valid date (expected YYYY-MM-DD)",
        f"{year} 年 {field}：{value!r} 不是有效日期（应为 YYYY-MM-DD 格式）",
        year=year,
    )


def _parse_dates(values: object, year: int, field: str) -> frozenset[date]:
    if isinstance(values, (str, bytes)) or not isinstance(values, Iterable):
        raise CalendarConfigError(
            f"{year}.{field} must be a list of dates",
            f"{year} 年 {field} 必须是日期列表",
            year=year,
        )
    return frozenset(_parse_date(v, year, field) for v in values)


def parse_calendar_config(config: Mapping[Any, Any]) -> dict[int, YearCalendar]:
    """Parse operator calendar configuration, as loaded from JSON or TOML.

    Shape::

        {"2027": {"holidays": ["2027-01-01", ...],
                  "makeup_workdays": ["2027-02-07", ...]}}

    Year keys may be strings or ints; dates may be ``YYYY-MM-DD`` strings or
    ``datetime.date`` values. Both keys are required (use ``[]`` for none) and
    no other key is accepted, so a misspelt key cannot silently drop a list.

    Raises :class:`CalendarConfigError` for a bad year, an unknown or missing
    key, a bad date, a date outside its year, or a date that is both a holiday
    and a make-up working day.
    """
    if not isinstance(config, Mapping):
        raise CalendarConfigError(
            "calendar configuration must be a mapping of year -> calendar",
            "工作日历配置必须是“年份 -> 日历”的映射",
        )
    years: dict[int, YearCalendar] = {}
    for raw_year, entry in config.items():
        year = _check_year_key(raw_year)
        if year in years:
            raise CalendarConfigError(
                f"calendar year {year} is configured twice",
                f"{year} 年的日历被重复配置",
                year=year,
            )
        if not isinstance(entry, Mapping):
            raise CalendarConfigError(
                f"{year}: expected a table with 'holidays' and 'makeup_workdays'",
                f"{year} 年：应包含 holidays 和 makeup_workdays 两项",
                year=year,
            )
        keys = set(entry)
        if keys != _CONFIG_KEYS:
            missing = sorted(_CONFIG_KEYS - keys)
            unknown = sorted(map(str, keys - _CONFIG_KEYS))
            raise CalendarConfigError(
                f"{year}: missing keys {missing}, unknown keys {unknown}",
                f"{year} 年：缺少配置项 {missing}，未知配置项 {unknown}",
                year=year,
            )
        years[year] = YearCalendar(
            holidays=_parse_dates(entry["holidays"], year, "holidays"),
            makeup_workdays=_parse_dates(entry["makeup_workdays"], year, "makeup_workdays"),
        )
    _check_years(years)
    return years


def _check_years(years: Mapping[int, YearCalendar]) -> None:
    for year, cal in years.items():
        if isinstance(year, bool) or not isinstance(year, int):
            raise TypeError(f"calendar year keys must be int, got {year!r}")
        if not isinstance(cal, YearCalendar):
            raise TypeError(f"calendar for {year} must be a YearCalendar, got {type(cal).__name__}")
        for field, dates in (("holidays", cal.holidays), ("makeup_workdays", cal.makeup_workdays)):
            outside = sorted(d for d in dates if d.year != year)
            if outside:
                bad = outside[0].isoformat()
                raise CalendarConfigError(
                    f"{year}.{field}: {bad} is not in {year}",
                    f"{year} 年 {field}：{bad} 不在 {year} 年内",
                    year=year,
                )


def _check_date(d: object, name: str) -> date:
    if not isinstance(d, date) or isinstance(d, datetime):
        raise TypeError(f"{name} must be a datetime.date (not datetime), got {type(d).__name__}")
    return d


class WorkdayCalendar:
    """Official working days: the ``chinese-calendar`` library plus configured years.

    Immutable once built; share one instance per configuration. Answers are
    remembered per date (a schedule asks for every day of every week it shows).
    """

    __slots__ = ("_memo", "_years")

    def __init__(self, extra_years: Mapping[int, YearCalendar] | None = None) -> None:
        years = dict(extra_years or {})
        _check_years(years)
        self._years: Mapping[int, YearCalendar] = MappingProxyType(years)
        #: date -> working day, or None for a year nobody knows (raised again on each ask)
        self._memo: dict[date, bool | None] = {}

    @classmethod
    def from_config(cls, config: Mapping[Any, Any]) -> WorkdayCalendar:
        """Build a calendar from plain configuration; see :func:`parse_calendar_config`."""
        return cls(parse_calendar_config(config))

    @property
    def configured_years(self) -> frozenset[int]:
        """The years supplied by configuration (they override the library)."""
        return frozenset(self._years)

    def knows_year(self, year: int) -> bool:
        """True when working days of ``year`` can be computed without guessing."""
        try:
            self.is_workday(date(year, 1, 1))
        except UnknownCalendarYear:
            return False
        return True

    def known_until(self, today: date) -> date | None:
        """The last day of the last year known without a gap from ``today``'s year
        (None when not even that year is known): free time, bookings and listing
        deadlines after it answer ``calendar.unknown_year``."""
        year = today.year
        if not self.knows_year(year):
            return None
        while self.knows_year(year + 1):
            year += 1
        return date(year, 12, 31)

    def days_left(self, today: date) -> int:
        """Days from ``today`` to :meth:`known_until` (-1: today's year is unknown)."""
        last = self.known_until(today)
        return -1 if last is None else (last - today).days

    def is_workday(self, d: date) -> bool:
        """True when ``d`` is an official working day in mainland China.

        Raises :class:`UnknownCalendarYear` for a year neither the library nor
        the configuration covers.
        """
        _check_date(d, "d")
        known = self._memo.get(d, ...)
        if known is None:
            raise UnknownCalendarYear(d.year)
        if known is not ...:
            return known
        try:
            answer = self._answer(d)
        except UnknownCalendarYear:
            self._memo[d] = None
            raise
        self._memo[d] = answer
        return answer

    def workday_or_none(self, d: date) -> bool | None:
        """:meth:`is_workday`, or None (no raise) for a day of a year the calendar does not
        know. Once the day was asked, one look-up (free time asks for every day it shows)."""
        known = self._memo.get(d, ...)
        if known is not ...:
            return known
        return self.is_workday(d) if self.knows_year(d.year) else None

    def _answer(self, d: date) -> bool:
        configured = self._years.get(d.year)
        if configured is not None:
            if d in configured.makeup_workdays:
                return True
            if d in configured.holidays:
                return False
            return d.weekday() < 5
        try:
            return bool(chinese_calendar.is_workday(d))
        except NotImplementedError:  # the library's "no data for year" signal
            raise UnknownCalendarYear(d.year) from None

    def add_workdays(self, start: date, n: int) -> date:
        """The ``n``-th working day after ``start``; ``start`` itself is not counted.

        Civil Code art. 201: the first day of a period is not counted. M11(3):
        the listing deadline is ``add_workdays(acceptance_date, 30)``.
        Raises ``ValueError`` for ``n < 1`` and :class:`UnknownCalendarYear`
        if the count runs into an unknown year.
        """
        _check_date(start, "start")
        if isinstance(n, bool) or not isinstance(n, int):
            raise TypeError(f"n must be an int, got {type(n).__name__}")
        if n < 1:
            raise ValueError(f"n must be at least 1, got {n}")
        d = start
        remaining = n
        while remaining:
            d += _ONE_DAY
            if self.is_workday(d):
                remaining -= 1
        return d

    def workdays_between(self, start: date, end: date) -> int:
        """Number of working days in the half-open interval ``(start, end]``.

        ``start`` is not counted, ``end`` is; 0 when ``end <= start``. So
        ``workdays_between(s, add_workdays(s, n)) == n``.
        """
        _check_date(start, "start")
        _check_date(end, "end")
        count = 0
        d = start
        while d < end:
            d += _ONE_DAY
            if self.is_workday(d):
                count += 1
        return count

    def __repr__(self) -> str:
        return f"WorkdayCalendar(configured_years={sorted(self._years)})"


def load_calendar(settings: Settings) -> WorkdayCalendar:
    """The official working-day calendar: the library plus the years in
    ``XCISS_CALENDAR_FILE``. A missing or malformed file is a SettingsError."""
    path = settings.calendar_file
    if path is None:
        return WorkdayCalendar()
    try:
        config = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise SettingsError(f"XCISS_CALENDAR_FILE {path}: cannot read a JSON calendar: {exc}") from exc
    try:
        return WorkdayCalendar.from_config(config)
    except CalendarConfigError as exc:
        raise SettingsError(f"XCISS_CALENDAR_FILE {path}: {exc.message_en}") from exc
