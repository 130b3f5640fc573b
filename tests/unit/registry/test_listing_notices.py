"""Issue 17, M11(3): the unit's reminder before a must-list instrument's listing
deadline: the day it is due (the first day the instrument shows as due soon, on
the same working-day calendar and the year's ``due_soon_workdays``) and what it
says, in Chinese and English; and the unit's and the center's notices that it is
overdue, told on the first working day the compliance view says so (pure rules)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import msgspec
import pytest

from services.gateway.portal.i18n import translate
from services.gateway.portal.i18n_notices import link_key
from services.registry.domain.listing import (
    ListingPolicies,
    ListingPolicy,
    ListingStatus,
    due_soon_from,
    last_workday_before,
    listing_deadline,
    listing_status,
    overdue_from,
)
from services.registry.domain.listing_notices import CENTER_LINK, LINK, ListingFacts, center_overdue_notice, listing_due_notice, overdue_notice, remind_at
from services.registry.domain.notices import CITY_WIDE
from services.registry.policy import packaged
from services.runtime.workdays import WorkdayCalendar

CAL = WorkdayCalendar()
PACKAGED = packaged().listing


def policies(**changes: int) -> ListingPolicies:
    """The packaged rules with some parameters changed for every year."""
    return ListingPolicies(defaults=ListingPolicy(**{**msgspec.structs.asdict(PACKAGED.defaults), **changes}))  # type: ignore[arg-type]


def test_the_packaged_example_is_due_soon_from_the_5th_working_day_before_the_deadline() -> None:
    # accepted Fri 2024-09-20 → deadline Wed 2024-11-06; 5 working days before: Wed 2024-10-30
    deadline = listing_deadline(date(2024, 9, 20), CAL, PACKAGED.defaults)
    assert due_soon_from(date(2024, 9, 20), deadline, CAL, PACKAGED) == date(2024, 10, 30)


@pytest.mark.parametrize("accepted", [date(2024, 8, 23), date(2024, 8, 30), date(2024, 9, 20), date(2024, 12, 20), date(2025, 1, 10), date(2025, 9, 5)])
@pytest.mark.parametrize("lead", [0, 1, 5, 12, 30, 40])
def test_the_reminder_day_is_the_first_day_the_compliance_view_says_due_soon(accepted: date, lead: int) -> None:
    """Across National Day, Spring Festival (with make-up working days) and weekends, for
    a lead of none, some, the whole listing period and more: exactly the days from
    ``due_soon_from`` to the deadline are due soon, none before."""
    rules = policies(due_soon_workdays=lead)
    deadline = listing_deadline(accepted, CAL, rules.defaults)
    first = due_soon_from(accepted, deadline, CAL, rules)
    day = accepted
    while day <= deadline:
        state = listing_status(True, deadline, None, day, CAL, rules.for_year(day.year))
        assert (state is ListingStatus.due_soon) == (day >= first), (day, state)
        day += timedelta(days=1)


def test_the_lead_is_the_years_own_parameter() -> None:
    # 2024 gives itself 2 working days: Mon 2024-11-04 (Tue and Wed left)
    rules = ListingPolicies(defaults=PACKAGED.defaults, years={2024: msgspec.structs.replace(PACKAGED.defaults, due_soon_workdays=2)})
    assert due_soon_from(date(2024, 9, 20), date(2024, 11, 6), CAL, rules) == date(2024, 11, 4)


def test_the_reminder_is_due_at_9_in_beijing() -> None:
    assert remind_at(date(2024, 10, 30)) == datetime(2024, 10, 30, 1, 0, tzinfo=UTC)


def test_the_reminder_names_the_instrument_and_the_last_day_never_its_id() -> None:
    f = ListingFacts(instrument_id="3f1c0e2a-inst", unit_id="unit-1", name="液相色谱质谱联用仪", deadline=date(2024, 11, 6), asset_number="XC-2024-017")
    n = listing_due_notice(f)
    assert (n.recipient_role, n.recipient_org, n.kind) == ("unit", "unit-1", "instrument.listing_due")
    assert n.subject_zh == "仪器上线期限将至"
    assert "“液相色谱质谱联用仪”（资产编号 XC-2024-017）的上线期限为 2024年11月6日（北京时间，含当日）" in n.text_zh and "本单位仪器" in n.text_zh
    assert "\u201c液相色谱质谱联用仪\u201d (asset number XC-2024-017) must be listed on the platform by 2024-11-06" in n.text_en
    assert all("3f1c0e2a" not in t for t in (n.subject_zh, n.text_zh, n.subject_en, n.text_en))
    assert not any(c.isascii() and c.isalpha() for c in n.subject_zh + n.text_zh.replace("XC", ""))  # no English in Chinese mode
    assert "资产编号" not in listing_due_notice(ListingFacts(instrument_id="i", unit_id="u", name="显微镜", deadline=date(2024, 11, 6))).text_zh
    assert LINK == "/unit/instruments" and translate(link_key(n.kind), "zh") == "查看本单位仪器" and translate(link_key(n.kind), "en") == "My instruments"


def days(first: date, last: date) -> list[date]:
    return [first + timedelta(days=i) for i in range((last - first).days + 1)]


def test_the_overdue_notice_day_is_the_first_working_day_the_compliance_view_says_overdue() -> None:
    """Every acceptance day of 2024 and 2025 (National Day, Spring Festival and their
    make-up working days, weekends): day by day from the deadline, the compliance view
    says overdue from the day after it, and the notice's day is the first of those that
    is a working day."""
    for accepted in days(date(2024, 1, 1), date(2025, 12, 31)):
        deadline = listing_deadline(accepted, CAL, PACKAGED.defaults)
        told = overdue_from(deadline, CAL)
        for day in days(deadline, told + timedelta(days=3)):
            state = listing_status(True, deadline, None, day, CAL, PACKAGED.for_year(day.year))
            assert (state is ListingStatus.overdue) == (day > deadline), (accepted, day, state)
        assert told > deadline and CAL.is_workday(told)
        assert not any(CAL.is_workday(d) for d in days(deadline + timedelta(days=1), told - timedelta(days=1))), (accepted, told)


@pytest.mark.parametrize(
    ("deadline", "told"),
    [
        (date(2024, 11, 6), date(2024, 11, 7)),  # the packaged example: accepted Fri 2024-09-20, a Wednesday deadline
        (date(2024, 11, 8), date(2024, 11, 11)),  # a Friday: the Monday
        (date(2024, 9, 27), date(2024, 9, 29)),  # a Friday before National Day: Sunday 2024-09-29 is a make-up working day
        (date(2024, 9, 30), date(2024, 10, 8)),  # the eve of National Day: after the holiday (Oct 1-7)
        (date(2025, 1, 27), date(2025, 2, 5)),  # the eve of Spring Festival 2025: after the holiday (Jan 28 - Feb 4)
        (date(2025, 1, 24), date(2025, 1, 26)),  # a Friday: Sunday 2025-01-26 is a make-up working day
    ],
)
def test_the_overdue_notice_is_told_on_the_first_working_day_after_the_deadline(deadline: date, told: date) -> None:
    assert overdue_from(deadline, CAL) == told
    assert listing_status(True, deadline, None, told, CAL, PACKAGED.for_year(told.year)) is ListingStatus.overdue
    assert remind_at(told) == datetime.combine(told, datetime.min.time(), tzinfo=UTC) + timedelta(hours=1)  # 09:00 in Beijing


def test_the_backfills_bound_finds_exactly_the_instruments_still_to_be_told() -> None:
    """``overdue_from(deadline) >= today`` exactly when the deadline is on or after the last working day before today."""
    for today in days(date(2024, 9, 20), date(2024, 10, 20)) + days(date(2025, 1, 20), date(2025, 2, 12)):
        since = last_workday_before(today, CAL)
        for deadline in days(today - timedelta(days=20), today + timedelta(days=3)):
            if CAL.is_workday(deadline):  # a deadline is always a working day
                assert (overdue_from(deadline, CAL) >= today) == (deadline >= since), (today, deadline)


def test_the_overdue_notices_name_the_instrument_its_unit_and_the_deadline_never_its_id() -> None:
    f = ListingFacts(instrument_id="3f1c0e2a-inst", unit_id="unit-1", name="液相色谱质谱联用仪", deadline=date(2024, 11, 6), asset_number="XC-2024-017")
    n = overdue_notice(f)
    assert (n.recipient_role, n.recipient_org, n.kind) == ("unit", "unit-1", "instrument.listing_overdue")
    assert n.subject_zh == "仪器已逾期未上线"
    assert "“液相色谱质谱联用仪”（资产编号 XC-2024-017）的上线期限 2024年11月6日（北京时间，含当日）已过，目前仍未上线" in n.text_zh
    assert "管理办法第十一条第三项" in n.text_zh and "“逾期上线”" in n.text_zh and "本单位仪器" in n.text_zh
    assert "\u201c液相色谱质谱联用仪\u201d (asset number XC-2024-017) had to be listed on the platform by 2024-11-06" in n.text_en and "listed late" in n.text_en
    assert not any(c.isascii() and c.isalpha() for c in n.subject_zh + n.text_zh.replace("XC", ""))  # no English in Chinese mode
    c = center_overdue_notice(f, "许昌学院")
    assert (c.recipient_role, c.recipient_org, c.kind) == ("center", CITY_WIDE, "compliance.listing_overdue")
    assert "许昌学院的仪器“液相色谱质谱联用仪”（资产编号 XC-2024-017）上线期限为 2024年11月6日" in c.text_zh and "已逾期仍未上线" in c.text_zh
    assert "of 许昌学院 had to be listed by 2024-11-06" in c.text_en
    assert all("3f1c0e2a" not in t and "unit-1" not in t for m in (n, c) for t in (m.subject_zh, m.text_zh, m.subject_en, m.text_en))
    assert "资产编号" not in overdue_notice(ListingFacts(instrument_id="i", unit_id="u", name="显微镜", deadline=date(2024, 11, 6))).text_zh
    assert LINK == "/unit/instruments" and translate(link_key(n.kind), "zh") == "查看本单位仪器"
    assert CENTER_LINK == "/supervision/compliance" and translate(link_key(c.kind), "zh") == "查看上线合规情况" and translate(link_key(c.kind), "en") == "Listing compliance"
