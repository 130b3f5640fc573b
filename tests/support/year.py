"""A small city for the whole-year test (issue 6), driven through the HTTP
APIs of the four services as their clients would: units and their
instruments in registry, users, and orders served with or without a voucher
up to settlement, payment and rating; and the evaluation, vouchers and
payments APIs called with the status each call must answer."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from services.runtime.roles import Role
from tests.support.codes import credit_code
from tests.support.platform import Platform
from tests.support.polling import eventually
from tests.support.registry import PDF, PROOF, RESULT, SERVICE_INFO, contract
from tests.support.responses import ok
from tests.support.vouchers import applied_and_approved


async def ev(p: Platform, method: str, path: str, role: Role | None = None, org: str | None = None, json: Any = None, status: int = 200) -> Any:
    return await ok(await p.call("evaluation", method, path, role=role, org=org, json=json), status)


async def vo(p: Platform, method: str, path: str, role: Role | None = None, org: str | None = None, json: Any = None, status: int = 200) -> Any:
    return await ok(await p.call("vouchers", method, path, role=role, org=org, json=json), status)


async def pa(p: Platform, method: str, path: str, role: Role = Role.FINANCE, org: str | None = None, json: Any = None, status: int = 200) -> Any:
    return await ok(await p.call("payments", method, path, role=role, org=org, json=json), status)


class City:
    """Registry and vouchers as their clients call them; remembers what was served."""

    def __init__(self, p: Platform, year: int) -> None:
        self.p, self.year = p, year
        self.accounts: set[str] = set()
        #: every order served: (order_id, unit, user, category, fee, hours, voucher_fen, rating)
        self.served: list[dict[str, Any]] = []
        #: each price item's instrument, and where the usage log of an instrument is filled back to
        self.instrument_of: dict[str, str] = {}
        self.used_back_to: dict[str, datetime] = {}

    async def unit(self, name: str, county_code: str, department: str) -> str:
        body = {"name": name, "kind": "institute", "credit_code": credit_code(), "county_code": county_code, "department": department, **SERVICE_INFO}
        unit = (await ok(await self.p.call("registry", "POST", "/v1/units/", role=Role.UNIT, json=body), 201))["unit_id"]
        await ok(await self.p.call("registry", "POST", f"/v1/units/{unit}/approve", role=Role.BUREAU, json={}))
        acceptance = {"full_time_staff": 3, "service_content": "成分分析与结构表征", "service_norms": "按国家标准操作", "fees_published": True, "no_bad_credit": True}
        await ok(await self.p.call("registry", "POST", f"/v1/units/{unit}/voucher-acceptance", role=Role.CENTER, json=acceptance))
        return str(unit)

    async def instrument(self, unit: str, name: str, category: str, *, accepted_on: str = "2024-09-20") -> tuple[str, str]:
        body = {"unit_id": unit, "name": name, "category": category, "original_value_fen": 20_000_000, "funding": "fiscal_full", "acceptance_date": accepted_on}
        iid = (await ok(await self.p.call("registry", "POST", "/v1/instruments/", role=Role.UNIT, org=unit, json=body), 201))["instrument_id"]
        await ok(await self.p.call("registry", "POST", f"/v1/instruments/{iid}/list", role=Role.UNIT, org=unit))
        price = {"name": "常规样品检测", "billing_unit": "per_sample", "price_fen": 500_000}
        pid = (await ok(await self.p.call("registry", "POST", f"/v1/instruments/{iid}/prices", role=Role.UNIT, org=unit, json=price), 201))["price_item_id"]
        self.instrument_of[str(pid)] = str(iid)
        return str(iid), str(pid)

    async def use(self, unit: str, iid: str, oid: str, hours: int) -> None:
        """The order's service time in the usage log (issue 16): one session of ``hours``
        on the instrument, ending where its previous session began (or now, on the test clock)."""
        now = datetime.fromisoformat((await ok(await self.p.call("registry", "GET", "/v1/clock")))["local_now"]).replace(second=0, microsecond=0)
        ended = min(self.used_back_to.get(iid, now), now)
        started = ended - timedelta(hours=hours)
        self.used_back_to[iid] = started
        body = {"instrument_id": iid, "kind": "outside", "order_id": oid, "started_at": started.isoformat(), "ended_at": ended.isoformat()}
        await ok(await self.p.call("registry", "POST", "/v1/usage/sessions/", role=Role.UNIT, org=unit, json=body), 201)

    async def user(self, name: str) -> str:
        body = {"name": name, "kind": "enterprise", "classes": ["tech_sme"], "credit_code": credit_code()}
        user = (await ok(await self.p.call("registry", "POST", "/v1/users/", role=Role.USER, json=body), 201))["user_id"]
        await ok(await self.p.call("registry", "POST", f"/v1/users/{user}/verify", role=Role.CENTER, json={}))
        return str(user)

    async def _upload(self, oid: str, kind: str, data: bytes, *, role: Role, org: str, filename: str) -> str:
        r = await self.p.call("registry", "POST", f"/v1/orders/{oid}/documents", role=role, org=org, params={"kind": kind, "filename": filename},
                              content=data, headers={"Content-Type": "application/octet-stream"})
        return str((await ok(r, 201))["document_id"])

    async def contracted(self, unit: str, user: str, pid: str, *, fee: int) -> str:
        """An order requested, quoted and signed by both sides (a contract of its own)."""

        def as_user(method: str, path: str, **kw: Any) -> Any:
            return self.p.call("registry", method, path, role=Role.USER, org=user, **kw)

        def as_unit(method: str, path: str, **kw: Any) -> Any:
            return self.p.call("registry", method, path, role=Role.UNIT, org=unit, **kw)

        oid = (await ok(await as_user("POST", "/v1/orders/", json={"purpose": "research", "items": [{"price_item_id": pid, "quantity": 1}]}), 201))["order_id"]
        await ok(await as_unit("POST", f"/v1/orders/{oid}/quote", json={"amount_fen": fee, "reason": "含样品前处理和加急费用"}))
        # each contract its own document (a voucher is granted once per contract, by its hash)
        c = await self._upload(oid, "contract", PDF + oid.encode(), role=Role.USER, org=user, filename="合同.pdf")
        d = await self._upload(oid, "rd_proof", PROOF, role=Role.UNIT, org=unit, filename="proof.png")
        await ok(await as_user("PUT", f"/v1/orders/{oid}/contract", json=contract(c, d, testing_fee_fen=fee)))
        await ok(await as_user("POST", f"/v1/orders/{oid}/sign"))
        assert (await ok(await as_unit("POST", f"/v1/orders/{oid}/sign")))["status"] == "contracted"
        return str(oid)

    async def voucher(self, user: str, oid: str) -> dict[str, Any]:
        """The user's voucher on a contracted order: the account once a year, the application, the center's approval."""
        p = self.p
        if user not in self.accounts:
            async def account() -> bool:
                r = await p.call("vouchers", "POST", f"/v1/accounts/{self.year}", role=Role.USER, org=user)
                return r.status_code == 201

            await eventually(account)
            self.accounts.add(user)

        decision = await applied_and_approved(p, user, oid)
        assert decision["status"] == "approved"
        return dict(decision)

    async def serve(self, unit: str, user: str, pid: str, category: str, *, fee: int, hours: int, voucher: bool, rating: int | None) -> dict[str, Any]:
        """One order from request to rating: quote, contract, (voucher), service, results, settlement, payment."""
        p = self.p

        def as_user(method: str, path: str, **kw: Any) -> Any:
            return p.call("registry", method, path, role=Role.USER, org=user, **kw)

        def as_unit(method: str, path: str, **kw: Any) -> Any:
            return p.call("registry", method, path, role=Role.UNIT, org=unit, **kw)

        oid = await self.contracted(unit, user, pid, fee=fee)
        voucher_fen = (await self.voucher(user, oid))["amount_fen"] if voucher else 0

        await ok(await as_unit("POST", f"/v1/orders/{oid}/start"))
        await self.use(unit, self.instrument_of[pid], oid, hours)
        res = await self._upload(oid, "result", RESULT, role=Role.UNIT, org=unit, filename="report.pdf")
        # the order's service hours come from its usage records
        await ok(await as_unit("POST", f"/v1/orders/{oid}/results", json={"document_id": res}))

        async def settled() -> Any:
            r = await p.call("payments", "POST", "/v1/settlements", role=Role.USER, org=user, json={"order_id": oid})
            return r.json() if r.status_code in (200, 201) else None

        settlement = await eventually(settled)
        assert (settlement["fee_fen"], settlement["voucher_fen"], settlement["payable_fen"]) == (fee, voucher_fen, fee - voucher_fen), settlement
        if fee - voucher_fen:
            pay = {"amount_fen": fee - voucher_fen, "bank_reference": f"ICBC-{oid[:8]}", "idempotency_key": f"pay-{oid}"}
            await ok(await p.call("payments", "POST", f"/v1/settlements/{settlement['settlement_id']}/payments", role=Role.USER, org=user, json=pay), 201)

        async def order_settled() -> bool:
            return bool((await ok(await as_user("GET", f"/v1/orders/{oid}")))["status"] == "settled")

        await eventually(order_settled)
        if rating is not None:
            assert (await ok(await as_user("POST", f"/v1/orders/{oid}/rate", json={"rating": rating, "comment": "数据可靠，服务及时"})))["status"] == "rated"
        row = {"order_id": oid, "unit": unit, "user": user, "category": category, "fee": fee, "hours": hours, "voucher_fen": voucher_fen, "rating": rating}
        self.served.append(row)
        return row
