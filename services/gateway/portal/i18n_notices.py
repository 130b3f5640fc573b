"""What a notification's link is called (issue 17), by what it is about (its kind's
first word: booking, application, payout, notice, voucher, redemption, objection,
instrument): the key of its text in the catalogues; a kind the portal does not know
yet is "查看详情"."""

from __future__ import annotations

from services.gateway.portal.i18n import STRINGS  # the link texts: notification_link_<kind>, in the catalogues


def link_key(kind: str) -> str:
    """The key of a notification's link text (``application.rejected`` → ``notification_link_application``)."""
    key = f"notification_link_{kind.split('.', 1)[0]}"
    return key if key in STRINGS else "notification_link"
