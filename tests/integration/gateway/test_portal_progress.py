"""Step trackers on the order page (issue 17), through the gateway: an order is
walked from placed to signed with the portal's own forms (the unit quotes, both
parties sign) and at each step the page shows the order's case number, a step
tracker (an ordered list, the current step marked ``aria-current="step"``) and a
next-step sentence in Chinese that differs for the enterprise and the unit; a
cancelled order ends on a failed step; the unit's evaluation page follows its
application through the final grade to the award's payout. Runs on SQLite and
PostgreSQL."""

from __future__ import annotations

import re

import httpx
from sqlalchemy import insert, update

from contracts.evaluation import AwardApproved
from services.evaluation.db.models import applications
from services.payments.db.models import payouts as payout_rows
from services.payments.payouts import on_award_approved
from services.runtime import clock
from services.runtime.roles import Role
from tests.support.platform import Platform, running
from tests.support.registry import PDF, PROOF, contract, world
from tests.support.vouchers import uid
from tests.support.portal import as_party, gateway, post, text_of, tracked

SERVICES = ["registry", "vouchers"]  # the order page reads the voucher applications


async def seen(c: httpx.AsyncClient, order_id: str) -> tuple[str, str, str, list[str]]:
    """What the order page shows: its case number, the current step, the next-step
    sentence and the steps done."""
    html = (await c.get(f"/orders/{order_id}")).text
    tracker = re.search(r'<div class="tracker[^"]*" id="order-progress" data-kind="order">(.*?)</div>', html, re.DOTALL)
    assert tracker, "no step tracker on the order page"
    current = re.findall(r'<li class="step-(?:current|failed)" aria-current="step">(.*?)</li>', tracker.group(1))
    assert len(current) == 1, tracker.group(1)
    done = [text_of(x).split("：", 1)[1] for x in re.findall(r'<li class="step-done">(.*?)</li>', tracker.group(1))]
    next_text = re.search(r'<span class="next-text">([^<]+)</span>', tracker.group(1))
    case_no = re.search(r'<span id="case-no">([^<]+)</span>', html)
    assert next_text and case_no
    return case_no.group(1), text_of(current[0]).split("：", 1)[1], next_text.group(1), done


async def test_the_order_page_tracks_an_order_from_placed_to_signed(make_settings) -> None:
    settings = await make_settings(SERVICES)
    async with running(Platform(settings, SERVICES), worker=False, relay=False) as p, gateway(p) as c:
        w = await world(p)
        oid = await w.order()

        as_party(c, p, Role.USER, w.user)
        case_no, current, next_text, done = await seen(c, oid)
        assert re.fullmatch(r"DD-\d{4}-\d{6}", case_no)
        assert (current, next_text, done) == ("单位报价", "等待服务单位确认订单并报价", ["提交订单"])
        as_party(c, p, Role.UNIT, w.unit)
        assert (await seen(c, oid))[1:3] == ("单位报价", "请确认订单并填写报价")

        # the unit quotes with the page's form
        r = await post(c, f"/orders/{oid}", f"/orders/{oid}/quote", {"amount": "600.00", "note": "含前处理", "reason": "含样品前处理和加急检测"})
        assert r.status_code == 303, r.text
        assert (await seen(c, oid))[1:] == ("签订合同", "请上传服务合同和科技研发证明材料，填写合同条款后签署合同", ["提交订单", "单位报价"])

        # the contract's documents and terms, then the user signs on the page
        doc = (await w.upload(oid, "contract", PDF)).json()["document_id"]
        proof = (await w.upload(oid, "rd_proof", PROOF, by="unit", filename="proof.png")).json()["document_id"]
        assert (await w.as_user("PUT", f"/v1/orders/{oid}/contract", json=contract(doc, proof))).status_code == 200
        as_party(c, p, Role.USER, w.user)
        version = str((await w.as_user("GET", f"/v1/orders/{oid}")).json()["version"])
        assert (await post(c, f"/orders/{oid}", f"/orders/{oid}/sign", {"version": version, "confirm": "1"})).status_code == 303
        assert (await seen(c, oid))[1:3] == ("签订合同", "您已签署合同，等待服务单位签署")
        as_party(c, p, Role.UNIT, w.unit)
        assert (await seen(c, oid))[2] == "请上传服务合同和科技研发证明材料，填写合同条款后签署合同"

        # the unit signs: the order is contracted, the tracker moves on for both
        version = str((await w.as_unit("GET", f"/v1/orders/{oid}")).json()["version"])
        assert (await post(c, f"/orders/{oid}", f"/orders/{oid}/sign", {"version": version, "confirm": "1"})).status_code == 303
        assert (await seen(c, oid))[1:] == ("开展服务", "合同已签订，请开始服务", ["提交订单", "单位报价", "签订合同"])
        as_party(c, p, Role.USER, w.user)
        assert (await seen(c, oid))[1:3] == ("开展服务", "合同已签订：可申请创新券，等待服务单位开始服务")
        # and in English, the same step in the user's language
        english = (await c.get(f"/orders/{oid}?lang=en")).text
        assert "Contract signed: you may apply for a voucher" in english and 'aria-current="step"><span class="sr">current step：</span>Service</li>' in english
        await c.get(f"/orders/{oid}?lang=zh")


