"""Unit lifecycle (R27), voucher acceptance (R18), user classes (R4, R16, R26),
affiliations (R26) and the blacklist (R26, R27) over HTTP: each rule at its
edge, who may do what, and the events reaching the REGISTRY stream."""

from __future__ import annotations

from typing import Any

import msgspec
from sqlalchemy import select

from contracts.registry import (
    AffiliationRecorded,
    BlacklistAdded,
    UnitDisqualified,
    UnitVoucherAcceptanceGranted,
    UnitVoucherAcceptanceRevoked,
    UserClassesChanged,
)
from services.registry import affiliations
from services.runtime.roles import Role
from services.runtime.bus.connect import connect_nats
from tests.support.codes import credit_code
from tests.support.platform import Platform, running
from tests.support.polling import eventually
from tests.support.registry import SERVICE_INFO

EVIDENCE = {"full_time_staff": 1, "service_content": "材料成分分析", "service_norms": "按预约顺序服务", "fees_published": True, "no_bad_credit": True}


async def unit(p: Platform, name: str = "许昌学院", *, kind: str = "university", parent: str | None = None, approve: bool = True) -> dict[str, Any]:
    body: dict[str, Any] = {"name": name, "kind": kind, **SERVICE_INFO}
    if parent:
        body["parent_unit_id"] = parent
    else:
        body["credit_code"] = credit_code()
    r = await p.call("registry", "POST", "/v1/units/", role=Role.UNIT, json=body)
    assert r.status_code == 201, r.text
    if approve:
        r = await p.call("registry", "POST", f"/v1/units/{r.json()['unit_id']}/approve", role=Role.BUREAU, json={})
        assert r.status_code == 200, r.text
    return r.json()


async def user(p: Platform, name: str = "许昌某科技有限公司", **kw: Any) -> dict[str, Any]:
    body = {"name": name, "kind": "enterprise", "credit_code": credit_code("411081"), "classes": ["tech_sme"], **kw}
    r = await p.call("registry", "POST", "/v1/users/", role=Role.USER, json=body)
    assert r.status_code == 201, r.text
    return r.json()


async def audit_rows(p: Platform, object_id: str) -> list[dict[str, Any]]:
    audit = p["registry"].db.metadata.tables["audit_log"]
    async with p["registry"].db.read() as s:
        rows = (await s.execute(select(audit).where(audit.c.object_id == object_id).order_by(audit.c.id))).mappings().all()
    return [dict(r) for r in rows]


async def grant(p: Platform, unit_id: str, role: Role = Role.CENTER, **kw: Any) -> Any:
    return await p.call("registry", "POST", f"/v1/units/{unit_id}/voucher-acceptance", role=role, json={**EVIDENCE, **kw})


