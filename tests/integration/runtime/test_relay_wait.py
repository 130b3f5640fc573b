"""The relay's wait when no commit wakes it (production runs it as its own
Deployment): while events keep coming it looks again within milliseconds, not
after the whole idle poll interval (issue 19, target 4: one event in ten used to
wait the 0.1 s poll at 500 events/s)."""

from __future__ import annotations

import asyncio

from sqlalchemy import insert, select

from contracts import registry as ev
from services.runtime.db.service_db import ServiceDatabase
from services.runtime.db.unit_of_work import outbox_row
from tests.support.codes import credit_code
from tests.support.platform import Platform, running
from tests.support.polling import eventually

#: far longer than any wait the test allows once events flow
IDLE_POLL_S = 3.0


async def _written_elsewhere(db: ServiceDatabase, user_id: str) -> str:
    """An outbox row committed on a connection of its own, as another process
    (the API's Deployment) commits it: nothing pokes the relay."""
    e = ev.UserRegistered(user_id=user_id, version=1, name="许昌某公司", kind="enterprise", credit_code=credit_code(), in_xuchang=True, verified=False)
    async with db.engine.begin() as conn:
        await conn.execute(insert(db.metadata.tables["outbox"]).values(**outbox_row(e, {})))
    return e.event_id


async def _published(db: ServiceDatabase, event_id: str) -> bool:
    outbox = db.metadata.tables["outbox"]
    async with db.read() as s:
        at = (await s.execute(select(outbox.c.published_at).where(outbox.c.event_id == event_id))).scalar_one()
    return at is not None


async def test_while_events_come_the_relay_does_not_sleep_its_idle_poll(make_settings) -> None:
    settings = await make_settings(["registry"], outbox_poll_s=IDLE_POLL_S)
    async with running(Platform(settings, ["registry"])) as p:
        db = p["registry"].db
        first = await _written_elsewhere(db, "u-first")
        await eventually(lambda: _published(db, first), timeout=2 * IDLE_POLL_S + 5, what="the first row published")
        await asyncio.sleep(0.05)  # the next event comes while the relay is between looks
        loop = asyncio.get_running_loop()
        written = loop.time()
        second = await _written_elsewhere(db, "u-second")
        await eventually(lambda: _published(db, second), timeout=2 * IDLE_POLL_S, interval=0.01, what="the second row published")
        took = loop.time() - written
        assert took < IDLE_POLL_S / 3, f"the second row waited {took:.2f} s: the relay slept its idle poll ({IDLE_POLL_S} s)"
