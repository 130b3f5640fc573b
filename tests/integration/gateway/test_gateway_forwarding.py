"""The gateway forwards over its own kept-alive HTTP/1.1 connections (``http1``) to
services on real sockets: what the caller sent arrives (path, query, body, headers),
what the service answers comes back whole (status, every header, a streamed body),
connections are reused, and a service address that refuses is skipped or named."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn

from services.gateway.app import create_app
from services.gateway.http1 import Http1Pool
from services.runtime.settings import SERVICES, Settings
from tests.support.asgi import LifespanClient
from tests.support.polling import eventually
from tests.support.ports import free_port


class Service:
    """A service that tells what it received (and from which connection)."""

    def __init__(self) -> None:
        self.peers: list[int] = []

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        self.peers.append(scope["client"][1])
        if scope["path"] == "/v1/big":  # streamed in pieces (chunked)
            await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/plain")]})
            for i in range(50):
                await send({"type": "http.response.body", "body": f"{i:04d}".encode() * 1000, "more_body": True})
            await send({"type": "http.response.body", "body": b""})
            return
        headers = {k.decode(): v.decode() for k, v in scope["headers"]}
        seen = {"method": scope["method"], "path": scope["path"], "query": scope["query_string"].decode(), "body": body.decode(), "headers": headers}
        await send({"type": "http.response.start", "status": 201 if scope["method"] == "POST" else 200,
                    "headers": [(b"content-type", b"application/json"), (b"set-cookie", b"a=1"), (b"set-cookie", b"b=2")]})
        await send({"type": "http.response.body", "body": json.dumps(seen).encode()})


@pytest.fixture
async def service() -> AsyncIterator[tuple[Service, str]]:
    app, port = Service(), free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off"))
    task = asyncio.create_task(server.serve())
    await eventually(lambda: server.started, timeout=10, interval=0.01, what="the service started")
    yield app, f"http://127.0.0.1:{port}"
    server.should_exit = True
    await task


async def test_a_request_arrives_as_sent_and_the_answer_comes_back_whole(service: tuple[Service, str], tmp_path: Path) -> None:
    app, address = service
    gateway = create_app(Settings(data_dir=tmp_path), upstreams={s: address for s in SERVICES})
    async with LifespanClient(gateway, "http://gw.example") as gw:
        r = await gw.get("/api/registry/v1/catalogue/instruments/?q=%E6%98%BE%E5%BE%AE&page=2", headers={"X-Custom": "yes"})
        posted = await gw.post("/api/vouchers/v1/applications/", json={"amount_fen": 100})
        big = await gw.get("/api/registry/v1/big")
        for _ in range(20):
            assert (await gw.get("/api/registry/v1/x")).status_code == 200
    seen = r.json()
    assert r.status_code == 200 and seen["path"] == "/v1/catalogue/instruments/" and seen["query"] == "q=%E6%98%BE%E5%BE%AE&page=2"
    assert seen["headers"]["x-custom"] == "yes" and seen["headers"]["x-forwarded-host"] == "gw.example" and seen["headers"]["host"] == address.removeprefix("http://")
    assert r.headers.get_list("set-cookie") == ["a=1", "b=2"]
    assert posted.status_code == 201 and json.loads(posted.json()["body"]) == {"amount_fen": 100} and posted.json()["method"] == "POST"
    assert big.status_code == 200 and len(big.content) == 50 * 4000 and big.content.endswith(b"0049" * 1000)
    assert len(set(app.peers)) == 1  # one request at a time: one connection, kept alive


async def test_an_address_that_refuses_is_skipped_and_a_service_with_none_is_named(service: tuple[Service, str], tmp_path: Path) -> None:
    _, address = service
    dead = f"http://127.0.0.1:{free_port()}"
    gateway = create_app(Settings(data_dir=tmp_path), upstreams={**{s: [dead, address] for s in SERVICES}, "payments": dead})
    async with LifespanClient(gateway, "http://gw") as gw:
        assert [(await gw.get("/api/registry/v1/x")).status_code for _ in range(3)] == [200, 200, 200]
        down = await gw.get("/api/payments/v1/x")
    assert down.status_code == 503 and down.json()["code"] == "gateway.upstream_unavailable"


async def test_a_path_prefix_is_kept_and_https_addresses_go_through_httpx(service: tuple[Service, str], tmp_path: Path) -> None:
    _, address = service
    gateway = create_app(Settings(data_dir=tmp_path), upstreams={s: f"{address}/behind/proxy" for s in SERVICES})
    async with LifespanClient(gateway, "http://gw") as gw:
        assert (await gw.get("/api/registry/v1/x?a=1")).json()["path"] == "/behind/proxy/v1/x"
    fallback = httpx.AsyncClient(transport=httpx.MockTransport(lambda r: httpx.Response(200, text=str(r.url))))
    answer = await Http1Pool(5.0, fallback=fallback).request("GET", "https://registry.example/v1/x")
    assert answer.status_code == 200 and answer.content == b"https://registry.example/v1/x"