async def test_unit_lifecycle(make_settings) -> None:
    settings = await make_settings(["registry"])
    async with running(Platform(settings, ["registry"]), worker=False, relay=False) as p:
        u = (await unit(p))["unit_id"]
        applied = (await unit(p, "许昌某研究院", kind="institute", approve=False))["unit_id"]

        r = await p.call("registry", "POST", f"/v1/units/{u}/suspend", role=Role.CENTER, json={"reason": "x"})
        assert r.status_code == 403
        r = await p.call("registry", "POST", f"/v1/units/{u}/suspend", role=Role.UNIT, org=u, json={"reason": "x"})
        assert r.status_code == 403, "a unit does not suspend itself"
        r = await p.call("registry", "POST", f"/v1/units/{u}/suspend", role=Role.BUREAU, json={})
        assert r.status_code == 422 and r.json()["code"] == "decision.reason_required"
        r = await p.call("registry", "POST", f"/v1/units/{u}/reinstate", role=Role.BUREAU, json={})
        assert r.status_code == 409 and r.json()["code"] == "unit.illegal_transition"
        assert r.json()["details"]["current_status"] == "approved"
        r = await p.call("registry", "POST", f"/v1/units/{applied}/suspend", role=Role.BUREAU, json={"reason": "x"})
        assert r.status_code == 409 and r.json()["details"]["current_status"] == "applied"

        r = await p.call("registry", "POST", f"/v1/units/{u}/suspend", role=Role.BUREAU, json={"reason": "共享制度未落实"})
        assert r.status_code == 200 and r.json()["status"] == "suspended" and r.json()["version"] == 3
        # the public no longer sees it; the unit still does
        assert (await p.call("registry", "GET", f"/v1/units/{u}")).status_code == 404
        assert (await p.call("registry", "GET", f"/v1/units/{u}", role=Role.UNIT, org=u)).status_code == 200
        r = await p.call("registry", "POST", f"/v1/units/{u}/suspend", role=Role.BUREAU, json={"reason": "again"})
        assert r.status_code == 409 and r.json()["details"]["current_status"] == "suspended"
        r = await p.call("registry", "POST", f"/v1/units/{u}/reinstate", role=Role.BUREAU, json={})
        assert r.status_code == 200 and r.json()["status"] == "approved"
        r = await p.call("registry", "POST", f"/v1/units/{u}/suspend", role=Role.BUREAU, json={"reason": "再次整改"})
        assert r.status_code == 200

        r = await p.call("registry", "POST", f"/v1/units/{u}/disqualify", role=Role.BUREAU, json={"reason": "  "})
        assert r.status_code == 422 and r.json()["code"] == "decision.reason_required"
        r = await p.call("registry", "POST", f"/v1/units/{u}/disqualify", role=Role.BUREAU, json={"reason": "弄虚作假（细则第二十七条）"})
        assert r.status_code == 200 and r.json()["status"] == "disqualified"
        disqualified = r.json()
        for action in ("reinstate", "suspend", "disqualify"):
            r = await p.call("registry", "POST", f"/v1/units/{u}/{action}", role=Role.BUREAU, json={"reason": "x"})
            assert r.status_code == 409 and r.json()["code"] == "unit.illegal_transition", action
            assert "disqualified" in r.json()["message_en"]
        assert (await p.call("registry", "POST", "/v1/units/nope/suspend", role=Role.BUREAU, json={"reason": "x"})).status_code == 404

        rows = await audit_rows(p, u)
        assert [r["action"] for r in rows] == ["unit.apply", "unit.approve", "unit.suspend", "unit.reinstate", "unit.suspend", "unit.disqualify"]
        last = rows[-1]
        assert last["actor"] == "test-bureau" and last["reason"] == "弄虚作假（细则第二十七条）"
        assert last["before"]["status"] == "suspended" and last["after"]["status"] == "disqualified"
        assert last["after"] == disqualified  # the auditor reads the unit as the bureau was answered


