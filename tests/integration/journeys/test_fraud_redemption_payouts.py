"""Fraud findings scoped by voucher ids and the redemption payouts (R27), in
the payments service alone: the paid payout of a claim holding a named voucher
is clawed back, the due payout of another such claim is cancelled, and a claim
holding none of them stays paid; the ledger still balances."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select

from contracts import registry as ev
from contracts import vouchers as ve
from contracts.evaluation import NoticeFinalized, NoticeItem
from services.payments.db.models import payouts, redemption_vouchers
from services.runtime.roles import Role
from tests.support.payouts import publish
from tests.support.platform import Platform, running
from tests.support.polling import eventually
from tests.support.responses import ok
from tests.support.vouchers import YEAR, uid


async def test_a_finding_that_names_vouchers_reaches_the_redemption_payouts_of_their_claims(make_settings) -> None:
    """A unit's finding scoped by voucher ids: the paid payout of the claim holding
    one of them is clawed back, the due payout of another such claim is cancelled,
    and the payout of a claim holding none of them stays paid and untouched."""
    settings = await make_settings(["payments"])
    async with running(Platform(settings, ["payments"])) as p:
        unit = uid()
        claims = {c: [uid(), uid()] for c in ("named-paid", "clean-paid", "named-due")}
        ref = {c: uid() for c in claims}
        await publish(
            p,
            *(ve.RedemptionClaimed(claim_id=ref[c], unit_id=unit, year=YEAR, voucher_ids=vids, amount_fen=300_000, status="claimed") for c, vids in claims.items()),
            NoticeFinalized(notice_id="n-redemption", kind="redemption", year=YEAR, finalized_at=datetime.now(UTC),
                            items=[NoticeItem(ref=ref[c], unit_id=unit, label="兑付", amount_fen=300_000) for c in claims]),
        )

        async def payout_ids() -> dict[str, str] | None:
            async with p["payments"].db.read() as s:
                rows = dict((await s.execute(select(payouts.c.ref, payouts.c.id).where(payouts.c.ref.in_(ref.values())))).all())
            return {c: rows[r] for c, r in ref.items()} if len(rows) == 3 else None

        pid = await eventually(payout_ids)
        await ok(await p.call("payments", "PUT", f"/v1/payees/{unit}", role=Role.UNIT, org=unit,
                              json={"bank_name": "中国银行许昌分行", "account_name": "许昌某兑付单位", "account_number": "104123456789012"}))
        await ok(await p.call("payments", "POST", "/v1/payment-orders/", role=Role.FINANCE, json={"payout_ids": [pid["named-paid"], pid["clean-paid"]]}), 201)
        for c in ("named-paid", "clean-paid"):
            await ok(await p.call("payments", "POST", f"/v1/payouts/{pid[c]}/paid", role=Role.FINANCE, json={"bank_reference": f"BOC-{c}"}), 201)

        async def claims_known() -> bool:
            async with p["payments"].db.read() as s:
                return len((await s.execute(select(redemption_vouchers.c.claim_id))).all()) == 6

        await eventually(claims_known)
        await publish(p, ev.FraudFound(finding_id=uid(), party_type="unit", party_id=unit, voucher_ids=[claims["named-paid"][1], claims["named-due"][0]],
                                       sanctions=["criticism"], reason="兑付申报的发票系伪造"))

        async def clawed() -> Any:
            page = await ok(await p.call("payments", "GET", "/v1/clawbacks/?page_size=50", role=Role.FINANCE))
            due = await ok(await p.call("payments", "GET", f"/v1/payouts/{pid['named-due']}", role=Role.FINANCE))
            return page if page["total"] >= 1 and due["status"] == "cancelled" else None

        page = await eventually(clawed)
        assert [(c["kind"], c["ref"], c["amount_fen"], c["party_id"]) for c in page["items"]] == [("redemption", pid["named-paid"], 300_000, unit)]
        assert (await ok(await p.call("payments", "GET", f"/v1/payouts/{pid['clean-paid']}", role=Role.FINANCE)))["status"] == "paid"
        owed = await ok(await p.call("payments", "GET", "/v1/ledger/balances", role=Role.FINANCE, params={"account": f"clawback_receivable:unit:{unit}"}))
        assert [b["balance_fen"] for b in owed["items"]] == [300_000]
        assert (await ok(await p.call("payments", "GET", "/v1/ledger/trial-balance", role=Role.FINANCE)))["balanced"] is True
