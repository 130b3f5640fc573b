"""Two officers editing one record (issue 17, web clients): a read gives the
record's version as its ``ETag``; an edit sent with ``If-Match`` applies only to
that version, so the second of two edits made from the same read gets 412
``request.precondition_failed`` instead of silently overwriting the first."""

from __future__ import annotations

import asyncio
from typing import Any

from services.runtime.roles import Role
from tests.support.instruments import register
from tests.support.platform import Platform, running
from tests.support.preconditions import first_save_guarded, malformed_refused, stale
from tests.support.prices import add as add_item
from tests.support.registry import approved_unit, contract, verified_user, world


async def test_the_second_of_two_edits_of_one_read_instrument_is_refused(make_settings) -> None:
    settings = await make_settings(["registry"])
    async with running(Platform(settings, ["registry"]), worker=False, relay=False) as p:
        unit = await approved_unit(p)
        path = f"/v1/instruments/{(await register(p, unit))['instrument_id']}"
        read = await p.call("registry", "GET", path, role=Role.CENTER)
        assert read.status_code == 200 and read.headers["etag"] == '"v1"'
        # the unit saves first: its answer carries the new version
        first = await p.call("registry", "PATCH", path, role=Role.UNIT, org=unit, json={"location": "实验楼A101"}, headers={"If-Match": read.headers["etag"]})
        assert first.status_code == 200, first.text
        assert first.headers["etag"] == '"v2"' and first.json()["location"] == "实验楼A101"
        # the center, still on what it read, is refused and told the current version
        second = await p.call("registry", "PATCH", path, role=Role.CENTER, json={"location": "实验楼B202"}, headers={"If-Match": read.headers["etag"]})
        assert second.status_code == 412, second.text
        problem = second.json()
        assert problem["code"] == "request.precondition_failed" and problem["details"]["etag"] == '"v2"'
        assert "已被他人修改" in problem["message_zh"]
        assert (await p.call("registry", "GET", path, role=Role.CENTER)).json()["location"] == "实验楼A101"
        # a stale read is refused even when its edit would change nothing (the first unit's value);
        # and the header wins over the body's legacy version (409 instrument.version_mismatch)
        same = await p.call("registry", "PATCH", path, role=Role.CENTER, json={"location": "实验楼A101"}, headers={"If-Match": read.headers["etag"]})
        assert same.status_code == 412 and same.json()["details"]["etag"] == '"v2"', same.text
        legacy = await p.call("registry", "PATCH", path, role=Role.CENTER, json={"location": "实验楼B202", "version": 1})
        assert legacy.status_code == 409 and legacy.json()["code"] == "instrument.version_mismatch", legacy.text
        # after reloading, its edit goes through
        again = await p.call("registry", "PATCH", path, role=Role.CENTER, json={"location": "实验楼B202"}, headers={"If-Match": second.json()["details"]["etag"]})
        assert again.status_code == 200 and again.headers["etag"] == '"v3"'
        # no header or *: the current version, as before; a malformed tag is refused
        assert (await p.call("registry", "PATCH", path, role=Role.CENTER, json={"location": "实验楼C303"})).status_code == 200
        assert (await p.call("registry", "PATCH", path, role=Role.CENTER, json={"location": "实验楼D404"}, headers={"If-Match": "*"})).status_code == 200
        for bad in ("v5", 'W/"v5"', '"5"', '"v0"', '"v5", "v6"'):
            r = await p.call("registry", "PATCH", path, role=Role.CENTER, json={"location": "x"}, headers={"If-Match": bad})
            assert r.status_code == 400 and r.json()["code"] == "request.if_match_invalid", (bad, r.text)
        assert (await p.call("registry", "GET", path, role=Role.CENTER)).json()["location"] == "实验楼D404"


