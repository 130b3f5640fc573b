"""Issue 16: who a booking's change tells and what, and the iCalendar rendering
of an instrument's time (pure rules: services/registry/domain/booking_notices.py,
calendar_feed.py)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from icalendar import Calendar

from services.registry.domain.booking_notices import (
    BookingFacts,
    change_notice,
    due_for_reminder,
    mail_body,
    mail_subject,
    reminder_notice,
    slot_text,
)
from services.registry.domain.calendar_feed import (
    FeedBooking,
    FeedDowntime,
    render,
    secret_digest,
)

START = datetime(2026, 9, 29, 1, 0, tzinfo=UTC)  # 09:00 in Xuchang


def facts(status: str, **kw: object) -> BookingFacts:
    base: dict[str, object] = {"booking_id": "b1", "instrument_name": "液相色谱仪", "order_case_no": "DD-2026-000001", "user_id": "u1", "unit_id": "n1", "starts_at": START, "ends_at": START + timedelta(hours=1), "status": status}
    return BookingFacts(**{**base, **kw})  # type: ignore[arg-type]


def test_each_change_tells_the_affected_party() -> None:
    requested = change_notice(facts("requested"))
    assert requested is not None and (requested.recipient_role, requested.recipient_org, requested.kind) == ("unit", "n1", "booking.requested")
    assert change_notice(facts("confirmed")).recipient_org == "u1"  # type: ignore[union-attr]
    declined = change_notice(facts("declined", reason="仪器预约已满"))
    assert declined is not None and declined.recipient_role == "user" and "仪器预约已满" in declined.text_zh
    by_user = change_notice(facts("cancelled", party="user", reason="改期"))
    assert by_user is not None and by_user.recipient_role == "unit"
    by_unit = change_notice(facts("cancelled", party="unit"))
    assert by_unit is not None and by_unit.recipient_role == "user"
    by_downtime = change_notice(facts("cancelled", party="unit", downtime_id="d1", reason="停电"))
    assert by_downtime is not None and by_downtime.recipient_role == "user" and "停机" in by_downtime.text_zh
    assert change_notice(facts("no_show")) is None and change_notice(facts("used")) is None
    assert reminder_notice(facts("confirmed")).kind == "booking.reminder"


def test_times_are_shown_in_beijing_time_and_reminders_come_the_day_before() -> None:
    assert slot_text(START, START + timedelta(hours=1)) == "2026-09-29 09:00–10:00（北京时间）"
    assert "2026-09-30 01:00" in slot_text(START, START + timedelta(hours=16))
    assert due_for_reminder(START, START - timedelta(hours=23))
    assert not due_for_reminder(START, START - timedelta(hours=25))
    assert not due_for_reminder(START, START)


def test_the_feed_is_rfc5545_in_utc_without_cancelled_bookings() -> None:
    made = START - timedelta(days=2)
    booked = [
        FeedBooking("b1", "DD-2026-000001", START, START + timedelta(hours=1), "confirmed", 2, made, made + timedelta(hours=1)),
        FeedBooking("b2", None, START + timedelta(hours=2), START + timedelta(hours=3), "requested", 1, made, made),
        FeedBooking("b3", "DD-2026-000003", START + timedelta(hours=4), START + timedelta(hours=5), "cancelled", 2, made, made),
    ]
    down = [FeedDowntime("d1", START + timedelta(days=1), START + timedelta(days=1, hours=3), "校准", made)]
    body = render("液相色谱仪", booked, down, START)
    assert body.startswith(b"BEGIN:VCALENDAR\r\n") and b"DTSTART:20260929T010000Z" in body
    events = {str(e["UID"]): e for e in Calendar.from_ical(body).walk("VEVENT")}
    assert set(events) == {"booking-b1@xciss.instrument-time", "booking-b2@xciss.instrument-time", "downtime-d1@xciss.instrument-time"}
    b1 = events["booking-b1@xciss.instrument-time"]
    assert (str(b1["STATUS"]), int(b1["SEQUENCE"]), b1.decoded("LAST-MODIFIED")) == ("CONFIRMED", 1, made + timedelta(hours=1))
    assert str(b1["SUMMARY"]) == "已确认 · 订单 DD-2026-000001"
    b2 = events["booking-b2@xciss.instrument-time"]
    assert str(b2["STATUS"]) == "TENTATIVE" and str(b2["SUMMARY"]) == "待确认"  # an order without a case number: the state alone
    assert secret_digest("a") != secret_digest("b") and len(secret_digest("a")) == 64


def test_every_notice_says_the_same_in_english_with_the_time_and_the_reason() -> None:
    """The English text names the same instrument, Beijing-time slot, order and reason as the Chinese."""
    notices = [
        change_notice(facts("requested")),
        change_notice(facts("confirmed")),
        change_notice(facts("declined", reason="full")),
        change_notice(facts("cancelled", party="user", reason="full")),
        change_notice(facts("cancelled", party="unit", reason="full")),
        change_notice(facts("cancelled", party="unit", downtime_id="d1", reason="full")),
        reminder_notice(facts("confirmed")),
    ]
    for n in notices:
        assert n is not None and n.subject_en  # the instrument keeps its (Chinese) name in both
        assert "2026-09-29 09:00–10:00 (Beijing time)" in n.text_en and "order DD-2026-000001" in n.text_en and "液相色谱仪" in n.text_en
        assert not any("\u4e00" <= ch <= "\u9fff" for ch in n.text_en.replace("液相色谱仪", "")), n.text_en
    assert all("reason: full" in n.text_en for n in notices[2:6] if n is not None)


def test_a_notice_mail_carries_both_languages_and_the_link() -> None:
    n = change_notice(facts("confirmed"))
    assert n is not None
    assert mail_subject(n) == "[科技创新券平台] 预约已确认 / Booking confirmed"
    body = mail_body(n, "https://xuchang.example/bookings/b1")
    assert body.index(n.text_zh) < body.index(n.text_en) and body.count("https://xuchang.example/bookings/b1") == 2
