"""Vouchers end to end on both databases with a real NATS: registry facts are
published straight to JetStream (no registry service), the read models catch
up, and programmes, accounts, applications, appeals and vouchers run over HTTP
(R4–R6, R15–R22, R26)."""

from __future__ import annotations

import asyncio
import hashlib
from datetime import datetime, timedelta

import pytest
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from contracts.envelope import decode
from contracts.vouchers import AppealDecided, ApplicationRejected
from services.runtime.roles import Role
from services.vouchers.db.models import (
    programmes,
)
from services.vouchers.domain.applications import expires_at
from services.vouchers.issued import expire_vouchers
from tests.support.platform import Platform, running
from tests.support.vouchers import (
    YEAR,
    Registry,
    activate,
    approve,
    call,
    open_programme,
    programme,
    submit,
    uid,
)


async def test_submit_approve_issue_use(make_settings) -> None:
    settings = await make_settings(["vouchers"])
    async with running(Platform(settings, ["vouchers"])) as p:
        reg = Registry(p)
        unit, other_unit = reg.unit(), reg.unit()
        user = reg.user()
        order = reg.order(user, unit, fee=333_333)
        other_order = reg.order(user, unit)
        await reg.flush()

        prog = await open_programme(p, 10_000_000)
        assert prog["rate_bp"] == 3000 and prog["cap_fen"] == 5_000_000 and prog["open"] and prog["remaining_fen"] == 10_000_000
        account = await activate(p, user)
        assert account["cap_fen"] == 5_000_000 and account["committed_fen"] == 0
        await call(p, "POST", f"/v1/accounts/{YEAR}", Role.USER, org=user, status=409)

        app = await submit(p, user, order)
        assert app["status"] == "submitted" and app["failures"] == [] and app["amount_fen"] == 99_999  # 30% of 3,333.33 CNY, rounded down
        r = await call(p, "POST", "/v1/applications/", Role.USER, org=user, json={"order_id": order}, status=409)
        assert r.json()["code"] == "voucher.contract_already_used"
        await call(p, "POST", "/v1/applications/", Role.USER, org=user, json={"order_id": order, "status": "approved"}, status=400)
        await call(p, "POST", "/v1/applications/", Role.USER, org=uid(), json={"order_id": order}, status=409)  # no account

        done = (await approve(p, app["application_id"])).json()
        assert done["status"] == "approved" and done["amount_fen"] == 99_999 and done["voucher_id"]
        r = await approve(p, app["application_id"])
        assert r.status_code == 409 and r.json()["code"] == "voucher.application_not_pending"
        assert (await programme(p))["committed_fen"] == 99_999
        assert (await call(p, "GET", f"/v1/accounts/{YEAR}", Role.USER, org=user, status=200)).json()["committed_fen"] == 99_999

        vid = done["voucher_id"]
        mine = (await call(p, "GET", "/v1/vouchers/", Role.USER, org=user, status=200)).json()
        assert mine["total"] == 1 and mine["items"][0]["voucher_id"] == vid and mine["items"][0]["status"] == "issued"
        assert mine["items"][0]["expires_at"].startswith(f"{YEAR}-12-31T16:00:00")  # 00:00 on 1 January, Asia/Shanghai
        assert (await call(p, "GET", "/v1/vouchers/", Role.UNIT, org=other_unit, status=200)).json()["total"] == 0
        assert (await call(p, "GET", "/v1/vouchers/", Role.UNIT, org=unit, status=200)).json()["total"] == 1
        assert (await call(p, "GET", "/v1/vouchers/", Role.USER, org=uid(), status=200)).json()["total"] == 0
        # one order's voucher (the unit's refusal on an order page reads it so): that order's, not the other's
        on_order = (await call(p, "GET", f"/v1/vouchers/?order_id={order}", Role.UNIT, org=unit, status=200)).json()
        assert [v["voucher_id"] for v in on_order["items"]] == [vid]
        assert (await call(p, "GET", f"/v1/vouchers/?order_id={other_order}", Role.UNIT, org=unit, status=200)).json()["total"] == 0

        r = await call(p, "POST", f"/v1/vouchers/{vid}/use", Role.UNIT, org=other_unit, json={"order_id": order}, status=404)
        assert r.json()["code"] == "voucher.not_found"  # another unit learns nothing of it
        r = await call(p, "POST", f"/v1/vouchers/{vid}/use", Role.UNIT, org=unit, json={"order_id": other_order}, status=409)
        assert r.json()["code"] == "voucher.not_bound"
        await call(p, "POST", f"/v1/vouchers/{vid}/use", Role.USER, org=user, json={"order_id": order}, status=403)
        used = (await call(p, "POST", f"/v1/vouchers/{vid}/use", Role.UNIT, org=unit, json={"order_id": order}, status=200)).json()
        assert used["status"] == "used" and used["used_at"]
        r = await call(p, "POST", f"/v1/vouchers/{vid}/use", Role.UNIT, org=unit, json={"order_id": order}, status=409)
        assert r.json()["code"] == "voucher.already_used"

        async with p["vouchers"].db.read() as s:
            subjects = (await s.execute(select(p["vouchers"].db.metadata.tables["outbox"].c.subject))).scalars().all()
            audit = p["vouchers"].db.metadata.tables["audit_log"]
            actions = (await s.execute(select(audit.c.action, audit.c.actor_role))).all()
        for name in ("programme.opened", "account.activated", "application.submitted", "application.approved", "voucher.issued", "voucher.used"):
            assert f"vouchers.{name}.v1" in subjects
        assert ("application.approve", "center") in actions and ("voucher.use", "unit") in actions


