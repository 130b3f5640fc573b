"""The must-list rule and listing compliance (M5, M6, M11(3) of attachment 1).

* M5: instruments bought wholly or partly with fiscal funds (部分或全部利用财政资金),
  original value per set "20万元以上" — in Chinese legal usage 以上 *includes*
  the number itself — must be listed on the city platform, except classified
  ones (涉密) and those exempted by special legal provisions. Others are
  encouraged to list voluntarily.
* M6: imports enjoying the science-and-education duty exemption (科教用品和科技
  开发用品进口免税) are listed too.
* M11(3): listing is due within 30 working days of the acceptance date
  (完成安装使用验收之日起 30 个工作日内); the acceptance day is not counted.
  Unlisted after that day, the instrument is overdue; its unit and the center
  are told on the first working day after it (:func:`overdue_from`).

Money is always an ``int`` number of fen (分); floats are rejected.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from enum import StrEnum

import msgspec

from services.runtime.workdays import WorkdayCalendar
from services.runtime.yearly import ByYear

__all__ = [
    "Funding",
    "ListingPolicies",
    "ListingPolicy",
    "ListingPolicyError",
    "ListingStatus",
    "due_soon_from",
    "last_workday_before",
    "listing_deadline",
    "listing_status",
    "must_list",
    "overdue_from",
]


class Funding(StrEnum):
    """How an instrument was paid for (财政资金, M5)."""

    fiscal_full = "fiscal_full"  # 全部利用财政资金
    fiscal_part = "fiscal_part"  # 部分利用财政资金
    non_fiscal = "non_fiscal"  # 非财政资金


_FISCAL = frozenset({Funding.fiscal_full, Funding.fiscal_part})


class ListingStatus(StrEnum):
    """Listing compliance of one instrument on a given day (M11(3))."""

    listed_on_time = "listed_on_time"  # listed by the deadline, or listed voluntarily
    listed_late = "listed_late"  # listed after the deadline
    overdue = "overdue"  # not listed, deadline passed
    due_soon = "due_soon"  # not listed, at most `due_soon_workdays` working days left
    pending = "pending"  # not listed, deadline not near
    not_required = "not_required"  # not must-list and not listed


class ListingPolicyError(ValueError):
    """A listing policy parameter is out of range."""

    code = "registry.listing_policy_invalid"

    def __init__(self, field: str, value: object, message_en: str, message_zh: str) -> None:
        self.field = field
        self.value = value
        self.message_en = message_en
        self.message_zh = message_zh
        super().__init__(message_en)


def _check_int(value: object, name: str) -> int:
    # bool is an int subclass and float is never money: reject both.
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name} must be an int, got {type(value).__name__}")
    return value


class ListingPolicy(msgspec.Struct, frozen=True, kw_only=True):
    """One year's listing parameters. No defaults here: their one home is the
    registry's policy file (section ``listing`` of
    ``services/registry/policy/registry.yaml``, or ``XCISS_REGISTRY_POLICY_FILE``).

    * ``must_list_threshold_fen``: M5 "单台套原值在20万元以上" = 200,000 CNY,
      inclusive, in fen.
    * ``listing_deadline_workdays``: M11(3) "30 个工作日内".
    * ``due_soon_workdays``: platform choice; an unlisted must-list instrument
      with at most this many working days left is shown as due soon.
    """

    must_list_threshold_fen: int
    listing_deadline_workdays: int
    due_soon_workdays: int

    def __post_init__(self) -> None:
        for field, minimum in (
            ("must_list_threshold_fen", 0),
            ("listing_deadline_workdays", 1),
            ("due_soon_workdays", 0),
        ):
            value = _check_int(getattr(self, field), field)
            if value < minimum:
                raise ListingPolicyError(
                    field,
                    value,
                    f"listing policy {field} must be >= {minimum}, got {value}",
                    f"纳入平台规则参数 {field} 不得小于 {minimum}，当前为 {value}",
                )


class ListingPolicies(ByYear[ListingPolicy], frozen=True, kw_only=True):
    """The listing parameters by year. An instrument is judged by the year it
    was accepted in (must-list, deadline); how near its deadline is shown (due
    soon) by the year of the day it is looked at."""


def _check_date(d: object, name: str) -> date:
    if not isinstance(d, date) or isinstance(d, datetime):
        raise TypeError(f"{name} must be a datetime.date (not datetime), got {type(d).__name__}")
    return d


def must_list(
    funding: Funding | str,
    original_value_fen: int,
    classified: bool,
    duty_exempt: bool,
    policy: ListingPolicy,
) -> bool:
    """Whether an instrument must be listed on the platform (M5, M6).

    * classified (涉密) → never required (M5 exception; it also overrides M6);
    * fiscal in whole or part and ``original_value_fen >= threshold`` → required (M5);
    * duty-exempt import (科教用品免税) → required whatever the funding or value (M6);
    * otherwise not required — it may still be listed voluntarily (M5, 鼓励).

    ``classified`` should also be set for instruments exempted by other special
    legal provisions (M5: 法律法规另有特殊规定的除外).
    """
    funding = Funding(funding)
    value = _check_int(original_value_fen, "original_value_fen")
    if value < 0:
        raise ValueError(f"original_value_fen must not be negative, got {value}")
    if classified:
        return False
    if duty_exempt:
        return True
    return funding in _FISCAL and value >= policy.must_list_threshold_fen


def listing_deadline(acceptance_date: date, calendar: WorkdayCalendar, policy: ListingPolicy) -> date:
    """Last day to list a must-list instrument (M11(3)).

    The ``listing_deadline_workdays``-th working day after the acceptance date;
    the acceptance day itself is not counted (Civil Code art. 201). E.g.
    accepted Fri 2024-09-20 → Wed 2024-11-06. Raises
    :class:`~services.runtime.workdays.UnknownCalendarYear` when the
    period runs into a year without a known calendar.
    """
    _check_date(acceptance_date, "acceptance_date")
    return calendar.add_workdays(acceptance_date, policy.listing_deadline_workdays)


def listing_status(
    must_list: bool,
    deadline: date | None,
    listed_on: date | None,
    today: date,
    calendar: WorkdayCalendar,
    policy: ListingPolicy,
) -> ListingStatus:
    """Listing compliance of one instrument as seen on ``today`` (M11(3)).

    * listed, not must-list (voluntary, M5 鼓励) → ``listed_on_time``;
    * listed on or before the deadline day → ``listed_on_time``, after → ``listed_late``;
    * not listed, not must-list → ``not_required``;
    * not listed, ``today`` after the deadline → ``overdue``;
    * not listed, working days in ``(today, deadline]`` at most
      ``policy.due_soon_workdays`` → ``due_soon`` (so the deadline day itself
      is due soon), otherwise ``pending``.

    ``deadline`` is required when ``must_list`` is true (``ValueError`` otherwise)
    and ignored when it is false.
    """
    _check_date(today, "today")
    if listed_on is not None:
        _check_date(listed_on, "listed_on")
    if not must_list:
        return ListingStatus.listed_on_time if listed_on is not None else ListingStatus.not_required
    if deadline is None:
        raise ValueError("a must-list instrument needs a listing deadline")
    _check_date(deadline, "deadline")
    if listed_on is not None:
        return ListingStatus.listed_on_time if listed_on <= deadline else ListingStatus.listed_late
    if today > deadline:
        return ListingStatus.overdue
    if calendar.workdays_between(today, deadline) <= policy.due_soon_workdays:
        return ListingStatus.due_soon
    return ListingStatus.pending


def due_soon_from(acceptance_date: date, deadline: date, calendar: WorkdayCalendar, policies: ListingPolicies) -> date:
    """The first day an unlisted must-list instrument is due soon (what
    :func:`listing_status` says, day by day): the earliest day ``d``, not before
    the acceptance date, with at most ``due_soon_workdays`` (of ``d``'s year)
    working days in ``(d, deadline]``. The deadline's ``due_soon_workdays``-th
    working day back, and the days off just before it; the acceptance date when
    the window is at least as long as the listing period."""
    _check_date(acceptance_date, "acceptance_date")
    _check_date(deadline, "deadline")
    day, left = deadline, 0  # left: working days in (day, deadline]
    while day > acceptance_date:
        before = day - timedelta(days=1)
        counted = left + (1 if calendar.is_workday(day) else 0)
        if counted > policies.for_year(before.year).due_soon_workdays:
            break
        day, left = before, counted
    return day


def overdue_from(deadline: date, calendar: WorkdayCalendar) -> date:
    """The first working day an unlisted must-list instrument is overdue (what
    :func:`listing_status` says from the day after ``deadline``, told on a working
    day): the first working day after the deadline, on the same calendar as the
    deadline (days off and make-up working days). Raises
    :class:`~services.runtime.workdays.UnknownCalendarYear` when that day falls in
    a year without a known calendar."""
    _check_date(deadline, "deadline")
    return calendar.add_workdays(deadline, 1)


def last_workday_before(day: date, calendar: WorkdayCalendar) -> date:
    """The last working day before ``day``: an instrument is told it is overdue on
    ``day`` or later (``overdue_from(deadline) >= day``) exactly when its deadline is
    this day or later, as no working day lies between them."""
    _check_date(day, "day")
    before = day - timedelta(days=1)
    while not calendar.is_workday(before):
        before -= timedelta(days=1)
    return before
