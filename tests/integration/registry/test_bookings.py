"""Issue 16: instrument time. The owner unit publishes a schedule; a user books a
slot for its order; every limit is a 422 with its own code that writes nothing;
the unit confirms, declines, records a no-show; either side cancels before the
cut-off; downtime over bookings cancels them; the public sees free and busy time
(never who). Holidays and make-up working days are real 2026 dates of the
official calendar: Thursday 2026-10-01 is National Day, Saturday 2026-10-10 a
make-up working day. Runs on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from typing import Any

import msgspec
import pytest
from sqlalchemy import insert, select
from sqlalchemy.exc import IntegrityError

from contracts.registry import BookingCancelled
from services.registry import bookings as use_cases
from services.registry.db.booking_models import bookings, instrument_schedules
from services.registry.domain import bookings as rules
from services.runtime.bus.connect import connect_nats
from services.runtime.roles import Role
from tests.support.bookings import CST, SCHEDULE, T0, Clock, at, book
from tests.support.platform import Platform, running
from tests.support.polling import eventually
from tests.support.registry import World, priced_instrument, world

SERVICES = ["registry"]


async def setup(p: Platform, **schedule: Any) -> tuple[World, str]:
    w = await world(p)
    r = await w.as_unit("PUT", f"/v1/instruments/{w.iid}/schedule", json={**SCHEDULE, **schedule})
    assert r.status_code == 200, r.text
    return w, await w.order()


async def refused(w: World, oid: str, start: str, end: str, code: str, **kw: Any) -> dict[str, Any]:
    r = await book(w, oid, start, end, **kw)
    assert r.status_code == 422, r.text
    body = r.json()
    assert body["code"] == code, body
    assert body["message_zh"] and body["message_en"] and body["message_zh"] != body["message_en"]
    return body


async def bookings_of(w: World) -> list[dict[str, Any]]:
    r = await w.as_unit("GET", "/v1/bookings/", params={"page_size": 100})
    assert r.status_code == 200, r.text
    return r.json()["items"]


async def test_every_limit_is_its_own_422_and_writes_nothing(make_settings, now: Clock) -> None:
    settings = await make_settings(SERVICES)
    async with running(Platform(settings, SERVICES)) as p:
        w, oid = await setup(p)
        ok = await book(w, oid, at("09-29", "09:00"), at("09-29", "10:00"))
        assert ok.status_code == 201, ok.text
        r = await w.as_unit("POST", f"/v1/instruments/{w.iid}/downtimes", json={"starts_at": at("09-30", "09:00"), "ends_at": at("09-30", "12:00"), "reason": "更换离子源"})
        assert r.status_code == 201, r.text

        await refused(w, oid, at("09-28", "08:00"), at("09-28", "08:30"), "booking.in_past")
        await refused(w, oid, at("09-28", "09:30"), at("09-28", "10:00"), "booking.too_late")
        await refused(w, oid, at("11-02", "09:00"), at("11-02", "10:00"), "booking.too_far_ahead")
        await refused(w, oid, at("09-29", "14:00"), at("09-29", "14:15"), "booking.too_short")
        await refused(w, oid, at("09-29", "13:00"), at("09-29", "17:30"), "booking.too_long")
        await refused(w, oid, at("09-29", "14:10"), at("09-29", "14:40"), "booking.off_grid")
        await refused(w, oid, at("09-29", "11:30"), at("09-29", "13:30"), "booking.outside_hours")  # across lunch
        await refused(w, oid, at("10-01", "09:00"), at("10-01", "10:00"), "booking.outside_hours")  # National Day, a Thursday
        await refused(w, oid, at("10-17", "09:00"), at("10-17", "10:00"), "booking.outside_hours")  # an ordinary Saturday
        await refused(w, oid, at("09-30", "10:00"), at("09-30", "11:00"), "booking.over_downtime")
        await refused(w, oid, at("09-29", "09:30"), at("09-29", "10:30"), "booking.overlap")
        await refused(w, oid, at("09-29", "10:00"), at("09-29", "09:00"), "booking.empty_range")
        body = await refused(w, oid, "2026-09-29T14:00:00", "2026-09-29T15:00:00", "booking.naive_time")
        assert body["details"]["field"] == "starts_at"
        await refused(w, oid, "9999-12-31T20:00:00+00:00", "9999-12-31T21:00:00+00:00", "booking.time_out_of_range")
        # the same wall time in UTC is the same slot: 01:00Z is 09:00 in Xuchang
        await refused(w, oid, "2026-09-29T01:30:00Z", "2026-09-29T02:30:00Z", "booking.overlap")

        # an order that is not the user's, or not on this instrument, or closed
        other_iid, other_pid = await priced_instrument(p, w.unit)
        r = await w.as_user("POST", "/v1/orders/", json={"purpose": "research", "items": [{"price_item_id": other_pid, "quantity": 1}]})
        other_order = r.json()["order_id"]
        await refused(w, other_order, at("09-29", "14:00"), at("09-29", "15:00"), "booking.order_wrong_instrument")
        closed = await w.order()
        assert (await w.as_user("POST", f"/v1/orders/{closed}/cancel", json={"reason": "不再需要"})).status_code == 200
        await refused(w, closed, at("09-29", "14:00"), at("09-29", "15:00"), "booking.order_closed")
        r = await p.call("registry", "POST", "/v1/bookings/", role=Role.USER, org="someone-else", json={"instrument_id": w.iid, "order_id": oid, "starts_at": at("09-29", "14:00"), "ends_at": at("09-29", "15:00")})
        assert r.status_code == 404 and r.json()["code"] == "order.not_found", r.text
        # an instrument without a schedule takes no bookings
        r = await w.as_user("POST", "/v1/orders/", json={"purpose": "research", "items": [{"price_item_id": other_pid, "quantity": 1}]})
        await refused(w, r.json()["order_id"], at("09-29", "14:00"), at("09-29", "15:00"), "booking.no_schedule", iid=other_iid)

        # nothing but the first booking was written
        assert [b["booking_id"] for b in await bookings_of(w)] == [ok.json()["booking_id"]]
        # the answer is UTC: 09:00 in Xuchang is 01:00Z
        assert ok.json()["starts_at"].startswith("2026-09-29T01:00:00") and ok.json()["status"] == "requested"


async def test_make_up_working_day_opens_with_mondays_hours_and_availability_shows_it(make_settings, now: Clock) -> None:
    settings = await make_settings(SERVICES)
    async with running(Platform(settings, SERVICES)) as p:
        w, oid = await setup(p)
        r = await book(w, oid, at("10-10", "09:00"), at("10-10", "10:00"))  # Saturday, a make-up working day
        assert r.status_code == 201, r.text
        # free and busy, public, without who booked
        r = await p.call("registry", "GET", f"/v1/instruments/{w.iid}/availability", params={"from": at("10-09", "00:00"), "to": at("10-12", "00:00")})
        assert r.status_code == 200, r.text
        a = r.json()
        assert a["busy"] == [{"starts_at": "2026-10-10T01:00:00Z", "ends_at": "2026-10-10T02:00:00Z", "kind": "booked"}]
        free = [(f["starts_at"], f["ends_at"]) for f in a["free"]]
        assert free == [
            ("2026-10-09T01:00:00Z", "2026-10-09T04:00:00Z"),  # Friday
            ("2026-10-09T05:00:00Z", "2026-10-09T10:00:00Z"),
            ("2026-10-10T02:00:00Z", "2026-10-10T04:00:00Z"),  # Saturday (make-up) after the booking
            ("2026-10-10T05:00:00Z", "2026-10-10T10:00:00Z"),
        ]  # Sunday 10-11 closed
        assert "user_id" not in str(a) and w.user not in r.text
        # a holiday week has no free time at all (National Day, 10-01..10-07)
        r = await p.call("registry", "GET", f"/v1/instruments/{w.iid}/availability", params={"from": at("10-01", "00:00"), "to": at("10-08", "00:00")})
        assert r.json()["free"] == [], r.text
        # a schedule that keeps holidays open opens them (its weekday hours)
        r = await w.as_unit("PUT", f"/v1/instruments/{w.iid}/schedule", json={**SCHEDULE, "closed_on_holidays": False, "open_on_makeup_days": False})
        assert r.status_code == 200 and r.json()["version"] == 2, r.text
        assert (await book(w, oid, at("10-01", "09:00"), at("10-01", "10:00"))).status_code == 201
        # range limits and naive times
        for params, code in (
            ({"from": at("10-01", "00:00"), "to": at("11-20", "00:00")}, "availability.range_too_long"),
            ({"from": at("10-02", "00:00"), "to": at("10-01", "00:00")}, "availability.empty_range"),
            ({"from": "2026-10-01T00:00:00", "to": at("10-02", "00:00")}, "booking.naive_time"),
            ({"from": "9999-12-30T00:00:00Z", "to": "9999-12-31T23:00:00Z"}, "booking.time_out_of_range"),
        ):
            r = await p.call("registry", "GET", f"/v1/instruments/{w.iid}/availability", params=params)
            assert r.status_code == 422 and r.json()["code"] == code, r.text


async def test_schedule_validation_and_ownership(make_settings, now: Clock) -> None:
    settings = await make_settings(SERVICES)
    async with running(Platform(settings, SERVICES)) as p:
        w = await world(p)
        assert (await p.call("registry", "GET", f"/v1/instruments/{w.iid}/schedule")).json()["code"] == "booking.no_schedule"
        for body, code, field in (
            ({"weekly_hours": {"mon": [["12:00", "09:00"]]}}, "schedule.empty_interval", "weekly_hours.mon"),
            ({"weekly_hours": {"mon": [["09:00", "12:00"], ["11:00", "14:00"]]}}, "schedule.overlapping_intervals", "weekly_hours.mon"),
            ({"weekly_hours": {"mon": [["09:15", "12:00"]]}}, "schedule.hours_off_grid", "weekly_hours.mon"),
            ({"weekly_hours": {"mon": [["25:00", "26:00"]]}}, "schedule.invalid_time", "weekly_hours.mon"),
            ({"weekly_hours": {"moon": [["09:00", "12:00"]]}}, "schedule.unknown_weekday", "weekly_hours"),
            ({"min_minutes": 120, "max_minutes": 60}, "schedule.min_above_max", "min_minutes"),
            ({"max_minutes": 45}, "schedule.length_off_grid", "max_minutes"),
            ({"slot_minutes": 3}, "schedule.out_of_range", "slot_minutes"),
            ({"slot_minutes": 25, "min_minutes": 25, "max_minutes": 50, "weekly_hours": {}}, "schedule.slot_not_dividing_day", "slot_minutes"),
        ):
            r = await w.as_unit("PUT", f"/v1/instruments/{w.iid}/schedule", json=body)
            assert r.status_code == 422, r.text
            assert (r.json()["code"], r.json()["details"]["field"]) == (code, field), r.text
        assert (await p.call("registry", "GET", f"/v1/instruments/{w.iid}/schedule")).status_code == 422  # nothing written
        # defaults: Mon–Fri office hours, staff-operated, approval required
        r = await w.as_unit("PUT", f"/v1/instruments/{w.iid}/schedule", json={})
        assert r.status_code == 200, r.text
        s = r.json()
        assert s["weekly_hours"]["mon"] == [["08:30", "12:00"], ["14:00", "17:30"]] and s["weekly_hours"]["sat"] == []
        assert (s["operated_by"], s["approval"], s["slot_minutes"]) == ("staff", "required", 30)
        # another unit's instrument does not exist for it
        r = await p.call("registry", "PUT", f"/v1/instruments/{w.iid}/schedule", role=Role.UNIT, org="another-unit", json={})
        assert r.status_code == 404, r.text


async def test_the_unit_decides_either_side_cancels_before_the_cutoff_and_no_shows_after_the_start(make_settings, now: Clock) -> None:
    settings = await make_settings(SERVICES)
    async with running(Platform(settings, SERVICES)) as p:
        w, oid = await setup(p)
        a = (await book(w, oid, at("09-30", "09:00"), at("09-30", "10:00"))).json()["booking_id"]
        b = (await book(w, oid, at("09-30", "10:00"), at("09-30", "11:00"))).json()["booking_id"]
        made = (await book(w, oid, at("09-29", "14:00"), at("09-29", "15:00"))).json()
        c = made["booking_id"]
        r = await w.as_unit("POST", f"/v1/bookings/{a}/confirm")
        assert r.status_code == 200 and r.json()["status"] == "confirmed", r.text
        # a booking names its order by the order's case number (issue 17): made, decided, read and listed
        case_no = (await w.as_user("GET", f"/v1/orders/{oid}")).json()["case_no"]
        assert case_no.startswith("DD-") and made["order_case_no"] == r.json()["order_case_no"] == case_no, (made, r.text)
        assert (await w.as_user("GET", f"/v1/bookings/{a}")).json()["order_case_no"] == case_no
        assert {x["order_case_no"] for x in await bookings_of(w)} == {case_no}
        assert (await w.as_unit("POST", f"/v1/bookings/{a}/confirm")).json()["code"] == "booking.illegal_transition"
        r = await w.as_unit("POST", f"/v1/bookings/{b}/decline", json={})
        assert r.status_code == 422 and r.json()["code"] == "decision.reason_required", r.text
        r = await w.as_unit("POST", f"/v1/bookings/{b}/decline", json={"reason": "该时段需校准"})
        assert (r.json()["status"], r.json()["reason"], r.json()["decided_party"]) == ("declined", "该时段需校准", "unit")
        # a declined slot is free again
        assert (await book(w, oid, at("09-30", "10:00"), at("09-30", "11:00"))).status_code == 201
        # the user cancels with a reason until 24 h before the start; later it is too late
        r = await w.as_user("POST", f"/v1/bookings/{a}/cancel", json={"reason": "样品未到"})
        assert r.status_code == 200 and r.json()["status"] == "cancelled", r.text
        now.now = datetime.fromisoformat(f"2026-09-28T15:00:00{CST}")  # 23 h before c
        r = await w.as_user("POST", f"/v1/bookings/{c}/cancel", json={"reason": "改期"})
        assert r.status_code == 422 and r.json()["code"] == "booking.cancel_too_late", r.text
        assert (await w.as_unit("POST", f"/v1/bookings/{c}/confirm")).status_code == 200
        late = (await book(w, oid, at("09-29", "16:00"), at("09-29", "17:00"))).json()["booking_id"]
        r = await w.as_unit("POST", f"/v1/bookings/{c}/no-show")
        assert r.status_code == 422 and r.json()["code"] == "booking.not_started", r.text
        now.now = datetime.fromisoformat(f"2026-09-29T14:20:00{CST}")
        r = await w.as_unit("POST", f"/v1/bookings/{c}/no-show")
        assert r.status_code == 200 and r.json()["status"] == "no_show", r.text
        now.now = datetime.fromisoformat(f"2026-09-29T16:00:00{CST}")
        r = await w.as_unit("POST", f"/v1/bookings/{late}/confirm")  # a request never confirmed before its start
        assert r.status_code == 422 and r.json()["code"] == "booking.already_started", r.text
        # who sees a booking: its user, its unit, staff; nobody else
        assert (await p.call("registry", "GET", f"/v1/bookings/{c}", role=Role.CENTER)).status_code == 200
        assert (await p.call("registry", "GET", f"/v1/bookings/{c}", role=Role.USER, org="another-user")).status_code == 404
        assert (await p.call("registry", "POST", f"/v1/bookings/{c}/confirm", role=Role.UNIT, org="another-unit")).status_code == 404
        # cancelling the order frees the time its bookings held, with the order's reason
        held = (await book(w, oid, at("10-08", "09:00"), at("10-08", "10:00"))).json()["booking_id"]
        assert (await w.as_user("POST", f"/v1/orders/{oid}/cancel", json={"reason": "项目取消"})).status_code == 200
        r = await w.as_user("GET", f"/v1/bookings/{held}")
        assert (r.json()["status"], r.json()["reason"], r.json()["decided_party"]) == ("cancelled", "项目取消", "user"), r.text
        assert (await w.as_user("GET", f"/v1/bookings/{c}")).json()["status"] == "no_show"  # the past stays as it was
        oid = await w.order()
        assert (await book(w, oid, at("10-08", "09:00"), at("10-08", "10:00"))).status_code == 201
        # automatic approval confirms at once
        assert (await w.as_unit("PUT", f"/v1/instruments/{w.iid}/schedule", json={**SCHEDULE, "approval": "automatic"})).status_code == 200
        r = await book(w, oid, at("10-02", "14:00"), at("10-02", "15:00"))
        assert r.status_code == 422 and r.json()["code"] == "booking.outside_hours"  # 10-02 is still National Day
        r = await book(w, oid, at("10-09", "14:00"), at("10-09", "15:00"))
        assert r.status_code == 201 and r.json()["status"] == "confirmed", r.text


async def test_downtime_over_bookings_cancels_them_with_its_reason(make_settings, now: Clock) -> None:
    settings = await make_settings(SERVICES)
    async with running(Platform(settings, SERVICES)) as p:
        w, oid = await setup(p)
        ids = [(await book(w, oid, at("09-30", s), at("09-30", e))).json()["booking_id"] for s, e in (("09:00", "10:00"), ("10:00", "11:00"), ("14:00", "15:00"))]
        assert (await w.as_unit("POST", f"/v1/bookings/{ids[0]}/confirm")).status_code == 200
        r = await w.as_unit("POST", f"/v1/instruments/{w.iid}/downtimes", json={"starts_at": at("09-30", "09:30"), "ends_at": at("09-30", "12:00"), "reason": "真空泵故障维修"})
        assert r.status_code == 201, r.text
        assert sorted(r.json()["cancelled_booking_ids"]) == sorted(ids[:2])
        seen = {b["booking_id"]: b for b in await bookings_of(w)}
        for bid in ids[:2]:
            assert (seen[bid]["status"], seen[bid]["reason"], seen[bid]["downtime_id"]) == ("cancelled", "真空泵故障维修", r.json()["downtime_id"])
        assert seen[ids[2]]["status"] == "requested"
        # published for notification: each cancellation with the downtime and its reason
        nc = await connect_nats(settings.bus("operator"), "test-booking-events")
        try:
            js = nc.jetstream()

            async def published() -> Any:
                try:
                    return await js.get_last_msg("REGISTRY", BookingCancelled.subject)
                except Exception:
                    return None

            e = msgspec.json.decode((await eventually(published)).data, type=BookingCancelled)
            assert e.booking_id in ids[:2] and (e.reason, e.downtime_id, e.party, e.status) == ("真空泵故障维修", r.json()["downtime_id"], "unit", "cancelled")
        finally:
            await nc.close()
        for body, code in (
            ({"starts_at": at("10-05", "09:00"), "ends_at": at("10-05", "08:00"), "reason": "x"}, "downtime.empty_range"),
            ({"starts_at": at("10-05", "09:00"), "ends_at": at("10-05", "10:00"), "reason": " "}, "decision.reason_required"),
            ({"starts_at": "2026-10-05T09:00:00", "ends_at": at("10-05", "10:00"), "reason": "x"}, "booking.naive_time"),
        ):
            r = await w.as_unit("POST", f"/v1/instruments/{w.iid}/downtimes", json=body)
            assert r.status_code == 422 and r.json()["code"] == code, r.text
        r = await p.call("registry", "GET", f"/v1/instruments/{w.iid}/availability", params={"from": at("09-30", "00:00"), "to": at("10-01", "00:00")})
        assert [(b["kind"], b["starts_at"]) for b in r.json()["busy"]] == [("downtime", "2026-09-30T01:30:00Z"), ("booked", "2026-09-30T06:00:00Z")]
        # the audit trail keeps the downtime as answered, its times as the unit sent them
        down = next(d for d in (await p.call("registry", "GET", f"/v1/instruments/{w.iid}/downtimes", params={"since": at("09-29", "00:00")})).json())
        trail = (await p.call("registry", "GET", "/v1/audit/", role=Role.AUDITOR, params={"action": "instrument.downtime", "object_id": w.iid})).json()["items"]
        assert len(trail) == 1 and trail[0]["reason"] == "真空泵故障维修"
        image = trail[0]["after"]
        assert sorted(image.pop("cancelled_booking_ids")) == sorted(ids[:2]) and down["cancelled_booking_ids"] == []
        assert datetime.fromisoformat(image.pop("created_at")) == datetime.fromisoformat(down["created_at"])
        assert image == {"downtime_id": down["downtime_id"], "instrument_id": w.iid, "starts_at": at("09-30", "09:30"), "ends_at": at("09-30", "12:00"), "reason": "真空泵故障维修"}


async def test_only_trained_people_book_a_self_operated_instrument(make_settings, now: Clock) -> None:
    settings = await make_settings(SERVICES)
    async with running(Platform(settings, SERVICES)) as p:
        w, oid = await setup(p, operated_by="self")
        for username in ("zhang.san", "li.si"):
            body = {"username": username, "password": "Xuchang-Booking-2026!", "role": "user", "org": w.user}
            assert (await p.call("registry", "POST", "/v1/accounts/", role=Role.SYSADMIN, json=body)).status_code == 201
        zhang = {"Authorization": f"Bearer {p.token(Role.USER, w.user, subject='zhang.san')}"}
        li = {"Authorization": f"Bearer {p.token(Role.USER, w.user, subject='li.si')}"}
        slot = (at("09-29", "09:00"), at("09-29", "10:00"))
        await refused(w, oid, *slot, "booking.not_qualified", headers=zhang)
        r = await w.as_unit("PUT", f"/v1/instruments/{w.iid}/qualifications", json={"username": "zhang.san", "valid_until": "2026-09-29"})
        assert r.status_code == 200 and r.json()["in_force"], r.text
        qid = r.json()["qualification_id"]
        r = await w.as_unit("PUT", f"/v1/instruments/{w.iid}/qualifications", json={"username": "nobody", "valid_until": "2026-12-31"})
        assert r.status_code == 422 and r.json()["code"] == "qualification.not_a_user_person", r.text
        await refused(w, oid, *slot, "booking.not_qualified", headers=li)  # trained is per person
        assert (await book(w, oid, *slot, headers=zhang)).status_code == 201
        # the qualification expires after its last day
        now.now = datetime.fromisoformat(f"2026-09-30T08:00:00{CST}")
        await refused(w, oid, at("10-09", "09:00"), at("10-09", "10:00"), "booking.not_qualified", headers=zhang)
        assert (await w.as_unit("PUT", f"/v1/instruments/{w.iid}/qualifications", json={"username": "zhang.san", "valid_until": "2027-06-30"})).status_code == 200
        assert (await book(w, oid, at("10-09", "09:00"), at("10-09", "10:00"), headers=zhang)).status_code == 201
        r = await w.as_unit("POST", f"/v1/instruments/{w.iid}/qualifications/{qid}/revoke", json={"reason": "违规操作"})
        assert r.status_code == 200 and not r.json()["in_force"], r.text
        await refused(w, oid, at("10-09", "14:00"), at("10-09", "15:00"), "booking.not_qualified", headers=zhang)
        r = await w.as_unit("GET", f"/v1/instruments/{w.iid}/qualifications")
        assert [(q["username"], q["in_force"], q["revoke_reason"]) for q in r.json()] == [("zhang.san", False, "违规操作")]


async def test_fifty_concurrent_bookings_of_one_slot_exactly_one_wins(make_settings, now: Clock) -> None:
    settings = await make_settings(SERVICES)
    async with running(Platform(settings, SERVICES)) as p:
        w, oid = await setup(p)
        # staggered slots that all overlap 10:00–10:30 on 09-29
        slots = [(at("09-29", "09:30"), at("09-29", "10:30")), (at("09-29", "10:00"), at("09-29", "11:00")), (at("09-29", "10:00"), at("09-29", "10:30"))]
        answers = await asyncio.gather(*(book(w, oid, *slots[i % 3]) for i in range(50)))
        codes = sorted(r.status_code for r in answers)
        assert codes == [201] + [422] * 49, [r.text for r in answers if r.status_code not in (201, 422)]
        assert {r.json()["code"] for r in answers if r.status_code == 422} == {"booking.overlap"}
        assert len([b for b in await bookings_of(w) if b["status"] in ("requested", "confirmed")]) == 1


async def test_the_database_itself_refuses_overlapping_bookings_on_postgresql(make_settings, backend: str, now: Clock) -> None:
    """Behind the code's check: the exclusion constraint, whatever writes the row."""
    if backend != "postgres":
        pytest.skip("the exclusion constraint is PostgreSQL's; SQLite serialises writers")
    settings = await make_settings(SERVICES)
    async with running(Platform(settings, SERVICES)) as p:
        w, oid = await setup(p)
        first = (await book(w, oid, at("09-29", "09:00"), at("09-29", "10:00"))).json()
        db = p.services["registry"].db
        row = {k: first[k] for k in ("instrument_id", "unit_id", "user_id", "order_id")}
        start = datetime.fromisoformat(at("09-29", "09:30"))
        values = {**row, "id": "manual", "booked_by": "test", "starts_at": start, "ends_at": start + timedelta(hours=1), "status": "confirmed", "created_at": T0, "updated_at": T0, "version": 1}
        with pytest.raises(IntegrityError, match="bookings_no_overlap"):
            async with db.unit_of_work() as uow:
                await uow.session.execute(insert(bookings).values(**values))
        # a cancelled booking holds no time: the same row as cancelled is accepted
        async with db.unit_of_work() as uow:
            await uow.session.execute(insert(bookings).values(**{**values, "status": "cancelled"}))