async def test_every_check_fails_on_its_own(make_settings) -> None:
    settings = await make_settings(["vouchers"])
    async with running(Platform(settings, ["vouchers"])) as p:
        reg = Registry(p)
        unit, not_acceptor = reg.unit(), reg.unit(accepts=False)
        university, second_unit = reg.unit(), reg.unit()
        college = reg.unit(parent=university)
        user, blacklisted, unverified_later, never_verified = reg.user(), reg.user(), reg.user(), reg.user(verified=False)
        reg.affiliation(user, university)
        reg.blacklist("user", blacklisted)
        good = reg.order(user, unit)
        cases = {
            "affiliated_with_unit": reg.order(user, college),  # a tie to the college's university
            "unit_not_acceptor": reg.order(user, not_acceptor),
            "statutory_testing": reg.order(user, unit, purpose="statutory_testing"),
            "testing_fee_not_listed": reg.order(user, unit, fee=0),
            # the same contract file, held by a pending application, between other parties
            # (between the same parties it is the same contract: refused at submission, R22)
            "contract_already_used": reg.order(user, second_unit, contract=hashlib.sha256(good.encode()).hexdigest()),
            "provincial_subsidy": reg.order(user, unit, subsidy=True),
        }
        bl_order = reg.order(blacklisted, unit)
        uv_order = reg.order(unverified_later, unit)
        await reg.flush()

        await open_programme(p)
        r = await call(p, "POST", f"/v1/accounts/{YEAR}", Role.USER, org=never_verified, status=422)
        assert r.json()["code"] == "voucher.user_not_verified" and r.json()["message_zh"] and r.json()["message_en"]
        for u in (user, blacklisted, unverified_later):
            await activate(p, u)
        assert (await submit(p, user, good))["failures"] == []

        apps = {check: await submit(p, user, order) for check, order in cases.items()}
        apps["user_blacklisted"] = await submit(p, blacklisted, bl_order)
        apps["user_not_verified"] = await submit(p, unverified_later, uv_order)
        assert apps["user_not_verified"]["failures"] == []
        reg.user(user_id=unverified_later, verified=False, version=5)  # the center withdrew the verification
        await reg.flush()  # until vouchers holds version 5 of the user

        for check, app in apps.items():
            if check != "user_not_verified":
                assert app["failures"] == [f"voucher.{check}"], (check, app)
            r = await approve(p, app["application_id"])
            assert r.status_code == 422, (check, r.text)
            body = r.json()
            assert body["code"] == f"voucher.{check}" and body["message_zh"] and body["message_en"]
            assert [f["code"] for f in body["details"]["failures"]] == [f"voucher.{check}"]
        assert (await programme(p))["committed_fen"] == 0
        # the first application on a contract holds it: the later one does not block it
        good_app = (await call(p, "GET", "/v1/applications/?status=submitted&page_size=100", Role.USER, org=user, status=200)).json()
        first = next(a for a in good_app["items"] if a["order_id"] == good)
        assert (await approve(p, first["application_id"])).status_code == 200
        await call(p, "GET", f"/v1/applications/{first['application_id']}", Role.USER, org=blacklisted, status=403)

        rejected = (await call(p, "POST", f"/v1/applications/{apps['statutory_testing']['application_id']}/reject", Role.CENTER, json={"reason": "法定检测不支持"}, status=200)).json()
        assert rejected["status"] == "rejected" and rejected["failures"] == ["voucher.statutory_testing"] and rejected["decision_reason"] == "法定检测不支持"
        # the event carries the center's reason and the last moment to appeal (the rejection plus the year's 15 days), for the applicant's notice
        outbox = p["vouchers"].db.metadata.tables["outbox"]
        async with p["vouchers"].db.read() as s:
            payload = (await s.execute(select(outbox.c.payload).where(outbox.c.subject == ApplicationRejected.subject))).scalar_one()
        event = decode(payload, ApplicationRejected)
        assert event.application_id == rejected["application_id"] and event.reason == "法定检测不支持" and event.reasons == ["voucher.statutory_testing"]
        assert event.appeal_until is not None and event.appeal_until - datetime.fromisoformat(rejected["decided_at"]) == timedelta(days=15)
        await call(p, "POST", f"/v1/applications/{apps['provincial_subsidy']['application_id']}/reject", Role.CENTER, json={}, status=400)  # a reason is required
        await call(p, "POST", f"/v1/applications/{apps['provincial_subsidy']['application_id']}/reject", Role.USER, org=user, json={"reason": "x"}, status=403)


