"""Issue 16, part 4: what instrument time tells people. The owner unit's
iCalendar feed of an instrument behind a secret URL (parsed back with
``icalendar``), rotation and revocation; notifications of booking changes and
the day-before reminder (in the app and through the mail outbox); a booking a
usage session is recorded for becomes ``used`` and keeps its time. Runs on
SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from icalendar import Calendar
from sqlalchemy import select, update

from contracts.envelope import decode
from contracts.registry import BookingUsed
from services.registry import booking_notices
from services.registry.db.account_models import accounts
from services.registry.db.recovery_models import mail_outbox
from services.runtime.roles import Role
from tests.support.bookings import SCHEDULE, Clock, at, book
from tests.support.platform import Platform, running
from tests.support.registry import World, world
from tests.support.responses import ok

SERVICES = ["registry"]


async def setup(p: Platform, **schedule: Any) -> World:
    w = await world(p)
    await ok(await w.as_unit("PUT", f"/v1/instruments/{w.iid}/schedule", json={**SCHEDULE, **schedule}))
    return w


def events_of(body: bytes) -> dict[str, Any]:
    cal = Calendar.from_ical(body)
    return {str(e["UID"]): e for e in cal.walk("VEVENT")}


async def test_the_feed_shows_held_time_and_its_secret_is_the_credential(make_settings, now: Clock) -> None:
    settings = await make_settings(SERVICES)
    async with running(Platform(settings, SERVICES)) as p:
        w = await setup(p)
        oid = await w.order()
        confirmed = await ok(await book(w, oid, at("09-29", "09:00"), at("09-29", "10:00")), 201)
        await ok(await w.as_unit("POST", f"/v1/bookings/{confirmed['booking_id']}/confirm"))
        requested = await ok(await book(w, oid, at("09-29", "14:00"), at("09-29", "15:30")), 201)
        gone = await ok(await book(w, oid, at("10-09", "09:00"), at("10-09", "10:00")), 201)
        await ok(await w.as_user("POST", f"/v1/bookings/{gone['booking_id']}/cancel", json={"reason": "样品未到"}))
        await ok(await w.as_unit("POST", f"/v1/instruments/{w.iid}/downtimes", json={"starts_at": at("10-12", "09:00"), "ends_at": at("10-12", "12:00"), "reason": "更换离子源"}), 201)

        # only the owner unit creates a feed; the secret URL is shown once
        r = await p.call("registry", "POST", f"/v1/instruments/{w.iid}/calendar-feeds", role=Role.UNIT, org="another-unit", json={})
        assert r.status_code == 404, r.text
        feed = await ok(await w.as_unit("POST", f"/v1/instruments/{w.iid}/calendar-feeds", json={"label": "前台日历"}), 201)
        url = feed["url_path"]
        assert url.startswith("/v1/calendar/") and url.endswith(".ics")
        [listed] = await ok(await w.as_unit("GET", f"/v1/instruments/{w.iid}/calendar-feeds"))
        assert listed["feed_id"] == feed["feed_id"] and "url_path" not in listed and url.split("/")[-1][:-4] not in str(listed)

        r = await p.call("registry", "GET", url)
        assert r.status_code == 200, r.text
        assert r.headers["content-type"] == "text/calendar; charset=utf-8"
        assert "\r\n" in r.text and r.text.startswith("BEGIN:VCALENDAR")
        evs = events_of(r.content)
        assert set(evs) == {f"booking-{confirmed['booking_id']}@xciss.instrument-time", f"booking-{requested['booking_id']}@xciss.instrument-time"} | {
            u for u in evs if u.startswith("downtime-")
        }
        assert len(evs) == 3  # the cancelled booking is absent
        c = evs[f"booking-{confirmed['booking_id']}@xciss.instrument-time"]
        case_no = (await ok(await w.as_user("GET", f"/v1/orders/{oid}")))["case_no"]
        assert str(c["STATUS"]) == "CONFIRMED" and str(c["SUMMARY"]) == f"已确认 · 订单 {case_no}"
        assert oid not in r.text  # the order named by its case number, never its id
        assert c.decoded("DTSTART") == datetime(2026, 9, 29, 1, 0, tzinfo=UTC) and c.decoded("DTEND") == datetime(2026, 9, 29, 2, 0, tzinfo=UTC)
        assert int(c["SEQUENCE"]) == 1  # version 2: confirmed once
        t = evs[f"booking-{requested['booking_id']}@xciss.instrument-time"]
        assert str(t["STATUS"]) == "TENTATIVE" and str(t["SUMMARY"]).startswith("待确认")
        assert "DTSTART:20260929T060000Z" in r.text  # UTC with Z, never a local time
        [down] = [e for u, e in evs.items() if u.startswith("downtime-")]
        assert "更换离子源" in str(down["SUMMARY"])
        assert w.user not in r.text  # no user organisation, no person

        # a change shows with a higher SEQUENCE under the same UID
        await ok(await w.as_unit("POST", f"/v1/bookings/{requested['booking_id']}/confirm"))
        evs = events_of((await p.call("registry", "GET", url)).content)
        t = evs[f"booking-{requested['booking_id']}@xciss.instrument-time"]
        assert str(t["STATUS"]) == "CONFIRMED" and int(t["SEQUENCE"]) == 1

        # rotation: the old URL is 404 at once, the new one works
        rotated = await ok(await w.as_unit("POST", f"/v1/instruments/{w.iid}/calendar-feeds/{feed['feed_id']}/rotate"))
        assert rotated["url_path"] != url
        r = await p.call("registry", "GET", url)
        assert r.status_code == 404 and r.json()["code"] == "calendar_feed.not_found", r.text
        assert (await p.call("registry", "GET", rotated["url_path"])).status_code == 200
        # revocation: 404, and a revoked feed cannot be rotated back
        await ok(await w.as_unit("POST", f"/v1/instruments/{w.iid}/calendar-feeds/{feed['feed_id']}/revoke"))
        assert (await p.call("registry", "GET", rotated["url_path"])).status_code == 404
        r = await w.as_unit("POST", f"/v1/instruments/{w.iid}/calendar-feeds/{feed['feed_id']}/rotate")
        assert r.status_code == 409 and r.json()["code"] == "calendar_feed.revoked", r.text
        for bad in ("/v1/calendar/nonsense.ics", "/v1/calendar/" + "x" * 43):
            assert (await p.call("registry", "GET", bad)).status_code == 404


async def notes(w: World, who: str, **params: Any) -> dict[str, Any]:
    call = w.as_user if who == "user" else w.as_unit
    return await ok(await call("GET", "/v1/notifications/", params=params))


async def test_booking_changes_and_reminders_notify_the_affected_party(make_settings, now: Clock) -> None:
    settings = await make_settings(SERVICES)
    async with running(Platform(settings, SERVICES)) as p:
        w = await setup(p)
        db = p.services["registry"].db
        person = {"username": "lab-desk", "password": "Calendar-Pass-2026", "role": "unit", "org": w.unit}
        await ok(await p.call("registry", "POST", "/v1/accounts/", role=Role.SYSADMIN, json=person), 201)
        async with db.sessions() as s, s.begin():  # the unit's person has an e-mail
            await s.execute(update(accounts).where(accounts.c.username == "lab-desk").values(email="lab@example.edu.cn"))
        oid = await w.order()
        b = await ok(await book(w, oid, at("09-29", "14:00"), at("09-29", "15:00")), 201)
        unit_notes = await notes(w, "unit")
        [n] = unit_notes["items"]
        assert n["kind"] == "booking.requested" and n["booking_id"] == b["booking_id"] and unit_notes["unread"] == 1
        case_no = (await ok(await w.as_user("GET", f"/v1/orders/{oid}"), 200))["case_no"]  # the order named by its case number, not its id
        assert "2026-09-29 14:00–15:00" in n["text_zh"] and f"订单 {case_no}" in n["text_zh"] and oid not in n["text_zh"]
        assert "2026-09-29 14:00–15:00 (Beijing time)" in n["text_en"] and f"order {case_no}" in n["text_en"]
        assert (await notes(w, "user"))["total"] == 0
        async with db.read() as s:
            mails = (await s.execute(select(mail_outbox.c.kind, mail_outbox.c.recipient).where(mail_outbox.c.kind.like("booking.%")))).all()
        assert [tuple(m) for m in mails] == [("booking.requested", "lab@example.edu.cn")]  # the unit's account with an e-mail

        # another organisation neither sees nor reads it
        r = await p.call("registry", "POST", f"/v1/notifications/{n['notification_id']}/read", role=Role.UNIT, org="another-unit")
        assert r.status_code == 404 and r.json()["code"] == "notification.not_found", r.text
        read = await ok(await w.as_unit("POST", f"/v1/notifications/{n['notification_id']}/read"))
        assert read["read_at"] is not None and (await notes(w, "unit"))["unread"] == 0

        await ok(await w.as_unit("POST", f"/v1/bookings/{b['booking_id']}/confirm"))
        [c] = (await notes(w, "user"))["items"]
        assert c["kind"] == "booking.confirmed" and c["link"] == f"/bookings/{b['booking_id']}"

        # the day before: one reminder, however often the task runs
        assert await booking_notices.remind_due(db) == 0  # more than a day ahead
        now.now = datetime.fromisoformat(at("09-28", "15:00"))
        assert await booking_notices.remind_due(db) == 1
        assert await booking_notices.remind_due(db) == 0
        kinds = [i["kind"] for i in (await notes(w, "user"))["items"]]
        assert kinds == ["booking.reminder", "booking.confirmed"]

        # a downtime over a booking cancels it and tells the user why
        b2 = await ok(await book(w, oid, at("10-09", "09:00"), at("10-09", "10:00")), 201)
        await ok(await w.as_unit("POST", f"/v1/instruments/{w.iid}/downtimes", json={"starts_at": at("10-09", "08:00"), "ends_at": at("10-09", "12:00"), "reason": "停电检修"}), 201)
        latest = (await notes(w, "user", unread=True))["items"][0]
        assert latest["kind"] == "booking.cancelled" and latest["booking_id"] == b2["booking_id"] and "停电检修" in latest["text_zh"]
        # the user cancelling tells the unit
        b3 = await ok(await book(w, oid, at("10-13", "09:00"), at("10-13", "10:00")), 201)
        await ok(await w.as_user("POST", f"/v1/bookings/{b3['booking_id']}/cancel", json={"reason": "改期"}))
        assert (await notes(w, "unit"))["items"][0]["kind"] == "booking.cancelled"


async def test_a_recorded_session_marks_its_confirmed_booking_used(make_settings, now: Clock) -> None:
    settings = await make_settings(SERVICES)
    async with running(Platform(settings, SERVICES)) as p:
        w = await setup(p)
        oid = await w.contracted()
        await ok(await w.as_unit("POST", f"/v1/orders/{oid}/start"))
        b = await ok(await book(w, oid, at("09-29", "09:00"), at("09-29", "10:00")), 201)
        requested = await ok(await book(w, oid, at("09-29", "14:00"), at("09-29", "15:00")), 201)
        await ok(await w.as_unit("POST", f"/v1/bookings/{b['booking_id']}/confirm"))
        now.now = datetime.fromisoformat(at("09-29", "16:00"))
        body = {"instrument_id": w.iid, "kind": "outside", "order_id": oid, "started_at": at("09-29", "09:05"), "ended_at": at("09-29", "09:55"), "booking_id": b["booking_id"]}
        await ok(await w.as_unit("POST", "/v1/usage/sessions/", json=body), 201)
        got = await ok(await w.as_unit("GET", f"/v1/bookings/{b['booking_id']}"))
        assert got["status"] == "used" and got["version"] == 3
        # a session naming a booking that is not confirmed leaves it as it is
        body = {**body, "started_at": at("09-29", "14:00"), "ended_at": at("09-29", "14:30"), "booking_id": requested["booking_id"]}
        await ok(await w.as_unit("POST", "/v1/usage/sessions/", json=body), 201)
        assert (await ok(await w.as_unit("GET", f"/v1/bookings/{requested['booking_id']}")))["status"] == "requested"

        outbox = p["registry"].db.metadata.tables["outbox"]
        async with p["registry"].db.read() as s:
            rows = (await s.execute(select(outbox.c.payload).where(outbox.c.subject == BookingUsed.subject))).scalars().all()
        [used] = [decode(bytes(r), BookingUsed) for r in rows]
        assert (used.booking_id, used.status, used.version) == (b["booking_id"], "used", 3)
        items = (await ok(await w.as_unit("GET", "/v1/bookings/", params={"status": "used"})))["items"]
        assert [i["booking_id"] for i in items] == [b["booking_id"]]
