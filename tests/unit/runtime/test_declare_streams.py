"""A service declares its streams at start; a JetStream cluster that is still
forming (or electing, or busy) may not answer. The first CI run of the cluster
fault test lost a replica this way: ``add_stream`` timed out and the process
exited. Such errors are now tried again until a deadline."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import nats.errors
import pytest

from services.runtime import service
from services.runtime.settings import Settings


class _Conn:
    def jetstream(self, **_: Any) -> object:
        return object()

    async def close(self) -> None:
        return None


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(data_dir=tmp_path, nats_url="nats://127.0.0.1:1")


async def test_a_cluster_that_does_not_answer_yet_is_asked_again(monkeypatch: pytest.MonkeyPatch, settings: Settings) -> None:
    calls: list[str] = []

    async def connect(*_: Any, **__: Any) -> _Conn:
        return _Conn()

    async def ensure(_js: object, svc: str, _settings: Settings, **_: Any) -> None:
        calls.append(svc)
        if len(calls) <= 2:
            raise nats.errors.TimeoutError

    monkeypatch.setattr(service, "connect_nats", connect)
    monkeypatch.setattr(service, "ensure_service_streams", ensure)
    monkeypatch.setattr(service.asyncio, "sleep", _no_sleep)
    await service.declare_streams(settings, ["payments"], "payments")
    assert calls == ["payments", "payments", "payments"]


async def test_it_gives_up_at_the_deadline(monkeypatch: pytest.MonkeyPatch, settings: Settings) -> None:
    async def connect(*_: Any, **__: Any) -> _Conn:
        return _Conn()

    async def ensure(*_: Any, **__: Any) -> None:
        raise nats.errors.TimeoutError

    monkeypatch.setattr(service, "connect_nats", connect)
    monkeypatch.setattr(service, "ensure_service_streams", ensure)
    monkeypatch.setattr(service, "STREAMS_DEADLINE_S", 0.0)
    with pytest.raises(nats.errors.TimeoutError):
        await service.declare_streams(settings, ["payments"], "payments")


async def _no_sleep(_s: float) -> None:
    return None
