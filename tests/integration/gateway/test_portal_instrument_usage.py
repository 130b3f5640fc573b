"""An instrument's usage log on the unit's page (issue 16, issue 17; ``recordUsage``,
``correctUsage``): the unit opens it from its instruments; a session entered by hand without its
order, an internal one without its researcher, a mistyped time and an end before the start are
refused at their fields in Chinese; entered, the registry holds the session of the order and
the page shows it by the order's case number with its minutes; an overlapping one is refused;
a correction without a reason is refused at that session's reason, with one it is kept beside
the new times. Another unit's instrument is refused. SQLite and PostgreSQL."""

from __future__ import annotations

import re
from datetime import timedelta

from services.runtime import clock
from services.runtime.roles import Role
from tests.support.platform import Platform, running
from tests.support.registry import approved_unit, priced_instrument, world
from tests.support.portal import csrf_of, error_at, gateway, text_of

SERVICES = ["registry"]


def row(html: str, session_id: str) -> str:
    found = re.search(rf'<tr data-session="{session_id}">(.*?)</tr>', html, re.DOTALL)
    assert found, html
    return found.group(1)


async def test_a_unit_records_and_corrects_usage_by_hand(make_settings) -> None:
    settings = await make_settings(SERVICES)
    async with running(Platform(settings, SERVICES), worker=False) as p, gateway(p) as c:
        w = await world(p)
        oid = await w.contracted()
        assert (await w.as_unit("POST", f"/v1/orders/{oid}/start")).status_code == 200
        case_no = (await w.as_unit("GET", f"/v1/orders/{oid}")).json()["case_no"]
        day = (clock.local_now() - timedelta(days=1)).date().isoformat()

        c.cookies.set("xciss_session", p.token(Role.UNIT, w.unit))
        url = f"/unit/instruments/{w.iid}/usage"
        assert f'href="{url}"' in (await c.get("/unit/instruments")).text
        page = (await c.get(url)).text
        assert f'<option value="{oid}">{case_no}</option>' in page
        token = csrf_of(page)
        times = {"started_at": f"{day}T09:00", "ended_at": f"{day}T11:30"}

        r = await c.post(url, data={"_csrf_token": token, "kind": "outside", **times})
        assert r.status_code == 400 and error_at(r.text, "order_id") == "此项必填", r.text
        r = await c.post(url, data={"_csrf_token": token, "kind": "internal", **times})
        assert r.status_code == 400 and error_at(r.text, "researcher") == "此项必填", r.text
        r = await c.post(url, data={"_csrf_token": token, "kind": "outside", "order_id": oid, "started_at": "昨天九点", "ended_at": times["ended_at"]})
        assert r.status_code == 422 and error_at(r.text, "started_at"), r.text
        r = await c.post(url, data={"_csrf_token": token, "kind": "outside", "order_id": oid, "started_at": times["ended_at"], "ended_at": times["started_at"]})
        assert r.status_code == 422 and error_at(r.text, "ended_at") == "结束时间须晚于开始时间", r.text

        r = await c.post(url, data={"_csrf_token": token, "kind": "outside", "order_id": oid, **times})
        assert r.status_code == 303 and r.headers["location"] == f"{url}?done=1", r.text
        r = await c.post(url, data={"_csrf_token": token, "kind": "internal", "researcher": "李老师课题组", "started_at": f"{day}T13:00", "ended_at": f"{day}T14:00"})
        assert r.status_code == 303, r.text
        sessions = (await w.as_unit("GET", "/v1/usage/sessions/", params={"order_id": oid})).json()["items"]
        assert len(sessions) == 1 and sessions[0]["minutes"] == 150 and sessions[0]["status"] == "closed"
        sid = sessions[0]["session_id"]
        page = (await c.get(f"{url}?done=1")).text
        assert "操作成功" in page and re.search(rf"{day} 09:00\s*{day} 11:30\s*150\s*{case_no}", text_of(row(page, sid))), text_of(row(page, sid))
        assert "李老师课题组" in page

        r = await c.post(url, data={"_csrf_token": token, "kind": "internal", "researcher": "王同学", "started_at": f"{day}T10:00", "ended_at": f"{day}T10:30"})
        assert r.status_code == 422 and "该仪器在这段时间已有使用记录（时间重叠）" in text_of(r.text), r.text

        fix = f"{url}/{sid}/correct"
        r = await c.post(fix, data={"_csrf_token": token, "started_at": f"{day}T09:00", "ended_at": f"{day}T12:00", "reason": ""})
        assert r.status_code == 400 and error_at(r.text, "reason") == "修改使用记录须说明理由", r.text
        assert 'id="reason-error"' in row(r.text, sid)  # at that session's own form
        r = await c.post(fix, data={"_csrf_token": token, "started_at": f"{day}T09:00", "ended_at": f"{day}T12:00", "reason": "下机登记漏记半小时"})
        assert r.status_code == 303, r.text
        got = (await w.as_unit("GET", f"/v1/usage/sessions/{sid}")).json()
        assert got["minutes"] == 180 and got["corrections"][0]["reason"] == "下机登记漏记半小时"
        shown = text_of(row((await c.get(url)).text, sid))
        assert f"{day} 12:00" in shown and "180" in shown and "下机登记漏记半小时" in shown

        other = await approved_unit(p, name="许昌某研究所")
        theirs, _ = await priced_instrument(p, other)
        assert (await c.get(f"/unit/instruments/{theirs}/usage")).status_code == 403
