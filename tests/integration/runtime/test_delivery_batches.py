"""Deliveries of one pull applied in one transaction (``bus/inbox_batch.py``):
the guarantees stay those of one event at a time: each effect once, with its
own correlation; a poison event fails alone and alone goes to the dead letters."""

from __future__ import annotations

import pytest
from opentelemetry import trace
from sqlalchemy import select

from contracts import registry as ev
from contracts.envelope import encode
from services.runtime.bus import deadletters
from services.runtime.bus.connect import connect_nats
from services.runtime.db.unit_of_work import UnitOfWork
from services.runtime.service import declare_streams
from tests.support.delivery import count_rows, publish_raw, start_worker, user_event
from tests.support.polling import eventually


class Effects:
    """One audit row per applied event; events of ``poison`` users always fail."""

    def __init__(self, poison: set[str]):
        self.poison = poison
        self.calls: list[str] = []

    async def __call__(self, uow: UnitOfWork, e: ev.UserRegistered) -> None:
        self.calls.append(e.user_id)
        if e.user_id in self.poison:
            raise RuntimeError(f"poison {e.user_id}")
        await uow.audit("test.effect", "user", e.user_id)


@pytest.mark.parametrize("batch", [20, 1], ids=["batch-20", "batch-1"])
async def test_a_pull_is_applied_in_one_transaction_and_a_poison_event_is_parked_alone(make_settings, batch: int) -> None:
    """With XCISS_CONSUMER_BATCH=1 every event has its own transaction, and the
    outcomes are the same."""
    settings = await make_settings(["vouchers"], consumer_max_attempts=2, consumer_backoff_s=(0.1,), consumer_batch=batch)
    events = [user_event(user_id=f"u-{i}", correlation_id=f"journey-{i}") for i in range(12)]
    await declare_streams(settings, ["registry", "vouchers", "evaluation", "payments"])
    # published before the worker binds, so its first pulls hold several events
    for e in events:
        await publish_raw(settings.bus("operator"), e, msg_id=e.event_id)
    again = events[3]
    await publish_raw(settings.bus("operator"), again, msg_id=f"again-{again.event_id}")  # the same event once more
    handler = Effects(poison={"u-7"})
    worker, db = await start_worker(settings, handler)
    try:
        await eventually(lambda: worker.outcomes.get("parked") == 1 and worker.outcomes.get("done") == 11)
        assert worker.outcomes.get("duplicate") == 1
        # several events went into one transaction (and, with the poison among them, were rolled back and applied alone);
        # a batch of 1 never shares one
        shared = sum(b.batches + b.rolled_back for b in worker.batchers.values())
        assert shared >= 1 if batch > 1 else shared == 0
        log = db.metadata.tables["audit_log"]
        async with db.read() as s:
            rows = (await s.execute(select(log.c.object_id, log.c.correlation_id).where(log.c.action == "test.effect"))).all()
        # each applied event's effect once, with its own correlation; none for the poison one
        assert sorted(rows) == sorted((e.user_id, e.correlation_id) for e in events if e.user_id != "u-7")
        assert await count_rows(db, "inbox") == 11
        parked = await deadletters.list_dead_letters(settings.bus("operator"))
        assert [p.event_id for p in parked] == [events[7].event_id]
        assert "poison u-7" in parked[0].error
    finally:
        await worker.stop()
        await db.dispose()


async def test_events_of_one_pull_share_a_transaction_with_their_own_correlation(make_settings) -> None:
    settings = await make_settings(["vouchers"])
    await declare_streams(settings, ["registry", "vouchers", "evaluation", "payments"])
    events = [user_event(user_id=f"u-{i}", correlation_id=f"journey-{i}") for i in range(15)]
    for e in events:
        await publish_raw(settings.bus("operator"), e, msg_id=e.event_id)
    worker, db = await start_worker(settings, Effects(poison=set()))
    try:
        await eventually(lambda: worker.outcomes.get("done") == 15)
        assert sum(b.batches for b in worker.batchers.values()) >= 1
        log = db.metadata.tables["audit_log"]
        async with db.read() as s:
            rows = (await s.execute(select(log.c.object_id, log.c.correlation_id).where(log.c.action == "test.effect"))).all()
        assert sorted(rows) == sorted((e.user_id, e.correlation_id) for e in events)
        assert await count_rows(db, "inbox") == 15
    finally:
        await worker.stop()
        await db.dispose()


async def test_each_event_of_a_batch_is_handled_in_its_own_trace(make_settings) -> None:
    """The batch runs in one task, but each handler runs under its delivery's span:
    the events it emits, and its database spans, join the producer's trace."""
    settings = await make_settings(["vouchers"])
    await declare_streams(settings, ["registry", "vouchers", "evaluation", "payments"])
    events = [user_event(user_id=f"u-{i}") for i in range(15)]
    trace_ids = {e.user_id: 0x1000 + i for i, e in enumerate(events)}
    nc = await connect_nats(settings.bus("operator"), "test-publisher")
    try:
        for e in events:
            parent = f"00-{trace_ids[e.user_id]:032x}-{0xABC:016x}-01"
            await nc.jetstream().publish(type(e).subject, encode(e), headers={"Nats-Msg-Id": e.event_id, "traceparent": parent})
    finally:
        await nc.close()
    seen: dict[str, int] = {}

    async def handler(uow: UnitOfWork, e: ev.UserRegistered) -> None:
        seen[e.user_id] = trace.get_current_span().get_span_context().trace_id

    worker, db = await start_worker(settings, handler)
    try:
        await eventually(lambda: worker.outcomes.get("done") == 15)
        assert sum(b.batches for b in worker.batchers.values()) >= 1
        assert seen == trace_ids
    finally:
        await worker.stop()
        await db.dispose()
