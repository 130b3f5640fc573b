"""Login sessions shared by every replica of every service: the revocation
list that ``TokenVerifier.authenticate`` consults, and a small fixed-window
rate limiter for login attempts, both on one Litestar store (a NATS KV bucket
when ``XCISS_NATS_URL`` is set, process memory otherwise).

A revoked session id is kept until the token it belongs to expires anyway
(its ``exp``), so the list stays as small as the number of sessions ended
within one token lifetime.
"""

from __future__ import annotations

import math
import time

from litestar.stores.base import Store
from litestar.stores.memory import MemoryStore

from services.runtime.bus.plan import SESSIONS_BUCKET, bucket_owner
from services.runtime.bus.kvstore import NatsKVStore
from services.runtime.settings import Settings


def session_store(settings: Settings, name: str, identity: str) -> Store:
    """The store of one process; close it on shutdown (``NatsKVStore.close``).
    Only the bucket's owner (registry) writes it; the others read."""
    if not settings.nats_url:
        return MemoryStore()
    # the bucket's own TTL only sweeps what nobody reads: it must outlive a token
    ttl_s = max(86_400, settings.session_ttl_s + 3600)
    return NatsKVStore(
        settings.bus(identity), SESSIONS_BUCKET, ttl_s=ttl_s, name=name, create=bucket_owner(SESSIONS_BUCKET) == identity, replicas=settings.stream_replicas
    )


class Revocations:
    """Session ids (the ``sid`` claim) that must no longer be accepted."""

    def __init__(self, store: Store):
        self.store = store

    async def revoke(self, session_id: str, until_epoch_s: float) -> None:
        remaining = max(1, math.ceil(until_epoch_s - time.time()) + 1)
        await self.store.set(f"revoked:{session_id}", b"1", expires_in=remaining)

    async def is_revoked(self, session_id: str) -> bool:
        return await self.store.exists(f"revoked:{session_id}")


class WindowLimiter:
    """At most ``limit`` hits per key per fixed window of ``window_s`` seconds.

    The count is read and written back (no compare-and-set), so replicas
    racing on the same key may let a few extra attempts through: a limit on
    guessing speed, not an exact quota. Like the gateway's limit it fails open
    when NATS is unreachable (the store answers "nothing stored")."""

    def __init__(self, store: Store, limit: int, window_s: int = 60, prefix: str = "limit"):
        self.store = store
        self.limit = limit
        self.window_s = window_s
        self.prefix = prefix

    async def hit(self, key: str) -> int | None:
        """Count one attempt; None if allowed, else the seconds until the window resets."""
        now = time.time()
        window = int(now // self.window_s)
        reset = max(1, math.ceil((window + 1) * self.window_s - now))
        k = f"{self.prefix}:{key}:{window}"
        raw = await self.store.get(k)
        count = int(raw or b"0")
        if count >= self.limit:
            return reset
        await self.store.set(k, str(count + 1).encode(), expires_in=reset + 1)
        return None
