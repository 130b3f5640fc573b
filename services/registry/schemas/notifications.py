"""A user's or a unit's in-app notifications as the registry answers with them (issue 16)."""

from __future__ import annotations

from datetime import datetime

import msgspec


class Notification(msgspec.Struct):
    notification_id: str
    #: booking.requested / booking.confirmed / booking.declined / booking.cancelled / booking.reminder
    kind: str
    text_zh: str
    created_at: datetime
    #: the same in English (None for notifications made before it was kept)
    text_en: str | None = None
    booking_id: str | None = None
    link: str | None = None
    read_at: datetime | None = None


class NotificationPage(msgspec.Struct):
    items: list[Notification]
    total: int
    unread: int
    page: int
    page_size: int
