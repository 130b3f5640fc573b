"""Registry set-up for integration tests, over the HTTP API as a client would:
an approved unit, a listed and priced instrument, a verified user, and an
order driven through its states."""

from __future__ import annotations

from typing import Any

from services.runtime.roles import Role
from tests.support.codes import credit_code
from tests.support.platform import Platform

PDF = b"%PDF-1.7\n% contract\n" + b"x" * 1000
PROOF = b"\x89PNG\r\n\x1a\n" + b"proof" * 100
RESULT = b"%PDF-1.7\n% results of the measurement\n" + b"r" * 2000

#: R18: what a unit publishes (service content and contact); needed to accept vouchers
SERVICE_INFO = {"service_content": "材料成分分析、结构表征", "contact_person": "王老师", "contact_phone": "0374-2968888", "address": "许昌市魏都区八一路88号"}


async def unit_named(p: Platform, name: str) -> str:
    """The id of the unit called ``name`` (a demo unit, say)."""
    r = await p.call("registry", "GET", "/v1/units/", params={"page_size": 100})
    return next(u["unit_id"] for u in r.json()["items"] if u["name"] == name)


async def approved_unit(p: Platform, name: str = "许昌学院", county_code: str = "411002", kind: str = "university") -> str:
    r = await p.call("registry", "POST", "/v1/units/", role=Role.UNIT, json={"name": name, "kind": kind, "credit_code": credit_code(), "county_code": county_code, **SERVICE_INFO})
    assert r.status_code == 201, r.text
    unit_id: str = r.json()["unit_id"]
    r = await p.call("registry", "POST", f"/v1/units/{unit_id}/approve", role=Role.BUREAU, json={})
    assert r.status_code == 200, r.text
    return unit_id


async def priced_instrument(p: Platform, unit_id: str, *, listed: bool = True, price_fen: int = 30_000) -> tuple[str, str]:
    body = {"unit_id": unit_id, "name": "液相色谱质谱联用仪", "category": "分析仪器", "original_value_fen": 20_000_000, "funding": "fiscal_full", "acceptance_date": "2024-09-20"}
    r = await p.call("registry", "POST", "/v1/instruments/", role=Role.UNIT, org=unit_id, json=body)
    assert r.status_code == 201, r.text
    iid: str = r.json()["instrument_id"]
    if listed:
        r = await p.call("registry", "POST", f"/v1/instruments/{iid}/list", role=Role.UNIT, org=unit_id)
        assert r.status_code == 200, r.text
    r = await p.call(
        "registry", "POST", f"/v1/instruments/{iid}/prices", role=Role.UNIT, org=unit_id, json={"name": "常规样品检测", "billing_unit": "per_sample", "price_fen": price_fen}
    )
    assert r.status_code == 201, r.text
    return iid, r.json()["price_item_id"]


async def verified_user(p: Platform, name: str = "许昌测试企业", *, verify: bool = True) -> str:
    r = await p.call("registry", "POST", "/v1/users/", role=Role.USER, json={"name": name, "kind": "enterprise", "classes": ["tech_sme"], "credit_code": credit_code()})
    assert r.status_code == 201, r.text
    user_id: str = r.json()["user_id"]
    if verify:
        r = await p.call("registry", "POST", f"/v1/users/{user_id}/verify", role=Role.CENTER, json={})
        assert r.status_code == 200, r.text
    return user_id


class World:
    def __init__(self, p: Platform, unit: str, user: str, iid: str, pid: str) -> None:
        self.p, self.unit, self.user, self.iid, self.pid = p, unit, user, iid, pid

    async def as_user(self, method: str, path: str, **kw: Any) -> Any:
        return await self.p.call("registry", method, path, role=Role.USER, org=self.user, **kw)

    async def as_unit(self, method: str, path: str, **kw: Any) -> Any:
        return await self.p.call("registry", method, path, role=Role.UNIT, org=self.unit, **kw)

    async def order(self, purpose: str = "research", quantity: int = 2) -> str:
        r = await self.as_user("POST", "/v1/orders/", json={"purpose": purpose, "items": [{"price_item_id": self.pid, "quantity": quantity}], "description": "样品成分分析"})
        assert r.status_code == 201, r.text
        return str(r.json()["order_id"])

    async def upload(self, oid: str, kind: str, data: bytes, *, by: str = "user", filename: str = "合同.pdf") -> Any:
        call = self.as_user if by == "user" else self.as_unit
        return await call("POST", f"/v1/orders/{oid}/documents", params={"kind": kind, "filename": filename}, content=data, headers={"Content-Type": "application/octet-stream"})

    async def quoted(self, purpose: str = "research", amount: int = 60_000) -> str:
        oid = await self.order(purpose)
        # a reason in case the amount lies above the published list (M11(4)); kept only then
        r = await self.as_unit("POST", f"/v1/orders/{oid}/quote", json={"amount_fen": amount, "note": "含前处理", "reason": "含样品前处理和加急检测"})
        assert r.status_code == 200, r.text
        return oid

    async def with_contract(self, purpose: str = "research", **terms: Any) -> str:
        oid = await self.quoted(purpose)
        c = await self.upload(oid, "contract", PDF)
        assert c.status_code == 201, c.text
        d = await self.upload(oid, "rd_proof", PROOF, by="unit", filename="proof.png")
        assert d.status_code == 201, d.text
        r = await self.as_user("PUT", f"/v1/orders/{oid}/contract", json=contract(c.json()["document_id"], d.json()["document_id"], **terms))
        assert r.status_code == 200, r.text
        return oid

    async def contracted(self, purpose: str = "research", **terms: Any) -> str:
        oid = await self.with_contract(purpose, **terms)
        assert (await self.as_user("POST", f"/v1/orders/{oid}/sign")).status_code == 200
        r = await self.as_unit("POST", f"/v1/orders/{oid}/sign")
        assert r.status_code == 200 and r.json()["status"] == "contracted", r.text
        return oid

    async def delivered(self, purpose: str = "research") -> str:
        oid = await self.contracted(purpose)
        assert (await self.as_unit("POST", f"/v1/orders/{oid}/start")).status_code == 200
        r = await self.upload(oid, "result", RESULT, by="unit", filename="report.pdf")
        assert r.status_code == 201, r.text
        r = await self.as_unit("POST", f"/v1/orders/{oid}/results", json={"document_id": r.json()["document_id"], "service_hours": 4})
        assert r.status_code == 200 and r.json()["status"] == "results_delivered", r.text
        return oid


def contract(contract_id: str | None, proof_id: str | None, **kw: Any) -> dict[str, Any]:
    return {
        "testing_fee_fen": 60_000,
        "ip_ownership": "检测数据及成果归用户所有",
        "confidentiality": "管理单位对样品、数据和结果保密",
        "damage_compensation": "因用户操作不当造成仪器损坏的，按维修费用赔偿",
        "contract_document_id": contract_id,
        "rd_proof_document_id": proof_id,
        **kw,
    }


async def world(p: Platform) -> World:
    unit = await approved_unit(p)
    iid, pid = await priced_instrument(p, unit)
    user = await verified_user(p)
    return World(p, unit, user, iid, pid)
