"""Read models whose rows several consumers write at once (docs/faults.md,
finding 2). Payments keeps each voucher application's state from four
subjects, one durable consumer each; on PostgreSQL they really run in
parallel. An upheld appeal used to stay ``appealed`` for ever when the
``closed`` update lost a race with the ``rejected`` one, and payments then
refused to settle the order (``settlement.voucher_pending``)."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import select, update

from services.payments.db.models import application_view
from services.payments.readmodel import _APP_RANK
from services.runtime.db.readmodel import advance_status
from services.runtime.service import create_database, load_spec
from services.runtime.db.service_db import ServiceDatabase
from services.runtime.settings import Settings

#: the states of an application whose appeal was upheld, in the order they happened
UPHELD = ["submitted", "rejected", "appealed", "closed"]


@pytest.fixture
async def payments_db(make_settings: Callable[..., Awaitable[Settings]]) -> Any:
    settings = await make_settings(["payments"])
    db = create_database(load_spec("payments"), settings)
    try:
        yield db
    finally:
        await db.dispose()


async def _advance(db: ServiceDatabase, app: str, status: str) -> None:
    async with db.unit_of_work() as uow:
        await advance_status(uow.session, application_view, "application_id", app, status, _APP_RANK, {"updated_at": datetime.now(UTC)}, insert_values={"order_id": f"o-{app}"})


async def _status(db: ServiceDatabase, app: str) -> str:
    async with db.read() as s:
        return (await s.execute(select(application_view.c.status).where(application_view.c.application_id == app))).scalar_one()


async def test_the_state_ends_where_the_application_ended_whatever_the_order_of_arrival(payments_db: ServiceDatabase) -> None:
    for i, order in enumerate(itertools.permutations(UPHELD)):
        app = f"a{i}"
        for status in order:
            await _advance(payments_db, app, status)
        assert await _status(payments_db, app) == "closed", order


# SQLite runs one write transaction at a time: the interleaving below exists on PostgreSQL only
@pytest.mark.parametrize("backend", ["postgres"], indirect=True)
async def test_a_later_state_is_not_lost_to_a_concurrent_writer(payments_db: ServiceDatabase, backend: str) -> None:
    await _advance(payments_db, "a", "submitted")
    # one consumer moves the row to ``rejected`` and has not committed yet ...
    async with payments_db.sessions() as first, first.begin():
        await first.execute(update(application_view).where(application_view.c.application_id == "a").values(status="rejected"))
        # ... while another reads ``submitted`` and moves it to ``closed``: its
        # update waits for the first one's row lock
        closing = asyncio.create_task(_advance(payments_db, "a", "closed"))
        await asyncio.sleep(0.5)
        assert not closing.done()
    await asyncio.wait_for(closing, 30)
    assert await _status(payments_db, "a") == "closed"
