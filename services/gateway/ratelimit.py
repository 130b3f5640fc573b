"""The gateway's rate limit: requests per minute per caller, one allowance across
every gateway replica, without a round trip to NATS on most requests.

Each process counts what it admits itself and tells the shared counter (a NATS
key-value bucket, one key per caller holding ``"<minute> <count>"``) in the
background: the first admission is sent at once, what is admitted while that is on
its way goes in the next update, at most one every ``sync_s``. Every update answers
the total of all replicas. A caller's first request of a minute on a process reads
the shared count first (one round trip per caller, process and minute). Within the
last tenth of the allowance (as this process knows the count) each request is
decided by the shared counter itself, an atomic add that refuses past the limit, so
the limit is exact for a caller whose requests a replica learns of in time.

The price: between two updates (a round trip, at most ``sync_s`` under load) a caller
spread over several replicas can get past the limit by what the other replicas
admitted and this one has not heard of yet (at most the last tenth of the allowance
each). On one replica the limit is exact. While NATS is away each process counts
alone (the limit fails open towards "per replica", never closed).

Windows are fixed minutes (``RateLimit-Reset``: seconds to the next minute).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any, Protocol

from litestar import Request
from litestar.exceptions import TooManyRequestsException
from litestar.enums import ScopeType
from litestar.middleware import ASGIMiddleware
from litestar.types import ASGIApp, Message, Receive, Scope, Send

WINDOW_S = 60
SYNC_S = 0.05


class SharedCounter(Protocol):
    async def count(self, key: str, window: int, add: int = 0, cap: int | None = None) -> tuple[int, bool] | None: ...


class _Allowance:
    __slots__ = ("pending", "push", "shared", "window")

    def __init__(self, window: int, shared: int):
        self.window, self.shared, self.pending = window, shared, 0
        self.push: asyncio.Task[None] | None = None


class Limiter:
    """``limit`` requests per caller per minute; ``shared`` None: this process alone."""

    def __init__(self, limit: int, shared: SharedCounter | None = None, *, sync_s: float = SYNC_S, clock: Callable[[], float] = time.time):
        self.limit, self.shared, self.sync_s, self.clock = limit, shared, sync_s, clock
        #: from here on (as this process counts) the shared counter decides each request
        self.exact_from = limit - max(1, limit // 10)
        self._window = -1
        self._allowances: dict[str, _Allowance] = {}
        self._reading: dict[str, asyncio.Future[tuple[int, bool] | None]] = {}
        self._tasks: set[asyncio.Task[None]] = set()

    async def admit(self, key: str) -> tuple[bool, int, int]:
        """(admitted, remaining, seconds to the window's end) for one request of ``key``."""
        now = self.clock()
        window = int(now // WINDOW_S)
        if window != self._window:  # a new minute: last minute's counts are of no use
            self._window, self._allowances = window, {}
        allowance = self._allowances.get(key) or await self._first(key, window)
        reset = max(1, int((window + 1) * WINDOW_S - now))
        used = allowance.shared + allowance.pending
        if used >= self.limit:
            return False, 0, reset
        if self.shared is None:
            allowance.shared += 1
            return True, self.limit - used - 1, reset
        if used >= self.exact_from:
            return await self._exact(key, allowance, reset)
        allowance.pending += 1
        if allowance.push is None:
            allowance.push = asyncio.create_task(self._push(key, allowance))
            self._tasks.add(allowance.push)
            allowance.push.add_done_callback(self._tasks.discard)
        return True, self.limit - used - 1, reset

    async def _first(self, key: str, window: int) -> _Allowance:
        """The caller's allowance on first sight this minute: what the replicas counted."""
        shared = None
        if self.shared is not None:
            reading = self._reading.get(key)
            if reading is None:  # concurrent first requests share one read
                reading = self._reading[key] = asyncio.ensure_future(self.shared.count(key, window))
                reading.add_done_callback(lambda _: self._reading.pop(key, None))
            shared = await asyncio.shield(reading)
        if window != self._window:
            return _Allowance(window, shared[0] if shared else 0)
        return self._allowances.setdefault(key, _Allowance(window, shared[0] if shared else 0))

    async def _exact(self, key: str, allowance: _Allowance, reset: int) -> tuple[bool, int, int]:
        """Near the limit: what this process admitted reaches the counter first, then one
        atomic add decides."""
        assert self.shared is not None
        while allowance.push is not None:
            await asyncio.shield(allowance.push)
        counted = await self.shared.count(key, allowance.window, 1, cap=self.limit)
        if counted is None:  # NATS away: this process decides alone
            admitted = allowance.shared < self.limit
            allowance.shared += admitted
        else:
            allowance.shared, admitted = counted
        return admitted, max(0, self.limit - allowance.shared), reset

    async def _push(self, key: str, allowance: _Allowance) -> None:
        assert self.shared is not None
        try:
            while allowance.pending:
                sent, allowance.pending = allowance.pending, 0
                counted = await self.shared.count(key, allowance.window, sent)
                # NATS away: what was sent stays counted here
                allowance.shared = counted[0] if counted is not None else allowance.shared + sent
                if allowance.pending:
                    await asyncio.sleep(self.sync_s)
        finally:
            allowance.push = None

    async def settled(self) -> None:
        """Wait until every admitted request has reached the shared counter."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)


def rate_limit_middleware(limiter: Limiter, identify: Callable[[Request[Any, Any, Any]], str], exclude: tuple[str, ...]) -> ASGIMiddleware:
    """The middleware: refuses with 429 and ``RateLimit-*`` (the problem handler adds
    ``Retry-After``), adds ``RateLimit-*`` to what it admits; ``exclude``: path patterns."""

    class RateLimit(ASGIMiddleware):
        scopes = (ScopeType.HTTP,)
        exclude_path_pattern = exclude

        async def handle(self, scope: Scope, receive: Receive, send: Send, next_app: ASGIApp) -> None:
            request: Request[Any, Any, Any] = scope["litestar_app"].request_class(scope)
            admitted, remaining, reset = await limiter.admit(identify(request))
            headers = {"RateLimit-Policy": f"{limiter.limit}; w={WINDOW_S}", "RateLimit-Limit": str(limiter.limit), "RateLimit-Remaining": str(remaining), "RateLimit-Reset": str(reset)}
            if not admitted:
                raise TooManyRequestsException(headers=headers)
            extra = [(k.lower().encode(), v.encode()) for k, v in headers.items()]

            async def with_headers(message: Message) -> None:
                if message["type"] == "http.response.start":
                    message["headers"] = [*message.get("headers", []), *extra]
                await send(message)

            await next_app(scope, receive, with_headers)

    return RateLimit()
