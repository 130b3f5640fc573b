"""What a unit is told before a must-list instrument's listing deadline (issue 17,
M11(3)): once, at 09:00 Beijing time on the first day the instrument is due soon
(:func:`~services.registry.domain.listing.due_soon_from`, the year's
``due_soon_workdays``), which instrument it is, the last day to list it and where
to list it. An instrument listed, retired or no longer must-list first is never
reminded of. Pure, no I/O."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time

from services.registry.domain.notices import Notice, day_text
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
    asset_zh, asset_en = (f"（资产编号 {f.asset_number}）", f" (asset number {f.asset_number})") if f.asset_number else ("", "")
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
