"""A relay restarted while NATS elects a leader waits for its stream; a real refusal still stops it
(services/command/process.py:_declare_own_stream)."""

from __future__ import annotations

from typing import Any

import nats.errors
import pytest
from nats.js.errors import APIError, ServiceUnavailableError

from services.command import process


async def _no_wait(_s: float) -> None:
    return None


async def test_timeouts_and_503s_are_waited_out(monkeypatch: pytest.MonkeyPatch) -> None:
    answers: list[BaseException | None] = [nats.errors.TimeoutError(), ServiceUnavailableError(code=503, description="JetStream system temporarily unavailable"), None]
    calls: list[Any] = []

    async def declare(settings: object, services: list[str], identity: str) -> None:
        calls.append(services)
        answer = answers.pop(0)
        if answer is not None:
            raise answer

    monkeypatch.setattr(process, "declare_streams", declare)
    monkeypatch.setattr(process.asyncio, "sleep", _no_wait)
    await process._declare_own_stream(object(), "vouchers")  # type: ignore[arg-type]
    assert calls == [["vouchers"]] * 3


async def test_a_refusal_is_not_retried(monkeypatch: pytest.MonkeyPatch) -> None:
    async def declare(settings: object, services: list[str], identity: str) -> None:
        raise APIError(code=400, description="stream name already in use with a different configuration")

    monkeypatch.setattr(process, "declare_streams", declare)
    with pytest.raises(APIError, match="different configuration"):
        await process._declare_own_stream(object(), "vouchers")  # type: ignore[arg-type]