async def test_without_the_codes_check_postgresql_still_lets_exactly_one_of_fifty_win(make_settings, backend: str, now: Clock, monkeypatch: pytest.MonkeyPatch) -> None:
    """The exclusion constraint alone, under concurrency through the app: the lock and the
    pre-check are switched off, and its violation is still answered with booking.overlap."""
    if backend != "postgres":
        pytest.skip("SQLite relies on its serialised writers and the check")
    real_check = rules.check_slot

    def check_without_taken(*args: Any, **kw: Any) -> None:
        real_check(*args, **{**kw, "taken": []})

    async def unlocked(s: Any, instrument_id: str) -> Any:
        return (await s.execute(select(instrument_schedules).where(instrument_schedules.c.instrument_id == instrument_id))).mappings().first()

    monkeypatch.setattr(use_cases, "check_slot", check_without_taken)
    monkeypatch.setattr(use_cases, "locked_schedule", unlocked)
    settings = await make_settings(SERVICES)
    async with running(Platform(settings, SERVICES)) as p:
        w, oid = await setup(p)
        answers = await asyncio.gather(*(book(w, oid, at("09-29", "10:00"), at("09-29", "11:00")) for _ in range(50)))
        assert sorted(r.status_code for r in answers) == [201] + [422] * 49, [r.text for r in answers if r.status_code not in (201, 422)]
        assert {r.json()["code"] for r in answers if r.status_code == 422} == {"booking.overlap"}
