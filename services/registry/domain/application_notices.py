"""What a voucher application's decision tells its applicant (issue 17): the
applicant's organisation (role ``user``) learns it was approved, with the
voucher amount, or rejected, with the center's reason and, when the year's
policy has an appeal window, the last moment to appeal. The case number
(SQ-…) is in the text; the link opens the applicant's vouchers page on that
case. An appeal tells the bureau, which must decide it (R19(2)). Pure, no I/O."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import quote

from services.registry.domain.notices import CITY_WIDE, Notice, case_in_brackets, moment_text, moment_text_en, order_named
from services.runtime.money import yuan_sign


#: a rejected applicant that has not appealed is reminded this long before its appeal window closes
APPEAL_REMIND_BEFORE = timedelta(days=3)
APPEAL_CLOSING = "application.appeal_closing"


@dataclass(frozen=True)
class ApplicationDecision:
    """What a notice needs of a decided application (from vouchers' event)."""

    application_id: str
    user_id: str
    approved: bool
    amount_fen: int = 0
    case_no: str | None = None
    reason: str | None = None
    appeal_until: datetime | None = None
    #: the order's case number as the registry holds it (None: the order is not named)
    order_case_no: str | None = None


def link_of(d: ApplicationDecision) -> str:
    """The applicant's vouchers page, showing this application (found by its case number)."""
    return f"/vouchers?case_no={quote(d.case_no)}" if d.case_no else "/vouchers"


def _named(d: ApplicationDecision) -> tuple[str, str, str, str]:
    """How the notice names the application: (subject suffix zh, text zh, subject
    suffix en, text en), by its case number; an event from before case numbers
    carries none, and the application is then "your application" (never its id)."""
    sub_zh, sub_en = case_in_brackets(d.case_no)
    if d.case_no:
        return sub_zh, f"创新券申请 {d.case_no}", sub_en, f"Voucher application {d.case_no}"
    return sub_zh, "您的创新券申请", sub_en, "Your voucher application"


def _order_zh(d: ApplicationDecision) -> str:
    zh = order_named(d.order_case_no)[0]
    return f"（{zh}）" if zh else ""


def _order_en(d: ApplicationDecision) -> str:
    en = order_named(d.order_case_no)[1]
    return f" ({en})" if en else ""


def decided_notice(d: ApplicationDecision) -> Notice:
    sub_zh, name_zh, sub_en, name_en = _named(d)
    if d.approved:
        return Notice(
            "user", d.user_id, "application.approved",
            subject_zh=f"创新券申请已批准{sub_zh}",
            text_zh=f"{name_zh}{_order_zh(d)}已批准，创新券金额 {yuan_sign(d.amount_fen)}。",
            subject_en=f"Voucher application approved{sub_en}",
            text_en=f"{name_en}{_order_en(d)} is approved; the voucher is worth {yuan_sign(d.amount_fen)}.",
        )
    why = f"理由：{d.reason}。" if d.reason else ""
    why_en = f" Reason: {d.reason}." if d.reason else ""
    appeal = f"如有异议，可在 {moment_text(d.appeal_until)}前提出复议。" if d.appeal_until else ""
    appeal_en = f" You may appeal until {moment_text_en(d.appeal_until)}." if d.appeal_until else ""
    return Notice(
        "user", d.user_id, "application.rejected",
        subject_zh=f"创新券申请未获批准{sub_zh}",
        text_zh=f"{name_zh}{_order_zh(d)}未获批准。{why}{appeal}",
        subject_en=f"Voucher application rejected{sub_en}",
        text_en=f"{name_en}{_order_en(d)} was rejected.{why_en}{appeal_en}",
    )


def appeal_reminder_at(rejected_at: datetime, appeal_until: datetime) -> datetime | None:
    """When a rejected applicant is reminded that its appeal window closes; None
    when the window is no longer than the reminder's lead (the rejection's notice says it)."""
    at = appeal_until - APPEAL_REMIND_BEFORE
    return at if at > rejected_at else None


def appeal_closing_notice(d: ApplicationDecision) -> Notice:
    assert d.appeal_until is not None
    sub_zh, name_zh, sub_en, name_en = _named(d)
    return Notice(
        "user", d.user_id, APPEAL_CLOSING,
        subject_zh=f"复议期即将届满{sub_zh}",
        text_zh=f"{name_zh}{_order_zh(d)}被驳回，复议期将于 {moment_text(d.appeal_until)}届满；如需复议，请在此之前提出。",
        subject_en=f"The appeal window closes soon{sub_en}",
        text_en=f"{name_en}{_order_en(d)} was rejected; the appeal window closes at {moment_text_en(d.appeal_until)}. Appeal before then if you wish to.",
    )


APPEAL_DECIDED = "application.appeal_decided"
#: vouchers' ``AppealDecided.outcome``: the rejection stands / the application is approved
UPHOLD, OVERTURN = "uphold", "overturn"


def appeal_decided_notice(d: ApplicationDecision) -> Notice:
    """The bureau's decision on the applicant's appeal (R19(2)): ``d.approved`` when it
    overturned the rejection (with the voucher amount), else the rejection stands;
    ``d.reason`` is the bureau's reason. The application is named as ``_named`` does."""
    sub_zh, name_zh, sub_en, name_en = _named(d)
    why = f"理由：{d.reason}。" if d.reason else ""
    why_en = f" Reason: {d.reason}." if d.reason else ""
    if d.approved:
        return Notice(
            "user", d.user_id, APPEAL_DECIDED,
            subject_zh=f"复议决定：撤销驳回{sub_zh}",
            text_zh=f"您对{name_zh.removeprefix('您的')}{_order_zh(d)}提出的复议已有决定：撤销原驳回决定，申请已批准，创新券金额 {yuan_sign(d.amount_fen)}。{why}",
            subject_en=f"Appeal decided: rejection overturned{sub_en}",
            text_en=f"Your appeal on {name_en[0].lower()}{name_en[1:]}{_order_en(d)} is decided: the rejection is overturned and the application approved; "
            f"the voucher is worth {yuan_sign(d.amount_fen)}.{why_en}",
        )
    return Notice(
        "user", d.user_id, APPEAL_DECIDED,
        subject_zh=f"复议决定：维持驳回{sub_zh}",
        text_zh=f"您对{name_zh.removeprefix('您的')}{_order_zh(d)}提出的复议已有决定：维持原驳回决定。{why}",
        subject_en=f"Appeal decided: rejection upheld{sub_en}",
        text_en=f"Your appeal on {name_en[0].lower()}{name_en[1:]}{_order_en(d)} is decided: the rejection is upheld.{why_en}",
    )


APPEALED = "application.appealed"


def review_link_of(d: ApplicationDecision) -> str:
    """The staff review page, showing this application (found by its case number)."""
    return f"/review?case_no={quote(d.case_no)}" if d.case_no else "/review"


def appeal_filed_notice(d: ApplicationDecision) -> Notice:
    """The bureau (a city-wide role) learns a rejected applicant appealed and that it must
    decide the appeal (R19(2)); the application by its case number, the order by its."""
    sub_zh, _, sub_en, _ = _named(d)
    name_zh = f"创新券申请 {d.case_no}" if d.case_no else "一项创新券申请"
    name_en = f"voucher application {d.case_no}" if d.case_no else "a voucher application"
    return Notice(
        "bureau", CITY_WIDE, APPEALED,
        subject_zh=f"收到复议申请，待决定{sub_zh}",
        text_zh=f"{name_zh}{_order_zh(d)}被驳回后，申请人提出了复议。请组织复议并作出决定（维持或撤销原驳回决定）。",
        subject_en=f"An appeal awaits your decision{sub_en}",
        text_en=f"The applicant appealed the rejection of {name_en}{_order_en(d)}. Please review it and decide: uphold or overturn the rejection.",
    )
