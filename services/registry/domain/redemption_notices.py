"""What a reviewed redemption claim tells its unit (issue 17, R20(3)): the
experts' result on the claim named by its case number (DF-…), the amount
claimed and the amount approved for the notice, or that it was rejected, with
a link to the unit's redemption page, where the reasons are shown per voucher
(the event's reasons name vouchers by id, so the notice does not repeat
them). Pure, no I/O."""

from __future__ import annotations

from dataclasses import dataclass

from services.registry.domain.notices import Notice, case_in_brackets
from services.runtime.money import yuan_sign

KIND = "redemption.reviewed"
#: the unit's redemption page
LINK = "/unit/redemption"


@dataclass(frozen=True)
class ReviewFacts:
    """What the notice needs of a reviewed claim (from vouchers' event)."""

    unit_id: str
    year: int
    claimed_fen: int
    approved: bool
    approved_fen: int
    case_no: str | None = None


def reviewed_notice(r: ReviewFacts) -> Notice:
    case_zh, case_en = case_in_brackets(r.case_no)
    claimed_zh, claimed_en = f"{r.year}年度创新券兑付申请{case_zh}", f"Your {r.year} voucher redemption claim{case_en}"
    if not r.approved:
        return Notice(
            "unit", r.unit_id, KIND,
            subject_zh=f"兑付申请未通过审核{case_zh}",
            text_zh=f"贵单位的{claimed_zh}（申请金额 {yuan_sign(r.claimed_fen)}）经专家审核未获通过，各张创新券的理由见兑付页面。",
            subject_en=f"Redemption claim rejected{case_en}",
            text_en=f"{claimed_en} of {yuan_sign(r.claimed_fen)} was rejected by the experts' review; the reason for each voucher is on the redemption page.",
        )
    part_zh = "" if r.approved_fen == r.claimed_fen else "，部分创新券未获认定，理由见兑付页面"
    part_en = "" if r.approved_fen == r.claimed_fen else "; some vouchers were not approved, the reasons are on the redemption page"
    return Notice(
        "unit", r.unit_id, KIND,
        subject_zh=f"兑付申请已通过审核{case_zh}",
        text_zh=f"贵单位的{claimed_zh}（申请金额 {yuan_sign(r.claimed_fen)}）经专家审核，核定金额 {yuan_sign(r.approved_fen)}{part_zh}。核定结果将向社会公示，公示无异议后予以兑付。",
        subject_en=f"Redemption claim approved{case_en}",
        text_en=f"{claimed_en} of {yuan_sign(r.claimed_fen)} passed the experts' review at {yuan_sign(r.approved_fen)}{part_en}. The result will be published in a public notice and paid when no objection stands.",
    )
