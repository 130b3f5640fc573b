"""The gateway in front of two real API processes of one service (uvicorn on
their own ports, ``XCISS_REGISTRY_URL=http://127.0.0.1:<a>,http://127.0.0.1:<b>``):
requests spread over both, keep succeeding when one is stopped (none lost, none
twice), and a request the upstream received but never answered is not sent again."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import Counter
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import uvicorn
from litestar import Litestar, Request, get, post

from services.gateway.app import create_app
from services.runtime.settings import Settings
from tests.support.asgi import LifespanClient
from tests.support.polling import eventually
from tests.support.ports import free_port


class _Server(uvicorn.Server):
    @contextlib.contextmanager
    def capture_signals(self):  # type: ignore[no-untyped-def]
        yield  # the test process owns its signals


class Replica:
    """A service API process on its own port that remembers the ids it was sent."""

    def __init__(self, name: str, port: int | None = None) -> None:
        self.name, self.port = name, port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.seen: list[str] = []
        self._task: asyncio.Task[None] | None = None

    def _app(self) -> Litestar:
        @post("/v1/things/", status_code=201)
        async def create(request: Request[Any, Any, Any]) -> dict[str, str]:
            ident = (await request.json())["id"]
            self.seen.append(ident)
            return {"id": ident, "served_by": self.name}

        @get("/ready")
        async def ready() -> dict[str, str]:
            return {"status": "ready"}

        return Litestar([create, ready])

    async def start(self) -> None:
        self._server = _Server(uvicorn.Config(self._app(), host="127.0.0.1", port=self.port, log_level="warning", lifespan="off"))
        self._task = asyncio.create_task(self._server.serve())
        task = self._task

        def started() -> bool:
            if task.done():
                raise RuntimeError(f"replica {self.name} stopped while starting")
            return self._server.started

        await eventually(started, timeout=10, interval=0.01, what=f"replica {self.name} started")

    async def stop(self) -> None:
        if self._task is not None and not self._task.done():
            self._server.should_exit = True
            await self._task


class Dropper:
    """Accepts a connection, reads the whole request, and closes without answering."""

    def __init__(self) -> None:
        self.requests: list[bytes] = []

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = await reader.readuntil(b"\r\n\r\n")
        length = next((int(line.split(b":", 1)[1]) for line in head.split(b"\r\n") if line.lower().startswith(b"content-length:")), 0)
        self.requests.append(head + await reader.readexactly(length))
        writer.close()

    @contextlib.asynccontextmanager
    async def serving(self) -> AsyncIterator[str]:
        server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        async with server:
            yield f"http://127.0.0.1:{port}"


def _gateway(tmp_path: Path, registry: str) -> LifespanClient:
    settings = Settings.from_env({"XCISS_DATA_DIR": str(tmp_path), "XCISS_REGISTRY_URL": registry})
    return LifespanClient(create_app(settings, upstreams={"registry": settings.upstream_addresses("registry")}), "http://gateway.test")


async def _create(gw: httpx.AsyncClient, ident: str) -> httpx.Response:
    return await gw.post("/api/registry/v1/things/", json={"id": ident})


async def test_requests_spread_over_two_replicas_and_survive_one_stopped(tmp_path: Path) -> None:
    a, b = Replica("a"), Replica("b")
    await a.start()
    await b.start()
    try:
        async with _gateway(tmp_path, f"{a.url}, {b.url}") as gw:
            first = [await _create(gw, f"t{i}") for i in range(10)]
            assert [r.status_code for r in first] == [201] * 10
            assert Counter(r.json()["served_by"] for r in first) == {"a": 5, "b": 5}  # round-robin
            assert (await gw.get("/ready")).json()["checks"] == {f"registry {a.url}": "ok", f"registry {b.url}": "ok"}

            await a.stop()
            during = await asyncio.gather(*(_create(gw, f"t{i}") for i in range(10, 30)))
            assert [r.status_code for r in during] == [201] * 20
            assert {r.json()["served_by"] for r in during} == {"b"}
            # none lost, none twice: every id created once, by one replica
            assert sorted(a.seen + b.seen) == sorted(f"t{i}" for i in range(30))

            ready = await gw.get("/ready")
            assert ready.status_code == 200 and ready.json()["status"] == "ready"
            assert ready.json()["checks"][f"registry {b.url}"] == "ok"
            assert ready.json()["checks"][f"registry {a.url}"].startswith("error")
            doc = await gw.get("/api/openapi.json")
            assert doc.status_code == 200 and "/api/registry/v1/things" in doc.json()["paths"]

            # the stopped replica comes back and gets its share again once its time aside is over
            a = Replica("a", a.port)
            await a.start()
            async def back_in_rotation() -> bool:
                assert (await _create(gw, f"back{time.monotonic()}")).status_code == 201
                return bool(a.seen)

            await eventually(back_in_rotation, timeout=10, what="the restarted replica got a request")

            await a.stop()
            await b.stop()
            down = await _create(gw, "t-none")
            assert down.status_code == 503 and down.json()["code"] == "gateway.upstream_unavailable"
            assert down.json()["message_zh"] and down.json()["message_en"]
            assert (await gw.get("/ready")).status_code == 503
    finally:
        await a.stop()
        await b.stop()


async def test_a_post_the_upstream_received_is_not_sent_to_the_other_replica(tmp_path: Path) -> None:
    dropper, b = Dropper(), Replica("b")
    await b.start()
    try:
        async with dropper.serving() as dropping, _gateway(tmp_path, f"{dropping},{b.url}") as gw:
            lost = await _create(gw, "pay-once")  # the first address in turn: the one that drops it
            assert lost.status_code == 503 and lost.json()["code"] == "gateway.upstream_unavailable"
            assert len(dropper.requests) == 1 and b'"pay-once"' in dropper.requests[0]
            assert b.seen == []  # never retried on the other replica: it may have taken effect
            assert (await _create(gw, "next")).json()["served_by"] == "b"  # the next request, the next address
    finally:
        await b.stop()
