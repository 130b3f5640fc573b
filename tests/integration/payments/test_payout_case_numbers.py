"""Case numbers of payouts (拨付, issue 17): each payout gets BF-<year>-<n>
from payments' own counters when it becomes due, unique and consecutive also
when several become due at once, counted per Beijing year; a redelivered
award uses no number; the payout's record and its events carry it; it finds
the payout in the list, as typed, for staff and for its own unit only; and
the migration numbers the payouts made before it in the order they came."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from contracts import payments as pe
from contracts.evaluation import AwardApproved
from services.payments.db.models import payouts as payout_table
from services.runtime import clock
from services.runtime.roles import Role
from tests.support.case_numbers import backdate, migrate_again
from tests.support.platform import Platform, running
from tests.support.vouchers import uid
from tests.support.payout_orders import AWARD_YEAR, award, emitted, make_due

SERVICES = ["payments"]
YEAR = AWARD_YEAR


async def _case_no(p: Platform, e: AwardApproved) -> str:
    async with p["payments"].db.read() as s:
        return str((await s.execute(select(payout_table.c.case_no).where(payout_table.c.ref == e.award_id))).scalar_one())


async def test_payouts_due_together_get_distinct_consecutive_numbers_per_beijing_year(make_settings, monkeypatch: pytest.MonkeyPatch) -> None:
    settings = await make_settings(SERVICES)
    async with running(Platform(settings, SERVICES), worker=False, relay=False) as p:
        unit, other = uid(), uid()
        # 31 December 2025, 23:30 in Beijing (15:30 UTC): still 2025
        monkeypatch.setattr(clock, "utc_now", lambda: datetime(2025, 12, 31, 15, 30, tzinfo=UTC))
        first = award(unit)
        await make_due(p, first)
        assert await _case_no(p, first) == "BF-2025-000001"
        # 1 January 2026, 00:30 in Beijing: the new year counts from one; five due at once, and a redelivery
        monkeypatch.setattr(clock, "utc_now", lambda: datetime(2025, 12, 31, 16, 30, tzinfo=UTC))
        together = [award(unit if n % 2 else other) for n in range(5)]
        await asyncio.gather(*(make_due(p, e) for e in together))
        await make_due(p, together[0])  # redelivered: the same payout, no number used
        assert sorted([await _case_no(p, e) for e in together]) == [f"BF-2026-{n:06d}" for n in range(1, 6)]
        late = award(unit)
        await make_due(p, late)
        assert await _case_no(p, late) == "BF-2026-000006"

        # the record carries it, and it finds the payout as typed: staff, and its own unit; another unit nothing
        mine = await _case_no(p, late)
        typed = " " + mine.lower().replace("-", " -", 1) + " "
        for role, org in ((Role.CENTER, None), (Role.FINANCE, None), (Role.UNIT, unit)):
            found = await p.call("payments", "GET", "/v1/payouts/", role=role, org=org, params={"case_no": typed})
            assert found.status_code == 200 and [(i["ref"], i["case_no"]) for i in found.json()["items"]] == [(late.award_id, mine)], (role, found.text)
        other_unit = await p.call("payments", "GET", "/v1/payouts/", role=Role.UNIT, org=other, params={"case_no": mine})
        assert other_unit.status_code == 200 and other_unit.json()["total"] == 0

        # ordered and paid: both events carry it
        monkeypatch.setattr(clock, "utc_now", lambda: datetime(2026, 1, 5, 2, 0, tzinfo=UTC))
        r = await p.call("payments", "PUT", f"/v1/payees/{unit}", role=Role.UNIT, org=unit, json={"bank_name": "中国银行许昌分行", "account_name": "许昌某研究院", "account_number": "104123456789012"})
        assert r.status_code == 200, r.text
        order = await p.call("payments", "POST", "/v1/payment-orders/", role=Role.FINANCE, json={"year": YEAR})
        assert order.status_code == 201, order.text
        ordered = {i["payout_id"]: i["case_no"] for i in order.json()["payouts"]}
        assert len(ordered) == 4 and mine in ordered.values()
        assert {e.payout_id: e.case_no for e in await emitted(p, pe.PayoutOrdered)} == ordered
        pid = next(k for k, v in ordered.items() if v == mine)
        paid = await p.call("payments", "POST", f"/v1/payouts/{pid}/paid", role=Role.FINANCE, json={"bank_reference": "BOC-20260105-001"})
        assert paid.status_code == 201 and paid.json()["case_no"] == mine, paid.text
        assert [e.case_no for e in await emitted(p, pe.PayoutPaid)] == [mine]


async def test_the_migration_numbers_earlier_payouts_in_the_order_they_became_due(make_settings) -> None:
    settings = await make_settings(SERVICES)
    async with running(Platform(settings, SERVICES), worker=False, relay=False) as p:
        awards = [award(uid()) for _ in range(3)]
        for e in awards:
            await make_due(p, e)
        # due across a Beijing new year; the last made due is given the earliest time
        await backdate(p["payments"].db, payout_table.c.ref, payout_table.c.created_at, [e.award_id for e in awards])
    await migrate_again(settings, "payments", "5e2b8c41a9d7")
    async with running(Platform(settings, SERVICES), worker=False, relay=False) as p:
        assert [await _case_no(p, e) for e in reversed(awards)] == ["BF-2025-000001", "BF-2026-000001", "BF-2026-000002"]
        # the counters go on from there
        year = clock.local_year(clock.utc_now())
        nxt = award(uid())
        await make_due(p, nxt)
        assert await _case_no(p, nxt) == f"BF-{year}-{(3 if year == 2026 else 1):06d}"
