"""An instrument's iCalendar feeds as the registry answers with them (issue 16)."""

from __future__ import annotations

from datetime import datetime

import msgspec


class CalendarFeed(msgspec.Struct):
    feed_id: str
    instrument_id: str
    created_at: datetime
    rotated_at: datetime
    label: str | None = None
    revoked_at: datetime | None = None


class CalendarFeedSecret(CalendarFeed):
    """A feed with its secret URL path (shown this once: only a digest is kept)."""

    url_path: str = ""
