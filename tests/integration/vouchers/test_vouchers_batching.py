"""Auto-approval under a rush, on both databases: concurrent submissions are
decided many per transaction (``application_batches``) and still never
overspend the budget or a cap, and every application gets its own answer."""

from __future__ import annotations

import asyncio

from sqlalchemy import func, select

from services.runtime.roles import Role
from services.vouchers import application_batches as apps_module
from services.vouchers.db.models import accounts, applications, programmes, vouchers
from tests.support.platform import Platform, running
from tests.support.vouchers import (
    YEAR,
    Registry,
    activate,
    call,
    open_programme,
)

VOUCHER = 300_000  # 30% of a 1,000,000 fen testing fee


async def test_rush_of_auto_approvals_never_overspends(make_settings) -> None:
    settings = await make_settings(["vouchers"])
    async with running(Platform(settings, ["vouchers"])) as p:
        reg = Registry(p)
        unit = reg.unit()
        users = [reg.user() for _ in range(100)]
        special = reg.user(classes=("high_tech",))
        orders = [(users[i % 100], reg.order(users[i % 100], unit, fee=1_000_000)) for i in range(200)]
        await reg.flush()
        await open_programme(p, 37 * VOUCHER, auto_approve=True, cap_fen=VOUCHER)  # one voucher per user's cap
        for u in [*users, special]:
            await activate(p, u)

        batcher_before = sum(b.batches for per in apps_module._BATCHERS.values() for b in per.values())
        results = await asyncio.gather(*(call(p, "POST", "/v1/applications/", Role.USER, org=u, json={"order_id": o}) for u, o in orders))
        assert all(r.status_code in (201, 409) for r in results), [r.text for r in results if r.status_code not in (201, 409)]
        # R15 停止申用: once the budget is committed, the rest are refused at submission
        refused = [r.json() for r in results if r.status_code == 409]
        assert refused and all(b["code"] == "voucher.budget_exhausted" for b in refused)
        bodies = [r.json() for r in results if r.status_code == 201]
        approved = [b for b in bodies if b["status"] == "approved"]
        others = [b for b in bodies if b["status"] != "approved"]
        assert len(approved) == 37
        assert all(b["voucher_id"] and b["amount_fen"] == VOUCHER and b["failures"] == [] for b in approved)
        assert all(b["status"] == "submitted" and b["amount_fen"] == 0 and b["voucher_id"] is None for b in others)
        assert all("voucher.cap_exhausted" in b["failures"] for b in others)
        # fewer transactions than applications: they were decided in batches
        batches = sum(b.batches for per in apps_module._BATCHERS.values() for b in per.values()) - batcher_before
        assert 0 < batches < len(orders)

        db = p["vouchers"].db
        async with db.read() as s:
            prog = (await s.execute(select(programmes).where(programmes.c.year == YEAR))).mappings().one()
            issued = (await s.execute(select(func.count(), func.coalesce(func.sum(vouchers.c.amount_fen), 0)).select_from(vouchers))).one()
            over_cap = (await s.execute(select(func.count()).select_from(accounts).where(accounts.c.committed_fen > accounts.c.cap_fen))).scalar_one()
            committed = dict((await s.execute(select(accounts.c.user_id, accounts.c.committed_fen))).all())
            per_user = dict((await s.execute(select(vouchers.c.user_id, func.sum(vouchers.c.amount_fen)).group_by(vouchers.c.user_id))).all())
            statuses = dict((await s.execute(select(applications.c.status, func.count()).group_by(applications.c.status))).all())
        assert issued[0] == 37 and issued[1] == prog["committed_fen"] == 37 * VOUCHER <= prog["budget_fen"]
        assert prog["open"] is False and prog["closed_reason"] == "budget_committed"
        assert over_cap == 0 and all(committed[u] == per_user.get(u, 0) <= VOUCHER for u in users)
        assert statuses == {"approved": 37, **({"submitted": len(others)} if others else {})}

        # the events: one ApplicationSubmitted per application, one ApplicationApproved and VoucherIssued per voucher
        outbox = db.metadata.tables["outbox"]
        async with db.read() as s:
            subjects = dict((await s.execute(select(outbox.c.subject, func.count()).group_by(outbox.c.subject))).all())
        assert subjects["vouchers.application.submitted.v1"] == len(bodies) == 200 - len(refused)
        assert subjects["vouchers.application.approved.v1"] == subjects["vouchers.voucher.issued.v1"] == 37
        assert subjects["vouchers.programme.closed.v1"] == 1

        # the budget is committed: a later rush is refused at submission, each on its own
        extra = reg.order(special, unit, fee=1_000_000)
        await reg.flush()
        late = await asyncio.gather(*(call(p, "POST", "/v1/applications/", Role.USER, org=special, json={"order_id": extra}) for _ in range(3)))
        assert [r.status_code for r in late] == [409] * 3 and all(r.json()["code"] == "voucher.budget_exhausted" for r in late)


async def test_duplicates_in_one_rush_are_refused_on_their_own(make_settings) -> None:
    settings = await make_settings(["vouchers"])
    async with running(Platform(settings, ["vouchers"])) as p:
        reg = Registry(p)
        unit = reg.unit()
        user = reg.user()
        order = reg.order(user, unit, fee=1_000_000)
        await reg.flush()
        await open_programme(p, 10 * VOUCHER, auto_approve=True)
        await activate(p, user)
        dup = await asyncio.gather(*(call(p, "POST", "/v1/applications/", Role.USER, org=user, json={"order_id": order}) for _ in range(3)))
        codes = sorted(r.status_code for r in dup)
        assert codes == [201, 409, 409], [r.text for r in dup]
        assert all(r.json()["code"] == "voucher.contract_already_used" for r in dup if r.status_code == 409)
        body = next(r.json() for r in dup if r.status_code == 201)
        assert body["status"] == "approved" and body["amount_fen"] == VOUCHER