async def test_voucher_acceptance_conditions(make_settings) -> None:
    settings = await make_settings(["registry"])
    async with running(Platform(settings, ["registry"]), worker=False, relay=False) as p:
        u = (await unit(p))["unit_id"]
        applied = (await unit(p, "许昌某研究院", kind="institute", approve=False))["unit_id"]

        r = await grant(p, u, role=Role.UNIT)
        assert r.status_code == 403, "a unit does not approve itself"
        r = await grant(p, applied)
        assert r.status_code == 422 and r.json()["code"] == "acceptance.unit_not_approved"
        for change, code in (
            ({"full_time_staff": 0}, "acceptance.no_staff"),
            ({"service_content": " "}, "acceptance.no_service_content"),
            ({"service_norms": ""}, "acceptance.no_service_norms"),
            ({"fees_published": False}, "acceptance.fees_not_published"),
            ({"no_bad_credit": False}, "acceptance.bad_credit"),
        ):
            r = await grant(p, u, **change)
            assert r.status_code == 422 and r.json()["code"] == code, (change, r.text)
            assert r.json()["details"]["codes"] == [code]
        r = await grant(p, applied, full_time_staff=0, fees_published=False, no_bad_credit=False)
        assert r.status_code == 422 and r.json()["code"] == "acceptance.refused"
        assert r.json()["details"]["codes"] == ["acceptance.unit_not_approved", "acceptance.no_staff", "acceptance.fees_not_published", "acceptance.bad_credit"]
        assert [f["code"] for f in r.json()["details"]["failures"]] == r.json()["details"]["codes"]
        r = await grant(p, u, full_time_staff=-1)
        assert r.status_code == 400
        r = await grant(p, u, granted=True)
        assert r.status_code == 400, "the decision is computed, never sent"
        assert (await p.call("registry", "GET", f"/v1/units/{u}")).json()["accepts_vouchers"] is False

        r = await grant(p, u, role=Role.BUREAU)
        assert r.status_code == 200 and r.json()["accepts_vouchers"] is True, r.text
        assert (await grant(p, u)).json()["code"] == "acceptance.already_granted"

        r = await p.call("registry", "DELETE", f"/v1/units/{u}/voucher-acceptance", role=Role.CENTER, json={"reason": ""})
        assert r.status_code == 422 and r.json()["code"] == "decision.reason_required"
        r = await p.call("registry", "DELETE", f"/v1/units/{u}/voucher-acceptance", role=Role.UNIT, org=u, json={"reason": "x"})
        assert r.status_code == 403
        r = await p.call("registry", "DELETE", f"/v1/units/{u}/voucher-acceptance", role=Role.CENTER, json={"reason": "服务规范未更新"})
        assert r.status_code == 200 and r.json()["accepts_vouchers"] is False
        r = await p.call("registry", "DELETE", f"/v1/units/{u}/voucher-acceptance", role=Role.CENTER, json={"reason": "x"})
        assert r.status_code == 409 and r.json()["code"] == "acceptance.not_granted"

        # granted again on new evidence (the row is updated), then lost on disqualification
        r = await grant(p, u, full_time_staff=5)
        assert r.status_code == 200 and r.json()["accepts_vouchers"] is True
        table = p["registry"].db.metadata.tables["voucher_acceptance"]
        async with p["registry"].db.read() as s:
            row = (await s.execute(select(table).where(table.c.unit_id == u))).mappings().one()
        assert row["full_time_staff"] == 5 and row["granted"] and row["decided_by"] == "test-center"
        r = await p.call("registry", "POST", f"/v1/units/{u}/disqualify", role=Role.BUREAU, json={"reason": "骗取补助"})
        assert r.status_code == 200 and r.json()["accepts_vouchers"] is False and r.json()["status"] == "disqualified"
        async with p["registry"].db.read() as s:
            row = (await s.execute(select(table).where(table.c.unit_id == u))).mappings().one()
        assert row["granted"] is False

        actions = [r["action"] for r in await audit_rows(p, u)]
        assert actions[2:] == [
            "unit.voucher_acceptance_grant",
            "unit.voucher_acceptance_revoke",
            "unit.voucher_acceptance_grant",
            "unit.voucher_acceptance_revoke",
            "unit.disqualify",
        ]