async def test_a_cancelled_order_ends_on_a_failed_step(make_settings) -> None:
    settings = await make_settings(SERVICES)
    async with running(Platform(settings, SERVICES), worker=False, relay=False) as p, gateway(p) as c:
        w = await world(p)
        oid = await w.quoted()
        as_party(c, p, Role.USER, w.user)
        r = await post(c, f"/orders/{oid}", f"/orders/{oid}/cancel", {"reason": "项目调整，不再需要检测"})
        assert r.status_code == 303, r.text
        case_no, current, next_text, done = await seen(c, oid)
        assert (current, next_text, done) == ("订单已取消", "订单已取消，无需进一步操作", ["提交订单", "单位报价"])
        html = (await c.get(f"/orders/{oid}")).text
        assert '<li class="step-failed" aria-current="step">' in html and "签订合同" not in text_of(html.split('id="order-progress"')[1].split("</div>")[0])


async def test_the_units_evaluation_page_tracks_grading_notice_and_award_payout(make_settings) -> None:
    """The unit's evaluation page: from the experts' review to the final grade,
    then the award's payout as payments owes and pays it (set-up steps the
    portal does not offer are done on the services' databases)."""
    services = ["registry", "evaluation", "payments"]
    settings = await make_settings(services)
    async with running(Platform(settings, services), worker=False, relay=False) as p, gateway(p) as c:
        unit, year, app_id = uid(), clock.local_year(), uid()
        async with p["evaluation"].db.sessions() as s, s.begin():
            await s.execute(insert(applications).values(id=app_id, unit_id=unit, year=year, status="forwarded", materials=[], submitted_at=clock.utc_now(), version=1))
        as_party(c, p, Role.UNIT, unit)

        async def tracker() -> tuple[str | None, str]:
            return tracked((await c.get("/unit/evaluation")).text, "evaluation-progress")

        assert await tracker() == ("专家评审", "形式审查已通过，等待专家评审")
        async with p["evaluation"].db.sessions() as s, s.begin():
            await s.execute(update(applications).where(applications.c.id == app_id).values(status="final", grade="good", total_centi=8200))
        assert await tracker() == ("奖补拨付", "公示期满，等待奖补方案审批和资金拨付")

        # the award approved: payments owes it, then pays it
        award = AwardApproved(award_id=uid(), unit_id=unit, year=year, grade="good", amount_fen=3_000_000, notice_id=f"n-{unit}")
        async with p["payments"].db.unit_of_work() as uow:
            await on_award_approved(uow, award)
        assert await tracker() == ("奖补拨付", "奖补已核定，等待财务拨付")
        async with p["payments"].db.sessions() as s, s.begin():
            await s.execute(update(payout_rows).where(payout_rows.c.unit_id == unit).values(status="paid"))
        assert await tracker() == (None, "奖补资金已拨付，本年度评价完成")
