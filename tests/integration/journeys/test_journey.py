"""The whole journey through the four services and the bus (issue 4): a user
finds an instrument, orders, signs, applies for a voucher, the center
approves, the unit delivers, the voucher is deducted at settlement, the user
pays the rest and rates — on SQLite and PostgreSQL, with real NATS."""

from __future__ import annotations

from datetime import datetime
import os
from zoneinfo import ZoneInfo

import msgspec
import pytest

from services.runtime.roles import Role
from tests.support.pgbouncer import PgBouncer
from tests.support.platform import Platform, running
from tests.support.polling import eventually
from tests.support.registry import (
    PDF,
    PROOF,
    RESULT,
    World,
    approved_unit,
    contract,
    priced_instrument,
    verified_user,
)
from tests.support.responses import ok

SERVICES = ["registry", "vouchers", "evaluation", "payments"]
YEAR = datetime.now(ZoneInfo("Asia/Shanghai")).year


pytestmark = pytest.mark.usefixtures("on_the_listing_deadline")


async def test_search_order_voucher_settle_pay_rate(make_settings) -> None:
    settings = await make_settings(SERVICES)
    async with running(Platform(settings, SERVICES)) as p:
        await _the_journey(p)


@pytest.mark.parametrize("backend", ["postgres"], indirect=True)
async def test_the_journey_behind_pgbouncer_in_transaction_mode(make_settings) -> None:
    """Issue 20: every service's database through PgBouncer (``pool_mode =
    transaction``, a pool of 5 server connections per database), with
    ``XCISS_DB_TRANSACTION_POOLER`` on. Without it asyncpg's cached prepared
    statements meet server connections that never prepared them."""
    if PgBouncer.binary() is None:
        if os.environ.get("CI"):
            pytest.fail("pgbouncer is required in CI (.ci/run installs Debian's package)")
        pytest.skip("pgbouncer is not installed (apt-get install pgbouncer)")
    direct = await make_settings(SERVICES)
    bouncer = PgBouncer(direct.database_urls["registry"])
    bouncer.start()
    try:
        routed = {s: bouncer.route(u) for s, u in direct.database_urls.items()}
        settings = msgspec.structs.replace(direct, database_urls=routed, db_transaction_pooler=True)
        async with running(Platform(settings, SERVICES)) as p:
            await _the_journey(p)
        # every service's connections really went through the pooler (its log names each database)
        log = bouncer.log.read_text(encoding="utf-8", errors="replace")
        assert all(f"login attempt: db={u.rsplit('/', 1)[1]} " in log for u in routed.values()), log[-2000:]
    finally:
        bouncer.stop()


