"""Case numbers of clawbacks (追回, issue 17): each clawback a fraud finding records
gets ZH-<year>-<n> from payments' own counters in the recording transaction, counted
per Beijing year; a redelivered finding records nothing and uses no number; the
clawback's record (list and read), its ClawbackRecorded and ClawbackRepaid events
carry it; and the migration numbers the clawbacks recorded before it in the order
they were recorded, the counters going on from there. SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from contracts import payments as pe
from services.payments.db.models import clawbacks as clawback_table
from services.runtime import clock
from services.runtime.roles import Role
from tests.support.case_numbers import backdate, migrate_again
from tests.support.clawbacks import apply_finding, paid_award, unit_finding
from tests.support.payout_orders import emitted
from tests.support.platform import Platform, running
from tests.support.vouchers import uid

SERVICES = ["payments"]


async def _case_of(p: Platform, payout_id: str) -> str:
    found = await p.call("payments", "GET", "/v1/clawbacks/", role=Role.FINANCE, params={"page_size": 100})
    return str(next(c["case_no"] for c in found.json()["items"] if c["ref"] == payout_id))


async def test_clawbacks_are_numbered_per_beijing_year_and_carry_their_number(make_settings, monkeypatch: pytest.MonkeyPatch) -> None:
    settings = await make_settings(SERVICES)
    async with running(Platform(settings, SERVICES), worker=False, relay=False) as p:
        units = [uid() for _ in range(3)]
        paid = [await paid_award(p, u) for u in units]
        # 31 December 2025, 23:30 in Beijing: still 2025
        monkeypatch.setattr(clock, "utc_now", lambda: datetime(2025, 12, 31, 15, 30, tzinfo=UTC))
        first = unit_finding(units[0])
        await apply_finding(p, first)
        assert await _case_of(p, paid[0]) == "ZH-2025-000001"
        # 1 January 2026, 00:30 in Beijing: the new year counts from one; a redelivered finding uses no number
        monkeypatch.setattr(clock, "utc_now", lambda: datetime(2025, 12, 31, 16, 30, tzinfo=UTC))
        await apply_finding(p, unit_finding(units[1]))
        await apply_finding(p, first)
        await apply_finding(p, unit_finding(units[2]))
        assert [await _case_of(p, x) for x in paid] == ["ZH-2025-000001", "ZH-2026-000001", "ZH-2026-000002"]

        # the record and its events carry it
        listed = (await p.call("payments", "GET", "/v1/clawbacks/", role=Role.BUREAU, params={"party_id": units[1]})).json()["items"]
        assert [c["case_no"] for c in listed] == ["ZH-2026-000001"]
        one = (await p.call("payments", "GET", f"/v1/clawbacks/{listed[0]['clawback_id']}", role=Role.FINANCE)).json()
        assert one["case_no"] == "ZH-2026-000001"
        recorded = await emitted(p, pe.ClawbackRecorded)  # type: ignore[arg-type]
        assert sorted(e.case_no for e in recorded) == ["ZH-2025-000001", "ZH-2026-000001", "ZH-2026-000002"]  # type: ignore[attr-defined]
        repayment = {"amount_fen": 100, "bank_reference": "BOC-R1", "idempotency_key": "repay-zh-0001"}
        r = await p.call("payments", "POST", f"/v1/clawbacks/{one['clawback_id']}/repayments", role=Role.FINANCE, json=repayment)
        assert r.status_code == 201 and r.json()["case_no"] == "ZH-2026-000001", r.text
        assert [e.case_no for e in await emitted(p, pe.ClawbackRepaid)] == ["ZH-2026-000001"]  # type: ignore[arg-type]


async def test_the_migration_numbers_earlier_clawbacks_in_the_order_they_were_recorded(make_settings) -> None:
    settings = await make_settings(SERVICES)
    async with running(Platform(settings, SERVICES), worker=False, relay=False) as p:
        units = [uid() for _ in range(3)]
        paid = [await paid_award(p, u) for u in units]
        for u in units:
            await apply_finding(p, unit_finding(u))
        # recorded across a Beijing new year; the last recorded is given the earliest time
        await backdate(p["payments"].db, clawback_table.c.ref, clawback_table.c.created_at, paid)
    await migrate_again(settings, "payments", "d4f7a2c9e6b3")
    async with running(Platform(settings, SERVICES), worker=False, relay=False) as p:
        async with p["payments"].db.read() as s:
            numbered = dict((await s.execute(select(clawback_table.c.ref, clawback_table.c.case_no))).all())
        assert [numbered[x] for x in reversed(paid)] == ["ZH-2025-000001", "ZH-2026-000001", "ZH-2026-000002"]
        # the counters go on from there
        year = clock.local_year(clock.utc_now())
        later = uid()
        payout_id = await paid_award(p, later)
        await apply_finding(p, unit_finding(later))
        assert await _case_of(p, payout_id) == f"ZH-{year}-{(3 if year == 2026 else 1):06d}"
