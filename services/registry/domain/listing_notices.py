"""What a unit is told before a must-list instrument's listing deadline (issue 17,
M11(3)): once, at 09:00 Beijing time on the first day the instrument is due soon
(:func:`~services.registry.domain.listing.due_soon_from`, the year's
``due_soon_workdays``), which instrument it is, the last day to list it and where
to list it; and once more, with the center, at 09:00 on the first working day
after the deadline if it is still not listed (overdue,
:func:`~services.registry.domain.listing.overdue_from`). An instrument listed,
retired or no longer must-list first is never reminded of. Pure, no I/O."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time

from services.registry.domain.notices import CITY_WIDE, Notice, day_text
from services.runtime.clock import POLICY_ZONE

KIND = "instrument.listing_due"
#: the unit's instruments page, where it lists them
LINK = "/unit/instruments"
#: the reminder is due at this time (Beijing) of its day
REMIND_AT = time(9, 0)


@dataclass(frozen=True)
class ListingFacts:
    """What the reminder needs of an unlisted must-list instrument."""

    instrument_id: str
    unit_id: str
    name: str
    deadline: date
    asset_number: str | None = None


def remind_at(day: date) -> datetime:
    """09:00 Beijing time on ``day`` (UTC)."""
    return datetime.combine(day, REMIND_AT, tzinfo=POLICY_ZONE).astimezone(UTC)


def listing_due_notice(f: ListingFacts) -> Notice:
    """The reminder, naming the instrument by its name (and asset number), never by its id."""
    asset_zh, asset_en = _asset(f)
    return Notice(
        "unit", f.unit_id, KIND,
        subject_zh="仪器上线期限将至",
        text_zh=(
            f"本单位仪器“{f.name}”{asset_zh}的上线期限为 {day_text(f.deadline)}（北京时间，含当日），目前尚未上线。"
            "管理办法第十一条第三项规定，仪器自完成安装使用验收之日起在规定工作日内纳入平台，请在“本单位仪器”页面及时上线。"
        ),
        subject_en="An instrument's listing deadline is near",
        text_en=(
            f"Your instrument \u201c{f.name}\u201d{asset_en} must be listed on the platform by {f.deadline:%Y-%m-%d} "
            "(Beijing time, that day included) and is not listed yet (Measures art. 11(3): within the set number of working days of its acceptance). List it on the My instruments page in time."
        ),
    )


#: the unit is told its must-list instrument is overdue (M11(3))
OVERDUE = "instrument.listing_overdue"
#: the center is told the same, about that unit's instrument; its own kind, for the link's name
#: ("查看上线合规情况") and so that both notices of one instrument have their own (kind, ref)
OVERDUE_CENTER = "compliance.listing_overdue"
#: the city-wide listing compliance the center and the bureau read (M8(3), M9)
CENTER_LINK = "/supervision/compliance"


def _asset(f: ListingFacts) -> tuple[str, str]:
    return (f"（资产编号 {f.asset_number}）", f" (asset number {f.asset_number})") if f.asset_number else ("", "")


def overdue_notice(f: ListingFacts) -> Notice:
    """The unit's notice, on the first working day after the deadline: the instrument is
    overdue. M11(3) sets the duty and no sanction; the notice says what the platform
    records (overdue now, listed late once listed, both in the compliance view the
    center and the bureau read), nothing more."""
    asset_zh, asset_en = _asset(f)
    return Notice(
        "unit", f.unit_id, OVERDUE,
        subject_zh="仪器已逾期未上线",
        text_zh=(
            f"本单位仪器“{f.name}”{asset_zh}的上线期限 {day_text(f.deadline)}（北京时间，含当日）已过，目前仍未上线，已逾期。"
            "管理办法第十一条第三项规定，仪器自完成安装使用验收之日起在规定工作日内纳入平台。"
            "该仪器在平台的仪器上线合规情况中显示为“逾期未上线”（市科技创新公共服务中心、市科技局可见），此后上线记为“逾期上线”。请尽快在“本单位仪器”页面上线。"
        ),
        subject_en="An instrument is overdue for listing",
        text_en=(
            f"Your instrument \u201c{f.name}\u201d{asset_en} had to be listed on the platform by {f.deadline:%Y-%m-%d} (Beijing time, that day included) "
            "and is still not listed: it is overdue (Measures art. 11(3): within the set number of working days of its acceptance). "
            "The platform's listing compliance, which the center and the bureau read, shows it as overdue, and once listed it counts as listed late. "
            "List it on the My instruments page as soon as possible."
        ),
    )


def center_overdue_notice(f: ListingFacts, unit_name: str) -> Notice:
    """The center's notice of the same instrument, the same day: which unit, which
    instrument, its deadline (one notice per instrument, to every center account)."""
    asset_zh, asset_en = _asset(f)
    return Notice(
        "center", CITY_WIDE, OVERDUE_CENTER,
        subject_zh="有仪器逾期未上线",
        text_zh=(
            f"{unit_name}的仪器“{f.name}”{asset_zh}上线期限为 {day_text(f.deadline)}（北京时间，含当日），已逾期仍未上线（管理办法第十一条第三项）。"
            "平台已同时通知该单位尽快上线。"
        ),
        subject_en="A unit's instrument is overdue for listing",
        text_en=(
            f"The instrument \u201c{f.name}\u201d{asset_en} of {unit_name} had to be listed by {f.deadline:%Y-%m-%d} (Beijing time, that day included) "
            "and is still not listed (Measures art. 11(3)). The platform has told the unit to list it."
        ),
    )
