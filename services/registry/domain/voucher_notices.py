"""What an issued voucher tells its holder before it expires (issue 17): the
user organisation learns, once, 30 days before the voucher becomes void (the
end of its year, Asia/Shanghai), its amount, its order and the moment it
expires, so it settles in time. A voucher used, expired or revoked first is
never reminded of. Pure, no I/O."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from services.registry.domain.notices import Notice, moment_text, moment_text_en, order_named
from services.runtime.money import yuan_sign

#: a voucher is reminded of this long before it expires
REMIND_BEFORE = timedelta(days=30)
KIND = "voucher.expiring"
#: the holder's vouchers page
LINK = "/vouchers"


@dataclass(frozen=True)
class VoucherFacts:
    """What the reminder needs of an issued voucher (from vouchers' event)."""

    voucher_id: str
    user_id: str
    amount_fen: int
    expires_at: datetime
    #: the order's case number (DD-…) as the registry holds it; None for an order it does not know
    order_case_no: str | None = None


def remind_at(expires_at: datetime) -> datetime:
    """When the reminder is due (at once for a voucher issued less than 30 days before it expires)."""
    return expires_at - REMIND_BEFORE


def expiring_notice(v: VoucherFacts) -> Notice:
    """The reminder, naming the order by its case number (never by its id)."""
    zh, en = order_named(v.order_case_no)
    order_zh, order_en = (f"{zh}，", f"{en}, ") if zh else ("", "")
    return Notice(
        "user", v.user_id, KIND,
        subject_zh="创新券即将到期",
        text_zh=f"您的创新券（{order_zh}金额 {yuan_sign(v.amount_fen)}）将于 {moment_text(v.expires_at)}到期作废，请在到期前完成结算抵扣。",
        subject_en="A voucher expires soon",
        text_en=f"Your voucher ({order_en}{yuan_sign(v.amount_fen)}) becomes void at {moment_text_en(v.expires_at)}; settle the order before then to use it.",
    )
