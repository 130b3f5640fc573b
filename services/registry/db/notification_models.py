"""Registry tables of what instrument time tells people (issue 16): the
per-instrument iCalendar feeds of a unit (a secret URL, stored as its
digest) and in-app notifications of booking changes and reminders. They share
``metadata`` with the rest of the registry (``db/models.py`` imports
this module). Times are UTC."""

from __future__ import annotations

from sqlalchemy import Column, ForeignKey, Index, String, Table, Text

from services.registry.db.metadata import metadata
from services.runtime.db.schema import UtcDateTime

#: a secret feed URL of one instrument's bookings and downtime for the unit's calendar apps
calendar_feeds = Table(
    "calendar_feeds",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("instrument_id", String(36), ForeignKey("instruments.id"), nullable=False),
    Column("unit_id", String(36), ForeignKey("units.id"), nullable=False),
    #: a name the unit gives it ("前台日历")
    Column("label", String(100), nullable=True),
    #: SHA-256 (hex) of the secret in the URL; the secret itself is never stored
    Column("secret_digest", String(64), nullable=False),
    Column("created_by", String(200), nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    #: when the secret last changed (creation or rotation)
    Column("rotated_at", UtcDateTime, nullable=False),
    Column("revoked_at", UtcDateTime, nullable=True),
    Column("revoked_by", String(200), nullable=True),
    Index("uq_calendar_feeds_secret_digest", "secret_digest", unique=True),
    Index("ix_calendar_feeds_instrument", "instrument_id"),
)

#: a message to an organisation (the user organisation or the unit) in the app
notifications = Table(
    "notifications",
    metadata,
    Column("id", String(36), primary_key=True),
    #: the role of the organisation told: user / unit
    Column("recipient_role", String(20), nullable=False),
    Column("recipient_org", String(100), nullable=False),
    #: booking.requested / booking.confirmed / booking.declined / booking.cancelled / booking.reminder
    Column("kind", String(40), nullable=False),
    Column("booking_id", String(36), ForeignKey("bookings.id"), nullable=True),
    Column("text_zh", Text, nullable=False),
    #: the same in English; NULL on the rows written before it was kept (the portal then shows the Chinese)
    Column("text_en", Text, nullable=True),
    #: where in the portal it leads (a path)
    Column("link", String(300), nullable=True),
    Column("created_at", UtcDateTime, nullable=False),
    Column("read_at", UtcDateTime, nullable=True),
    Index("ix_notifications_recipient", "recipient_role", "recipient_org", "created_at"),
)

#: who has read which notice (issue 17): read state is each reader's own, so one
#: colleague (or one officer of a staff role) reading a notice leaves it unread for
#: the others; ``notifications.read_at`` holds the reads from before, for everyone
notification_reads = Table(
    "notification_reads",
    metadata,
    Column("notification_id", String(36), ForeignKey("notifications.id"), primary_key=True),
    #: the reader's account subject (the token's ``sub``)
    Column("reader", String(200), primary_key=True),
    Column("read_at", UtcDateTime, nullable=False),
)

#: a notice due later (issue 17): written when the event that makes it due arrives,
#: cancelled by the event that makes it moot, told once when due (``scheduled_notices.py``)
scheduled_notices = Table(
    "scheduled_notices",
    metadata,
    Column("id", String(36), primary_key=True),
    #: voucher.expiring / application.appeal_closing / notice.closing / instrument.listing_due / instrument.listing_overdue / compliance.listing_overdue
    Column("kind", String(40), nullable=False),
    #: what it is about (the voucher id, the application id, a stable id of a notice and a unit, the instrument id)
    Column("ref", String(36), nullable=False),
    Column("recipient_role", String(20), nullable=False),
    Column("recipient_org", String(100), nullable=False),
    #: when it is told (UTC); NULL on a row that only records its cancellation (the cancelling event came first)
    Column("due_at", UtcDateTime, nullable=True),
    Column("subject_zh", String(200), nullable=True),
    Column("text_zh", Text, nullable=True),
    Column("subject_en", String(200), nullable=True),
    Column("text_en", Text, nullable=True),
    Column("link", String(300), nullable=True),
    Column("created_at", UtcDateTime, nullable=False),
    Column("sent_at", UtcDateTime, nullable=True),
    Column("cancelled_at", UtcDateTime, nullable=True),
    Index("uq_scheduled_notices_kind_ref", "kind", "ref", unique=True),
    Index("ix_scheduled_notices_due", "due_at"),
)
