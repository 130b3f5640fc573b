"""What a payout tells its unit (issue 17): paid, or cancelled before it was
paid after a fraud finding (R27), with the award or redemption payout's
amount, year and case number (BF-…) and a link to the unit's payee page,
where its payouts are listed. Pure, no I/O."""

from __future__ import annotations

from dataclasses import dataclass

from services.registry.domain.notices import Notice, case_in_brackets
from services.runtime.money import yuan_sign

#: the unit's page that lists its payouts
LINK = "/unit/payee"

_WHAT = {"award": ("奖励", "award"), "redemption": ("创新券兑付", "voucher redemption")}


@dataclass(frozen=True)
class PayoutFacts:
    """What a notice needs of a paid payout (from payments' event)."""

    payout_id: str
    unit_id: str
    kind: str
    year: int
    amount_fen: int
    case_no: str | None = None


def paid_notice(p: PayoutFacts) -> Notice:
    # named by its case number; an event from before case numbers carries none (never the id)
    case = p.case_no
    case_zh, case_en = case_in_brackets(case)
    zh, en = _WHAT.get(p.kind, ("款项", "payout"))
    return Notice(
        "unit", p.unit_id, "payout.paid",
        subject_zh=f"{zh}款已支付{case_zh}",
        text_zh=f"{p.year}年度{zh}款 {yuan_sign(p.amount_fen)} 已支付至贵单位登记的收款账户" + (f"，拨付编号 {case}。" if case else "。"),
        subject_en=f"The {en} payout is paid{case_en}",
        text_en=f"The {p.year} {en} payout of {yuan_sign(p.amount_fen)} was paid to your unit's registered account" + (f"; payout {case}." if case else "."),
    )


def cancelled_notice(p: PayoutFacts) -> Notice:
    """A payout not yet paid, cancelled after a fraud finding against its unit (R27): the unit will not receive it."""
    case = p.case_no
    case_zh, case_en = case_in_brackets(case)
    zh, en = _WHAT.get(p.kind, ("款项", "payout"))
    return Notice(
        "unit", p.unit_id, "payout.cancelled",
        subject_zh=f"{zh}款拨付已取消{case_zh}",
        text_zh=f"{p.year}年度{zh}款 {yuan_sign(p.amount_fen)}" + (f"（拨付编号 {case}）" if case else "")
        + " 因经查实的弄虚作假情形已取消拨付，不再支付（《许昌市科研设施和仪器开放共享双向奖补实施细则》第二十七条）。如有异议，请与市科技局联系。",
        subject_en=f"The {en} payout is cancelled{case_en}",
        text_en=f"The {p.year} {en} payout of {yuan_sign(p.amount_fen)}" + (f" (payout {case})" if case else "")
        + " was cancelled after a fraud finding and will not be paid (article 27 of Xuchang's two-way subsidy rules). If you disagree, contact the science and technology bureau.",
    )
