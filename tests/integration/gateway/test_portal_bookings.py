"""Instrument time in the portal (issue 16), through the gateway: anybody sees an
instrument's week of free and busy time in Beijing time (never who booked) with
plain links to the weeks around it; a user books a free slot for its order and
reads a refused slot in Chinese at its field; the unit confirms, declines and
records; either side cancels with a reason; the unit keeps its schedule and
downtime in forms and checks a session of use in and out on the order's page.
The policy clock stands at Monday 2026-09-28 09:00 in Xuchang (the week of
National Day, Thursday 2026-10-01). Runs on SQLite and PostgreSQL."""

from __future__ import annotations

import re

import pytest

from services.runtime import clock
from services.runtime.roles import Role
from tests.support.bookings import PORTAL_SCHEDULE, T0
from tests.support.platform import Platform, running
from tests.support.portal import as_party, field_error, gateway, post, text_of, tracked
from tests.support.registry import World, world

SERVICES = ["registry"]


@pytest.fixture(autouse=True)
def policy_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(clock, "utc_now", lambda: T0)


def row_of(html: str, day: str) -> str:
    found = re.search(rf'<tr data-day="{day}">(.*?)</tr>', html, re.DOTALL)
    assert found, f"no row for {day}"
    return found.group(1)


async def test_week_booking_decisions_schedule_and_usage_in_the_portal(make_settings) -> None:
    settings = await make_settings(SERVICES)
    async with running(Platform(settings, SERVICES), worker=False) as p, gateway(p) as c:
        w: World = await world(p)
        r = await w.as_unit("PUT", f"/v1/instruments/{w.iid}/schedule", json=PORTAL_SCHEDULE)
        assert r.status_code == 200, r.text
        oid = await w.order()

        # anybody: the week from Monday to Sunday, the free time from now on, a caption and row headers
        as_party(c, p, None)
        page = await c.get(f"/instruments/{w.iid}")
        assert page.status_code == 200
        html = page.text
        assert "<caption>2026-09-28 至 2026-10-04 每日空闲与占用时段（北京时间）</caption>" in html
        assert html.count('<th scope="row">') == 7
        assert "09:00–12:00" in row_of(html, "2026-09-28") and "13:00–18:00" in row_of(html, "2026-09-29")
        assert "无空闲" in row_of(html, "2026-10-01")  # National Day
        assert f"/instruments/{w.iid}/book" not in html  # nobody signed in: no booking links
        assert 'href="?week=2026-10-05#availability"' in html and 'href="?week=2026-09-21#availability"' in html
        later = (await c.get(f"/instruments/{w.iid}?week=2026-10-05")).text
        assert "2026-10-05 至 2026-10-11" in later and "无空闲" in row_of(later, "2026-10-05")

        # the user: a free period links to the booking form with the shortest booking at its start
        as_party(c, p, Role.USER, w.user)
        html = (await c.get(f"/instruments/{w.iid}")).text
        assert f'href="/instruments/{w.iid}/book?day=2026-09-29&amp;start=09%3A00&amp;end=10%3A00"' in html
        form = (await c.get(f"/instruments/{w.iid}/book?day=2026-09-29&start=09:00&end=10:00")).text
        assert oid in form and 'value="09:00"' in form

        book = f"/instruments/{w.iid}/book"
        typed = {"instrument_id": w.iid, "order_id": oid, "day": "2026-09-29"}
        refused = await post(c, book, "/bookings", typed | {"start": "10:00", "end": "10:00"})
        assert refused.status_code == 422 and field_error(refused.text, "end") == "结束时间须晚于开始时间"
        refused = await post(c, book, "/bookings", typed | {"start": "九点", "end": "10:00"})
        assert field_error(refused.text, "start") == "请按“时:分”填写时间，如 09:30"
        refused = await post(c, book, "/bookings", typed | {"start": "11:00", "end": "14:00"})
        assert "不在仪器开放时间内" in field_error(refused.text, "start")
        assert 'value="11:00"' in refused.text  # what was typed stays
        done = await post(c, book, "/bookings", typed | {"start": "09:00", "end": "10:00", "note": "带样品 3 个"})
        assert done.status_code == 303 and done.headers["location"] == "/bookings?done=1"
        mine = (await c.get("/bookings")).text
        assert "待确认" in mine and "2026-09-29 09:00 – 10:00" in mine
        taken = await post(c, book, "/bookings", typed | {"start": "09:30", "end": "10:30"})
        assert "已被他人预约" in field_error(taken.text, "start")

        # anybody sees the slot busy, never who booked it
        as_party(c, p, None)
        tuesday = row_of((await c.get(f"/instruments/{w.iid}")).text, "2026-09-29")
        assert "09:00–10:00 已被预约" in tuesday and "10:00–12:00" in tuesday and "许昌测试企业" not in tuesday

        # the unit: declining needs a reason; it confirms; the user then cancels with a reason
        as_party(c, p, Role.UNIT, w.unit)
        bookings = (await w.as_unit("GET", "/v1/bookings/")).json()["items"]
        bid = bookings[0]["booking_id"]
        r = await post(c, "/unit/bookings", f"/bookings/{bid}/decline", {"reason": ""})
        assert field_error(r.text, "reason") == "请填写理由"
        r = await post(c, "/unit/bookings", f"/bookings/{bid}/confirm", {})
        assert r.status_code == 303 and r.headers["location"] == "/unit/bookings?done=1"
        assert "已确认" in (await c.get("/unit/bookings")).text
        as_party(c, p, Role.USER, w.user)
        r = await post(c, "/bookings", f"/bookings/{bid}/cancel", {"reason": "样品未准备好"})
        assert r.status_code == 303
        assert "已取消 · 样品未准备好" in text_of((await c.get("/bookings")).text)

        # the unit's schedule form: a period it cannot read is refused at its day; then Saturday opens
        as_party(c, p, Role.UNIT, w.unit)
        page = f"/unit/instruments/{w.iid}/time"
        schedule = (await c.get(page)).text
        assert 'name="hours_mon" value="09:00-12:00, 13:00-18:00"' in schedule
        fields = {f"hours_{d}": "09:00-12:00, 13:00-18:00" for d in ("mon", "tue", "wed", "thu", "fri")} | {"slot_minutes": "30", "min_minutes": "60", "max_minutes": "240"}
        fields |= {"book_ahead_days": "28", "book_before_minutes": "60", "cancel_before_hours": "24", "operated_by": "staff", "approval": "required", "closed_on_holidays": "on", "open_on_makeup_days": "on"}
        r = await post(c, page, f"/unit/instruments/{w.iid}/schedule", fields | {"hours_sat": "九点到十二点"})
        assert r.status_code == 422 and "08:30-12:00" in field_error(r.text, "hours_sat")
        r = await post(c, page, f"/unit/instruments/{w.iid}/schedule", fields | {"hours_sat": "09:00-12:00"})
        assert r.status_code == 303, r.text
        assert 'name="hours_sat" value="09:00-12:00"' in (await c.get(page)).text
        saturday = (await w.as_unit("GET", f"/v1/instruments/{w.iid}/schedule")).json()["weekly_hours"]["sat"]
        assert saturday == [["09:00", "12:00"]]
        r = await post(c, page, f"/unit/instruments/{w.iid}/downtimes", {"downtime_start": "2026-09-30T09:00", "downtime_end": "2026-09-30T12:00", "downtime_reason": ""})
        assert field_error(r.text, "downtime_reason") == "停机维护须填写原因"
        r = await post(c, page, f"/unit/instruments/{w.iid}/downtimes", {"downtime_start": "2026-09-30T09:00", "downtime_end": "2026-09-30T12:00", "downtime_reason": "更换灯丝"})
        assert r.status_code == 303
        html = (await c.get(page)).text
        assert "2026-09-30 09:00 – 2026-09-30 12:00 · 更换灯丝" in html and "09:00–12:00 停机维护" in row_of(html, "2026-09-30")

        # usage on the order's page: checked in and out in Beijing time, the minutes added up
        served = await w.contracted()
        assert (await w.as_unit("POST", f"/v1/orders/{served}/start")).status_code == 200
        order = f"/orders/{served}"
        r = await post(c, order, f"{order}/check-in", {"instrument_id": w.iid, "at": "2026-09-28T07:00"})
        assert r.status_code == 303, r.text
        html = (await c.get(order)).text
        assert "2026-09-28 07:00" in html and "使用中" in html
        session_id = (await w.as_unit("GET", "/v1/usage/sessions/", params={"order_id": served})).json()["items"][0]["session_id"]
        r = await post(c, order, f"{order}/check-out", {"session_id": session_id, "at": "2026-09-28T08:30"})
        assert r.status_code == 303, r.text
        html = (await c.get(order)).text
        assert re.search(r'<td id="usage-total">90</td>', html), html
        assert "按使用记录计算" in html


