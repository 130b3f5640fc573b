"""What a clawback tells the party that must repay (issue 17, R27 追回): a
fraud finding made payments claw back a voucher deduction (from a user) or an
award or redemption payout (from a unit); the party learns what is recovered,
of which year, how much, and that it is to repay it, named by its case number
(ZH-2026-000004, 追回; an event from before clawbacks had one carries none, and
the notice then names the money by kind and year only, never by an id).
Payments keeps no repayment deadline for a clawback (R27 names none), so the
notice asks the party to repay it to the finance bureau, who records the
repayment. Pure, no I/O."""

from __future__ import annotations

from dataclasses import dataclass

from services.registry.domain.notices import Notice, case_in_brackets
from services.runtime.money import yuan_sign

KIND = "clawback.recorded"

#: what is clawed back, by the clawback's kind
_WHAT = {
    "voucher": ("创新券抵扣资金", "voucher deduction"),
    "award": ("奖励款", "award payout"),
    "redemption": ("创新券兑付款", "voucher redemption payout"),
}


@dataclass(frozen=True)
class ClawbackFacts:
    """What the notice needs of a clawback (from payments' event)."""

    party_type: str
    party_id: str
    kind: str
    year: int
    amount_fen: int
    #: the clawback's case number (ZH-…); None from an event before it was added
    case_no: str | None = None


def recorded_notice(c: ClawbackFacts) -> Notice | None:
    """The party's notice; None for a party that has no notifications (only users and units have)."""
    if c.party_type not in ("user", "unit"):
        return None
    zh, en = _WHAT.get(c.kind, ("补助资金", "funds"))
    case_zh, case_en = case_in_brackets(c.case_no)
    return Notice(
        c.party_type, c.party_id, KIND,
        subject_zh=f"{c.year}年度{zh}须予追回{case_zh}",
        text_zh=(
            f"经查实，{c.year}年度{zh} {yuan_sign(c.amount_fen)} 系以不实材料取得，"
            f"依《许昌市科研设施和仪器开放共享双向奖补实施细则》第二十七条须予追回"
            + (f"，追回编号 {c.case_no}" if c.case_no else "")
            + "。请尽快退回该笔款项，并与市财政局联系办理"
            + ("（请注明追回编号）" if c.case_no else "")
            + "；退回前记为待追回。"
        ),
        subject_en=f"The {c.year} {en} is to be clawed back{case_en}",
        text_en=(
            f"A fraud finding established that the {c.year} {en} of {yuan_sign(c.amount_fen)} was obtained on false grounds; under article 27 of Xuchang's two-way subsidy rules it is clawed back"
            + (f" (clawback {c.case_no})" if c.case_no else "")
            + ". Please repay it and contact the finance bureau"
            + (", quoting the clawback number" if c.case_no else "")
            + "; until then it stays outstanding."
        ),
    )
