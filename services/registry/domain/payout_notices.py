"""What a payout tells its unit (issue 17): ordered (put on a payment order, so it
awaits payment), paid, or cancelled before it was paid after a fraud finding
(R27), with the award or redemption payout's amount, year and case number (BF-…)
and a link to the unit's payee page, where its payouts are listed; an ordered
payout also tells finance, which pays it, with a link to its finance page. Pure, no I/O."""

from __future__ import annotations

from dataclasses import dataclass

from services.registry.domain.notices import CITY_WIDE, Notice, case_in_brackets
from services.runtime.money import yuan_sign

#: the unit's page that lists its payouts
LINK = "/unit/payee"
#: finance's page of payouts due, payment orders and payouts to confirm paid
FINANCE_LINK = "/finance"
ORDERED = "payout.ordered"

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


def ordered_notices(p: PayoutFacts, unit_name: str | None, payment_order_case_no: str | None = None) -> tuple[Notice, Notice]:
    """(finance's notice, the unit's notice) of a payout put on a payment order: it awaits
    payment. Finance's names the unit (by the name the registry holds; none when it holds
    none, never the id) and the payment order (FK-…) when the event carries it."""
    case = p.case_no
    case_zh, case_en = case_in_brackets(case)
    zh, en = _WHAT.get(p.kind, ("款项", "payout"))
    whose_zh, whose_en = (f"{unit_name}的", f"{unit_name}'s") if unit_name else ("", "The")
    on_zh, on_en = (f"付款单 {payment_order_case_no}", f"payment order {payment_order_case_no}") if payment_order_case_no else ("付款单", "a payment order")
    number_zh, number_en = (f"（拨付编号 {case}）", f" (payout {case})") if case else (" ", "")
    finance = Notice(
        "finance", CITY_WIDE, ORDERED,
        subject_zh=f"{zh}款待支付{case_zh}",
        text_zh=f"{whose_zh}{p.year}年度{zh}款 {yuan_sign(p.amount_fen)}{number_zh}已列入{on_zh}，待支付；支付后请在平台确认已支付并填写银行流水号。",
        subject_en=f"{'An' if en[0] in 'aeiou' else 'A'} {en} payout awaits payment{case_en}",
        text_en=f"{whose_en} {p.year} {en} payout of {yuan_sign(p.amount_fen)}{number_en} is on {on_en} and awaits payment; once paid, confirm it on the platform with the bank's reference.",
    )
    unit = Notice(
        "unit", p.unit_id, ORDERED,
        subject_zh=f"{zh}款已列入付款单{case_zh}",
        text_zh=f"贵单位{p.year}年度{zh}款 {yuan_sign(p.amount_fen)}{number_zh}已列入付款单，等待市财政局支付至贵单位登记的收款账户；支付后将另行通知。",
        subject_en=f"The {en} payout is ordered{case_en}",
        text_en=f"Your unit's {p.year} {en} payout of {yuan_sign(p.amount_fen)}{number_en} is on a payment order and awaits payment by the finance bureau to your registered account; you will be told when it is paid.",
    )
    return finance, unit


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
