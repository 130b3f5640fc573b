"""Vouchers after issue, on both databases with a real NATS: a unit's refusal
with its reason (R19(2)), revocation on a cancelled order, a blacklisting or a
disqualification (R26, R27) releasing the reservation exactly once, and the
worker's periodic expiry (R16, R21)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import func, select, update

from contracts import registry as ev
from contracts.envelope import Event, encode
from services.runtime.roles import Role
from services.runtime.bus.connect import connect_nats
from services.vouchers.db.models import vouchers
from tests.support.platform import Platform, running
from tests.support.polling import eventually
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


async def publish(p: Platform, event: Event, msg_id: str | None = None) -> None:
    """Publish as the registry would; a different ``msg_id`` makes JetStream
    deliver the same event again (a redelivery the inbox must absorb)."""
    nc = await connect_nats(p.settings.bus("operator"), "test-registry")
    try:
        await nc.jetstream().publish(type(event).subject, encode(event), headers={"Nats-Msg-Id": msg_id or event.event_id})
    finally:
        await nc.close()


async def issue(p: Platform, user: str, order: str) -> str:
    return (await approve(p, (await submit(p, user, order))["application_id"])).json()["voucher_id"]


async def voucher(p: Platform, vid: str) -> dict[str, Any]:
    return (await call(p, "GET", f"/v1/vouchers/{vid}", Role.CENTER, status=200)).json()


async def status_is(p: Platform, vid: str, status: str) -> bool:
    async with p["vouchers"].db.read() as s:
        return (await s.execute(select(vouchers.c.status).where(vouchers.c.id == vid))).scalar_one() == status


async def subjects(p: Platform) -> list[str]:
    outbox = p["vouchers"].db.metadata.tables["outbox"]
    async with p["vouchers"].db.read() as s:
        return list((await s.execute(select(outbox.c.subject))).scalars())


async def committed(p: Platform, user: str) -> int:
    return (await call(p, "GET", f"/v1/accounts/{YEAR}", Role.USER, org=user, status=200)).json()["committed_fen"]


async def test_refusal_needs_a_reason_and_leaves_the_voucher_usable(make_settings) -> None:
    settings = await make_settings(["vouchers"])
    async with running(Platform(settings, ["vouchers"])) as p:
        reg = Registry(p)
        unit, other_unit = reg.unit(), reg.unit()
        user = reg.user()
        order = reg.order(user, unit)
        await reg.flush()
        await open_programme(p)
        await activate(p, user)
        vid = await issue(p, user, order)
        path = f"/v1/vouchers/{vid}/refuse"

        await call(p, "POST", path, Role.UNIT, org=unit, json={}, status=400)
        await call(p, "POST", path, Role.UNIT, org=unit, json={"reason": ""}, status=400)
        r = await call(p, "POST", path, Role.UNIT, org=unit, json={"reason": "   "}, status=400)
        assert r.json()["code"] == "voucher.refusal_reason_required"
        await call(p, "POST", path, Role.UNIT, org=unit, json={"reason": "x" * 2001}, status=400)
        await call(p, "POST", path, Role.UNIT, org=other_unit, json={"reason": "不接收"}, status=404)
        await call(p, "POST", f"/v1/vouchers/{uid()}/refuse", Role.UNIT, org=unit, json={"reason": "不接收"}, status=404)
        await call(p, "POST", path, Role.USER, org=user, json={"reason": "不接收"}, status=403)
        await call(p, "POST", path, Role.CENTER, json={"reason": "不接收"}, status=403)

        done = (await call(p, "POST", path, Role.UNIT, org=unit, json={"reason": "仪器检修，暂停对外服务"}, status=200)).json()
        assert done["status"] == "issued" and [x["reason"] for x in done["refusals"]] == ["仪器检修，暂停对外服务"]
        assert done["refusals"][0]["unit_id"] == unit and done["refusals"][0]["by"].startswith("unit:")
        await call(p, "POST", path, Role.UNIT, org=unit, json={"reason": "x" * 2000}, status=200)
        for role, org in ((Role.USER, user), (Role.UNIT, unit), (Role.CENTER, None), (Role.BUREAU, None)):
            seen = (await call(p, "GET", f"/v1/vouchers/{vid}", role, org=org, status=200)).json()
            assert len(seen["refusals"]) == 2 and seen["status"] == "issued", role
        await call(p, "GET", f"/v1/vouchers/{vid}", Role.UNIT, org=other_unit, status=403)
        assert (await programme(p))["committed_fen"] == 300_000

        out = await subjects(p)
        assert out.count("vouchers.voucher.refused.v1") == 2
        audit = p["vouchers"].db.metadata.tables["audit_log"]
        async with p["vouchers"].db.read() as s:
            reasons = (await s.execute(select(audit.c.reason).where(audit.c.action == "voucher.refuse", audit.c.object_id == vid))).scalars().all()
        assert "仪器检修，暂停对外服务" in reasons

        used = (await call(p, "POST", f"/v1/vouchers/{vid}/use", Role.UNIT, org=unit, json={"order_id": order}, status=200)).json()
        assert used["status"] == "used"
        r = await call(p, "POST", path, Role.UNIT, org=unit, json={"reason": "已使用"}, status=409)
        assert r.json()["code"] == "voucher.not_issued"


def cancelled(order: ev.OrderContracted, version: int) -> ev.OrderCancelled:
    return ev.OrderCancelled(
        order_id=order.order_id, version=version, user_id=order.user_id, unit_id=order.unit_id, instrument_ids=order.instrument_ids, status="cancelled",
        amount_fen=order.amount_fen, testing_fee_fen=order.testing_fee_fen, purpose=order.purpose, contract_sha256=order.contract_sha256,
        provincial_subsidy=order.provincial_subsidy, reason="用户取消",
    )


async def test_cancelled_order_revokes_once_and_reopens_the_programme(make_settings) -> None:
    settings = await make_settings(["vouchers"])
    async with running(Platform(settings, ["vouchers"])) as p:
        reg = Registry(p)
        unit = reg.unit()
        user = reg.user()
        first, second = reg.order(user, unit), reg.order(user, unit)
        contracted = next(e for e in reg.events if isinstance(e, ev.OrderContracted) and e.order_id == first)
        await reg.flush()
        await open_programme(p, 600_000)
        await activate(p, user)
        v1, v2 = await issue(p, user, first), await issue(p, user, second)
        prog = await programme(p)
        assert prog["committed_fen"] == 600_000 and prog["open"] is False and prog["closed_reason"] == "budget_committed"

        event = cancelled(contracted, 4)
        await publish(p, event)
        await publish(p, event, msg_id=f"again:{event.event_id}")  # the same event delivered twice
        await publish(p, cancelled(contracted, 5))  # and a second event about the same order
        worker = p["vouchers"].worker
        assert worker is not None
        await eventually(lambda: worker.outcomes.get("duplicate", 0) >= 1)
        inbox = p["vouchers"].db.metadata.tables["inbox"]

        async def all_seen() -> bool:
            async with p["vouchers"].db.read() as s:
                return (await s.execute(select(func.count()).select_from(inbox).where(inbox.c.subject == ev.OrderCancelled.subject))).scalar_one() == 2

        await eventually(all_seen)

        gone = await voucher(p, v1)
        assert gone["status"] == "revoked" and gone["revoked_reason"] == "order_cancelled" and gone["revoked_at"]
        assert (await voucher(p, v2))["status"] == "issued"
        prog = await programme(p)
        assert prog["committed_fen"] == 300_000 and prog["open"] is True and prog["closed_reason"] is None
        assert await committed(p, user) == 300_000
        out = await subjects(p)
        assert out.count("vouchers.voucher.revoked.v1") == 1 and out.count("vouchers.programme.opened.v1") == 2
        r = await call(p, "POST", f"/v1/vouchers/{v1}/use", Role.UNIT, org=unit, json={"order_id": first}, status=409)
        assert r.json()["code"] == "voucher.revoked"


async def test_blacklisting_and_disqualification_revoke_unused_vouchers(make_settings) -> None:
    settings = await make_settings(["vouchers"])
    async with running(Platform(settings, ["vouchers"])) as p:
        reg = Registry(p)
        unit, listed_unit, disqualified_unit = reg.unit(), reg.unit(), reg.unit()
        listed_user, user2, user3 = reg.user(), reg.user(), reg.user()
        kept_order, used_order = reg.order(listed_user, unit), reg.order(listed_user, unit)
        unit_order, dq_order = reg.order(user2, listed_unit), reg.order(user3, disqualified_unit)
        await reg.flush()
        await open_programme(p)
        for u in (listed_user, user2, user3):
            await activate(p, u)
        v_user, v_used = await issue(p, listed_user, kept_order), await issue(p, listed_user, used_order)
        v_unit, v_dq = await issue(p, user2, unit_order), await issue(p, user3, dq_order)
        await call(p, "POST", f"/v1/vouchers/{v_used}/use", Role.UNIT, org=unit, json={"order_id": used_order}, status=200)
        assert (await programme(p))["committed_fen"] == 1_200_000

        reg.blacklist("user", listed_user)
        reg.blacklist("user", listed_user)  # a second entry for the same party revokes nothing more
        reg.blacklist("unit", listed_unit)
        await reg.flush()
        await eventually(lambda: status_is(p, v_user, "revoked"))
        await eventually(lambda: status_is(p, v_unit, "revoked"))
        await publish(
            p,
            ev.UnitDisqualified(unit_id=disqualified_unit, version=9, name="单位", credit_code="12410000MB0000000X", kind="university", status="disqualified",
                                accepts_vouchers=False, reason="虚假服务"),
        )
        await eventually(lambda: status_is(p, v_dq, "revoked"))

        assert (await voucher(p, v_user))["revoked_reason"] == "blacklisted"
        assert (await voucher(p, v_unit))["revoked_reason"] == "blacklisted"
        assert (await voucher(p, v_dq))["revoked_reason"] == "unit_disqualified"
        assert (await voucher(p, v_used))["status"] == "used"  # left for clawback
        assert (await programme(p))["committed_fen"] == 300_000  # only the used voucher's amount stays committed
        assert await committed(p, listed_user) == 300_000
        assert await committed(p, user2) == 0 and await committed(p, user3) == 0
        assert (await subjects(p)).count("vouchers.voucher.revoked.v1") == 3
        audit = p["vouchers"].db.metadata.tables["audit_log"]
        async with p["vouchers"].db.read() as s:
            rows = (await s.execute(select(audit.c.reason, audit.c.actor_role).where(audit.c.action == "voucher.revoke"))).all()
        assert sorted(rows) == [("blacklisted", "system"), ("blacklisted", "system"), ("unit_disqualified", "system")]


async def test_the_worker_expires_vouchers_periodically(make_settings) -> None:
    settings = await make_settings(["vouchers"], voucher_expiry_interval_s=0.05)
    async with running(Platform(settings, ["vouchers"])) as p:
        reg = Registry(p)
        unit = reg.unit()
        user = reg.user()
        order = reg.order(user, unit)
        await reg.flush()
        await open_programme(p)
        await activate(p, user)
        vid = await issue(p, user, order)
        worker = p["vouchers"].worker
        assert worker is not None and worker.periodic[0].interval_s == 0.05
        await eventually(lambda: worker.periodic_runs.get("expire_vouchers", 0) >= 2)
        assert await status_is(p, vid, "issued")
        async with p["vouchers"].db.unit_of_work() as uow:  # its time is up
            await uow.session.execute(update(vouchers).where(vouchers.c.id == vid).values(expires_at=datetime.now(UTC) - timedelta(seconds=1)))
        await eventually(lambda: status_is(p, vid, "expired"))
        assert (await programme(p))["committed_fen"] == 0 and await committed(p, user) == 0
        tasks = list(worker._periodic_tasks)
        assert tasks
    assert all(t.done() for t in tasks)  # stopped with the worker
