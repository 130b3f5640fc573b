"""Two uses of one voucher at once (docs/faults.md, finding 3). Payments asks
vouchers to use an order's voucher at settlement and asks again when the
answer is lost; in a cluster another vouchers replica may answer the second
request while the first is still committing. The second request's update
then matched nothing, and vouchers answered from the row as it had read it
before the first committed ("issued"): ``voucher.expired``. Payments settled
the order without the voucher (the user billed the whole fee) although the
voucher was used. Found by the cluster fault run (seed 21, PostgreSQL)."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import select, update

from contracts.commands import UseVoucher
from services.runtime import clock
from services.vouchers import issued
from services.vouchers.db.models import vouchers
from tests.support.platform import Platform, running
from tests.support.vouchers import Registry, activate, approve, open_programme, submit


# SQLite runs one write transaction at a time: the interleaving exists on PostgreSQL only
@pytest.mark.parametrize("backend", ["postgres"], indirect=True)
async def test_a_use_that_loses_the_race_to_the_same_use_answers_ok(make_settings, backend: str) -> None:
    settings = await make_settings(["vouchers"])
    async with running(Platform(settings, ["vouchers"])) as p:
        reg = Registry(p)
        unit, user = reg.unit(), reg.user()
        order = reg.order(user, unit)
        await reg.flush()
        await open_programme(p)
        await activate(p, user)
        voucher = (await approve(p, (await submit(p, user, order))["application_id"])).json()
        db = p["vouchers"].db
        ask = UseVoucher(voucher_id=None, order_id=order, unit_id=unit, settlement_id="s-1")
        # the first request's transaction has used the voucher and not committed yet ...
        async with db.sessions() as first, first.begin():
            await first.execute(update(vouchers).where(vouchers.c.id == voucher["voucher_id"]).values(status="used", used_at=clock.utc_now()))
            # ... while the second reads it "issued" and waits on its row lock
            second = asyncio.create_task(issued.answer_use_voucher(db, ask))
            await asyncio.sleep(0.5)
            assert not second.done()
        reply = await asyncio.wait_for(second, 30)
        # before the fix: ok=False, code "voucher.expired", and payments billed the whole fee
        assert reply.ok, (reply.code, reply.message_en)
        assert (reply.voucher_id, reply.amount_fen) == (voucher["voucher_id"], voucher["amount_fen"])
        async with db.read() as s:
            assert (await s.execute(select(vouchers.c.status).where(vouchers.c.id == voucher["voucher_id"]))).scalar_one() == "used"