async def test_user_classes_and_list(make_settings) -> None:
    settings = await make_settings(["registry"])
    async with running(Platform(settings, ["registry"]), worker=False, relay=False) as p:
        a = await user(p)
        b = await user(p, "许昌另一科技有限公司")
        path = f"/v1/users/{a['user_id']}/classes"
        change = {"classes": ["high_tech", "tech_sme"], "special_classes": ["gazelle"], "reason": "新认定为高新技术企业"}
        assert (await p.call("registry", "PATCH", path, role=Role.BUREAU, json=change)).status_code == 403
        assert (await p.call("registry", "PATCH", path, role=Role.USER, org=a["user_id"], json=change)).status_code == 403
        r = await p.call("registry", "PATCH", path, role=Role.CENTER, json={**change, "reason": " "})
        assert r.status_code == 422 and r.json()["code"] == "decision.reason_required"
        r = await p.call("registry", "PATCH", path, role=Role.CENTER, json={"classes": ["startup_team"], "reason": "x"})
        assert r.status_code == 422 and r.json()["code"] == "user.enterprise_class"
        r = await p.call("registry", "PATCH", path, role=Role.CENTER, json={"reason": "x", "verified": True})
        assert r.status_code == 400
        r = await p.call("registry", "PATCH", path, role=Role.CENTER, json=change)
        assert r.status_code == 200, r.text
        assert r.json()["classes"] == ["high_tech", "tech_sme"] and r.json()["special_classes"] == ["gazelle"] and r.json()["version"] == 2
        assert r.json() == (await p.call("registry", "GET", path.removesuffix("/classes"), role=Role.CENTER)).json()  # the user as it is now
        r = await p.call("registry", "PATCH", path, role=Role.CENTER, json=change)
        assert r.status_code == 409 and r.json()["code"] == "user.unchanged"
        r = await p.call("registry", "PATCH", path, role=Role.CENTER, json={"sound_finances": False, "reason": "财务制度不健全"})
        assert r.status_code == 200 and r.json()["sound_finances"] is False and r.json()["classes"] == ["high_tech", "tech_sme"]
        changed = {k: v for k, v in r.json().items() if k != "same_party_units"}
        assert (await p.call("registry", "PATCH", "/v1/users/nope/classes", role=Role.CENTER, json=change)).status_code == 404
        rows = await audit_rows(p, a["user_id"])
        assert [r["action"] for r in rows] == ["user.register", "user.classes_change", "user.classes_change"]
        assert rows[2]["before"]["sound_finances"] is True and rows[2]["after"]["sound_finances"] is False
        assert rows[2]["after"] == changed  # the auditor reads the user as the center was answered
        assert rows[2]["reason"] == "财务制度不健全"

        answered = await p.call("registry", "POST", f"/v1/users/{b['user_id']}/verify", role=Role.CENTER, json={})
        # the answer is the user as a GET shows it now: verified (it used to say "pending")
        assert answered.status_code == 200 and answered.json()["status"] == "verified" and answered.json()["verified"] is True, answered.text
        assert answered.json() == (await p.call("registry", "GET", f"/v1/users/{b['user_id']}", role=Role.CENTER)).json()
        assert (await p.call("registry", "GET", "/v1/users/", role=Role.USER, org=a["user_id"])).status_code == 403
        everyone = (await p.call("registry", "GET", "/v1/users/", role=Role.BUREAU)).json()
        assert everyone["total"] == 2 and [u["user_id"] for u in everyone["items"]] == [a["user_id"], b["user_id"]]
        verified = (await p.call("registry", "GET", "/v1/users/?verified=true", role=Role.CENTER)).json()
        assert verified["total"] == 1 and verified["items"][0]["user_id"] == b["user_id"]
        page2 = (await p.call("registry", "GET", "/v1/users/?page=2&page_size=1", role=Role.CENTER)).json()
        assert page2["total"] == 2 and [u["user_id"] for u in page2["items"]] == [b["user_id"]]


