"""Partner systems read the public subjects and nothing else, against a real
nats-server running the generated authorization block."""

from __future__ import annotations

import asyncio
import typing
from pathlib import Path

import nats
import pytest
from nats.js.api import ConsumerConfig

from contracts import registry as ev
from contracts.catalogue import ALL_EVENTS
from contracts.partners import FORBIDDEN_FIELDS, PUBLIC_EVENTS, PUBLIC_SUBJECTS
from services.runtime.natsserver import EmbeddedNats, free_port
from services.runtime.partners import (
    authorization_block,
    consumer_name,
    partner_permissions,
)

PUBLIC = ev.UnitApproved
INTERNAL = ev.OrderContracted


def test_public_events_carry_no_personal_or_financial_fields() -> None:
    for event in PUBLIC_EVENTS:
        fields = [f for f in event.__struct_fields__ if any(bad in f for bad in FORBIDDEN_FIELDS)]
        assert not fields, f"{event.subject} is public but carries {fields}"
    assert set(PUBLIC_SUBJECTS) <= {e.subject for e in ALL_EVENTS}
    assert INTERNAL.subject not in PUBLIC_SUBJECTS


def test_partner_names_are_checked() -> None:
    with pytest.raises(ValueError):
        partner_permissions("Bad.Name")
    assert "publish" in partner_permissions("provincial")


@pytest.fixture
def secured_nats(tmp_path: Path) -> typing.Iterator[EmbeddedNats]:
    conf = tmp_path / "auth.conf"
    conf.write_text(authorization_block("xciss", "platform-secret", {"provincial": "partner-secret", "credit": "other-secret"}))
    server = EmbeddedNats(tmp_path / "js", free_port(), config_file=conf)
    server.start()
    yield server
    server.stop()


def _url(server: EmbeddedNats, user: str, password: str) -> str:
    return f"nats://{user}:{password}@127.0.0.1:{server.port}"


async def _connect(url: str) -> tuple[nats.NATS, list[Exception]]:
    errors: list[Exception] = []

    async def on_error(e: Exception) -> None:
        errors.append(e)

    return await nats.connect(url, error_cb=on_error, allow_reconnect=False), errors


async def _violation(errors: list[Exception], timeout: float = 15.0) -> None:
    """The server reports a refusal asynchronously; wait for it."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not any("permissions violation" in str(e).lower() for e in errors):
        assert loop.time() < deadline, f"no permissions violation reported: {errors}"
        await asyncio.sleep(0.05)


async def test_a_partner_reads_public_subjects_and_nothing_else(secured_nats: EmbeddedNats) -> None:
    platform, _ = await _connect(_url(secured_nats, "xciss", "platform-secret"))
    js = platform.jetstream()
    await js.add_stream(name="REGISTRY", subjects=["registry.>"])
    partner, errors = await _connect(_url(secured_nats, "partner-provincial", "partner-secret"))
    try:
        # real time: the public subject arrives
        got: asyncio.Queue[bytes] = asyncio.Queue()

        async def take(msg: typing.Any) -> None:
            await got.put(msg.data)

        await partner.subscribe(PUBLIC.subject, cb=take)
        await partner.flush()
        await js.publish(PUBLIC.subject, b'{"unit_id":"u1"}')
        assert await asyncio.wait_for(got.get(), 10) == b'{"unit_id":"u1"}'

        # an internal subject is refused by the server
        await partner.subscribe(INTERNAL.subject, cb=take)
        await partner.flush()
        await _violation(errors)
        errors.clear()

        # publishing an event is refused
        await partner.publish(PUBLIC.subject, b"forged")
        await partner.flush()
        await _violation(errors)

        # replay through its own consumer, filtered to the public subject
        pjs = partner.jetstream(timeout=5)
        name = consumer_name("provincial", PUBLIC.subject)
        info = await pjs.add_consumer("REGISTRY", ConsumerConfig(durable_name=name, name=name, filter_subject=PUBLIC.subject, ack_policy="explicit"))
        assert info.config.filter_subject == PUBLIC.subject
        sub = await pjs.pull_subscribe_bind(durable=name, stream="REGISTRY")
        msgs = await sub.fetch(1, timeout=5)
        assert msgs[0].data == b'{"unit_id":"u1"}'
        await msgs[0].ack()

        # but not on an internal subject, not under another name
        with pytest.raises(Exception):
            await pjs.add_consumer("REGISTRY", ConsumerConfig(durable_name=name, name=name, filter_subject=INTERNAL.subject, ack_policy="explicit"))
        with pytest.raises(Exception):
            await pjs.add_consumer("REGISTRY", ConsumerConfig(durable_name="vouchers-registry_order_contracted-v1", name="vouchers-registry_order_contracted-v1", filter_subject=PUBLIC.subject))
        # nor another partner's consumer
        theirs = consumer_name("credit", PUBLIC.subject)
        with pytest.raises(Exception):
            await pjs.add_consumer("REGISTRY", ConsumerConfig(durable_name=theirs, name=theirs, filter_subject=PUBLIC.subject))
        # nor the stream itself
        with pytest.raises(Exception):
            await pjs.delete_stream("REGISTRY")
    finally:
        await partner.close()
        await platform.close()