async def test_cap_edge_and_budget_exhausted(make_settings) -> None:
    settings = await make_settings(["vouchers"])
    async with running(Platform(settings, ["vouchers"])) as p:
        reg = Registry(p)
        unit = reg.unit()
        user, other = reg.user(), reg.user()
        big = reg.order(user, unit, fee=16_666_664)  # 30% = 4,999,999.2 fen → 4,999,999
        edge = reg.order(user, unit, fee=1_000_000)
        over = reg.order(user, unit, fee=1_000_000)
        o1, o2, o3 = (reg.order(other, unit, fee=1_000_000) for _ in range(3))
        await reg.flush()
        await open_programme(p, 5_200_000)
        await activate(p, user)
        await activate(p, other)

        assert (await approve(p, (await submit(p, user, big))["application_id"])).json()["amount_fen"] == 4_999_999
        app = await submit(p, user, edge)
        assert app["amount_fen"] == 1  # 49,999.99 CNY committed: exactly 1 fen is left of the cap
        assert (await approve(p, app["application_id"])).json()["amount_fen"] == 1
        assert (await call(p, "GET", f"/v1/accounts/{YEAR}", Role.USER, org=user, status=200)).json()["remaining_fen"] == 0
        r = await approve(p, (await submit(p, user, over))["application_id"])
        assert r.status_code == 422 and r.json()["code"] == "voucher.cap_exhausted"

        # 200,000 fen of the budget remain: the next voucher gets only what is left, then the programme closes
        assert (await approve(p, (await submit(p, other, o1))["application_id"])).json()["amount_fen"] == 200_000
        prog = await programme(p)
        assert prog["remaining_fen"] == 0 and prog["open"] is False and prog["closed_reason"] == "budget_committed"
        r = await call(p, "POST", "/v1/applications/", Role.USER, org=other, json={"order_id": o2}, status=409)  # R15 停止申用
        assert r.json()["code"] == "voucher.budget_exhausted"

        r = await call(p, "PATCH", f"/v1/programmes/{YEAR}/budget", Role.FINANCE, json={"budget_fen": 5_000_000, "reason": "调减"}, status=409)
        assert r.json()["code"] == "voucher.budget_below_committed"
        await call(p, "PATCH", f"/v1/programmes/{YEAR}/budget", Role.USER, org=user, json={"budget_fen": 9_000_000, "reason": "x"}, status=403)
        prog = (await call(p, "PATCH", f"/v1/programmes/{YEAR}/budget", Role.FINANCE, json={"budget_fen": 5_500_000, "reason": "追加预算"}, status=200)).json()
        assert prog["open"] is True and prog["remaining_fen"] == 300_000
        assert (await approve(p, (await submit(p, other, o2))["application_id"])).json()["amount_fen"] == 300_000
        assert (await programme(p))["open"] is False
        r = await call(p, "POST", "/v1/applications/", Role.USER, org=other, json={"order_id": o3}, status=409)
        assert r.json()["code"] == "voucher.budget_exhausted"
        await call(p, "POST", "/v1/programmes/", Role.BUREAU, json={"year": YEAR, "budget_fen": 1}, status=409)