async def test_affiliations(make_settings) -> None:
    settings = await make_settings(["registry"])
    async with running(Platform(settings, ["registry"]), worker=False, relay=False) as p:
        uni = (await unit(p))["unit_id"]
        college = (await unit(p, "许昌学院化学与材料工程学院", kind="college", parent=uni))["unit_id"]
        sibling = (await unit(p, "许昌学院电气与机械工程学院", kind="college", parent=uni))["unit_id"]
        other = (await unit(p, "许昌某研究院", kind="institute"))["unit_id"]
        a = (await user(p))["user_id"]
        b = (await user(p, "许昌另一科技有限公司"))["user_id"]

        tie = {"user_id": a, "unit_id": college, "kind": "co_construction", "note": "共建实验室"}
        assert (await p.call("registry", "POST", "/v1/affiliations/", role=Role.USER, org=b, json=tie)).status_code == 403
        assert (await p.call("registry", "POST", "/v1/affiliations/", role=Role.UNIT, org=other, json=tie)).status_code == 403
        assert (await p.call("registry", "POST", "/v1/affiliations/", role=Role.FINANCE, json=tie)).status_code == 403
        r = await p.call("registry", "POST", "/v1/affiliations/", role=Role.USER, org=a, json={**tie, "source": "recorded_by_reviewer"})
        assert r.status_code == 400, "the source is derived, never sent"
        r = await p.call("registry", "POST", "/v1/affiliations/", role=Role.USER, org=a, json=tie)
        assert r.status_code == 201 and r.json()["source"] == "declared_by_user", r.text
        declared = r.json()["affiliation_id"]
        r = await p.call("registry", "POST", "/v1/affiliations/", role=Role.UNIT, org=college, json=tie)
        assert r.status_code == 409 and r.json()["code"] == "affiliation.duplicate"
        r = await p.call("registry", "POST", "/v1/affiliations/", role=Role.UNIT, org=college, json={**tie, "kind": "property_right"})
        assert r.status_code == 201 and r.json()["source"] == "declared_by_unit"
        r = await p.call("registry", "POST", "/v1/affiliations/", role=Role.CENTER, json={"user_id": b, "unit_id": other, "kind": "subordination"})
        assert r.status_code == 201 and r.json()["source"] == "recorded_by_reviewer" and r.json()["recorded_by"] == "test-center"
        r = await p.call("registry", "POST", "/v1/affiliations/", role=Role.BUREAU, json={"user_id": "nope", "unit_id": other, "kind": "subordination"})
        assert r.status_code == 404 and r.json()["code"] == "user.not_found"

        db = p["registry"].db
        assert await affiliations.is_affiliated(db, a, college)
        assert await affiliations.is_affiliated(db, a, uni), "a tie to a college covers its university"
        assert not await affiliations.is_affiliated(db, a, sibling)
        assert not await affiliations.is_affiliated(db, a, other)
        assert await affiliations.is_affiliated(db, b, other) and not await affiliations.is_affiliated(db, b, uni)

        # who sees what
        r = await p.call("registry", "GET", "/v1/affiliations/", role=Role.USER, org=a)
        assert r.status_code == 200 and r.json()["total"] == 2 and {i["user_id"] for i in r.json()["items"]} == {a}
        assert (await p.call("registry", "GET", f"/v1/affiliations/?user_id={b}", role=Role.USER, org=a)).status_code == 403
        assert (await p.call("registry", "GET", f"/v1/affiliations/?unit_id={college}", role=Role.UNIT, org=other)).status_code == 403
        r = await p.call("registry", "GET", "/v1/affiliations/", role=Role.UNIT, org=other)
        assert r.json()["total"] == 1 and r.json()["items"][0]["user_id"] == b
        assert (await p.call("registry", "GET", f"/v1/affiliations/?unit_id={college}", role=Role.CENTER)).json()["total"] == 2
        # a department sees only the units under it (tests/integration/registry/test_department_scope.py)
        assert (await p.call("registry", "GET", f"/v1/affiliations/?unit_id={college}", role=Role.DEPARTMENT, org="另一个部门")).status_code == 403
        assert (await p.call("registry", "GET", "/v1/affiliations/")).status_code == 401

        # removal: reviewers only, with a reason, once
        path = f"/v1/affiliations/{declared}"
        assert (await p.call("registry", "DELETE", path, role=Role.USER, org=a, json={"reason": "x"})).status_code == 403
        r = await p.call("registry", "DELETE", path, role=Role.CENTER, json={"reason": ""})
        assert r.status_code == 422 and r.json()["code"] == "decision.reason_required"
        r = await p.call("registry", "DELETE", path, role=Role.CENTER, json={"reason": "共建协议已终止"})
        assert r.status_code == 200 and r.json()["removed_by"] == "test-center" and r.json()["removed_at"] and r.json()["removal_reason"] == "共建协议已终止"
        r = await p.call("registry", "DELETE", path, role=Role.BUREAU, json={"reason": "again"})
        assert r.status_code == 409 and r.json()["code"] == "affiliation.already_removed"
        assert (await p.call("registry", "DELETE", "/v1/affiliations/nope", role=Role.BUREAU, json={"reason": "x"})).status_code == 404
        assert (await p.call("registry", "GET", "/v1/affiliations/", role=Role.USER, org=a)).json()["total"] == 1
        assert (await p.call("registry", "GET", "/v1/affiliations/?include_removed=true", role=Role.USER, org=a)).json()["total"] == 2
        # the same tie may be declared again once the old one is removed
        assert (await p.call("registry", "POST", "/v1/affiliations/", role=Role.USER, org=a, json=tie)).status_code == 201
        rows = await audit_rows(p, declared)
        assert [r["action"] for r in rows] == ["affiliation.record", "affiliation.remove"]
        assert rows[1]["reason"] == "共建协议已终止" and rows[1]["before"]["removed_at"] is None


