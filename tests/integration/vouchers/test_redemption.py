"""Voucher redemption end to end (R20) on both databases with a real NATS: a
unit claims its used vouchers with evidence, an expert approves in part, the
redemption notice becomes final (evaluation's event), finance orders and pays
the payout, and the claim is settled with its approved vouchers redeemed."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from sqlalchemy import select

from contracts.evaluation import ExpertRegistered, NoticeFinalized, NoticeItem
from services.runtime.roles import Role
from services.runtime.clock import local_today
from services.vouchers.db.models import expert_view
from tests.support.payouts import RECEIPT, RESULTS, claim_item, open_window, publish, read_xlsx, upload, used_vouchers
from tests.support.platform import Platform, running
from tests.support.polling import eventually
from tests.support.vouchers import YEAR, call, uid

SERVICES = ["vouchers", "payments"]
DIGITAL = "26412000000000012345"
VAT_CODE, VAT_NUMBER = "4100231130", "00012345"


async def pay(p: Platform, method: str, path: str, role: Role, org: str | None = None, json: object = None, status: int | None = None):
    r = await p.call("payments", method, path, role=role, org=org, json=json)
    if status is not None:
        assert r.status_code == status, r.text
    return r


async def test_claim_review_notice_order_pay_settle(make_settings) -> None:
    settings = await make_settings(SERVICES)
    async with running(Platform(settings, SERVICES)) as p:
        unit, (v1, v2) = await used_vouchers(p, 2)
        other, (v3,) = await used_vouchers(p, 1)
        receipt, results = await upload(p, unit, RECEIPT), await upload(p, unit, RESULTS)
        items = [claim_item(v1, receipt, results, number=DIGITAL), claim_item(v2, receipt, results, code=VAT_CODE, number=VAT_NUMBER)]

        # outside the year's window nothing can be claimed
        r = await call(p, "POST", "/v1/redemption/claims", Role.UNIT, org=unit, json={"year": YEAR, "items": items}, status=409)
        assert r.json()["code"] == "redemption.window_closed"
        tomorrow = (local_today() + timedelta(days=1)).isoformat()
        await call(p, "PUT", f"/v1/redemption/windows/{YEAR}", Role.CENTER, json={"opens_on": tomorrow, "closes_on": tomorrow}, status=200)
        r = await call(p, "POST", "/v1/redemption/claims", Role.UNIT, org=unit, json={"year": YEAR, "items": items}, status=409)
        assert r.json()["code"] == "redemption.window_closed" and r.json()["details"]["opens_on"] == tomorrow
        await open_window(p)

        # a bad invoice number, another unit's voucher, another unit's documents: refused
        bad = [claim_item(v1, receipt, results, number=DIGITAL[:-1])]
        assert (await call(p, "POST", "/v1/redemption/claims", Role.UNIT, org=unit, json={"year": YEAR, "items": bad}, status=422)).json()["code"] == "redemption.invoice_invalid"
        theirs = [claim_item(v3, receipt, results, number="26412000000000099999")]
        r = await call(p, "POST", "/v1/redemption/claims", Role.UNIT, org=unit, json={"year": YEAR, "items": theirs}, status=422)
        assert r.json()["code"] == "redemption.voucher_not_claimable"
        r = await call(p, "POST", "/v1/redemption/claims", Role.UNIT, org=other, json={"year": YEAR, "items": theirs}, status=422)
        assert r.json()["code"] == "redemption.document_missing"

        claim = (await call(p, "POST", "/v1/redemption/claims", Role.UNIT, org=unit, json={"year": YEAR, "items": items}, status=201)).json()
        cid = claim["claim_id"]
        assert claim["status"] == "claimed" and claim["amount_fen"] == 600_000 and len(claim["items"]) == 2

        # a voucher is claimed at most once; an invoice backs one claim only, whoever claims it
        r = await call(p, "POST", "/v1/redemption/claims", Role.UNIT, org=unit, json={"year": YEAR, "items": [claim_item(v1, receipt, results, number="26412000000000077777")]}, status=409)
        assert r.json()["code"] == "redemption.voucher_claimed"
        r3, s3 = await upload(p, other, RECEIPT), await upload(p, other, RESULTS)
        reused = [claim_item(v3, r3, s3, code=VAT_CODE, number=VAT_NUMBER)]
        r = await call(p, "POST", "/v1/redemption/claims", Role.UNIT, org=other, json={"year": YEAR, "items": reused}, status=409)
        assert r.json()["code"] == "redemption.invoice_reused"

        # a unit sees only its own claims; staff see all, filtered
        await call(p, "GET", f"/v1/redemption/claims/{cid}", Role.UNIT, org=other, status=404)
        assert (await call(p, "GET", "/v1/redemption/claims", Role.UNIT, org=other, status=200)).json()["total"] == 0
        assert (await call(p, "GET", f"/v1/redemption/claims?unit_id={unit}&status=claimed", Role.CENTER, status=200)).json()["total"] == 1
        await call(p, "GET", f"/v1/redemption/documents/{receipt}", Role.UNIT, org=other, status=404)

        # the center assigns an expert (registered in evaluation), who reads the evidence
        expert = uid()
        await publish(p, ExpertRegistered(expert_id=expert, role="finance"))

        async def expert_known() -> bool:
            async with p["vouchers"].db.read() as s:
                return (await s.execute(select(expert_view.c.expert_id).where(expert_view.c.expert_id == expert))).first() is not None

        await eventually(expert_known)
        await call(p, "POST", f"/v1/redemption/claims/{cid}/assignments", Role.CENTER, json={"expert_id": expert}, status=201)
        assert (await call(p, "GET", f"/v1/redemption/documents/{receipt}", Role.EXPERT, org=expert, status=200)).content == RECEIPT

        # the expert approves one voucher and rejects the other with a reason
        await call(p, "POST", f"/v1/redemption/claims/{cid}/review", Role.UNIT, org=unit, json={"decisions": []}, status=403)
        decisions = {"decisions": [{"voucher_id": v1, "approved": True}, {"voucher_id": v2, "approved": False, "reason": "服务结果与合同不符"}]}
        reviewed = (await call(p, "POST", f"/v1/redemption/claims/{cid}/review", Role.EXPERT, org=expert, json=decisions, status=200)).json()
        assert reviewed["status"] == "approved" and reviewed["approved_fen"] == 300_000 and reviewed["reasons"] == [f"{v2}: 服务结果与合同不符"]
        await call(p, "POST", f"/v1/redemption/claims/{cid}/review", Role.CENTER, json=decisions, status=409)

        # the redemption notice becomes final (evaluation's event): the claim is noticed, the payout due
        notice = NoticeFinalized(notice_id="notice-r1", kind="redemption", year=YEAR, finalized_at=datetime.now(UTC),
                                 items=[NoticeItem(ref=cid, unit_id=unit, label="创新券兑付", amount_fen=300_000)])
        await publish(p, notice)

        async def noticed() -> bool:
            return (await call(p, "GET", f"/v1/redemption/claims/{cid}", Role.CENTER)).json()["status"] == "noticed"

        await eventually(noticed)

        async def due() -> dict | None:
            items = (await pay(p, "GET", "/v1/payouts/due?kind=redemption", Role.FINANCE, status=200)).json()["items"]
            return next((i for i in items if i["ref"] == cid), None)

        payout = await eventually(due)
        assert payout["amount_fen"] == 300_000 and payout["blocked"] == "payout.payee_missing"
        r = await pay(p, "POST", "/v1/payment-orders/", Role.FINANCE, json={"payout_ids": [payout["payout_id"]]}, status=409)
        assert r.json()["code"] == "payout.payee_missing"

        # the unit sets its bank details (shown masked); finance orders and downloads the file
        await pay(p, "PUT", f"/v1/payees/{unit}", Role.UNIT, org=other, json={"bank_name": "x", "account_name": "y", "account_number": "62220212345678"}, status=403)
        payee = {"bank_name": "中国工商银行许昌分行", "account_name": "许昌某大学", "account_number": "6222 0217 0800 1234 567"}
        shown = (await pay(p, "PUT", f"/v1/payees/{unit}", Role.UNIT, org=unit, json=payee, status=200)).json()
        assert shown["account_number_masked"] == "***************4567" and "account_number" not in shown
        await pay(p, "POST", "/v1/payment-orders/", Role.CENTER, json={}, status=403)
        order = (await pay(p, "POST", "/v1/payment-orders/", Role.FINANCE, json={"payout_ids": [payout["payout_id"]]}, status=201)).json()
        assert order["count"] == 1 and order["total_fen"] == 300_000 and order["payouts"][0]["status"] == "ordered"
        await pay(p, "GET", f"/v1/payment-orders/{order['payment_order_id']}/export", Role.CENTER, status=403)
        xlsx = await pay(p, "GET", f"/v1/payment-orders/{order['payment_order_id']}/export", Role.FINANCE, status=200)
        assert order["case_no"].startswith("FK-") and f'filename="payment-order-{order["case_no"]}.xlsx"' in xlsx.headers["content-disposition"]
        rows = read_xlsx(xlsx.content)
        assert rows[0] == ["收款单位名称", "开户银行", "账户名称", "银行账号", "金额（元）", "用途", "业务参考号", "拨付编号", "付款单编号"]
        assert rows[1][1:5] == ["中国工商银行许昌分行", "许昌某大学", "6222021708001234567", "3000.00"]
        assert Decimal(rows[1][4]) * 100 == 300_000 and rows[1][6] == payout["payout_id"] and str(YEAR) in rows[1][5]
        assert rows[1][7] == payout["case_no"] and rows[1][7].startswith("BF-") and rows[1][8] == order["case_no"]

        # finance confirms it paid: payable → paid; vouchers settles the claim
        await pay(p, "POST", f"/v1/payouts/{payout['payout_id']}/paid", Role.CENTER, json={"bank_reference": "B1"}, status=403)
        paid = (await pay(p, "POST", f"/v1/payouts/{payout['payout_id']}/paid", Role.FINANCE, json={"bank_reference": "ICBC-PAY-0001"}, status=201)).json()
        assert paid["status"] == "paid"
        await pay(p, "POST", f"/v1/payouts/{payout['payout_id']}/paid", Role.FINANCE, json={"bank_reference": "ICBC-PAY-0001"}, status=200)

        async def settled() -> dict | None:
            c = (await call(p, "GET", f"/v1/redemption/claims/{cid}", Role.UNIT, org=unit)).json()
            return c if c["status"] == "settled" else None

        done = await eventually(settled)
        assert done["paid_fen"] == 300_000
        statuses = {v: (await call(p, "GET", f"/v1/vouchers/{v}", Role.CENTER)).json()["status"] for v in (v1, v2)}
        assert statuses == {v1: "redeemed", v2: "used"}

        # the rejected voucher may be claimed again with other evidence; the redeemed one never
        r = await call(p, "POST", "/v1/redemption/claims", Role.UNIT, org=unit, json={"year": YEAR, "items": [claim_item(v1, receipt, results, number="26412000000000055555")]}, status=409)
        assert r.json()["code"] == "redemption.voucher_claimed"
        again = await call(p, "POST", "/v1/redemption/claims", Role.UNIT, org=unit, json={"year": YEAR, "items": [claim_item(v2, receipt, results, number="26412000000000066666")]}, status=201)
        assert again.json()["amount_fen"] == 300_000

        report = (await pay(p, "GET", f"/v1/reports/budget-execution/{YEAR}", Role.BUREAU, status=200)).json()
        assert report["balanced"] is True, report["checks"]
        assert report["voucher"]["used_fen"] == 900_000 and report["voucher"]["redeemed_fen"] == 300_000 and report["voucher"]["paid_fen"] == 300_000
        assert report["voucher"]["appropriated_fen"] == 100_000_000 and report["voucher"]["payable_fen"] == 0
