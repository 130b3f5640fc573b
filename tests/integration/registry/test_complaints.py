"""M11(6) 接受社会监督: the public (anonymously, with a contact) or a signed-in
user complains about a unit or an order; the center handles it within the
year's number of working days (make-up working days count, holidays do not),
records the outcome with a reason (audited), and sees the overdue ones; an
upheld complaint is published for evaluation. Who reads a complaint: center and
bureau, the unit concerned without the complainant's contact, the signed-in
complainant; nobody else."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import msgspec
import pytest

from contracts.registry import ComplaintUpheld
from services.registry.domain.complaints import MAX_CONTACT_CHARS, MAX_REASON_CHARS, MAX_TEXT_CHARS
from services.runtime import clock
from services.runtime.roles import Role
from services.runtime.bus.connect import connect_nats
from tests.support.platform import Platform, running
from tests.support.polling import eventually
from tests.support.registry import approved_unit, verified_user, world
from tests.support.responses import ok

SERVICES = ["registry"]
#: Friday 27 September 2024, 10:00 in Xuchang: Sunday the 29th is a make-up working day, 1–7 October are holidays
FILED = datetime(2024, 9, 27, 2, 0, tzinfo=UTC)


pytestmark = pytest.mark.usefixtures("on_the_listing_deadline")


def at(monkeypatch: pytest.MonkeyPatch, when: datetime) -> None:
    monkeypatch.setattr(clock, "utc_now", lambda: when)


async def test_the_public_complains_and_the_center_handles_it_within_the_years_working_days(make_settings, monkeypatch: pytest.MonkeyPatch) -> None:
    settings = await make_settings(SERVICES)
    async with running(Platform(settings, SERVICES)) as p:
        unit = await approved_unit(p)
        other_unit = await approved_unit(p, name="许昌另一单位")
        # the bureau sets 2024's deadline; a year it has not set uses the default
        assert (await ok(await p.call("registry", "GET", "/v1/complaints/policies/2025")))["handling_workdays"] == 15
        r = await p.call("registry", "PUT", "/v1/complaints/policies/2024", role=Role.BUREAU, json={"handling_workdays": 0})
        assert r.status_code == 422 and (r.json()["code"], r.json()["details"]["field"]) == ("complaint.invalid_deadline", "handling_workdays")
        assert (await p.call("registry", "PUT", "/v1/complaints/policies/2024", role=Role.CENTER, json={"handling_workdays": 5})).status_code == 403
        await ok(await p.call("registry", "PUT", "/v1/complaints/policies/2024", role=Role.BUREAU, json={"handling_workdays": 5, "reason": "市局年度安排"}))
        assert (await ok(await p.call("registry", "GET", "/v1/complaints/policies/2024")))["default"] is False

        at(monkeypatch, FILED)
        # anonymous, with a contact; the text and the subject are required, at their fields
        r = await p.call("registry", "POST", "/v1/complaints/", json={"category": "fees", "text": " ", "unit_id": unit})
        assert r.status_code == 422 and (r.json()["code"], r.json()["details"]["field"]) == ("complaint.field_required", "text"), r.text
        r = await p.call("registry", "POST", "/v1/complaints/", json={"category": "fees", "text": "收费高于公布标准"})
        assert r.status_code == 422 and (r.json()["code"], r.json()["details"]["field"]) == ("complaint.subject_required", "unit_id"), r.text
        # too long: 422 at the field with the limit in details (the request schema leaves lengths to this rule)
        r = await p.call("registry", "POST", "/v1/complaints/", json={"category": "fees", "text": "字" * (MAX_TEXT_CHARS + 1), "unit_id": unit})
        assert r.status_code == 422 and (r.json()["code"], r.json()["details"]) == ("complaint.field_too_long", {"field": "text", "limit": MAX_TEXT_CHARS}), r.text
        assert str(MAX_TEXT_CHARS) in r.json()["message_zh"]
        r = await p.call("registry", "POST", "/v1/complaints/", json={"category": "fees", "text": "收费高", "contact": "电" * (MAX_CONTACT_CHARS + 1), "unit_id": unit})
        assert r.status_code == 422 and r.json()["details"] == {"field": "contact", "limit": MAX_CONTACT_CHARS}, r.text
        r = await p.call("registry", "POST", "/v1/complaints/", json={"category": "fees", "text": "收费高于公布标准", "unit_id": "no-such-unit"})
        assert r.status_code == 422 and r.json()["code"] == "complaint.unknown_unit", r.text
        body = {"category": "fees", "text": "检测收费高于平台公布的收费标准", "unit_id": unit, "contact": "张先生 13800000000"}
        filed = await ok(await p.call("registry", "POST", "/v1/complaints/", json=body), 201)
        cid = filed["complaint_id"]
        # 5 working days after Friday 27 September 2024: Sun 29 Sep, Mon 30 Sep, (1–7 Oct off), 8, 9, 10 Oct
        assert (filed["status"], filed["due_on"], filed["year"], filed["handling_workdays"], filed["overdue"]) == ("open", "2024-10-10", 2024, 5, False)

        # who reads it
        staff = await ok(await p.call("registry", "GET", f"/v1/complaints/{cid}", role=Role.CENTER))
        assert staff["contact"] == "张先生 13800000000" and staff["text"] == body["text"]
        assert (await ok(await p.call("registry", "GET", f"/v1/complaints/{cid}", role=Role.BUREAU)))["contact"] == "张先生 13800000000"
        seen = await ok(await p.call("registry", "GET", f"/v1/complaints/{cid}", role=Role.UNIT, org=unit))
        assert seen["text"] == body["text"] and seen["contact"] is None and seen["complainant_user_id"] is None
        assert (await p.call("registry", "GET", f"/v1/complaints/{cid}", role=Role.UNIT, org=other_unit)).status_code == 404
        stranger = await verified_user(p, "许昌无关企业")
        assert (await p.call("registry", "GET", f"/v1/complaints/{cid}", role=Role.USER, org=stranger)).status_code == 404
        assert (await p.call("registry", "GET", f"/v1/complaints/{cid}")).status_code == 401
        assert (await p.call("registry", "GET", f"/v1/complaints/{cid}", role=Role.FINANCE)).status_code == 403
        assert (await ok(await p.call("registry", "GET", "/v1/complaints/", role=Role.UNIT, org=other_unit)))["total"] == 0
        assert (await ok(await p.call("registry", "GET", "/v1/complaints/", role=Role.USER, org=stranger)))["total"] == 0

        # on its last day it is not overdue; the next day the center sees it among the overdue
        at(monkeypatch, datetime(2024, 10, 10, 15, 59, 59, tzinfo=UTC))  # 23:59:59 on 10 October in Xuchang
        assert (await ok(await p.call("registry", "GET", "/v1/complaints/", role=Role.CENTER, params={"overdue": True})))["total"] == 0
        at(monkeypatch, datetime(2024, 10, 10, 16, 0, tzinfo=UTC))  # 00:00 on 11 October
        late = await ok(await p.call("registry", "GET", "/v1/complaints/", role=Role.CENTER, params={"overdue": True}))
        assert late["total"] == 1 and late["items"][0]["complaint_id"] == cid and late["items"][0]["overdue"] is True
        assert late["items"][0]["contact"] == "张先生 13800000000"
        assert (await ok(await p.call("registry", "GET", "/v1/complaints/", role=Role.UNIT, org=unit)))["items"][0]["contact"] is None

        # the outcome needs a reason; only the center decides, once
        r = await p.call("registry", "POST", f"/v1/complaints/{cid}/decision", role=Role.CENTER, json={"outcome": "upheld"})
        assert r.status_code == 422 and (r.json()["code"], r.json()["details"]["field"]) == ("complaint.field_required", "reason"), r.text
        r = await p.call("registry", "POST", f"/v1/complaints/{cid}/decision", role=Role.CENTER, json={"outcome": "upheld", "reason": "理" * (MAX_REASON_CHARS + 1)})
        assert r.status_code == 422 and r.json()["details"] == {"field": "reason", "limit": MAX_REASON_CHARS}, r.text
        assert (await p.call("registry", "POST", f"/v1/complaints/{cid}/decision", role=Role.UNIT, org=unit, json={"outcome": "dismissed", "reason": "x"})).status_code == 403
        decided = await ok(await p.call("registry", "POST", f"/v1/complaints/{cid}/decision", role=Role.CENTER, json={"outcome": "upheld", "reason": "经核实，收费高于公布标准"}))
        assert (decided["status"], decided["overdue"], decided["outcome_reason"]) == ("upheld", False, "经核实，收费高于公布标准")
        r = await p.call("registry", "POST", f"/v1/complaints/{cid}/decision", role=Role.CENTER, json={"outcome": "dismissed", "reason": "改判"})
        assert r.status_code == 409 and r.json()["code"] == "complaint.already_decided"
        assert (await ok(await p.call("registry", "GET", "/v1/complaints/", role=Role.CENTER, params={"overdue": True})))["total"] == 0
        assert (await ok(await p.call("registry", "GET", f"/v1/complaints/{cid}", role=Role.UNIT, org=unit)))["outcome_reason"] == "经核实，收费高于公布标准"

        # audited, and published for evaluation (no complainant data)
        trail = await ok(await p.call("registry", "GET", "/v1/audit/", role=Role.AUDITOR, params={"object_id": cid}))
        assert [e["action"] for e in trail["items"]] == ["complaint.decide", "complaint.file"]
        assert trail["items"][0]["reason"] == "经核实，收费高于公布标准" and trail["items"][0]["after"]["late"] is True
        nc = await connect_nats(settings.bus("operator"), "test-complaint-events")
        try:
            js = nc.jetstream()

            async def published() -> Any:
                try:
                    return await js.get_last_msg("REGISTRY", ComplaintUpheld.subject)
                except Exception:
                    return None

            e = msgspec.json.decode((await eventually(published)).data, type=ComplaintUpheld)
            assert (e.complaint_id, e.case_no, e.unit_id, e.year, e.category, e.order_id) == (cid, "TS-2024-000001", unit, 2024, "fees", None)
            assert b"13800000000" not in (await eventually(published)).data
        finally:
            await nc.close()


async def test_a_user_complains_about_its_own_order_and_follows_it(make_settings, monkeypatch: pytest.MonkeyPatch) -> None:
    settings = await make_settings(SERVICES)
    async with running(Platform(settings, SERVICES)) as p:
        w = await world(p)
        oid = await w.order()
        at(monkeypatch, FILED)
        other = await verified_user(p, "许昌其他企业")
        # another user's order does not exist for it (R23)
        r = await p.call("registry", "POST", "/v1/complaints/", role=Role.USER, org=other, json={"category": "service_quality", "text": "拖延", "order_id": oid})
        assert r.status_code == 404 and r.json()["code"] == "order.not_found", r.text
        r = await p.call("registry", "POST", "/v1/complaints/", json={"category": "service_quality", "text": "拖延", "order_id": oid})
        assert r.status_code == 404, r.text
        # its own user names the order; the unit comes from it; the default 15 working days apply
        # (Saturday 12 October 2024 was a make-up working day: the 15th is Wednesday the 23rd)
        mine = await ok(await w.as_user("POST", "/v1/complaints/", json={"category": "service_quality", "text": "结果交付拖延", "order_id": oid, "contact": "李女士"}), 201)
        assert (mine["unit_id"], mine["order_id"], mine["complainant_user_id"], mine["handling_workdays"], mine["due_on"]) == (w.unit, oid, w.user, 15, "2024-10-23")
        cid = mine["complaint_id"]
        assert (await ok(await w.as_user("GET", "/v1/complaints/")))["total"] == 1
        assert (await ok(await w.as_user("GET", f"/v1/complaints/{cid}")))["contact"] == "李女士"
        assert (await p.call("registry", "GET", f"/v1/complaints/{cid}", role=Role.USER, org=other)).status_code == 404
        unit_view = await ok(await w.as_unit("GET", f"/v1/complaints/{cid}"))
        assert unit_view["order_id"] == oid and unit_view["contact"] is None and unit_view["complainant_user_id"] is None
        # dismissed: the complainant sees the outcome
        await ok(await p.call("registry", "POST", f"/v1/complaints/{cid}/decision", role=Role.CENTER, json={"outcome": "dismissed", "reason": "已按合同约定期限交付"}))
        done = await ok(await w.as_user("GET", f"/v1/complaints/{cid}"))
        assert (done["status"], done["outcome_reason"]) == ("dismissed", "已按合同约定期限交付")
