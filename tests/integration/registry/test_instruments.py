"""Instruments over HTTP (M5, M6, M11(3)): the must-list edge, the listing
deadline in working days, who may register and list, what the public sees,
the compliance view on a chosen day, and the events reaching the stream."""

from __future__ import annotations

from datetime import date

import msgspec
import pytest
from sqlalchemy import select

from contracts.registry import (
    InstrumentChanged,
    InstrumentListed,
    InstrumentRegistered,
    InstrumentRetired,
)
from services.registry import instruments as use_cases
from services.runtime.bus.connect import connect_nats
from services.runtime.roles import Role
from tests.support.codes import credit_code
from tests.support.instruments import body, register
from tests.support.platform import Platform, running
from tests.support.polling import eventually
from tests.support.registry import approved_unit


async def test_must_list_edge_and_deadline(make_settings) -> None:
    settings = await make_settings(["registry"])
    async with running(Platform(settings, ["registry"]), worker=False, relay=False) as p:
        unit = await approved_unit(p)
        at = await register(p, unit, original_value_fen=20_000_000)
        assert at["must_list"] is True
        assert at["listing_deadline"] == "2024-11-06"  # accepted Fri 2024-09-20 → 30th working day
        assert at["status"] == "in_service" and at["listed_on"] is None and at["county_code"] == "411002"
        below = await register(p, unit, original_value_fen=19_999_999)
        assert below["must_list"] is False and below["listing_deadline"] is None
        part = await register(p, unit, original_value_fen=20_000_000, funding="fiscal_part")
        assert part["must_list"] is True
        private = await register(p, unit, original_value_fen=90_000_000, funding="non_fiscal")
        assert private["must_list"] is False
        exempt = await register(p, unit, original_value_fen=100, funding="non_fiscal", duty_exempt=True)
        assert exempt["must_list"] is True  # M6
        secret = await register(p, unit, original_value_fen=90_000_000, classified=True)
        assert secret["must_list"] is False  # M5

        # computed fields cannot be sent, money is integer fen
        for extra in ({"must_list": False}, {"status": "retired"}, {"listing_deadline": "2030-01-01"}):
            r = await p.call("registry", "POST", "/v1/instruments/", role=Role.UNIT, org=unit, json=body(unit, **extra))
            assert r.status_code == 400, extra
        r = await p.call("registry", "POST", "/v1/instruments/", role=Role.UNIT, org=unit, json=body(unit, original_value_fen=200000.5))
        assert r.status_code == 400
        r = await p.call("registry", "POST", "/v1/instruments/", role=Role.UNIT, org=unit, json=body(unit, original_value_fen=-1))
        assert r.status_code == 400
        r = await p.call("registry", "POST", "/v1/instruments/", role=Role.UNIT, org=unit, json=body(unit, category="魔法仪器"))
        assert r.status_code == 422 and r.json()["code"] == "instrument.unknown_category"

        r = await p.call("registry", "POST", "/v1/instruments/", role=Role.UNIT, org=unit, json=body(unit, acceptance_date="2099-03-02"))
        assert r.status_code == 422 and r.json()["code"] == "calendar.unknown_year", r.text
        # a not-must-list instrument needs no calendar
        r = await p.call("registry", "POST", "/v1/instruments/", role=Role.UNIT, org=unit, json=body(unit, acceptance_date="2099-03-02", funding="non_fiscal"))
        assert r.status_code == 201 and r.json()["listing_deadline"] is None

        r = await p.call("registry", "POST", "/v1/instruments/", role=Role.CENTER, json=body(unit))
        assert r.status_code == 201


