"""Policy fidelity of the voucher rules (issue 15 §2), on both databases:
R15 停止申用 at submission, R22 one application per contract (its document
and parties, not its order), R21 the natural year at use and at approval,
R19(2) an overturn re-runs the hard rules."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from contracts.commands import UseVoucher
from services.runtime import clock
from services.runtime.roles import Role
from services.vouchers import issued
from services.vouchers.db.models import applications, vouchers
from services.vouchers.domain.applications import expires_at
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
)

VOUCHER = 300_000  # 30% of the default 1,000,000 fen testing fee
STOPPED_ZH = "本年度创新券预算已用完，停止申用"


async def _applications_on(p: Platform, order_id: str) -> int:
    async with p["vouchers"].db.read() as s:
        return (await s.execute(select(func.count()).select_from(applications).where(applications.c.order_id == order_id))).scalar_one()


@pytest.mark.parametrize("auto_approve", [False, True], ids=["reviewed", "auto_approved"])
async def test_r15_applications_stop_once_the_budget_is_committed(make_settings, auto_approve: bool) -> None:
    """The application that exactly fits what is left is accepted; the next is
    refused at submission with 停止申用, and nothing of it is recorded."""
    settings = await make_settings(["vouchers"])
    async with running(Platform(settings, ["vouchers"])) as p:
        reg = Registry(p)
        unit = reg.unit()
        first, second = reg.user(), reg.user()
        o1, o2, o3 = reg.order(first, unit), reg.order(second, unit), reg.order(second, unit)
        await reg.flush()
        await open_programme(p, 2 * VOUCHER, auto_approve=auto_approve)
        await activate(p, first)
        await activate(p, second)

        for user, order in ((first, o1), (second, o2)):  # the second exactly fits the remaining budget
            app = await submit(p, user, order)
            assert app["failures"] == [] and app["amount_fen"] == VOUCHER
            if not auto_approve:
                assert (await approve(p, app["application_id"])).json()["amount_fen"] == VOUCHER
        prog = await programme(p)
        assert prog["remaining_fen"] == 0 and prog["closed_reason"] == "budget_committed"

        r = await call(p, "POST", "/v1/applications/", Role.USER, org=second, json={"order_id": o3}, status=409)
        body = r.json()
        assert body["code"] == "voucher.budget_exhausted" and body["message_zh"] == STOPPED_ZH and "stopped" in body["message_en"]
        assert await _applications_on(p, o3) == 0  # refused, not recorded with a failure


async def test_r22_one_application_per_contract_whatever_its_outcome(make_settings) -> None:
    settings = await make_settings(["vouchers"])
    async with running(Platform(settings, ["vouchers"])) as p:
        reg = Registry(p)
        unit, other_unit = reg.unit(), reg.unit()
        user = reg.user()
        contract = "ab" * 32
        rejected = reg.order(user, unit, purpose="statutory_testing", contract=contract)
        same_contract = reg.order(user, unit, contract=contract)  # a new order carrying the same contract file and parties
        other_parties = reg.order(user, other_unit, contract=contract)  # the same file between other parties: another contract
        await reg.flush()
        await open_programme(p)
        await activate(p, user)

        app = await submit(p, user, rejected)
        await call(p, "POST", f"/v1/applications/{app['application_id']}/reject", Role.CENTER, json={"reason": "法定检测不支持"}, status=200)
        r = await call(p, "POST", "/v1/applications/", Role.USER, org=user, json={"order_id": same_contract}, status=409)
        body = r.json()
        assert body["code"] == "voucher.contract_already_used" and body["message_zh"] and body["message_en"]
        assert await _applications_on(p, same_contract) == 0
        assert (await submit(p, user, other_parties))["failures"] == []
        # the remedy is the appeal, on the same application
        await call(p, "POST", f"/v1/applications/{app['application_id']}/appeal", Role.USER, org=user, json={"reason": "请复议"}, status=200)


async def test_r22_batched_path_refuses_a_rejected_contract_on_a_new_order(make_settings) -> None:
    """The batched auto-approval path applies the same rule (one domain function)."""
    settings = await make_settings(["vouchers"])
    async with running(Platform(settings, ["vouchers"])) as p:
        reg = Registry(p)
        unit = reg.unit()
        user = reg.user()
        contract = "cd" * 32
        failing = reg.order(user, unit, purpose="statutory_testing", contract=contract)
        again = reg.order(user, unit, contract=contract)
        await reg.flush()
        await open_programme(p, auto_approve=True)
        await activate(p, user)

        app = await submit(p, user, failing)
        assert app["status"] == "submitted" and app["failures"] == ["voucher.statutory_testing"]
        await call(p, "POST", f"/v1/applications/{app['application_id']}/reject", Role.CENTER, json={"reason": "法定检测不支持"}, status=200)
        r = await call(p, "POST", "/v1/applications/", Role.USER, org=user, json={"order_id": again}, status=409)
        assert r.json()["code"] == "voucher.contract_already_used"
        assert await _applications_on(p, again) == 0
        assert (await programme(p))["committed_fen"] == 0


async def test_r21_a_voucher_past_expires_at_is_refused_at_use_before_any_sweep(make_settings, monkeypatch: pytest.MonkeyPatch) -> None:
    settings = await make_settings(["vouchers"])
    async with running(Platform(settings, ["vouchers"])) as p:
        reg = Registry(p)
        unit = reg.unit()
        user = reg.user()
        late, last_instant = reg.order(user, unit), reg.order(user, unit)
        await reg.flush()
        await open_programme(p)
        await activate(p, user)
        vids = {o: (await approve(p, (await submit(p, user, o))["application_id"])).json()["voucher_id"] for o in (late, last_instant)}

        end = expires_at(YEAR)  # 00:00 on 1 January, Asia/Shanghai
        monkeypatch.setattr(clock, "utc_now", lambda: end - timedelta(microseconds=1))
        used = (await call(p, "POST", f"/v1/vouchers/{vids[last_instant]}/use", Role.UNIT, org=unit, json={"order_id": last_instant}, status=200)).json()
        assert used["status"] == "used"

        monkeypatch.setattr(clock, "utc_now", lambda: end)
        r = await call(p, "POST", f"/v1/vouchers/{vids[late]}/use", Role.UNIT, org=unit, json={"order_id": late}, status=409)
        assert r.json()["code"] == "voucher.expired"
        reply = await issued.answer_use_voucher(p["vouchers"].db, UseVoucher(voucher_id=vids[late], order_id=late, unit_id=unit, settlement_id="s-1"))
        assert not reply.ok and reply.code == "voucher.expired"
        async with p["vouchers"].db.read() as s:  # no sweep has run: the voucher is still "issued", and unused
            assert (await s.execute(select(vouchers.c.status).where(vouchers.c.id == vids[late]))).scalar_one() == "issued"


async def test_r21_an_application_is_never_approved_after_its_year(make_settings, monkeypatch: pytest.MonkeyPatch) -> None:
    settings = await make_settings(["vouchers"])
    async with running(Platform(settings, ["vouchers"])) as p:
        reg = Registry(p)
        unit, refuser = reg.unit(), reg.unit(accepts=False)
        user = reg.user()
        december, in_time, appealed = reg.order(user, unit), reg.order(user, unit), reg.order(user, refuser)
        await reg.flush()
        await open_programme(p)
        await activate(p, user)
        apps = {o: (await submit(p, user, o))["application_id"] for o in (december, in_time, appealed)}
        await call(p, "POST", f"/v1/applications/{apps[appealed]}/reject", Role.CENTER, json={"reason": "单位未获准"}, status=200)
        await call(p, "POST", f"/v1/applications/{apps[appealed]}/appeal", Role.USER, org=user, json={"reason": "请复议"}, status=200)

        end = expires_at(YEAR)
        monkeypatch.setattr(clock, "utc_now", lambda: end - timedelta(microseconds=1))  # 23:59:59.999999 on 31 December
        done = (await approve(p, apps[in_time])).json()
        assert done["status"] == "approved"
        v = (await call(p, "GET", f"/v1/vouchers/{done['voucher_id']}", Role.USER, org=user, status=200)).json()
        assert v["status"] == "issued"

        monkeypatch.setattr(clock, "utc_now", lambda: end)  # 00:00 on 1 January
        r = await approve(p, apps[december])
        assert r.status_code == 409 and r.json()["code"] == "voucher.year_ended" and r.json()["message_zh"] and r.json()["message_en"]
        r = await call(p, "POST", f"/v1/applications/{apps[appealed]}/appeal/decide", Role.BUREAU, json={"outcome": "overturn", "reason": "x"}, status=409)
        assert r.json()["code"] == "voucher.year_ended"
        assert (await programme(p))["committed_fen"] == VOUCHER  # only the one decided in its year
        async with p["vouchers"].db.read() as s:
            assert (await s.execute(select(func.count()).select_from(vouchers).where(vouchers.c.expires_at <= end))).scalar_one() == 1
            assert (await s.execute(select(func.count()).select_from(vouchers))).scalar_one() == 1


async def test_r19_an_overturn_reruns_the_hard_rules(make_settings) -> None:
    """The user became ineligible (R4: its verification withdrawn) between the
    rejection and the appeal: the overturn is refused with the rule's code."""
    settings = await make_settings(["vouchers"])
    async with running(Platform(settings, ["vouchers"])) as p:
        reg = Registry(p)
        unit = reg.unit()
        user = reg.user()
        order = reg.order(user, unit)
        await reg.flush()
        await open_programme(p)
        await activate(p, user)
        aid = (await submit(p, user, order))["application_id"]
        await call(p, "POST", f"/v1/applications/{aid}/reject", Role.CENTER, json={"reason": "合同真实性存疑"}, status=200)
        await call(p, "POST", f"/v1/applications/{aid}/appeal", Role.USER, org=user, json={"reason": "请复议"}, status=200)

        reg.user(user_id=user, verified=False, version=5)  # the center withdrew the verification
        await reg.flush()  # until vouchers holds version 5 of the user
        r = await call(p, "POST", f"/v1/applications/{aid}/appeal/decide", Role.BUREAU, json={"outcome": "overturn", "reason": "经核实予以支持"}, status=422)
        assert r.json()["code"] == "voucher.user_not_verified" and r.json()["message_zh"] and r.json()["message_en"]
        assert (await call(p, "GET", f"/v1/applications/{aid}", Role.USER, org=user, status=200)).json()["status"] == "appealed"
        assert (await programme(p))["committed_fen"] == 0


async def test_r22_concurrent_submissions_of_one_contract_yield_one_application(make_settings) -> None:
    """Two orders carrying the same contract, submitted at the same instant by
    their user, many times over: exactly one application per contract."""
    import asyncio

    settings = await make_settings(["vouchers"])
    async with running(Platform(settings, ["vouchers"])) as p:
        reg = Registry(p)
        unit = reg.unit()
        user = reg.user()
        pairs = [(reg.order(user, unit, contract=f"{n:02x}" * 32), reg.order(user, unit, contract=f"{n:02x}" * 32)) for n in range(8)]
        await reg.flush()
        await open_programme(p)
        await activate(p, user)
        for first, second in pairs:
            answers = await asyncio.gather(*(p.call("vouchers", "POST", "/v1/applications/", role=Role.USER, org=user, json={"order_id": o}) for o in (first, second)))
            assert sorted(r.status_code for r in answers) == [201, 409], [r.text for r in answers]
            assert next(r for r in answers if r.status_code == 409).json()["code"] == "voucher.contract_already_used"
            assert await _applications_on(p, first) + await _applications_on(p, second) == 1