async def test_blacklist(make_settings) -> None:
    settings = await make_settings(["registry"])
    async with running(Platform(settings, ["registry"]), worker=False, relay=False) as p:
        u = await unit(p)
        assert (await grant(p, u["unit_id"])).status_code == 200
        a = await user(p)

        body = {"party_type": "unit", "party_id": u["unit_id"], "reason": "虚报服务记录骗取补助"}
        assert (await p.call("registry", "POST", "/v1/blacklist/", role=Role.CENTER, json=body)).status_code == 403
        r = await p.call("registry", "POST", "/v1/blacklist/", role=Role.BUREAU, json={**body, "reason": " "})
        assert r.status_code == 422 and r.json()["code"] == "decision.reason_required"
        r = await p.call("registry", "POST", "/v1/blacklist/", role=Role.BUREAU, json={**body, "party_id": "nope"})
        assert r.status_code == 404 and r.json()["code"] == "unit.not_found"
        r = await p.call("registry", "POST", "/v1/blacklist/", role=Role.BUREAU, json={**body, "party_name": "forged"})
        assert r.status_code == 400
        r = await p.call("registry", "POST", "/v1/blacklist/", role=Role.BUREAU, json=body)
        assert r.status_code == 201, r.text
        entry = r.json()
        assert entry["party_name"] == "许昌学院" and entry["credit_code"] == u["credit_code"] and entry["added_by"] == "test-bureau"
        r = await p.call("registry", "POST", "/v1/blacklist/", role=Role.BUREAU, json=body)
        assert r.status_code == 409 and r.json()["code"] == "blacklist.duplicate"

        # the unit lost its voucher acceptance and cannot get it back while listed
        assert (await p.call("registry", "GET", f"/v1/units/{u['unit_id']}")).json()["accepts_vouchers"] is False
        r = await grant(p, u["unit_id"])
        assert r.status_code == 422 and r.json()["code"] == "acceptance.blacklisted"

        r = await p.call("registry", "POST", "/v1/blacklist/", role=Role.BUREAU, json={"party_type": "user", "party_id": a["user_id"], "reason": "伪造合同"})
        assert r.status_code == 201 and r.json()["credit_code"] == a["credit_code"]
        user_entry = r.json()["entry_id"]

        public = await p.call("registry", "GET", "/v1/blacklist/")
        assert public.status_code == 200 and public.json()["total"] == 2
        for item in public.json()["items"]:
            assert set(item) == {"entry_id", "party_type", "party_name", "credit_code", "reason", "added_on"}
        assert a["user_id"] not in public.text and u["unit_id"] not in public.text and "test-bureau" not in public.text

        path = f"/v1/blacklist/{user_entry}"
        assert (await p.call("registry", "DELETE", path, role=Role.CENTER, json={"reason": "x"})).status_code == 403
        r = await p.call("registry", "DELETE", path, role=Role.BUREAU, json={})
        assert r.status_code == 400, "a reason is required"
        r = await p.call("registry", "DELETE", path, role=Role.BUREAU, json={"reason": ""})
        assert r.status_code == 422 and r.json()["code"] == "decision.reason_required"
        r = await p.call("registry", "DELETE", path, role=Role.BUREAU, json={"reason": "信用修复"})
        assert r.status_code == 200 and r.json()["removed_at"] and r.json()["removal_reason"] == "信用修复"
        r = await p.call("registry", "DELETE", path, role=Role.BUREAU, json={"reason": "信用修复"})
        assert r.status_code == 409 and r.json()["code"] == "blacklist.already_removed"
        assert (await p.call("registry", "DELETE", "/v1/blacklist/nope", role=Role.BUREAU, json={"reason": "x"})).status_code == 404

        public = (await p.call("registry", "GET", "/v1/blacklist/")).json()
        assert public["total"] == 1 and [i["entry_id"] for i in public["items"]] == [entry["entry_id"]]
        assert (await p.call("registry", "GET", "/v1/blacklist/?page=2&page_size=1")).json()["items"] == []
        # a removed entry can be added again
        r = await p.call("registry", "POST", "/v1/blacklist/", role=Role.BUREAU, json={"party_type": "user", "party_id": a["user_id"], "reason": "再次违规"})
        assert r.status_code == 201

        actions = [r["action"] for r in await audit_rows(p, u["unit_id"])]
        assert actions[-1] == "unit.voucher_acceptance_revoke"
        assert [r["action"] for r in await audit_rows(p, user_entry)] == ["blacklist.add", "blacklist.remove"]