async def test_who_may_register_list_and_see(make_settings, monkeypatch: pytest.MonkeyPatch) -> None:
    settings = await make_settings(["registry"])
    async with running(Platform(settings, ["registry"]), worker=False, relay=False) as p:
        mine, other = await approved_unit(p, "许昌学院"), await approved_unit(p, "许昌职业技术学院")
        r = await p.call("registry", "POST", "/v1/instruments/", role=Role.UNIT, org=mine, json=body(other))
        assert r.status_code == 403 and r.json()["code"] == "auth.forbidden"
        r = await p.call("registry", "POST", "/v1/instruments/", role=Role.USER, org=mine, json=body(mine))
        assert r.status_code == 403
        pending = (await p.call("registry", "POST", "/v1/units/", role=Role.UNIT, json={"name": "未审核单位", "kind": "institute", "credit_code": credit_code()})).json()["unit_id"]
        r = await p.call("registry", "POST", "/v1/instruments/", role=Role.UNIT, org=pending, json=body(pending))
        assert r.status_code == 422 and r.json()["code"] == "instrument.unit_not_approved"

        inst = await register(p, mine)
        iid = inst["instrument_id"]
        # public: not listed yet → 404; the owner and staff see it
        r = await p.call("registry", "GET", f"/v1/instruments/{iid}")
        assert r.status_code == 404 and r.json()["code"] == "instrument.not_found"
        assert (await p.call("registry", "GET", f"/v1/instruments/{iid}", role=Role.UNIT, org=other)).status_code == 404
        assert (await p.call("registry", "GET", f"/v1/instruments/{iid}", role=Role.UNIT, org=mine)).status_code == 200
        assert (await p.call("registry", "GET", f"/v1/instruments/{iid}", role=Role.CENTER)).status_code == 200
        assert (await p.call("registry", "GET", "/v1/instruments/")).json()["total"] == 0
        assert (await p.call("registry", "GET", "/v1/instruments/", role=Role.UNIT, org=mine)).json()["total"] == 1

        r = await p.call("registry", "POST", f"/v1/instruments/{iid}/list", role=Role.UNIT, org=other)
        assert r.status_code == 403 and r.json()["code"] == "auth.forbidden"
        monkeypatch.setattr(use_cases, "shanghai_today", lambda: date(2024, 11, 6))
        r = await p.call("registry", "POST", f"/v1/instruments/{iid}/list", role=Role.UNIT, org=mine)
        assert r.status_code == 200, r.text
        assert r.json()["listed_on"] == "2024-11-06" and r.json()["version"] == 2
        r = await p.call("registry", "POST", f"/v1/instruments/{iid}/list", role=Role.CENTER)
        assert r.status_code == 409 and r.json()["code"] == "instrument.already_listed"
        r = await p.call("registry", "GET", f"/v1/instruments/{iid}")
        assert r.status_code == 200 and r.json()["name"] == "液相色谱质谱联用仪"
        page = (await p.call("registry", "GET", f"/v1/instruments/?unit_id={mine}")).json()
        assert page["total"] == 1 and page["items"][0]["instrument_id"] == iid

        secret = await register(p, mine, classified=True)
        r = await p.call("registry", "POST", f"/v1/instruments/{secret['instrument_id']}/list", role=Role.UNIT, org=mine)
        assert r.status_code == 422 and r.json()["code"] == "instrument.classified"
        r = await p.call("registry", "POST", "/v1/instruments/nope/list", role=Role.CENTER)
        assert r.status_code == 404


