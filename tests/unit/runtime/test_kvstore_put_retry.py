"""A put into a bucket whose stream has no leader for a moment is tried again, so
that a session revocation is not lost to a cluster electing a leader; a bucket's stream
is re-scaled the same way."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import nats.js.errors
import pytest
from nats.js.api import StreamConfig

from services.runtime.bus import kvstore
from services.runtime.bus.kvstore import NatsKVStore


class _Bucket:
    """Refuses ``refusals`` puts as a stream without a leader does, then keeps them."""

    def __init__(self, refusals: int, error: Exception | None = None) -> None:
        self.refusals = refusals
        self.error = error or nats.js.errors.NoStreamResponseError()
        self.kept: dict[str, bytes] = {}
        self.puts = 0

    async def put(self, key: str, value: bytes) -> int:
        self.puts += 1
        if self.puts <= self.refusals:
            raise self.error
        self.kept[key] = value
        return self.puts


def _store(bucket: _Bucket) -> NatsKVStore:
    store = NatsKVStore(bus=None, bucket="TEST")  # type: ignore[arg-type]
    store._kv = bucket  # type: ignore[assignment]
    return store


@pytest.fixture(autouse=True)
def _no_waiting(waits: list[float]) -> list[float]:
    return waits


async def test_a_put_refused_while_the_stream_has_no_leader_is_kept_on_a_later_try(_no_waiting: list[float]) -> None:
    bucket = _Bucket(refusals=2)
    await _store(bucket).set("revoked:s1", b"1", expires_in=60)
    assert bucket.puts == 3 and len(bucket.kept) == 1
    assert _no_waiting == [0.25, 0.5]


async def test_a_stream_that_stays_without_a_leader_is_given_up_after_four_tries(_no_waiting: list[float], caplog: Any) -> None:
    bucket = _Bucket(refusals=10, error=nats.js.errors.ServiceUnavailableError())
    await _store(bucket).set("revoked:s1", b"1", expires_in=60)
    assert bucket.puts == 4 and bucket.kept == {}
    assert "put failed (ServiceUnavailableError)" in caplog.text


async def test_another_failure_is_not_tried_again(_no_waiting: list[float]) -> None:
    bucket = _Bucket(refusals=1, error=ValueError("bad value"))
    await _store(bucket).set("k", b"1")
    assert bucket.puts == 1 and bucket.kept == {} and _no_waiting == []


async def test_a_delete_is_tried_again_as_a_put_is(_no_waiting: list[float]) -> None:
    class Purging(_Bucket):
        async def purge(self, key: str) -> None:
            await self.put(key, b"")
            self.kept.pop(key)

    bucket = Purging(refusals=1)
    await _store(bucket).delete("k")
    assert bucket.puts == 2 and _no_waiting == [0.25]


class _Js:
    """A cluster that refuses ``refusals`` re-scalings of a bucket's stream (electing its leaders)."""

    def __init__(self, refusals: int) -> None:
        self.refusals, self.updates, self.replicas = refusals, 0, 1
        self.info = SimpleNamespace(config=StreamConfig(name="KV_TEST", num_replicas=1))

    async def stream_info(self, stream: str) -> Any:
        return self.info

    async def update_stream(self, config: Any) -> None:
        self.updates += 1
        if self.updates <= self.refusals:
            raise nats.js.errors.ServiceUnavailableError()
        self.replicas = config.num_replicas


async def test_a_bucket_stream_is_scaled_once_its_cluster_answers(_no_waiting: list[float], caplog: Any) -> None:
    js = _Js(refusals=2)
    await kvstore.match_replicas(js, "KV_TEST", 3, "gateway")
    assert js.replicas == 3 and _no_waiting == [0.5, 1.0]
    assert "scaled from 1 to 3 replicas" in caplog.text


async def test_a_bucket_stream_keeps_its_replicas_when_the_cluster_keeps_refusing(_no_waiting: list[float], caplog: Any) -> None:
    js = _Js(refusals=10)
    await kvstore.match_replicas(js, "KV_TEST", 3, "gateway")
    assert js.updates == 4 and js.replicas == 1 and _no_waiting == [0.5, 1.0, 2.0]
    assert "keeps 1 replica(s)" in caplog.text
