"""What every notification is made of (issues 16 and 17), whatever it is about:
to whom (a role and an organisation), which kind, the Chinese and English text,
and the mail sent with it (subject and body, Chinese first, each with the link
to the portal page). Pure, no I/O. The kinds of notice each have their own
module (``booking_notices``, ``application_notices``, ``payout_notices``,
``clawback_notices``, ``redemption_notices``, ``public_notices``); times are shown in Asia/Shanghai, amounts in yuan."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime

from services.runtime.clock import POLICY_ZONE


#: the ``recipient_org`` of a notice to a city-wide staff role (center, bureau,
#: finance): they act for no organisation, so every active account of the role is told
CITY_WIDE = "city"
#: the staff roles that have a message centre
STAFF_ROLES: tuple[str, ...] = ("center", "bureau", "finance")


@dataclass(frozen=True)
class Notice:
    """One notification: to whom (role and organisation), which kind, the text, the subject of its mail.
    (The texts are passed by keyword: a kind is not an error code, and the error catalogue
    reads a call holding a code and a Chinese and an English text as one, services/runtime/http/error_catalogue.py.)"""

    recipient_role: str
    recipient_org: str
    kind: str
    subject_zh: str
    text_zh: str
    subject_en: str
    text_en: str


def moment_text(at: datetime) -> str:
    """``2026-03-02 09:00（北京时间）``."""
    return f"{at.astimezone(POLICY_ZONE):%Y-%m-%d %H:%M}（北京时间）"


def moment_text_en(at: datetime) -> str:
    return f"{at.astimezone(POLICY_ZONE):%Y-%m-%d %H:%M} (Beijing time)"


def day_text(day: date) -> str:
    """``2026年3月2日`` (a policy-zone calendar day)."""
    return f"{day.year}年{day.month}月{day.day}日"


def order_named(case_no: str | None) -> tuple[str, str]:
    """How a notice names an order: by its case number (``订单 DD-2026-000042`` /
    ``order DD-2026-000042``), never by its id; nothing for an order without one."""
    return (f"订单 {case_no}", f"order {case_no}") if case_no else ("", "")


def case_in_brackets(case_no: str | None) -> tuple[str, str]:
    """A record's case number after what names it (``（BF-2026-000007）`` /
    `` (BF-2026-000007)``); nothing for a record without one (an event from before
    case numbers), never its id."""
    return (f"（{case_no}）", f" ({case_no})") if case_no else ("", "")


def mail_subject(notice: Notice) -> str:
    return f"[科技创新券平台] {notice.subject_zh} / {notice.subject_en}"


def mail_body(notice: Notice, link: str) -> str:
    """Chinese first, then English, each with the link (a portal path, made
    absolute when the mail is sent: :func:`absolute_links`)."""
    return (
        f"{notice.text_zh}\n\n详情：{link}\n\n（本邮件由系统自动发送，请勿回复。）\n\n"
        f"{notice.text_en}\n\nDetails: {link}\n\n(This message was sent automatically; please do not reply.)"
    )


_LINK = re.compile(r"^(详情：|Details: )(/\S*)$", re.MULTILINE)


def absolute_links(body: str, public_url: str | None) -> str:
    """The portal paths of a mail's link lines prefixed with the portal's public
    address (``https://portal…/vouchers?case_no=…``); unchanged without one."""
    if not public_url:
        return body
    base = public_url.rstrip("/")
    return _LINK.sub(lambda m: f"{m.group(1)}{base}{m.group(2)}", body)
