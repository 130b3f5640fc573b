"""What a booking's change tells whom (issue 16): the party affected by a
state change or a reminder, and the Chinese and English text of the
notification and its mail. Pure rules, no I/O. Times are shown in Asia/Shanghai.

- requested → the unit (to confirm or decline);
- confirmed, declined → the user;
- cancelled → the other party (the unit when the user cancelled; the user when
  the unit or downtime did);
- the day before a confirmed booking → the user (a reminder, once);
- no_show and used tell nobody (the unit recorded them itself)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from services.registry.domain.notices import Notice, mail_body, mail_subject, order_named
from services.runtime.clock import POLICY_ZONE

__all__ = ["REMIND_BEFORE", "BookingFacts", "Notice", "change_notice", "due_for_reminder", "mail_body", "mail_subject", "reminder_notice", "slot_text", "slot_text_en"]

#: a confirmed booking starting within this time is reminded of (once)
REMIND_BEFORE = timedelta(hours=24)


@dataclass(frozen=True)
class BookingFacts:
    """What a notice needs of a booking."""

    booking_id: str
    instrument_name: str
    user_id: str
    unit_id: str
    starts_at: datetime
    ends_at: datetime
    status: str
    party: str | None = None
    reason: str | None = None
    downtime_id: str | None = None
    #: the order's case number (DD-…): a notice names the order by it, never by its id
    order_case_no: str | None = None


def _slot(starts_at: datetime, ends_at: datetime) -> str:
    a, b = starts_at.astimezone(POLICY_ZONE), ends_at.astimezone(POLICY_ZONE)
    end = b.strftime("%H:%M") if a.date() == b.date() else b.strftime("%Y-%m-%d %H:%M")
    return f"{a:%Y-%m-%d %H:%M}–{end}"


def slot_text(starts_at: datetime, ends_at: datetime) -> str:
    """``2026-03-02 09:00–10:00（北京时间）`` (Asia/Shanghai; the end's date too when it differs)."""
    return f"{_slot(starts_at, ends_at)}（北京时间）"


def slot_text_en(starts_at: datetime, ends_at: datetime) -> str:
    """``2026-03-02 09:00–10:00 (Beijing time)``."""
    return f"{_slot(starts_at, ends_at)} (Beijing time)"


def _what(f: BookingFacts) -> str:
    order = order_named(f.order_case_no)[0]
    return f"仪器「{f.instrument_name}」{slot_text(f.starts_at, f.ends_at)}" + (f"，{order}" if order else "")


def _what_en(f: BookingFacts) -> str:
    order = order_named(f.order_case_no)[1]
    return f"instrument “{f.instrument_name}”, {slot_text_en(f.starts_at, f.ends_at)}" + (f", {order}" if order else "")


def _why(f: BookingFacts) -> str:
    return f"；理由：{f.reason}" if f.reason else ""


def _why_en(f: BookingFacts) -> str:
    return f"; reason: {f.reason}" if f.reason else ""


def change_notice(f: BookingFacts) -> Notice | None:
    """The notice a booking's new state sends, or None."""
    what, en = _what(f), _what_en(f)
    if f.status == "requested":
        return Notice("unit", f.unit_id, "booking.requested", subject_zh="新的预约待确认", text_zh=f"新的预约待确认：{what}。请确认或拒绝。",
                      subject_en="New booking to confirm", text_en=f"A new booking awaits your confirmation: {en}. Please confirm or decline it.")
    if f.status == "confirmed":
        return Notice("user", f.user_id, "booking.confirmed", subject_zh="预约已确认", text_zh=f"预约已确认：{what}。",
                      subject_en="Booking confirmed", text_en=f"Your booking is confirmed: {en}.")
    if f.status == "declined":
        return Notice("user", f.user_id, "booking.declined", subject_zh="预约未获确认", text_zh=f"仪器单位拒绝了预约：{what}{_why(f)}。",
                      subject_en="Booking declined", text_en=f"The instrument's unit declined your booking: {en}{_why_en(f)}.")
    if f.status == "cancelled":
        if f.downtime_id is not None:
            return Notice("user", f.user_id, "booking.cancelled", subject_zh="预约因停机取消", text_zh=f"仪器停机维护，预约已取消：{what}{_why(f)}。",
                          subject_en="Booking cancelled for downtime", text_en=f"The instrument is down for maintenance, so your booking is cancelled: {en}{_why_en(f)}.")
        if f.party == "user":
            return Notice("unit", f.unit_id, "booking.cancelled", subject_zh="用户取消了预约", text_zh=f"用户取消了预约：{what}{_why(f)}。",
                          subject_en="A user cancelled a booking", text_en=f"The user cancelled the booking: {en}{_why_en(f)}.")
        return Notice("user", f.user_id, "booking.cancelled", subject_zh="预约已被取消", text_zh=f"仪器单位取消了预约：{what}{_why(f)}。",
                      subject_en="Booking cancelled", text_en=f"The instrument's unit cancelled your booking: {en}{_why_en(f)}.")
    return None


def reminder_notice(f: BookingFacts) -> Notice:
    return Notice("user", f.user_id, "booking.reminder", subject_zh="预约提醒", text_zh=f"提醒：您预约的仪器时间即将开始：{_what(f)}。",
                  subject_en="Booking reminder", text_en=f"Reminder: your instrument time starts soon: {_what_en(f)}.")


def due_for_reminder(starts_at: datetime, now: datetime) -> bool:
    """A confirmed booking is reminded of within the day before its start (not after it started)."""
    return now < starts_at <= now + REMIND_BEFORE