async def test_compliance_on_a_given_day(make_settings, monkeypatch: pytest.MonkeyPatch) -> None:
    settings = await make_settings(["registry"])
    async with running(Platform(settings, ["registry"]), worker=False, relay=False) as p:
        unit, other = await approved_unit(p, "许昌学院"), await approved_unit(p, "许昌职业技术学院")
        on_time = await register(p, unit)  # deadline Wed 2024-11-06
        late = await register(p, unit)
        overdue = await register(p, unit)
        due_soon = await register(p, unit, acceptance_date="2024-09-27")  # deadline Wed 2024-11-13
        pending = await register(p, unit, acceptance_date="2024-10-31")  # deadline 2024-12-12
        await register(p, unit, funding="non_fiscal")  # not required
        voluntary = await register(p, unit, original_value_fen=1_000, funding="non_fiscal")
        await register(p, other)  # the other unit's: overdue on 2024-11-07

        for inst, day in ((on_time, date(2024, 11, 6)), (late, date(2024, 11, 7)), (voluntary, date(2024, 11, 7))):
            monkeypatch.setattr(use_cases, "shanghai_today", lambda day=day: day)
            r = await p.call("registry", "POST", f"/v1/instruments/{inst['instrument_id']}/list", role=Role.UNIT, org=unit)
            assert r.status_code == 200, r.text

        r = await p.call("registry", "GET", f"/v1/compliance/units/{unit}?as_of=2024-11-07", role=Role.CENTER)
        assert r.status_code == 200, r.text
        c = r.json()
        assert c["as_of"] == "2024-11-07" and c["unit_id"] == unit and c["total"] == 7
        assert c["counts"] == {"listed_on_time": 2, "listed_late": 1, "overdue": 1, "due_soon": 1, "pending": 1, "not_required": 1}
        assert {(a["instrument_id"], a["state"]) for a in c["attention"]} == {(overdue["instrument_id"], "overdue"), (due_soon["instrument_id"], "due_soon")}
        assert pending["listing_deadline"] == "2024-12-12"

        city = (await p.call("registry", "GET", "/v1/compliance/?as_of=2024-11-07", role=Role.BUREAU)).json()
        assert city["total"] == 8 and city["counts"]["overdue"] == 2 and city["unit_id"] is None
        # a month earlier nothing was listed yet and every deadline was far
        early = (await p.call("registry", "GET", f"/v1/compliance/units/{unit}?as_of=2024-10-08", role=Role.CENTER)).json()
        assert early["counts"] == {"listed_on_time": 0, "listed_late": 0, "overdue": 0, "due_soon": 0, "pending": 5, "not_required": 2}
        # on the deadline day itself the unlisted instrument is due soon, the next day overdue
        r = await p.call("registry", "GET", f"/v1/compliance/units/{unit}?as_of=2024-11-06", role=Role.CENTER)
        assert r.json()["counts"]["due_soon"] == 3 and r.json()["counts"]["listed_on_time"] == 1  # late and overdue, due_soon

        # a unit sees its own compliance for today, cannot choose the day nor look at others or the city
        r = await p.call("registry", "GET", f"/v1/compliance/units/{unit}", role=Role.UNIT, org=unit)
        assert r.status_code == 200 and r.json()["counts"]["listed_late"] == 1
        r = await p.call("registry", "GET", f"/v1/compliance/units/{unit}?as_of=2024-11-07", role=Role.UNIT, org=unit)
        assert r.status_code == 403
        assert (await p.call("registry", "GET", f"/v1/compliance/units/{unit}", role=Role.UNIT, org=other)).status_code == 403
        assert (await p.call("registry", "GET", "/v1/compliance/", role=Role.UNIT, org=unit)).status_code == 403
        assert (await p.call("registry", "GET", "/v1/compliance/")).status_code == 401
        assert (await p.call("registry", "GET", "/v1/compliance/units/nope", role=Role.CENTER)).status_code == 404


async def test_instrument_events_reach_the_registry_stream(make_settings, monkeypatch: pytest.MonkeyPatch) -> None:
    settings = await make_settings(["registry"])
    async with running(Platform(settings, ["registry"])) as p:
        unit = await approved_unit(p)
        inst = await register(p, unit)
        monkeypatch.setattr(use_cases, "shanghai_today", lambda: date(2024, 11, 7))
        r = await p.call("registry", "POST", f"/v1/instruments/{inst['instrument_id']}/list", role=Role.UNIT, org=unit)
        assert r.status_code == 200, r.text

        assert settings.nats_url
        nc = await connect_nats(settings.bus("operator"), "test-instrument-events")
        try:
            js = nc.jetstream()

            async def four() -> bool:
                return (await js.stream_info("REGISTRY")).state.messages == 4  # applied, approved, registered, listed

            await eventually(four)
            reg = msgspec.json.decode((await js.get_last_msg("REGISTRY", InstrumentRegistered.subject)).data, type=InstrumentRegistered)
            assert reg.instrument_id == inst["instrument_id"] and reg.must_list and reg.listing_deadline == date(2024, 11, 6)
            assert reg.original_value_fen == 20_000_000 and reg.county_code == "411002" and reg.version == 1
            listed = msgspec.json.decode((await js.get_last_msg("REGISTRY", InstrumentListed.subject)).data, type=InstrumentListed)
            assert listed.listed_on == date(2024, 11, 7) and listed.on_time is False and listed.version == 2
        finally:
            await nc.close()


async def outbox_subjects(p: Platform) -> list[str]:
    outbox = p["registry"].db.metadata.tables["outbox"]
    async with p["registry"].db.read() as s:
        return list((await s.execute(select(outbox.c.subject).order_by(outbox.c.id))).scalars())


