"""What a published public notice (公示) tells the units it names (issue 17):
each unit named on a line learns that the notice is open, which of its lines
it lists, and the last day (Asia/Shanghai, inclusive) objections can be made.
The notice's case number (GS-…) is in the text; the link opens the notice's
public page. The day before the window's last day, at 09:00 (Asia/Shanghai),
each named unit is reminded that objections close. Pure, no I/O."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from services.registry.domain.notices import Notice, day_text
from services.runtime.clock import POLICY_ZONE

CLOSING = "notice.closing"
#: the reminder that a notice's objections close: the day before its last day, at this local time
CLOSING_REMINDER_AT = time(9, 0)

#: how many of a unit's lines the text names (the page shows them all)
LINES_SHOWN = 5

_WHAT = {"grades": ("评价结果", "evaluation grades"), "award_plan": ("奖励计划", "award plan"), "redemption": ("创新券兑付", "voucher redemption")}


@dataclass(frozen=True)
class NoticeLine:
    unit_id: str
    label: str


@dataclass(frozen=True)
class PublishedNotice:
    """What the notices need of a published notice (from evaluation's event)."""

    notice_id: str
    kind: str
    title: str
    opens_on: date
    closes_on: date
    lines: tuple[NoticeLine, ...]
    case_no: str | None = None


def link_of(n: PublishedNotice) -> str:
    return f"/notices/{n.notice_id}"


def _labels(labels: list[str], sep: str) -> str:
    shown = sep.join(labels[:LINES_SHOWN])
    return shown if len(labels) <= LINES_SHOWN else f"{shown}{sep}…"


def published_notices(n: PublishedNotice) -> list[Notice]:
    """One notice to each unit the notice names (in the order of its first line)."""
    by_unit: dict[str, list[str]] = {}
    for line in n.lines:
        by_unit.setdefault(line.unit_id, []).append(line.label)
    case = n.case_no or n.notice_id
    zh, en = _WHAT.get(n.kind, ("公示", "notice"))
    out = []
    for unit_id, labels in by_unit.items():
        out.append(
            Notice(
                "unit", unit_id, "notice.published",
                subject_zh=f"{zh}公示已发布（{case}）",
                text_zh=(
                    f"公示「{n.title}」（{case}）已发布，列有贵单位：{_labels(labels, '；')}。"
                    f"公示期 {day_text(n.opens_on)} 至 {day_text(n.closes_on)}，对公示内容有异议的，可在 {day_text(n.closes_on)}（含）前实名提出。"
                ),
                subject_en=f"The {en} notice is published ({case})",
                text_en=(
                    f"The public notice “{n.title}” ({case}) is published and lists your unit: {_labels(labels, '; ')}. "
                    f"It runs from {n.opens_on.isoformat()} to {n.closes_on.isoformat()}; objections can be raised, under a real name, until {n.closes_on.isoformat()} inclusive."
                ),
            )
        )
    return out


def closing_reminder_at(closes_on: date) -> datetime:
    """09:00 Beijing time the day before the last day of objections (UTC)."""
    return datetime.combine(closes_on - timedelta(days=1), CLOSING_REMINDER_AT, tzinfo=POLICY_ZONE).astimezone(UTC)


def closing_ref(notice_id: str, unit_id: str) -> str:
    """One reminder per notice and unit: a stable id of the pair."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"xciss:notice/{notice_id}/unit/{unit_id}"))


def closing_notices(n: PublishedNotice) -> list[tuple[str, Notice]]:
    """(ref, notice) of each unit the notice names: its objections close soon."""
    case = n.case_no or n.notice_id
    units = list(dict.fromkeys(line.unit_id for line in n.lines))
    return [
        (
            closing_ref(n.notice_id, unit_id),
            Notice(
                "unit", unit_id, CLOSING,
                subject_zh=f"公示即将截止（{case}）",
                text_zh=f"公示「{n.title}」（{case}）的异议期将于 {day_text(n.closes_on)}（含）截止；对涉及贵单位的内容如有异议，请在此之前实名提出。",
                subject_en=f"The notice closes soon ({case})",
                text_en=f"Objections to the public notice “{n.title}” ({case}) close on {n.closes_on.isoformat()} inclusive; raise any objection about your unit before then.",
            ),
        )
        for unit_id in units
    ]
