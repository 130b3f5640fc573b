"""R18 明确服务内容、收费标准和联系方式: a unit publishes its service content,
contact person, phone and address (an instrument its service content); the
public sees them; the center lets no unit accept vouchers without them."""

from __future__ import annotations

from services.runtime.roles import Role
from tests.support.codes import credit_code
from tests.support.platform import Platform, running
from tests.support.registry import SERVICE_INFO, approved_unit

SERVICES = ["registry"]
EVIDENCE = {"full_time_staff": 2, "service_content": "成分分析", "service_norms": "按国家标准操作", "fees_published": True, "no_bad_credit": True}


async def test_a_unit_publishes_its_service_and_contact_before_it_accepts_vouchers(make_settings) -> None:
    settings = await make_settings(SERVICES)
    async with running(Platform(settings, SERVICES)) as p:
        # a wrong phone is refused at its field, and nothing is written
        body = {"name": "许昌某研究院", "kind": "institute", "credit_code": credit_code(), **SERVICE_INFO, "contact_phone": "2968888"}
        r = await p.call("registry", "POST", "/v1/units/", role=Role.UNIT, json=body)
        assert r.status_code == 422 and (r.json()["code"], r.json()["details"]["field"]) == ("registry.phone_invalid", "contact_phone"), r.text
        assert r.json()["message_zh"] and r.json()["message_en"]
        assert (await p.call("registry", "GET", "/v1/units/", role=Role.CENTER)).json()["total"] == 0

        # a unit that published nothing is a member, but may not accept vouchers
        r = await p.call("registry", "POST", "/v1/units/", role=Role.UNIT, json={"name": "许昌某研究院", "kind": "institute", "credit_code": credit_code()})
        assert r.status_code == 201, r.text
        bare = r.json()["unit_id"]
        assert (await p.call("registry", "POST", f"/v1/units/{bare}/approve", role=Role.BUREAU, json={})).status_code == 200
        r = await p.call("registry", "POST", f"/v1/units/{bare}/voucher-acceptance", role=Role.CENTER, json=EVIDENCE)
        assert r.status_code == 422 and r.json()["code"] == "acceptance.service_info_unpublished", r.text
        assert r.json()["details"]["unpublished"] == ["service_content", "contact_person", "contact_phone", "address"]
        assert "联系方式" in r.json()["message_zh"]

        # it publishes them (its own account only), partly then the rest
        other = await approved_unit(p, name="许昌另一单位")
        r = await p.call("registry", "PUT", f"/v1/units/{bare}/service-info", role=Role.UNIT, org=other, json=SERVICE_INFO)
        assert r.status_code == 403, r.text
        r = await p.call("registry", "PUT", f"/v1/units/{bare}/service-info", role=Role.UNIT, org=other, json={"contact_phone": "x"})
        assert r.status_code == 403, r.text  # refused as another unit's before its values are judged
        r = await p.call("registry", "PUT", f"/v1/units/{bare}/service-info", role=Role.UNIT, org=bare, json={"contact_phone": "0374 123456"})
        assert r.status_code == 422 and r.json()["details"]["field"] == "contact_phone", r.text
        r = await p.call("registry", "PUT", f"/v1/units/{bare}/service-info", role=Role.UNIT, org=bare, json={"contact_person": "王" * 51})
        assert r.status_code in (400, 422) and "contact_person" in r.text, r.text
        r = await p.call("registry", "PUT", f"/v1/units/{bare}/service-info", role=Role.UNIT, org=bare, json={"service_content": "材料检测", "contact_phone": "138 3740 0001"})
        assert r.status_code == 200 and r.json()["contact_phone"] == "13837400001", r.text
        r = await p.call("registry", "POST", f"/v1/units/{bare}/voucher-acceptance", role=Role.CENTER, json=EVIDENCE)
        assert r.status_code == 422 and r.json()["details"]["unpublished"] == ["contact_person", "address"], r.text
        r = await p.call("registry", "PUT", f"/v1/units/{bare}/service-info", role=Role.UNIT, org=bare, json={"contact_person": "李工", "address": "许昌市东城区学院路1号"})
        assert r.status_code == 200, r.text
        r = await p.call("registry", "POST", f"/v1/units/{bare}/voucher-acceptance", role=Role.CENTER, json=EVIDENCE)
        assert r.status_code == 200 and r.json()["accepts_vouchers"] is True, r.text

        # the public sees what the unit published, in the list and on its page
        shown = (await p.call("registry", "GET", f"/v1/units/{bare}")).json()
        assert (shown["service_content"], shown["contact_person"], shown["contact_phone"], shown["address"]) == ("材料检测", "李工", "13837400001", "许昌市东城区学院路1号")
        listed = {u["unit_id"]: u for u in (await p.call("registry", "GET", "/v1/units/")).json()["items"]}
        assert listed[other]["contact_phone"] == SERVICE_INFO["contact_phone"]

        # an instrument says what it serves; the public sees it once listed, the unit changes it
        body = {"unit_id": other, "name": "扫描电镜", "category": "分析仪器", "original_value_fen": 20_000_000, "funding": "fiscal_full", "acceptance_date": "2024-09-20", "service_content": "形貌观察、能谱分析"}
        r = await p.call("registry", "POST", "/v1/instruments/", role=Role.UNIT, org=other, json=body)
        assert r.status_code == 201 and r.json()["service_content"] == "形貌观察、能谱分析", r.text
        iid = r.json()["instrument_id"]
        assert (await p.call("registry", "POST", f"/v1/instruments/{iid}/list", role=Role.UNIT, org=other)).status_code == 200
        r = await p.call("registry", "PATCH", f"/v1/instruments/{iid}", role=Role.UNIT, org=other, json={"service_content": "形貌观察"})
        assert r.status_code == 200, r.text
        assert (await p.call("registry", "GET", f"/v1/instruments/{iid}")).json()["service_content"] == "形貌观察"
