"""Command responders over core NATS request/reply, against a real nats-server:
an answer, a handler that raises (an error reply, never a hanging caller), an
undecodable request, nobody listening, and a queue group sharing the load."""

from __future__ import annotations

import asyncio
import time

import msgspec
import pytest

from contracts.commands import USE_VOUCHER
from services.runtime.bus.commands import CommandError, Responder, request
from services.runtime.bus.consumers import Worker
from services.runtime.bus.connect import connect_nats
from services.runtime.service import declare_streams

#: the command subject vouchers answers: the test answers it as vouchers, asks it as payments
SUBJECT = USE_VOUCHER


class Echo(msgspec.Struct, frozen=True, kw_only=True):
    text: str


class EchoReply(msgspec.Struct, frozen=True, kw_only=True):
    ok: bool
    text: str = ""
    code: str | None = None


async def echo(db: object, req: Echo) -> EchoReply:
    if req.text == "boom":
        raise RuntimeError("the handler failed")
    return EchoReply(ok=req.text != "no", text=req.text.upper(), code="echo.refused" if req.text == "no" else None)


async def test_responder_answers_refuses_and_fails_cleanly(make_settings) -> None:
    settings = await make_settings([])
    await declare_streams(settings, [])
    worker = Worker("vouchers", settings, None, [], settings.bus("vouchers"), responders=[Responder(SUBJECT, Echo, echo)])  # type: ignore[arg-type]
    await worker.start()
    nc = await connect_nats(settings.bus("payments"), "test-requester")
    try:
        assert await request(nc, SUBJECT, Echo(text="hi"), EchoReply, 2.0) == EchoReply(ok=True, text="HI")
        # a refusal is an answer, not an error
        assert await request(nc, SUBJECT, Echo(text="no"), EchoReply, 2.0) == EchoReply(ok=False, text="NO", code="echo.refused")
        started = time.monotonic()
        with pytest.raises(CommandError) as failed:
            await request(nc, SUBJECT, Echo(text="boom"), EchoReply, 5.0)
        assert failed.value.code == "internal.error" and failed.value.status == 502 and failed.value.message_zh
        assert time.monotonic() - started < 2.0  # answered, not timed out
        raw = await nc.request(SUBJECT, b"not json", timeout=2.0)
        assert raw.headers and raw.headers["Xciss-Error-Code"] == "request.invalid"
        # many at once: each gets its own answer
        replies = await asyncio.gather(*(request(nc, SUBJECT, Echo(text=f"m{i}"), EchoReply, 5.0) for i in range(50)))
        assert [r.text for r in replies] == [f"M{i}" for i in range(50)]
    finally:
        await worker.stop()
    try:
        # nobody listens any more: the caller learns it at once, or times out cleanly
        started = time.monotonic()
        with pytest.raises(CommandError) as gone:
            await request(nc, SUBJECT, Echo(text="hi"), EchoReply, 0.5)
        assert gone.value.code in ("command.no_responders", "command.timeout") and gone.value.status == 503
        assert time.monotonic() - started < 2.0
    finally:
        await nc.close()


async def test_a_missing_responder_times_out(make_settings) -> None:
    settings = await make_settings([])
    nc = await connect_nats(settings.bus("payments"), "test-requester")
    try:
        started = time.monotonic()
        with pytest.raises(CommandError) as err:
            await request(nc, SUBJECT, Echo(text="x"), EchoReply, 0.3)
        assert err.value.code in ("command.no_responders", "command.timeout")
        assert time.monotonic() - started < 1.5

        # someone listens but never answers: the caller times out, cleanly
        async def silent(msg: object) -> None:
            return None

        sub = await nc.subscribe("testing.cmd.silent.v1", cb=silent)
        started = time.monotonic()
        with pytest.raises(CommandError) as err:
            await request(nc, "testing.cmd.silent.v1", Echo(text="x"), EchoReply, 0.3)
        assert err.value.code == "command.timeout" and err.value.status == 503
        assert 0.25 < time.monotonic() - started < 1.5
        await sub.unsubscribe()
    finally:
        await nc.close()


class _UnboundBroker:
    """A broker whose start times out as during a NATS leader election, and whose stop times out too."""

    async def start(self) -> None:
        raise TimeoutError("nats: timeout")

    async def stop(self) -> None:
        raise TimeoutError("nats: timeout")


async def test_a_worker_started_while_nats_times_out_retries_and_binds(make_settings) -> None:
    """A worker restarted during a NATS fault used to die when the failed broker's stop timed
    out too (the process then stopped); it retries until it binds, and then answers."""
    settings = await make_settings([])
    await declare_streams(settings, [])

    class Flaky(Worker):
        built = 0

        def _build_broker(self):  # type: ignore[no-untyped-def]
            Flaky.built += 1
            return _UnboundBroker() if Flaky.built <= 2 else super()._build_broker()

    worker = Flaky("vouchers", settings, None, [], settings.bus("vouchers"), responders=[Responder(SUBJECT, Echo, echo)])  # type: ignore[arg-type]
    await asyncio.wait_for(worker.start(), 30)
    nc = await connect_nats(settings.bus("payments"), "test-requester")
    try:
        assert Flaky.built == 3
        assert await request(nc, SUBJECT, Echo(text="hi"), EchoReply, 2.0) == EchoReply(ok=True, text="HI")
    finally:
        await nc.close()
        await worker.stop()
