"""A Litestar store on a NATS JetStream key-value bucket, shared by every
replica of a process (the gateway's rate limits).

Values are Litestar ``StorageObject`` bytes (data + expiry), so expiry works as
with the in-memory store; the bucket's own TTL removes what nobody reads
again. Only the bucket's owner creates it (``create=True``); a reader waits
for it. Keys are hashed: KV keys allow few characters and a rate-limit key
holds a subject or an address. When NATS cannot be reached the store answers
"nothing stored" and logs a warning: a limit that fails open for a moment is
better than a platform that refuses everybody.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from dataclasses import replace as dataclass_replace
from datetime import timedelta
from typing import Any

import nats
import nats.errors
import nats.js.errors
from litestar.stores.base import StorageObject, Store
from nats.js.errors import KeyNotFoundError, KeyWrongLastSequenceError, NotFoundError
from nats.js.kv import KeyValue

from services.runtime.bus.connect import connect_nats
from services.runtime.bus_identity.credentials import BusAccess
from services.runtime.retry import again_after

log = logging.getLogger("xciss.kvstore")

#: answers of a stream without a leader for the moment (placed just now, or electing one)
_TRANSIENT = (nats.js.errors.NoStreamResponseError, nats.js.errors.ServiceUnavailableError, nats.errors.NoRespondersError)
_PUT_RETRY_S = (0.25, 0.5, 1.0)


async def match_replicas(js: Any, stream: str, replicas: int, who: str, attempts: int = 4) -> None:
    """Scale a bucket's stream to ``replicas`` when it has another number (JetStream moves
    the data itself). A cluster still electing its leaders refuses for a moment, so a
    refusal is tried again (0.5, 1, 2 s); the last one is logged, and the production
    check names the bucket."""
    info = await js.stream_info(stream)
    if (info.config.num_replicas or 1) == replicas:
        return
    try:
        await again_after(lambda: js.update_stream(dataclass_replace(info.config, num_replicas=replicas)), [0.5 * 2**k for k in range(attempts - 1)])
    except Exception as exc:  # noqa: BLE001 - the bucket still works with the replicas it has
        log.warning("%s: bucket stream %s keeps %s replica(s): %s", who, stream, info.config.num_replicas, exc)
        return
    log.warning("%s: bucket stream %s scaled from %s to %s replicas", who, stream, info.config.num_replicas, replicas)


class NatsKVStore(Store):
    def __init__(
        self,
        bus: BusAccess,
        bucket: str,
        *,
        ttl_s: float = 86_400,
        namespace: str = "",
        name: str = "xciss-kv",
        create: bool = False,
        replicas: int = 1,
    ) -> None:
        self.bus = bus
        self.create = create
        #: copies of the bucket in a JetStream cluster (``XCISS_STREAM_REPLICAS``, as the streams):
        #: with one, losing the server that holds it loses the bucket
        self.replicas = replicas
        self.bucket = bucket
        self.ttl_s = ttl_s
        self.namespace = namespace
        self.name = name
        self._nc: nats.NATS | None = None
        self._kv: KeyValue | None = None
        self._connecting: asyncio.Task[None] | None = None

    def with_namespace(self, namespace: str) -> NatsKVStore:
        """A view with its own key prefix (Litestar's namespacing); it opens its own connection."""
        return NatsKVStore(
            self.bus, self.bucket, ttl_s=self.ttl_s, namespace=f"{self.namespace}{namespace}.", name=self.name, create=self.create, replicas=self.replicas
        )

    async def _connect(self) -> None:
        if self._nc is None or self._nc.is_closed:
            self._nc = await connect_nats(self.bus, self.name)
        js = self._nc.jetstream()
        try:
            self._kv = await js.key_value(self.bucket)
            if self.create:  # its owner keeps its replicas as configured (a bucket made before with fewer)
                await match_replicas(js, f"KV_{self.bucket}", self.replicas, self.name)
        except NotFoundError:
            if not self.create:
                log.warning("kvstore %s: the bucket does not exist yet (its owner creates it)", self.bucket)
                raise
            self._kv = await js.create_key_value(bucket=self.bucket, ttl=self.ttl_s, history=1, replicas=self.replicas)

    @property
    def connection(self) -> nats.NATS | None:
        """The store's NATS connection, once made (the test clock follows through it)."""
        return self._nc

    async def start(self, wait_s: float = 10.0) -> None:
        """Connect at start-up (waiting up to ``wait_s``; after that the
        connection goes on in the background)."""
        self._connecting = asyncio.create_task(self._connect())
        await asyncio.wait({self._connecting}, timeout=wait_s)

    async def _bucket(self) -> KeyValue:
        """The bucket, once connected; the connection is made in the background
        so that no request waits for a bus that is not there."""
        if self._kv is not None:
            return self._kv
        if self._connecting is None or self._connecting.done():
            self._connecting = asyncio.create_task(self._connect())
        # the first request waits a moment for a bus that is up
        await asyncio.wait({self._connecting}, timeout=2.0)
        if self._kv is None:
            raise ConnectionError(f"NATS key-value bucket {self.bucket} is not reachable yet")
        return self._kv

    def _key(self, key: str) -> str:
        return hashlib.sha256(f"{self.namespace}{key}".encode()).hexdigest()

    async def _load(self, key: str) -> StorageObject | None:
        try:
            entry = await (await self._bucket()).get(self._key(key))
        except KeyNotFoundError:
            return None
        except Exception as exc:  # the bus is down: fail open
            log.warning("kvstore %s: get failed (%s); answering 'not stored'", self.bucket, type(exc).__name__)
            return None
        if not entry.value:
            return None
        obj = StorageObject.from_bytes(entry.value)
        return None if obj.expired else obj

    async def _write(self, what: str, op: Any) -> None:
        """Run ``op(bucket)``. A bucket's stream that a cluster has only just placed (or whose
        leader is being elected) answers nobody for a moment: such a write is tried again
        (0.25, 0.5, 1 s) before the store gives up and logs it, so that a revocation is not
        lost to a leader election."""

        async def attempt() -> None:
            await op(await self._bucket())

        try:
            await again_after(attempt, _PUT_RETRY_S, _TRANSIENT)
        except Exception as exc:
            log.warning("kvstore %s: %s failed (%s)", self.bucket, what, type(exc).__name__)

    async def set(self, key: str, value: str | bytes, expires_in: int | timedelta | None = None) -> None:
        data = value.encode() if isinstance(value, str) else value
        await self._write("put", lambda kv: kv.put(self._key(key), StorageObject.new(data, expires_in).to_bytes()))

    async def get(self, key: str, renew_for: int | timedelta | None = None) -> bytes | None:
        obj = await self._load(key)
        if obj is None:
            return None
        if renew_for and obj.expires_at:
            await self.set(key, obj.data, renew_for)
        return obj.data

    async def delete(self, key: str) -> None:
        await self._write("delete", lambda kv: kv.purge(self._key(key)))

    async def delete_all(self) -> None:
        try:
            kv = await self._bucket()
        except ConnectionError:
            return
        try:
            keys = await kv.keys()
        except Exception:  # an empty bucket has no keys to list
            return
        for k in keys:
            await kv.purge(k)

    async def exists(self, key: str) -> bool:
        return await self._load(key) is not None

    async def expires_in(self, key: str) -> int | None:
        obj = await self._load(key)
        return obj.expires_in if obj is not None and obj.expires_at else None

    async def count(self, key: str, window: int, add: int = 0, cap: int | None = None) -> tuple[int, bool] | None:
        """A counter per ``key`` for one ``window`` (a number that grows: the minute), shared
        by every replica: adds ``add`` unless the total would pass ``cap`` (compare-and-set,
        retried on a concurrent write) and answers (the window's total, whether it added),
        or None when NATS cannot be reached (the caller counts on its own meanwhile). A
        newer window's value is never overwritten by an older one."""
        try:
            kv = await self._bucket()
            k = self._key(key)
            for _ in range(16):
                try:
                    entry = await kv.get(k)
                    revision, (stored_window, stored) = entry.revision, _window_count(entry.value)
                except KeyNotFoundError:
                    revision, stored_window, stored = None, window, 0
                if stored_window > window:
                    return 0, False
                total = stored if stored_window == window else 0
                if add == 0 or (cap is not None and total + add > cap):
                    return total, False
                value = f"{window} {total + add}".encode()
                try:
                    if revision is None:
                        await kv.create(k, value)
                    else:
                        await kv.update(k, value, last=revision)
                    return total + add, True
                except KeyWrongLastSequenceError:
                    continue  # another replica wrote in between: read again
        except Exception as exc:  # the bus is down: the caller counts alone
            log.warning("kvstore %s: count failed (%s)", self.bucket, type(exc).__name__)
        return None

    async def close(self) -> None:
        if self._connecting is not None and not self._connecting.done():
            self._connecting.cancel()
        if self._nc is not None and not self._nc.is_closed:
            await self._nc.close()
        self._nc = self._kv = None


def _window_count(value: bytes | None) -> tuple[int, int]:
    """``b"<window> <count>"`` -> (window, count); anything else -> (0, 0)."""
    try:
        window, count = (value or b"").split()
        return int(window), int(count)
    except ValueError:
        return 0, 0
