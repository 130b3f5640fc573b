"""The award plan (R12, R6, M13) and the public notice window, as pure rules.

**Award plan.** Excellent → the year's excellent award (50,000 CNY in 2023),
good → the good award (30,000 CNY), unqualified → nothing. A unit the bureau
recorded as having a provincial award for the year gets no city award (R6:
享受过省级奖补的不再享受市级奖补). Awards are never split: a unit gets its
award in full or not at all. A unit disqualified or on the credit blacklist
when the plan is made gets nothing (R27: it fails the award check from the
moment of the finding).

**Budget cap (M13: 奖励应实行限额).** When the awards do not all fit the
year's award budget, candidates are ranked by grade (excellent first), then
total score (higher first), then unit id (a stable tie-break), and funded in
full in that order. The first candidate whose award no longer fits, and every
candidate after it, is not funded (``budget_exhausted``): the order of merit
is never skipped to fund a lower-ranked unit with a smaller award.

**Notice window.** Published on day P (Asia/Shanghai), a notice of N working
days opens on the first working day after P and closes at the end of the N-th
working day after P (P itself is not counted: Civil Code art. 201). Objections
are accepted from publication to the end of the closing day; the notice can be
final from the day after the closing day, when no objection is open.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date

from services.evaluation.domain.indicators import YearParameters, award_fen
from services.runtime.errors import DomainError
from services.runtime.workdays import WorkdayCalendar

GRADE_RANK = {"excellent": 0, "good": 1, "unqualified": 2}

FUNDED = "funded"
PROVINCIAL_AWARD = "provincial_award"
BUDGET_EXHAUSTED = "budget_exhausted"
UNQUALIFIED = "unqualified"
#: R27: a unit disqualified or on the credit blacklist when the plan is made gets nothing
DISQUALIFIED = "disqualified"
BLACKLISTED = "blacklisted"


@dataclass(frozen=True)
class Candidate:
    unit_id: str
    grade: str
    total_centi: int
    ref: str = ""


@dataclass(frozen=True)
class PlanLine:
    candidate: Candidate
    amount_fen: int
    outcome: str  # funded | provincial_award | budget_exhausted | unqualified | disqualified | blacklisted


def plan(
    params: YearParameters, budget_fen: int, candidates: Iterable[Candidate], provincial: set[str], excluded: Mapping[str, str] | None = None
) -> list[PlanLine]:
    """Every candidate with its amount and why, in the order of merit. ``excluded``
    maps a unit that fails the award check (R27) to its outcome (``disqualified`` /
    ``blacklisted``); it takes no share of the budget."""
    excluded = excluded or {}
    ranked = sorted(candidates, key=lambda c: (GRADE_RANK[c.grade], -c.total_centi, c.unit_id))
    left = budget_fen
    exhausted = False
    out: list[PlanLine] = []
    for c in ranked:
        amount = award_fen(params, c.grade)
        if amount == 0:
            out.append(PlanLine(c, 0, UNQUALIFIED))
        elif c.unit_id in excluded:
            out.append(PlanLine(c, 0, excluded[c.unit_id]))
        elif c.unit_id in provincial:
            out.append(PlanLine(c, 0, PROVINCIAL_AWARD))
        elif exhausted or amount > left:
            exhausted = True
            out.append(PlanLine(c, 0, BUDGET_EXHAUSTED))
        else:
            left -= amount
            out.append(PlanLine(c, amount, FUNDED))
    return out


def notice_window(cal: WorkdayCalendar, published_on: date, workdays: int) -> tuple[date, date]:
    """(opens_on, closes_on) of a notice published on ``published_on``."""
    return cal.add_workdays(published_on, 1), cal.add_workdays(published_on, workdays)


def publication_day(cal: WorkdayCalendar, published_on: date | None, today: date, workdays: int) -> date:
    """The day a notice counts as published: today, or the day it went up on the
    notice board when the center records it later (taken as data, never guessed);
    not in the future, and not so long ago that its window has already closed."""
    if published_on is None:
        return today
    if published_on > today:
        raise DomainError("notice.published_in_future", "公示日期不能晚于今天", "a notice cannot be published on a future day", field="published_on", today=today.isoformat())
    closes_on = notice_window(cal, published_on, workdays)[1]
    if closes_on < today:
        raise DomainError(
            "notice.window_already_closed",
            f"按该公示日期，公示期已于{closes_on.isoformat()}结束，不能补录",
            f"a notice published that day would have closed on {closes_on.isoformat()}: too late to record it",
            field="published_on",
            closes_on=closes_on.isoformat(),
        )
    return published_on


def objections_open(closes_on: date, today: date) -> bool:
    return today <= closes_on


def window_closed(closes_on: date, today: date) -> bool:
    return today > closes_on