async def test_supervision_events_reach_the_registry_stream(make_settings) -> None:
    settings = await make_settings(["registry"])
    async with running(Platform(settings, ["registry"])) as p:
        u = (await unit(p))["unit_id"]  # applied, approved
        a = (await user(p))["user_id"]  # registered
        assert (await grant(p, u)).status_code == 200  # granted
        r = await p.call("registry", "PATCH", f"/v1/users/{a}/classes", role=Role.CENTER, json={"special_classes": ["innovation_leader"], "reason": "认定为创新龙头企业"})
        assert r.status_code == 200  # classes_changed
        r = await p.call("registry", "POST", "/v1/affiliations/", role=Role.BUREAU, json={"user_id": a, "unit_id": u, "kind": "subordination"})
        assert r.status_code == 201  # recorded
        r = await p.call("registry", "POST", "/v1/blacklist/", role=Role.BUREAU, json={"party_type": "unit", "party_id": u, "reason": "弄虚作假"})
        assert r.status_code == 201  # blacklist added, acceptance revoked
        r = await p.call("registry", "POST", f"/v1/units/{u}/disqualify", role=Role.BUREAU, json={"reason": "弄虚作假"})
        assert r.status_code == 200  # disqualified

        assert settings.nats_url
        nc = await connect_nats(settings.bus("operator"), "test-supervision-events")
        try:
            js = nc.jetstream()

            async def nine() -> bool:
                return (await js.stream_info("REGISTRY")).state.messages == 9

            await eventually(nine)

            async def last(cls: Any) -> Any:
                return msgspec.json.decode((await js.get_last_msg("REGISTRY", cls.subject)).data, type=cls)

            granted = await last(UnitVoucherAcceptanceGranted)
            assert granted.unit_id == u and granted.accepts_vouchers and granted.version == 3
            revoked = await last(UnitVoucherAcceptanceRevoked)
            assert revoked.unit_id == u and not revoked.accepts_vouchers and revoked.version == 4 and "弄虚作假" in revoked.reason
            disq = await last(UnitDisqualified)
            assert disq.status == "disqualified" and disq.version == 5 and disq.reason == "弄虚作假"
            changed = await last(UserClassesChanged)
            assert changed.user_id == a and changed.special_classes == ["innovation_leader"] and changed.version == 2
            tie = await last(AffiliationRecorded)
            assert tie.user_id == a and tie.unit_id == u and tie.source == "recorded_by_reviewer"
            added = await last(BlacklistAdded)
            assert added.party_id == u and added.party_name == "许昌学院" and added.reason == "弄虚作假"
            assert granted.correlation_id and added.correlation_id
        finally:
            await nc.close()