async def _the_journey(p: Platform) -> None:
    # the unit joins, may accept vouchers (R18), lists a priced instrument
    unit = await approved_unit(p)
    await ok(
        await p.call(
            "registry",
            "POST",
            f"/v1/units/{unit}/voucher-acceptance",
            role=Role.CENTER,
            json={"full_time_staff": 3, "service_content": "成分分析与结构表征", "service_norms": "按国家标准操作", "fees_published": True, "no_bad_credit": True},
        )
    )
    iid, pid = await priced_instrument(p, unit, price_fen=500_000)
    user = await verified_user(p)
    w = World(p, unit, user, iid, pid)

    # the bureau opens the year's programme: 30%, caps as in R16
    await ok(await p.call("vouchers", "POST", "/v1/programmes/", role=Role.BUREAU, json={"year": YEAR, "budget_fen": 100_000_000}), 201)

    # the user finds the instrument in the public catalogue (2-character keyword)
    async def found():
        r = await p.call("registry", "GET", "/v1/catalogue/instruments", params={"q": "质谱"})
        return [i for i in r.json()["items"] if i["instrument_id"] == iid]

    assert await eventually(found)

    # order → quote → contract (testing fee listed) → both sign
    r = await w.as_user("POST", "/v1/orders/", json={"purpose": "research", "items": [{"price_item_id": pid, "quantity": 2}]})
    oid = (await ok(r, 201))["order_id"]
    await ok(await w.as_unit("POST", f"/v1/orders/{oid}/quote", json={"amount_fen": 1_000_000}))
    c = await ok(await w.upload(oid, "contract", PDF), 201)
    d = await ok(await w.upload(oid, "rd_proof", PROOF, by="unit", filename="proof.png"), 201)
    await ok(await w.as_user("PUT", f"/v1/orders/{oid}/contract", json=contract(c["document_id"], d["document_id"], testing_fee_fen=1_000_000)))
    await ok(await w.as_user("POST", f"/v1/orders/{oid}/sign"))
    assert (await ok(await w.as_unit("POST", f"/v1/orders/{oid}/sign")))["status"] == "contracted"

    # the user opens its voucher account (once vouchers has learned it is verified)
    # and applies (once vouchers has learned the contract)
    async def account():
        r = await p.call("vouchers", "POST", f"/v1/accounts/{YEAR}", role=Role.USER, org=user)
        return r.status_code == 201

    await eventually(account)

    async def applied():
        r = await p.call("vouchers", "POST", "/v1/applications/", role=Role.USER, org=user, json={"order_id": oid})
        return r.json() if r.status_code == 201 else None

    application = await eventually(applied)
    decision = await ok(await p.call("vouchers", "POST", f"/v1/applications/{application['application_id']}/approve", role=Role.CENTER, json={}))
    assert decision["status"] == "approved" and decision["amount_fen"] == 300_000  # 30% of the 10,000 CNY testing fee

    # the unit serves and delivers results (R19(3))
    await ok(await w.as_unit("POST", f"/v1/orders/{oid}/start"))
    res = await ok(await w.upload(oid, "result", RESULT, by="unit", filename="report.pdf"), 201)
    await ok(await w.as_unit("POST", f"/v1/orders/{oid}/results", json={"document_id": res["document_id"], "service_hours": 6}))

    # settlement: the voucher is deducted, the user owes the rest (R19(2), R19(4))
    async def settled():
        r = await p.call("payments", "POST", "/v1/settlements", role=Role.USER, org=user, json={"order_id": oid})
        return r.json() if r.status_code in (200, 201) else None

    settlement = await eventually(settled)
    assert (settlement["fee_fen"], settlement["voucher_fen"], settlement["payable_fen"]) == (1_000_000, 300_000, 700_000)
    vouchers = (await ok(await p.call("vouchers", "GET", "/v1/vouchers/", role=Role.USER, org=user)))["items"]
    assert [v["status"] for v in vouchers] == ["used"]

    pay = {"amount_fen": 700_000, "bank_reference": "ICBC-20261127-000123", "idempotency_key": f"pay-{oid}"}
    await ok(await p.call("payments", "POST", f"/v1/settlements/{settlement['settlement_id']}/payments", role=Role.USER, org=user, json=pay), 201)
    again = await p.call("payments", "POST", f"/v1/settlements/{settlement['settlement_id']}/payments", role=Role.USER, org=user, json=pay)
    assert again.status_code in (200, 201)  # the same payment, posted once

    # registry learns the payment from the bus: settled, then the user rates
    async def order_settled():
        r = await w.as_user("GET", f"/v1/orders/{oid}")
        return r.json() if r.json()["status"] == "settled" else None

    await eventually(order_settled)
    rated = await ok(await w.as_user("POST", f"/v1/orders/{oid}/rate", json={"rating": 5, "comment": "数据可靠，服务及时"}))
    assert rated["status"] == "rated"

    # every yuan accounted for: the ledger balances
    tb = await ok(await p.call("payments", "GET", "/v1/ledger/trial-balance", role=Role.FINANCE))
    assert tb["balanced"] is True and tb["debit_fen"] == tb["credit_fen"]
    prog = await ok(await p.call("vouchers", "GET", f"/v1/programmes/{YEAR}"))
    assert prog["committed_fen"] == 300_000
