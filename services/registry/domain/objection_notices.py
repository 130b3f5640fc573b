"""What an objection to a public notice tells the center (issue 17, R14(3),
R20(3)): a real-name objection was raised against a line of a notice, that
line is held and its case reopened, and the notice cannot become final until
the center resolves it (the line stands, is corrected, or is withdrawn). The
center is a city-wide role (``CITY_WIDE``): every active center account is
told. The notice names the public notice by its case number (GS-…) and the
line as the notice shows it, never the objector (the objection's name,
contact and text stay in evaluation, shown on the notice's page to staff).
Pure, no I/O."""

from __future__ import annotations

from dataclasses import dataclass

from services.registry.domain.notices import CITY_WIDE, Notice, case_in_brackets

KIND = "objection.raised"

_WHAT = {"grades": ("评价结果", "evaluation grades"), "award_plan": ("奖励计划", "award plan"), "redemption": ("创新券兑付", "voucher redemption")}


@dataclass(frozen=True)
class ObjectionFacts:
    """What the notice needs of a raised objection (from evaluation's event and the registry's units)."""

    notice_id: str
    kind: str
    year: int
    #: the notice's case number (GS-…); None from producers before it was carried
    case_no: str | None = None
    #: the objected line as the notice shows it, else the unit's name as the registry holds it
    line: str | None = None


def link_of(o: ObjectionFacts) -> str:
    """The notice's page, where staff see its objections and resolve them."""
    return f"/notices/{o.notice_id}"


def raised_notice(o: ObjectionFacts) -> Notice:
    zh, en = _WHAT.get(o.kind, ("", ""))
    case_zh, case_en = case_in_brackets(o.case_no)
    notice_zh = f"{o.year}年度{zh}公示{case_zh}"
    notice_en = f"the {o.year} {en} public notice".replace("  ", " ") + case_en
    line_zh, line_en = (f"对“{o.line}”一项", f"against the line “{o.line}”") if o.line else ("对其中一项", "against one of its lines")
    return Notice(
        "center", CITY_WIDE, KIND,
        subject_zh=f"公示收到异议，待处理{case_zh}",
        text_zh=f"{notice_zh}收到{line_zh}的实名异议，该项已暂缓并重新审查。请核实后作出处理（维持、更正或撤回）；异议处理完毕前，该公示不能定稿。",
        subject_en=f"An objection to a public notice awaits handling{case_en}",
        text_en=f"A real-name objection was raised {line_en} of {notice_en}; the line is held and reopened. "
        "Check it and resolve the objection (the line stands, is corrected, or is withdrawn); the notice cannot become final until then.",
    )