async def _concurrent_approvals(p: Platform) -> None:
    reg = Registry(p)
    unit = reg.unit()
    users = [reg.user() for _ in range(4)]
    orders = [(users[i % 4], reg.order(users[i % 4], unit, fee=1_000_000)) for i in range(20)]  # 300,000 fen each
    await reg.flush()
    await open_programme(p, 5 * 300_000)
    for u in users:
        await activate(p, u)
    apps = [await submit(p, u, o) for u, o in orders]
    results = await asyncio.gather(*(approve(p, a["application_id"]) for a in apps))
    ok = [r for r in results if r.status_code == 200]
    assert len(ok) == 5, [r.text for r in results]
    assert all(r.status_code == 422 and r.json()["code"] == "voucher.budget_exhausted" for r in results if r.status_code != 200)
    prog = await programme(p)
    issued = (await call(p, "GET", "/v1/vouchers/?page_size=100", Role.CENTER, status=200)).json()
    assert issued["total"] == 5 and sum(v["amount_fen"] for v in issued["items"]) == prog["committed_fen"] == 1_500_000 <= prog["budget_fen"]
    # and the database itself refuses an overspend (CHECK committed_fen <= budget_fen)
    with pytest.raises(IntegrityError):
        async with p["vouchers"].db.unit_of_work() as uow:
            await uow.session.execute(update(programmes).where(programmes.c.year == YEAR).values(committed_fen=programmes.c.budget_fen + 1))


async def test_concurrent_approvals_never_overspend(make_settings) -> None:
    settings = await make_settings(["vouchers"])
    async with running(Platform(settings, ["vouchers"])) as p:
        await _concurrent_approvals(p)


async def test_auto_approval_and_concurrent_submissions(make_settings) -> None:
    settings = await make_settings(["vouchers"])
    async with running(Platform(settings, ["vouchers"])) as p:
        reg = Registry(p)
        unit = reg.unit()
        user = reg.user()
        orders = [reg.order(user, unit, fee=1_000_000) for _ in range(8)]
        bad = reg.order(user, unit, purpose="statutory_testing")
        await reg.flush()
        await open_programme(p, 3 * 300_000, auto_approve=True)
        await activate(p, user)
        results = await asyncio.gather(*(call(p, "POST", "/v1/applications/", Role.USER, org=user, json={"order_id": o}) for o in orders))
        assert sorted(r.status_code for r in results) == [201] * 3 + [409] * 5
        assert all(r.json()["status"] == "approved" and r.json()["voucher_id"] for r in results if r.status_code == 201)
        assert all(r.json()["code"] == "voucher.budget_exhausted" for r in results if r.status_code == 409)  # R15 停止申用
        assert (await programme(p))["committed_fen"] == 900_000
        r = await call(p, "POST", "/v1/applications/", Role.USER, org=user, json={"order_id": bad}, status=409)
        assert r.json()["code"] == "voucher.budget_exhausted"