async def test_a_price_item_edit_from_a_stale_read_is_refused(make_settings) -> None:
    settings = await make_settings(["registry"])
    async with running(Platform(settings, ["registry"]), worker=False, relay=False) as p:
        unit = await approved_unit(p)
        iid = (await register(p, unit))["instrument_id"]
        item = await add_item(p, unit, iid)
        path = f"/v1/price-items/{item['price_item_id']}"
        read = f'"v{item["version"]}"'
        first = await p.call("registry", "PATCH", path, role=Role.UNIT, org=unit, json={"name": "常规检测（含报告）"}, headers={"If-Match": read})
        assert first.status_code == 200, first.text
        assert first.headers["etag"] == f'"v{item["version"] + 1}"'
        second = await p.call("registry", "PATCH", path, role=Role.UNIT, org=unit, json={"price_fen": 1, "reason": "调价"}, headers={"If-Match": read})
        assert second.status_code == 412 and second.json()["code"] == "request.precondition_failed", second.text
        prices = (await p.call("registry", "GET", f"/v1/instruments/{iid}/prices", role=Role.UNIT, org=unit)).json()
        assert [i["price_fen"] for i in prices["items"] if i["price_item_id"] == item["price_item_id"]] == [item["price_fen"]]


async def test_a_unit_s_service_information_and_a_user_s_classes_take_if_match(make_settings) -> None:
    settings = await make_settings(["registry"])
    async with running(Platform(settings, ["registry"]), worker=False, relay=False) as p:
        unit = await approved_unit(p)
        read = await p.call("registry", "GET", f"/v1/units/{unit}", role=Role.CENTER)
        tag = read.headers["etag"]
        assert tag == f'"v{read.json()["version"]}"'
        path = f"/v1/units/{unit}/service-info"
        first = await p.call("registry", "PUT", path, role=Role.UNIT, org=unit, json={"contact_person": "张老师"}, headers={"If-Match": tag})
        assert first.status_code == 200 and first.headers["etag"] != tag, first.text
        second = await p.call("registry", "PUT", path, role=Role.CENTER, json={"contact_person": "李老师"}, headers={"If-Match": tag})
        assert second.status_code == 412 and second.json()["details"]["etag"] == first.headers["etag"], second.text
        assert (await p.call("registry", "GET", f"/v1/units/{unit}", role=Role.CENTER)).json()["contact_person"] == "张老师"

        user = await verified_user(p)
        read = await p.call("registry", "GET", f"/v1/users/{user}", role=Role.CENTER)
        tag = read.headers["etag"]
        path = f"/v1/users/{user}/classes"
        first = await p.call("registry", "PATCH", path, role=Role.CENTER, json={"classes": ["high_tech"], "reason": "认定为高新技术企业"}, headers={"If-Match": tag})
        assert first.status_code == 200 and first.headers["etag"] != tag, first.text
        second = await p.call("registry", "PATCH", path, role=Role.CENTER, json={"classes": ["tech_sme"], "reason": "复核"}, headers={"If-Match": tag})
        assert second.status_code == 412 and second.json()["code"] == "request.precondition_failed", second.text
        assert (await p.call("registry", "GET", f"/v1/users/{user}", role=Role.CENTER)).json()["classes"] == ["high_tech"]


