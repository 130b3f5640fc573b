"""An in-process HTTP client on the test's own event loop.

Litestar's AsyncTestClient runs the app in another thread's loop and blocks
the caller's loop during a request; a worker sharing the loop (and a SQLite
lock) would then freeze. This client keeps everything on one loop.
"""

from __future__ import annotations

import asyncio
from typing import Any

import httpx


class LifespanClient:
    def __init__(self, app: Any, base_url: str):
        self.app = app
        self.base_url = base_url
        self._to_app: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self._from_app: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self._task: asyncio.Task[None] | None = None
        self.http: httpx.AsyncClient | None = None

    async def _lifespan(self, kind: str) -> None:
        await self._to_app.put({"type": f"lifespan.{kind}"})
        message = await asyncio.wait_for(self._from_app.get(), 30)
        if message["type"] != f"lifespan.{kind}.complete":
            raise RuntimeError(f"lifespan {kind} failed: {message}")

    async def __aenter__(self) -> httpx.AsyncClient:
        scope = {"type": "lifespan", "asgi": {"version": "3.0"}, "state": {}}
        self._task = asyncio.create_task(self.app(scope, self._to_app.get, self._from_app.put))
        await self._lifespan("startup")
        self.http = httpx.AsyncClient(transport=httpx.ASGITransport(app=self.app), base_url=self.base_url, timeout=30)
        return self.http

    async def __aexit__(self, *exc: object) -> None:
        assert self.http is not None and self._task is not None
        await self.http.aclose()
        await self._lifespan("shutdown")
        await self._task
