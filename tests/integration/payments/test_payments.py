"""Payments end to end on both databases with a real NATS: registry facts are
published straight to JetStream, vouchers issues the voucher, and settlement
asks vouchers to use it (NATS request/reply) before posting the bill to the
double-entry ledger (R19(2), R19(4))."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from contracts import registry as ev
from contracts.payments import PaymentReceived, SettlementCompleted
from services.payments.db.models import (
    application_view,
    ledger_entries,
    ledger_lines,
    order_view,
    voucher_view,
)
from services.runtime.roles import Role
from services.vouchers.domain.applications import expires_at
from services.vouchers.issued import expire_vouchers
from tests.support.outbox import emitted
from tests.support.platform import Platform, running
from tests.support.polling import eventually
from tests.support.vouchers import (
    YEAR,
    Registry,
    activate,
    approve,
    call,
    open_programme,
    submit,
    uid,
)

FEE = 1_000_000


async def pcall(p: Platform, method: str, path: str, role: Role | None = None, org: str | None = None, json: Any = None, status: int | None = None) -> Any:
    r = await p.call("payments", method, path, role=role, org=org, json=json)
    if status is not None:
        assert r.status_code == status, r.text
    return r


async def delivered_order(p: Platform, *, voucher: bool = True, fee: int = FEE) -> tuple[str, str, str, str | None]:
    """A user, a unit and an order with delivered results; with its voucher issued."""
    reg = Registry(p)
    unit, user = reg.unit(), reg.user()
    order = reg.order(user, unit, fee=fee)
    reg.events.append(
        ev.OrderResultsDelivered(order_id=order, version=6, user_id=user, unit_id=unit, instrument_ids=[uid()], status="results_delivered",
                                 amount_fen=fee, testing_fee_fen=fee, purpose="research", service_hours=4)
    )
    await reg.flush()
    vid = None
    if voucher:
        if (await p.call("vouchers", "GET", f"/v1/programmes/{YEAR}")).status_code == 404:
            await open_programme(p)
        await activate(p, user)
        vid = (await approve(p, (await submit(p, user, order))["application_id"])).json()["voucher_id"]
    db = p["payments"].db

    async def seen() -> bool:
        async with db.read() as s:
            o = (await s.execute(select(func.count()).select_from(order_view).where(order_view.c.order_id == order))).scalar_one()
            v = (await s.execute(select(func.count()).select_from(voucher_view).where(voucher_view.c.order_id == order))).scalar_one()
        return o == 1 and v == (1 if voucher else 0)

    await eventually(seen)
    return user, unit, order, vid


async def voucher_status(p: Platform, vid: str) -> str:
    return (await p.call("vouchers", "GET", f"/v1/vouchers/{vid}", role=Role.CENTER)).json()["status"]


async def test_settle_with_a_voucher_then_pay_in_parts(make_settings) -> None:
    settings = await make_settings(["vouchers", "payments"])
    async with running(Platform(settings, ["vouchers", "payments"])) as p:
        user, unit, order, vid = await delivered_order(p)
        assert vid is not None and await voucher_status(p, vid) == "issued"
        stranger = uid()
        await pcall(p, "POST", "/v1/settlements/", Role.USER, org=stranger, json={"order_id": order}, status=404)
        await pcall(p, "POST", "/v1/settlements/", Role.UNIT, org=unit, json={"order_id": order}, status=403)

        first = (await pcall(p, "POST", "/v1/settlements/", Role.USER, org=user, json={"order_id": order}, status=201)).json()
        assert (first["fee_fen"], first["voucher_fen"], first["payable_fen"], first["paid_fen"]) == (FEE, 300_000, 700_000, 0)
        assert first["voucher_id"] == vid and first["voucher_refusal"] is None and first["status"] == "settled" and first["year"] == YEAR
        assert await voucher_status(p, vid) == "used"
        sid = first["settlement_id"]

        # retrying (the user again, or the center) returns the same settlement and posts nothing
        again = (await pcall(p, "POST", "/v1/settlements/", Role.USER, org=user, json={"order_id": order}, status=200)).json()
        assert again == first
        assert (await pcall(p, "POST", "/v1/settlements/", Role.CENTER, json={"order_id": order}, status=200)).json()["settlement_id"] == sid
        async with p["payments"].db.read() as s:
            assert (await s.execute(select(func.count()).select_from(ledger_entries).where(ledger_entries.c.key == f"settlement:{order}"))).scalar_one() == 1
        used = p["vouchers"].db.metadata.tables["outbox"]
        async with p["vouchers"].db.read() as s:
            assert (await s.execute(select(func.count()).select_from(used).where(used.c.subject == "vouchers.voucher.used.v1"))).scalar_one() == 1
        completed = await emitted(p, "payments", SettlementCompleted)
        assert len(completed) == 1 and completed[0].payable_fen == 700_000 and completed[0].voucher_id == vid

        # who sees it
        assert (await pcall(p, "GET", f"/v1/settlements/{sid}", Role.USER, org=user, status=200)).json()["payable_fen"] == 700_000
        await pcall(p, "GET", f"/v1/settlements/{sid}", Role.UNIT, org=unit, status=200)
        await pcall(p, "GET", f"/v1/settlements/{sid}", Role.FINANCE, status=200)
        await pcall(p, "GET", f"/v1/settlements/{sid}", Role.USER, org=stranger, status=404)
        await pcall(p, "GET", f"/v1/settlements/{sid}", Role.UNIT, org=uid(), status=404)
        assert (await pcall(p, "GET", f"/v1/settlements/?order_id={order}", Role.BUREAU, status=200)).json()["total"] == 1
        assert (await pcall(p, "GET", f"/v1/settlements/?order_id={order}", Role.USER, org=stranger, status=200)).json()["total"] == 0

        pay = f"/v1/settlements/{sid}/payments"
        part = {"amount_fen": 200_000, "bank_reference": "BANK-REF-0001", "idempotency_key": "pay-" + uid()}
        await pcall(p, "POST", pay, Role.USER, org=stranger, json=part, status=404)
        r1 = (await pcall(p, "POST", pay, Role.USER, org=user, json=part, status=201)).json()
        assert r1["paid_in_full"] is False and r1["settlement"]["paid_fen"] == 200_000 and r1["settlement"]["remaining_fen"] == 500_000
        assert r1["payment"]["bank_reference"] == "*********0001"
        dup = (await pcall(p, "POST", pay, Role.USER, org=user, json=part, status=200)).json()
        assert dup["payment"] == r1["payment"] and dup["settlement"]["paid_fen"] == 200_000
        r = await pcall(p, "POST", pay, Role.USER, org=user, json={**part, "amount_fen": 1}, status=409)
        assert r.json()["code"] == "payment.idempotency_key_reused"
        r = await pcall(p, "POST", pay, Role.USER, org=user, json={**part, "amount_fen": 500_001, "idempotency_key": "pay-" + uid()}, status=422)
        assert r.json()["code"] == "payment.exceeds_remaining" and r.json()["message_zh"] and r.json()["details"]["remaining_fen"] == 500_000
        await pcall(p, "POST", pay, Role.USER, org=user, json={**part, "amount_fen": 0, "idempotency_key": "pay-" + uid()}, status=400)
        rest = (await pcall(p, "POST", pay, Role.USER, org=user, json={**part, "amount_fen": 500_000, "idempotency_key": "pay-" + uid()}, status=201)).json()
        assert rest["paid_in_full"] is True and rest["settlement"]["status"] == "paid" and rest["settlement"]["remaining_fen"] == 0
        await pcall(p, "POST", pay, Role.USER, org=user, json={**part, "amount_fen": 1, "idempotency_key": "pay-" + uid()}, status=422)

        received = await emitted(p, "payments", PaymentReceived)
        assert [(e.amount_fen, e.paid_fen, e.paid_in_full) for e in received] == [(200_000, 200_000, False), (500_000, 700_000, True)]
        full = (await pcall(p, "GET", f"/v1/settlements/{sid}", Role.FINANCE, status=200)).json()
        assert [x["bank_reference"] for x in full["payments"]] == ["BANK-REF-0001"] * 2
        mine = (await pcall(p, "GET", f"/v1/settlements/{sid}", Role.USER, org=user, status=200)).json()
        assert all(x["bank_reference"].endswith("0001") and x["bank_reference"].startswith("*") for x in mine["payments"])

        # the books
        tb = (await pcall(p, "GET", "/v1/ledger/trial-balance", Role.FINANCE, status=200)).json()
        assert tb == {"debit_fen": FEE + 700_000, "credit_fen": FEE + 700_000, "balanced": True, "entries": 3, "as_of": None}
        await pcall(p, "GET", "/v1/ledger/trial-balance", Role.CENTER, status=403)
        await pcall(p, "GET", "/v1/ledger/balances", Role.USER, org=user, status=403)

        async def balance(account: str) -> dict[str, Any]:
            return (await pcall(p, "GET", f"/v1/ledger/balances?account={account}", Role.CENTER, status=200)).json()["items"][0]

        assert (await balance(f"user_payable:{user}"))["balance_fen"] == 0
        assert (await balance(f"unit_receivable:{unit}"))["balance_fen"] == -FEE
        assert (await balance(f"cash_received:{unit}"))["balance_fen"] == 700_000
        assert (await balance(f"voucher_budget:{YEAR}"))["debit_fen"] == 300_000
        async with p["payments"].db.read() as s:
            lines = (await s.execute(select(func.count()).select_from(ledger_lines))).scalar_one()
            audit = p["payments"].db.metadata.tables["audit_log"]
            actions = (await s.execute(select(audit.c.action, audit.c.actor_role).order_by(audit.c.id))).all()
            blob = str((await s.execute(select(audit.c.after))).scalars().all())
            first_payment = (await s.execute(select(audit.c.after).where(audit.c.action == "payment.receive").order_by(audit.c.id))).scalars().first()
        assert lines == 3 + 2 + 2
        assert actions == [("settlement.complete", "user"), ("payment.receive", "user"), ("payment.receive", "user")]
        assert "BANK-REF-0001" not in blob
        # the auditor sees the settlement as the API shows it, after the payment, and the payment masked
        assert (first_payment["fee_fen"], first_payment["paid_fen"], first_payment["remaining_fen"]) == (FEE, 200_000, 500_000)
        assert "payments" not in first_payment and first_payment["payment"]["bank_reference"] == "*********0001"


async def test_settle_after_the_voucher_expired(make_settings) -> None:
    settings = await make_settings(["vouchers", "payments"])
    async with running(Platform(settings, ["vouchers", "payments"])) as p:
        user, unit, order, vid = await delivered_order(p)
        assert vid is not None
        assert await expire_vouchers(p["vouchers"].db, expires_at(YEAR)) == 1
        # settle at once: vouchers decides, whatever payments' read model says yet
        s = (await pcall(p, "POST", "/v1/settlements/", Role.CENTER, json={"order_id": order}, status=201)).json()
        assert (s["voucher_fen"], s["payable_fen"], s["voucher_id"], s["voucher_refusal"]) == (0, FEE, None, "voucher.expired")
        assert await voucher_status(p, vid) == "expired"
        completed = await emitted(p, "payments", SettlementCompleted)
        assert len(completed) == 1 and completed[0].voucher_fen == 0 and completed[0].payable_fen == FEE
        async with p["payments"].db.read() as db:
            audit = p["payments"].db.metadata.tables["audit_log"]
            assert (await db.execute(select(audit.c.reason).where(audit.c.action == "settlement.complete"))).scalar_one() == "voucher.expired"
        tb = (await pcall(p, "GET", "/v1/ledger/trial-balance", Role.FINANCE, status=200)).json()
        assert tb["balanced"] and tb["debit_fen"] == FEE

        # an order without delivered results cannot be settled; without a voucher it settles in full
        r = await pcall(p, "POST", "/v1/settlements/", Role.CENTER, json={"order_id": uid()}, status=409)
        assert r.json()["code"] == "settlement.results_not_delivered"
        user2, _, order2, _ = await delivered_order(p, voucher=False, fee=12_345)
        plain = (await pcall(p, "POST", "/v1/settlements/", Role.USER, org=user2, json={"order_id": order2}, status=201)).json()
        assert (plain["voucher_fen"], plain["payable_fen"], plain["voucher_refusal"]) == (0, 12_345, None)


async def test_a_voucher_used_before_a_crash_is_deducted_once(make_settings) -> None:
    """Payments asked, vouchers used the voucher, payments crashed before its
    commit: asking again for the same order answers ok with the amount."""
    settings = await make_settings(["vouchers", "payments"])
    async with running(Platform(settings, ["vouchers", "payments"])) as p:
        user, unit, order, vid = await delivered_order(p)
        await p.call("vouchers", "POST", f"/v1/vouchers/{vid}/use", role=Role.UNIT, org=unit, json={"order_id": order})
        assert await voucher_status(p, vid) == "used"
        s = (await pcall(p, "POST", "/v1/settlements/", Role.USER, org=user, json={"order_id": order}, status=201)).json()
        assert (s["voucher_fen"], s["payable_fen"], s["voucher_id"]) == (300_000, 700_000, vid)
        used = p["vouchers"].db.metadata.tables["outbox"]
        async with p["vouchers"].db.read() as db:
            assert (await db.execute(select(func.count()).select_from(used).where(used.c.subject == "vouchers.voucher.used.v1"))).scalar_one() == 1


async def test_settlement_waits_while_a_voucher_application_is_pending(make_settings) -> None:
    settings = await make_settings(["vouchers", "payments"])
    async with running(Platform(settings, ["vouchers", "payments"])) as p:
        user, unit, order, _ = await delivered_order(p, voucher=False)
        await open_programme(p)
        await activate(p, user)
        app = await submit(p, user, order)

        async def application(status: str) -> bool:
            async with p["payments"].db.read() as s:
                got = (await s.execute(select(application_view.c.status).where(application_view.c.application_id == app["application_id"]))).scalar_one_or_none()
            return got == status

        await eventually(lambda: application("submitted"))
        r = await pcall(p, "POST", "/v1/settlements/", Role.USER, org=user, json={"order_id": order}, status=409)
        assert r.json()["code"] == "settlement.voucher_pending" and r.json()["message_zh"]
        await call(p, "POST", f"/v1/applications/{app['application_id']}/reject", Role.CENTER, json={"reason": "材料不全"}, status=200)
        await eventually(lambda: application("rejected"))
        s = (await pcall(p, "POST", "/v1/settlements/", Role.USER, org=user, json={"order_id": order}, status=201)).json()
        assert (s["voucher_fen"], s["payable_fen"], s["voucher_id"]) == (0, FEE, None)


async def test_a_voucher_covering_the_whole_fee_settles_at_once(make_settings) -> None:
    """With a 100% rate (a per-year parameter) nothing is left to pay: the
    settlement is paid, and PaymentReceived(paid_in_full) tells registry so."""
    settings = await make_settings(["vouchers", "payments"])
    async with running(Platform(settings, ["vouchers", "payments"])) as p:
        await open_programme(p, rate_bp=10_000)
        user, _unit, order, vid = await delivered_order(p, fee=200_000)
        body = (await pcall(p, "POST", "/v1/settlements", Role.USER, user, {"order_id": order}, status=201)).json()
        assert (body["fee_fen"], body["voucher_fen"], body["payable_fen"], body["status"]) == (200_000, 200_000, 0, "paid")
        received = await emitted(p, "payments", PaymentReceived)
        assert [(r.order_id, r.amount_fen, r.paid_in_full) for r in received] == [(order, 0, True)]
        assert vid is not None and await voucher_status(p, vid) == "used"


async def test_a_voucher_payments_has_not_heard_of_is_still_deducted(make_settings) -> None:
    """Regression (docs/faults.md, finding 1): after a fault, payments' read
    model may not know yet of a voucher vouchers issued. Settling then asks
    vouchers for the order's own voucher instead of billing the user in full
    and stranding the voucher; an undecided application still makes it wait."""
    from sqlalchemy import delete

    settings = await make_settings(["vouchers", "payments"])
    async with running(Platform(settings, ["vouchers", "payments"])) as p:
        user, unit, order, vid = await delivered_order(p)

        async def approved_seen() -> bool:
            async with p["payments"].db.read() as s:
                return (await s.execute(select(application_view.c.status).where(application_view.c.order_id == order))).scalar_one_or_none() == "approved"

        await eventually(approved_seen)  # every event has arrived; now forget them
        async with p["payments"].db.unit_of_work() as uow:
            await uow.session.execute(delete(voucher_view).where(voucher_view.c.order_id == order))
            await uow.session.execute(delete(application_view).where(application_view.c.order_id == order))
        s = (await pcall(p, "POST", "/v1/settlements/", Role.USER, org=user, json={"order_id": order}, status=201)).json()
        assert (s["voucher_fen"], s["payable_fen"], s["voucher_id"]) == (300_000, 700_000, vid)
        assert await voucher_status(p, vid) == "used"

        # an application payments has not heard of, still undecided: wait
        user2, _, order2, _ = await delivered_order(p, voucher=False)
        await activate(p, user2)
        app = await submit(p, user2, order2)

        async def submitted_seen() -> bool:
            async with p["payments"].db.read() as s:
                return (await s.execute(select(application_view.c.status).where(application_view.c.order_id == order2))).scalar_one_or_none() == "submitted"

        await eventually(submitted_seen)
        async with p["payments"].db.unit_of_work() as uow:
            await uow.session.execute(delete(application_view).where(application_view.c.order_id == order2))
        r = await pcall(p, "POST", "/v1/settlements/", Role.USER, org=user2, json={"order_id": order2}, status=409)
        assert r.json()["code"] == "settlement.voucher_pending"
        await call(p, "POST", f"/v1/applications/{app['application_id']}/reject", Role.CENTER, json={"reason": "材料不全"}, status=200)
        s2 = (await pcall(p, "POST", "/v1/settlements/", Role.USER, org=user2, json={"order_id": order2}, status=201)).json()
        assert (s2["voucher_fen"], s2["voucher_id"]) == (0, None)
