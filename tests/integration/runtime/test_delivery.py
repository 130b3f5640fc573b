"""Delivery guarantees against a real nats-server: outbox across an outage,
idempotent inbox, redelivery with backoff, dead letters and replay, graceful
shutdown."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from sqlalchemy import select

from contracts import registry as ev
from services.command.natsserver import EmbeddedNats
from services.runtime.bus import deadletters
from services.runtime.bus.connect import connect_nats
from services.runtime.bus.consumers import Subscription, Worker
from services.runtime.db.unit_of_work import UnitOfWork
from services.runtime.roles import Role
from services.vouchers.db.models import user_view
from tests.support.codes import credit_code
from tests.support.delivery import count_rows, publish_raw, start_worker, user_event
from tests.support.platform import Platform, running
from tests.support.polling import eventually
from tests.support.ports import free_port


class Recorder:
    """A handler with a visible, non-idempotent effect: one audit row per call."""

    def __init__(self, fail_times: int = 0):
        self.fail_times = fail_times
        self.calls = 0

    async def __call__(self, uow: UnitOfWork, e: ev.UserRegistered) -> None:
        self.calls += 1
        if self.calls <= self.fail_times:
            raise RuntimeError(f"transient failure {self.calls}")
        await uow.audit("test.effect", "user", e.user_id)


async def test_republished_event_has_exactly_one_effect(make_settings) -> None:
    """After JetStream's de-duplication window the same event can arrive again
    under another message id: the inbox still applies it once."""
    settings = await make_settings(["vouchers"])
    handler = Recorder()
    worker, db = await start_worker(settings, handler)
    try:
        event = user_event()
        await publish_raw(settings.bus("operator"), event, msg_id=event.event_id)
        await publish_raw(settings.bus("operator"), event, msg_id=event.event_id)  # inside the window: dropped by JetStream
        await publish_raw(settings.bus("operator"), event, msg_id=f"after-window-{event.event_id}")  # outside: delivered again
        await eventually(lambda: worker.outcomes.get("duplicate") == 1)
        assert await count_rows(db, "audit_log", action="test.effect") == 1
        assert await count_rows(db, "inbox", event_id=event.event_id) == 1
        assert handler.calls == 1
    finally:
        await worker.stop()
        await db.dispose()


async def test_failing_handler_is_redelivered_with_backoff_not_dropped(make_settings) -> None:
    settings = await make_settings(["vouchers"], consumer_max_attempts=5)
    handler = Recorder(fail_times=2)
    worker, db = await start_worker(settings, handler)
    try:
        await publish_raw(settings.bus("operator"), user_event(), msg_id="m1")
        await eventually(lambda: worker.outcomes.get("done") == 1)
        assert worker.outcomes.get("retry") == 2
        assert handler.calls == 3
        assert await count_rows(db, "audit_log", action="test.effect") == 1
        assert await deadletters.list_dead_letters(settings.bus("operator")) == []
    finally:
        await worker.stop()
        await db.dispose()


async def test_message_parked_after_last_attempt_and_replayed_once(make_settings) -> None:
    settings = await make_settings(["vouchers"], consumer_max_attempts=3)
    handler = Recorder(fail_times=1_000)
    worker, db = await start_worker(settings, handler)
    try:
        event = user_event(user_id="u-parked")
        await publish_raw(settings.bus("operator"), event, msg_id=event.event_id)
        await eventually(lambda: worker.outcomes.get("parked") == 1)
        assert handler.calls == 3
        parked = await deadletters.list_dead_letters(settings.bus("operator"))
        assert len(parked) == 1
        assert parked[0].event_id == event.event_id
        assert parked[0].subject == ev.UserRegistered.subject
        assert parked[0].consumer == "vouchers-registry_user_registered-v1"
        assert parked[0].attempts == 3
        assert "transient failure 3" in parked[0].error
        assert await count_rows(db, "audit_log", action="test.effect") == 0

        handler.fail_times = 0  # the operator fixed the cause
        assert await deadletters.replay(settings.bus("operator"), None) == 1
        await eventually(lambda: worker.outcomes.get("done") == 1)
        assert await count_rows(db, "audit_log", action="test.effect") == 1
        assert await deadletters.list_dead_letters(settings.bus("operator")) == []
    finally:
        await worker.stop()
        await db.dispose()


async def test_undecodable_message_is_parked_at_once(make_settings) -> None:
    settings = await make_settings(["vouchers"])
    handler = Recorder()
    worker, db = await start_worker(settings, handler)
    try:
        nc = await connect_nats(settings.bus("operator"), "test")
        await nc.jetstream().publish(ev.UserRegistered.subject, b'{"not": "an event"}', headers={"Nats-Msg-Id": "junk"})
        await nc.close()
        await eventually(lambda: worker.outcomes.get("parked") == 1)
        assert handler.calls == 0
        parked = await deadletters.list_dead_letters(settings.bus("operator"))
        assert len(parked) == 1 and parked[0].error.startswith("undecodable")
    finally:
        await worker.stop()
        await db.dispose()


async def test_graceful_shutdown_finishes_in_flight_handler(make_settings) -> None:
    settings = await make_settings(["vouchers"])
    started = asyncio.Event()

    async def slow(uow: UnitOfWork, e: ev.UserRegistered) -> None:
        started.set()
        await asyncio.sleep(1.0)
        await uow.audit("test.effect", "user", e.user_id)

    worker, db = await start_worker(settings, slow)
    try:
        await publish_raw(settings.bus("operator"), user_event(), msg_id="slow-1")
        await asyncio.wait_for(started.wait(), 10)
        await worker.stop()  # must wait for the handler, then ack
        assert await count_rows(db, "audit_log", action="test.effect") == 1
        assert worker.outcomes.get("done") == 1
        # a new worker on the same durable gets nothing more: the message was acked
        again = Recorder()
        worker2 = Worker("vouchers", settings, db, [Subscription(ev.UserRegistered, again)], settings.bus("vouchers"))
        await worker2.start()
        await asyncio.sleep(1.5)
        await worker2.stop()
        assert again.calls == 0
    finally:
        await db.dispose()


async def _pending_zero(p: Platform) -> bool:
    return await count_rows(p["registry"].db, "outbox", published_at=None) == 0


@pytest.fixture
def own_nats(tmp_path: Path, bus_credentials: Path):
    server = EmbeddedNats(tmp_path / "own-nats", free_port(), credentials_dir=bus_credentials)
    server.start()
    yield server
    server.stop()


@pytest.mark.slow
async def test_outbox_delivers_everything_once_across_a_nats_outage(make_settings, own_nats: EmbeddedNats) -> None:
    """Stop NATS, make changes, start NATS: every event arrives, none twice."""
    from tests.support.platform import reset_streams

    await reset_streams(own_nats.access("operator"))
    settings = await make_settings(["registry", "vouchers"], nats_url=own_nats.url)
    async with running(Platform(settings, ["registry", "vouchers"])) as p:
        own_nats.stop()
        ids = []
        for i in range(5):
            r = await p.call("registry", "POST", "/v1/users/", role=Role.USER, json={"name": f"许昌测试企业{i}", "kind": "enterprise", "classes": ["tech_sme"], "credit_code": credit_code()})
            assert r.status_code == 201, r.text  # the API works while the bus is down
            ids.append(r.json()["user_id"])
        await asyncio.sleep(0.5)
        assert await count_rows(p["registry"].db, "outbox", published_at=None) == 5
        own_nats.start()

        async def all_arrived():
            return await count_rows(p["vouchers"].db, "user_view") == 5

        await eventually(all_arrived, timeout=30)
        assert await eventually(lambda: _pending_zero(p)) is True  # every row acknowledged
        assert await count_rows(p["vouchers"].db, "inbox", consumer="vouchers-registry_user_registered-v1") == 5
        nc = await connect_nats(own_nats.access("operator"), "test")
        info = await nc.jetstream().stream_info("REGISTRY")
        await nc.close()
        assert info.state.messages == 5  # none twice on the stream
        async with p["vouchers"].db.read() as s:
            seen = sorted((await s.execute(select(user_view.c.user_id))).scalars())
        assert seen == sorted(ids)
        assert await deadletters.list_dead_letters(own_nats.access("operator")) == []
