"""The thin slice through the bus: registry registers a unit and a user →
vouchers and evaluation build read models from the events → vouchers answers
from its read model."""

from __future__ import annotations

from services.runtime.roles import Role
from tests.support.codes import credit_code
from tests.support.platform import Platform, running
from tests.support.polling import eventually

SERVICES = ["registry", "vouchers", "evaluation"]


async def _register_verified_user(p: Platform, **body: object) -> str:
    r = await p.call("registry", "POST", "/v1/users/", role=Role.USER, json={"name": "许昌智造科技有限公司", "kind": "enterprise", "classes": ["high_tech"], **body})
    assert r.status_code == 201, r.text
    user_id = r.json()["user_id"]
    r = await p.call("registry", "POST", f"/v1/users/{user_id}/verify", role=Role.CENTER, json={})
    assert r.status_code == 200, r.text
    return user_id


async def test_user_registered_in_registry_is_eligible_in_vouchers(make_settings) -> None:
    settings = await make_settings(SERVICES)
    async with running(Platform(settings, SERVICES)) as p:
        user_id = await _register_verified_user(p, credit_code=credit_code("411002"), special_classes=["gazelle"])

        async def eligible():
            r = await p.call("vouchers", "GET", f"/v1/eligibility/users/{user_id}", role=Role.USER, org=user_id)
            assert r.status_code == 200, r.text
            return r.json() if r.json()["eligible"] else None

        body = await eventually(eligible)
        assert body["known"] is True
        assert body["reasons"] == []
        assert body["yearly_cap_fen"] == 10_000_000  # gazelle: 100,000 CNY (R16)


async def test_user_outside_the_city_is_known_but_not_eligible(make_settings) -> None:
    settings = await make_settings(SERVICES)
    async with running(Platform(settings, SERVICES)) as p:
        user_id = await _register_verified_user(p, credit_code=credit_code("410100"))  # Zhengzhou

        async def verified():
            r = await p.call("vouchers", "GET", f"/v1/eligibility/users/{user_id}", role=Role.CENTER)
            return r.json() if r.json()["known"] and "voucher.user_not_verified" not in r.json()["reasons"] else None

        body = await eventually(verified)
        assert body["eligible"] is False
        assert body["reasons"] == ["voucher.user_not_in_city"]
        assert body["yearly_cap_fen"] == 5_000_000


async def test_unverified_user_is_not_eligible_until_the_center_verifies(make_settings) -> None:
    settings = await make_settings(SERVICES)
    async with running(Platform(settings, SERVICES)) as p:
        r = await p.call("registry", "POST", "/v1/users/", role=Role.USER, json={"name": "许昌某新材料公司", "kind": "enterprise", "classes": ["tech_sme"], "credit_code": credit_code()})
        user_id = r.json()["user_id"]

        async def known():
            r = await p.call("vouchers", "GET", f"/v1/eligibility/users/{user_id}", role=Role.CENTER)
            return r.json() if r.json()["known"] else None

        assert (await eventually(known))["reasons"] == ["voucher.user_not_verified"]
        await p.call("registry", "POST", f"/v1/users/{user_id}/verify", role=Role.CENTER, json={})

        async def eligible():
            r = await p.call("vouchers", "GET", f"/v1/eligibility/users/{user_id}", role=Role.CENTER)
            return r.json()["eligible"]

        await eventually(eligible)


async def test_unknown_user_is_not_eligible(make_settings) -> None:
    settings = await make_settings(["vouchers"])
    async with running(Platform(settings, ["vouchers"])) as p:
        r = await p.call("vouchers", "GET", "/v1/eligibility/users/nobody", role=Role.CENTER)
        assert r.status_code == 200
        assert r.json()["known"] is False and r.json()["reasons"] == ["voucher.user_unknown"]


async def test_approved_unit_reaches_evaluation(make_settings) -> None:
    settings = await make_settings(SERVICES)
    async with running(Platform(settings, SERVICES)) as p:
        r = await p.call("registry", "POST", "/v1/units/", role=Role.UNIT, json={"name": "许昌学院", "kind": "university", "credit_code": credit_code(), "county_code": "411002"})
        assert r.status_code == 201, r.text
        unit_id = r.json()["unit_id"]
        r = await p.call("registry", "POST", f"/v1/units/{unit_id}/approve", role=Role.BUREAU, json={"reason": "材料齐全"})
        assert r.status_code == 200 and r.json()["status"] == "approved"

        async def approved_in_evaluation():
            r = await p.call("evaluation", "GET", "/v1/units/?status=approved", role=Role.CENTER)
            return r.json()["items"] if r.json()["total"] == 1 else None

        items = await eventually(approved_in_evaluation)
        assert items[0]["unit_id"] == unit_id and items[0]["name"] == "许昌学院" and items[0]["version"] == 2