async def test_notifications_booking_page_and_qualifications_in_the_portal(make_settings) -> None:
    settings = await make_settings(SERVICES)
    async with running(Platform(settings, SERVICES), worker=False) as p, gateway(p) as c:
        w: World = await world(p)
        assert (await w.as_unit("PUT", f"/v1/instruments/{w.iid}/schedule", json=PORTAL_SCHEDULE)).status_code == 200
        oid = await w.order()
        slot = {"instrument_id": w.iid, "order_id": oid, "starts_at": "2026-09-29T09:00:00+08:00", "ends_at": "2026-09-29T10:00:00+08:00"}
        r = await w.as_user("POST", "/v1/bookings/", json=slot)
        assert r.status_code == 201, r.text
        bid = r.json()["booking_id"]

        # the unit: told of the request, unread, with a link to the booking's page
        as_party(c, p, Role.UNIT, w.unit)
        html = (await c.get("/notifications")).text
        assert 'href="/notifications"' in html  # in the navigation
        assert "未读通知 1 条" in html and f'href="/bookings/{bid}"' in html and "标为已读" in html
        assert "2026-09-29 09:00" in text_of(html)
        english = text_of((await c.get("/notifications?lang=en")).text)
        assert "A new booking awaits your confirmation" in english and "2026-09-29 09:00–10:00 (Beijing time)" in english
        assert "新的预约待确认" not in english
        await c.get("/notifications?lang=zh")  # back to Chinese for the rest
        page = (await c.get(f"/bookings/{bid}")).text
        assert "2026-09-29 09:00 – 10:00" in page and "待确认" in page and "确认预约" in page and "取消预约" not in page
        assert tracked(page, "booking-progress") == ("管理单位确认", "请确认这次预约，或填写理由后拒绝")
        r = await post(c, f"/bookings/{bid}", f"/bookings/{bid}/decline", {"reason": "", "back": "booking"})
        assert field_error(r.text, "reason") == "请填写理由" and "预约详情" in r.text
        r = await post(c, f"/bookings/{bid}", f"/bookings/{bid}/confirm", {"back": "booking"})
        assert r.status_code == 303 and r.headers["location"] == f"/bookings/{bid}?done=1"
        page = (await c.get(f"/bookings/{bid}")).text
        assert "已确认" in page and tracked(page, "booking-progress") == ("按时使用", "用户按时使用后，请登记本次使用记录")
        nid = (await w.as_unit("GET", "/v1/notifications/")).json()["items"][0]["notification_id"]
        r = await post(c, "/notifications", f"/notifications/{nid}/read", {})
        assert r.status_code == 303 and r.headers["location"] == "/notifications?done=1"
        html = (await c.get("/notifications")).text
        assert "未读通知 0 条" in html and "标为已读" not in html and "已读" in html

        # the user: told of the confirmation; cancels on the booking's page with a reason
        as_party(c, p, Role.USER, w.user)
        html = text_of((await c.get("/notifications")).text)
        assert "未读通知 1 条" in html
        assert tracked((await c.get(f"/bookings/{bid}")).text, "booking-progress") == ("按时使用", "请在预约时间到场使用仪器；如不能前来，请提前取消")
        r = await post(c, f"/bookings/{bid}", f"/bookings/{bid}/cancel", {"reason": "", "back": "booking"})
        assert field_error(r.text, "reason") == "请填写理由"
        r = await post(c, f"/bookings/{bid}", f"/bookings/{bid}/cancel", {"reason": "样品未准备好", "back": "booking"})
        assert r.status_code == 303 and r.headers["location"] == f"/bookings/{bid}?done=1"
        page = (await c.get(f"/bookings/{bid}")).text
        assert "已取消" in page and "样品未准备好" in text_of(page) and f'action="/bookings/{bid}/' not in page  # nothing left to do
        assert tracked(page, "booking-progress") == ("预约已取消", "预约已取消，理由见上；可另选时段重新预约")
        as_party(c, p, Role.USER, "another-user-org")
        assert (await c.get(f"/bookings/{bid}")).status_code == 404

        # the unit's qualifications: refusals at their fields, a grant, a revocation with its reason
        body = {"username": "zhang.san", "password": "Xuchang-Booking-2026!", "role": "user", "org": w.user}
        assert (await p.call("registry", "POST", "/v1/accounts/", role=Role.SYSADMIN, json=body)).status_code == 201
        as_party(c, p, Role.UNIT, w.unit)
        time_page = f"/unit/instruments/{w.iid}/time"
        grant = f"/unit/instruments/{w.iid}/qualifications"
        r = await post(c, time_page, grant, {"username": "", "valid_until": "2027-06-30"})
        assert r.status_code == 422 and field_error(r.text, "username")
        r = await post(c, time_page, grant, {"username": "nobody", "valid_until": "2027-06-30"})
        assert field_error(r.text, "username") == "该账号不是用户单位的人员账号" and 'value="nobody"' in r.text
        r = await post(c, time_page, grant, {"username": "zhang.san", "valid_until": "2026-09-01"})
        assert field_error(r.text, "valid_until") == "资格有效期不能早于今天"
        r = await post(c, time_page, grant, {"username": "zhang.san", "valid_until": "2027-06-30"})
        assert r.status_code == 303, r.text
        row = re.search(r'<tr id="qualification-([^"]+)">(.*?)</tr>', (await c.get(time_page)).text, re.DOTALL)
        assert row and "zhang.san" in row.group(2) and "2027-06-30" in row.group(2) and "有效" in row.group(2)
        revoke = f"/unit/instruments/{w.iid}/qualifications/{row.group(1)}/revoke"
        r = await post(c, time_page, revoke, {"reason": ""})
        assert field_error(r.text, "reason") == "撤销资格须填写原因"
        r = await post(c, time_page, revoke, {"reason": "违规操作"})
        assert r.status_code == 303, r.text
        assert "已撤销 · 违规操作" in text_of((await c.get(time_page)).text)
        assert [q["in_force"] for q in (await w.as_unit("GET", f"/v1/instruments/{w.iid}/qualifications")).json()] == [False]