async def test_change_and_retire(make_settings) -> None:
    settings = await make_settings(["registry"])
    async with running(Platform(settings, ["registry"]), worker=False, relay=False) as p:
        mine, other = await approved_unit(p, "许昌学院"), await approved_unit(p, "许昌职业技术学院")
        inst = await register(p, mine, asset_number="ZC-0001")
        iid = inst["instrument_id"]
        assert inst["asset_number"] == "ZC-0001"
        # the asset number is unique per unit, not across units
        r = await p.call("registry", "POST", "/v1/instruments/", role=Role.UNIT, org=mine, json=body(mine, asset_number="ZC-0001"))
        assert r.status_code == 409 and r.json()["code"] == "instrument.duplicate_asset_number"
        assert (await register(p, other, asset_number="ZC-0001"))["asset_number"] == "ZC-0001"

        path = f"/v1/instruments/{iid}"
        r = await p.call("registry", "PATCH", path, role=Role.UNIT, org=mine, json={"location": "实验楼B201", "status": "maintenance", "model": None})
        assert r.status_code == 200, r.text
        changed = r.json()
        assert (changed["location"], changed["status"], changed["model"], changed["version"]) == ("实验楼B201", "maintenance", None, 2)
        assert changed["must_list"] is True and changed["listing_deadline"] == "2024-11-06"
        # nothing to change: the same record, no new version, no event
        r = await p.call("registry", "PATCH", path, role=Role.CENTER, json={"location": "实验楼B201"})
        assert r.status_code == 200 and r.json()["version"] == 2
        r = await p.call("registry", "PATCH", path, role=Role.CENTER, json={"status": "in_service", "category": "物理性能测试仪器", "version": 2})
        assert r.status_code == 200 and r.json()["status"] == "in_service" and r.json()["version"] == 3
        r = await p.call("registry", "PATCH", path, role=Role.CENTER, json={"name": "新名称", "version": 2})
        assert r.status_code == 409 and r.json()["code"] == "instrument.version_mismatch"

        # what decides must_list is fixed; computed fields and retiring by PATCH are refused
        for fixed in ({"funding": "non_fiscal"}, {"original_value_fen": 1}, {"acceptance_date": "2024-01-02"}, {"classified": True}):
            r = await p.call("registry", "PATCH", path, role=Role.UNIT, org=mine, json={"name": "x", **fixed})
            assert r.status_code == 422 and r.json()["code"] == "instrument.immutable_field", fixed
        for bad in ({"must_list": False}, {"listed_on": "2024-01-02"}, {"unit_id": other}, {"status": "retired"}, {"name": ""}):
            r = await p.call("registry", "PATCH", path, role=Role.UNIT, org=mine, json=bad)
            assert r.status_code == 400, bad
        r = await p.call("registry", "PATCH", path, role=Role.UNIT, org=mine, json={"name": "  "})
        assert r.status_code == 422 and r.json()["code"] == "instrument.blank_field"
        r = await p.call("registry", "PATCH", path, role=Role.UNIT, org=mine, json={"category": "魔法仪器"})
        assert r.status_code == 422 and r.json()["code"] == "instrument.unknown_category"
        r = await p.call("registry", "PATCH", path, role=Role.UNIT, org=other, json={"name": "x"})
        assert r.status_code == 403
        assert (await p.call("registry", "PATCH", path, role=Role.BUREAU, json={"name": "x"})).status_code == 403
        assert (await p.call("registry", "PATCH", "/v1/instruments/nope", role=Role.CENTER, json={"name": "x"})).status_code == 404

        # retire: a reason, the owner or the center, final
        r = await p.call("registry", "POST", f"{path}/retire", role=Role.UNIT, org=other, json={"reason": "损坏"})
        assert r.status_code == 403
        r = await p.call("registry", "POST", f"{path}/retire", role=Role.UNIT, org=mine, json={"reason": "  "})
        assert r.status_code == 422 and r.json()["code"] == "decision.reason_required"
        r = await p.call("registry", "POST", f"{path}/retire", role=Role.UNIT, org=mine, json={})
        assert r.status_code == 400
        r = await p.call("registry", "POST", f"{path}/retire", role=Role.UNIT, org=mine, json={"reason": "主板损坏，无维修价值"})
        assert r.status_code == 200 and r.json()["status"] == "retired" and r.json()["version"] == 4
        for method, suffix, payload in (("PATCH", "", {"name": "x"}), ("PATCH", "", {"status": "in_service"}), ("POST", "/retire", {"reason": "again"}), ("POST", "/list", None)):
            r = await p.call("registry", method, f"{path}{suffix}", role=Role.CENTER, json=payload)
            assert r.status_code == 409 and r.json()["code"] == "instrument.retired", (method, suffix)

        subjects = await outbox_subjects(p)
        assert subjects.count(InstrumentChanged.subject) == 2 and subjects.count(InstrumentRetired.subject) == 1