async def test_appeal_overturned_is_approved_under_the_budget(make_settings) -> None:
    """R19(2): the bureau overturns the center's judgement; a failing rule is not overturned."""
    settings = await make_settings(["vouchers"])
    async with running(Platform(settings, ["vouchers"])) as p:
        reg = Registry(p)
        unit, not_acceptor = reg.unit(), reg.unit(accepts=False)
        user, stranger = reg.user(), reg.user()
        order, second, refused = reg.order(user, unit), reg.order(user, unit), reg.order(user, not_acceptor)
        await reg.flush()
        await open_programme(p)
        await activate(p, user)
        app = await submit(p, user, order)
        aid = app["application_id"]
        await call(p, "POST", f"/v1/applications/{aid}/appeal", Role.USER, org=user, json={"reason": "x"}, status=409)  # not rejected yet
        await call(p, "POST", f"/v1/applications/{aid}/reject", Role.CENTER, json={"reason": "合同真实性存疑"}, status=200)
        await call(p, "POST", f"/v1/applications/{aid}/appeal", Role.USER, org=stranger, json={"reason": "x"}, status=403)
        filed = (await call(p, "POST", f"/v1/applications/{aid}/appeal", Role.USER, org=user, json={"reason": "已补充合同原件"}, status=200)).json()
        assert filed["status"] == "appealed" and filed["appealed_at"]
        await call(p, "POST", f"/v1/applications/{aid}/appeal/decide", Role.CENTER, json={"outcome": "overturn", "reason": "x"}, status=403)
        done = (await call(p, "POST", f"/v1/applications/{aid}/appeal/decide", Role.BUREAU, json={"outcome": "overturn", "reason": "经核实，合同真实"}, status=200)).json()
        assert done["status"] == "approved" and done["appeal_outcome"] == "overturn" and done["amount_fen"] == 300_000 and done["voucher_id"]
        assert (await programme(p))["committed_fen"] == 300_000
        await call(p, "POST", f"/v1/applications/{aid}/appeal", Role.USER, org=user, json={"reason": "again"}, status=409)

        # a failing rule (R18: the unit may not accept vouchers) is not a judgement: the overturn is refused with its code
        bad = (await submit(p, user, refused))["application_id"]
        await call(p, "POST", f"/v1/applications/{bad}/reject", Role.CENTER, json={"reason": "单位未获准接收创新券"}, status=200)
        await call(p, "POST", f"/v1/applications/{bad}/appeal", Role.USER, org=user, json={"reason": "请复议"}, status=200)
        r = await call(p, "POST", f"/v1/applications/{bad}/appeal/decide", Role.BUREAU, json={"outcome": "overturn", "reason": "x"}, status=422)
        assert r.json()["code"] == "voucher.unit_not_acceptor"
        assert (await call(p, "GET", f"/v1/applications/{bad}", Role.USER, org=user, status=200)).json()["status"] == "appealed"
        assert (await programme(p))["committed_fen"] == 300_000

        # uphold: stays rejected, and a second appeal is refused
        app2 = await submit(p, user, second)
        await call(p, "POST", f"/v1/applications/{app2['application_id']}/reject", Role.CENTER, json={"reason": "材料不全"}, status=200)
        await call(p, "POST", f"/v1/applications/{app2['application_id']}/appeal", Role.USER, org=user, json={"reason": "请复议"}, status=200)
        upheld = (await call(p, "POST", f"/v1/applications/{app2['application_id']}/appeal/decide", Role.BUREAU, json={"outcome": "uphold", "reason": "维持"}, status=200)).json()
        assert upheld["status"] == "rejected" and upheld["appeal_outcome"] == "uphold" and upheld["voucher_id"] is None
        # the events carry the outcome and the bureau's reason, for the applicant's notice
        outbox = p["vouchers"].db.metadata.tables["outbox"]
        async with p["vouchers"].db.read() as s:
            decided = [decode(e, AppealDecided) for e in (await s.execute(select(outbox.c.payload).where(outbox.c.subject == AppealDecided.subject))).scalars()]
        assert sorted((e.outcome, e.reason) for e in decided) == [("overturn", "经核实，合同真实"), ("uphold", "维持")]
        r = await call(p, "POST", f"/v1/applications/{app2['application_id']}/appeal", Role.USER, org=user, json={"reason": "再次"}, status=409)
        assert r.json()["code"] == "voucher.appeal_not_allowed"


async def test_expiry_releases_the_reservation(make_settings) -> None:
    settings = await make_settings(["vouchers"])
    async with running(Platform(settings, ["vouchers"])) as p:
        reg = Registry(p)
        unit = reg.unit()
        user = reg.user()
        order = reg.order(user, unit)
        await reg.flush()
        await open_programme(p)
        await activate(p, user)
        vid = (await approve(p, (await submit(p, user, order))["application_id"])).json()["voucher_id"]
        assert (await programme(p))["committed_fen"] == 300_000
        assert (await call(p, "POST", "/v1/vouchers/expire", Role.CENTER, status=200)).json()["expired"] == 0  # not yet
        await call(p, "POST", "/v1/vouchers/expire", Role.UNIT, org=unit, status=403)

        assert await expire_vouchers(p["vouchers"].db, expires_at(YEAR) - timedelta(microseconds=1)) == 0
        assert await expire_vouchers(p["vouchers"].db, expires_at(YEAR)) == 1
        assert await expire_vouchers(p["vouchers"].db, expires_at(YEAR) + timedelta(days=1)) == 0
        assert (await programme(p))["committed_fen"] == 0
        assert (await call(p, "GET", f"/v1/accounts/{YEAR}", Role.USER, org=user, status=200)).json()["committed_fen"] == 0
        r = await call(p, "POST", f"/v1/vouchers/{vid}/use", Role.UNIT, org=unit, json={"order_id": order}, status=409)
        assert r.json()["code"] == "voucher.expired"
        v = (await call(p, "GET", f"/v1/vouchers/{vid}", Role.USER, org=user, status=200)).json()
        assert v["status"] == "expired"