async def test_a_contract_changed_after_the_signer_read_it_is_not_signed(make_settings) -> None:
    settings = await make_settings(["registry"])
    async with running(Platform(settings, ["registry"]), worker=False, relay=False) as p:
        w = await world(p)
        oid = await w.with_contract()
        seen = await w.as_user("GET", f"/v1/orders/{oid}")
        assert seen.headers["etag"] == f'"v{seen.json()["version"]}"'
        # the unit changes the damage clause while the user reads the contract
        now = seen.json()["contract"]
        r = await w.as_unit("PUT", f"/v1/orders/{oid}/contract", json=contract(now["contract_document_id"], now["rd_proof_document_id"], damage_compensation="损坏仪器的，按原值全额赔偿"), headers={"If-Match": seen.headers["etag"]})
        assert r.status_code == 200, r.text
        # the user's signature of what it read is refused; nothing is signed
        r = await w.as_user("POST", f"/v1/orders/{oid}/sign", headers={"If-Match": seen.headers["etag"]})
        assert r.status_code == 412 and r.json()["code"] == "request.precondition_failed", r.text
        reread = await w.as_user("GET", f"/v1/orders/{oid}")
        assert reread.json()["contract"]["user_signed_at"] is None
        assert reread.json()["contract"]["damage_compensation"] == "损坏仪器的，按原值全额赔偿"
        # having read the new terms, it signs them
        r = await w.as_user("POST", f"/v1/orders/{oid}/sign", headers={"If-Match": reread.headers["etag"]})
        assert r.status_code == 200 and r.json()["contract"]["user_signed_at"] is not None, r.text
        # a stale contract edit is refused the same way
        r = await w.as_unit("PUT", f"/v1/orders/{oid}/contract", json=contract(now["contract_document_id"], now["rd_proof_document_id"]), headers={"If-Match": seen.headers["etag"]})
        assert r.status_code == 412, r.text


async def test_a_complaint_policy_change_from_a_stale_read_is_refused(make_settings) -> None:
    settings = await make_settings(["registry"])
    path = "/v1/complaints/policies/2027"
    async with running(Platform(settings, ["registry"]), worker=False, relay=False) as p:

        async def put(days: int, tag: str | None = None) -> Any:
            return await p.call("registry", "PUT", path, role=Role.BUREAU, json={"handling_workdays": days, "reason": "年度安排"}, headers={"If-Match": tag} if tag is not None else {})

        # the policy file's default is no stored value: no ETag, and If-Match (a tag or *) matches nothing
        default = await p.call("registry", "GET", path)
        assert default.status_code == 200 and default.json()["default"] is True and "etag" not in default.headers, default.headers
        stale(await put(20, '"v1"'), None)
        stale(await put(20, "*"), None)
        assert (await p.call("registry", "GET", path)).json()["default"] is True
        created = await put(20)
        assert created.status_code == 200 and created.headers["etag"] == '"v1"' and created.json()["version"] == 1, created.text
        read = await p.call("registry", "GET", path)
        assert read.headers["etag"] == '"v1"' and read.json()["handling_workdays"] == 20
        # two officers change it from the same read: the second is told the current tag
        first = await put(12, read.headers["etag"])
        assert first.status_code == 200 and first.headers["etag"] == '"v2"', first.text
        stale(await put(30, read.headers["etag"]), '"v2"')
        assert (await p.call("registry", "GET", path)).json()["handling_workdays"] == 12
        again = await put(30, '"v2"')
        assert again.status_code == 200 and again.headers["etag"] == '"v3"', again.text
        assert (await put(31)).headers["etag"] == '"v4"'
        assert (await put(32, "*")).headers["etag"] == '"v5"'
        await malformed_refused(lambda bad: put(10, bad))
        # changes sent at once from one read: exactly one applies
        answers = await asyncio.gather(*(put(40 + n, '"v5"') for n in range(4)))
        won = [r for r in answers if r.status_code == 200]
        assert len(won) == 1 and won[0].headers["etag"] == '"v6"', [r.text for r in answers]
        for r in answers:
            if r is not won[0]:
                stale(r, '"v6"')
        now = (await p.call("registry", "GET", path)).json()
        assert (now["handling_workdays"], now["version"]) == (won[0].json()["handling_workdays"], 6)


async def test_a_first_complaint_policy_from_two_forms_opened_on_the_default_keeps_the_first(make_settings) -> None:
    settings = await make_settings(["registry"])
    path = "/v1/complaints/policies/2028"
    async with running(Platform(settings, ["registry"]), worker=False, relay=False) as p:

        async def send(n: int, headers: dict[str, str]) -> Any:
            return await p.call("registry", "PUT", path, role=Role.BUREAU, json={"handling_workdays": 10 * n, "reason": "年度安排"}, headers=headers)

        await first_save_guarded(send, lambda: p.call("registry", "GET", path), lambda b: b["handling_workdays"])
