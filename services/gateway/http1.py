"""The gateway's forwarding client: HTTP/1.1 on kept-alive connections per service
address, the answer parsed by httptools (as uvicorn parses requests).

``httpx`` costs the gateway about 2.5 ms of CPU per forwarded request (its pool looks
at every idle connection's socket on each request); this does what forwarding needs
and nothing more: one request, its whole answer in memory. Failures are httpx's
exceptions, so ``upstreams`` retries exactly as before: ``httpx.ConnectError`` /
``ConnectTimeout`` when nothing was sent, any other ``httpx.TransportError`` after.
The portal, the readiness checks and ``https://`` service addresses still use httpx.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from urllib.parse import urlsplit

import httpx
import httptools


class Headers:
    """An answer's headers, as ``proxy.response_headers`` reads them."""

    __slots__ = ("_items",)

    def __init__(self, items: list[tuple[str, str]]):
        self._items = items

    def multi_items(self) -> list[tuple[str, str]]:
        return self._items

    def get(self, name: str, default: str | None = None) -> str | None:
        name = name.lower()
        return next((v for k, v in self._items if k.lower() == name), default)


class Answer:
    __slots__ = ("content", "headers", "status_code")

    def __init__(self, status_code: int, headers: Headers, content: bytes):
        self.status_code, self.headers, self.content = status_code, headers, content


class _Connection(asyncio.Protocol):
    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.closed = False
        self._parser = httptools.HttpResponseParser(self)
        self._answer: asyncio.Future[Answer] | None = None
        self._headers: list[tuple[str, str]] = []
        self._body: list[bytes] = []

    # asyncio
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def data_received(self, data: bytes) -> None:
        try:
            self._parser.feed_data(data)
        except httptools.HttpParserError as exc:
            self._fail(httpx.RemoteProtocolError(f"malformed answer: {exc}"))

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        self._fail(httpx.RemoteProtocolError("the service closed the connection before answering"))

    # httptools
    def on_header(self, name: bytes, value: bytes) -> None:
        self._headers.append((name.decode("latin-1"), value.decode("latin-1")))

    def on_body(self, body: bytes) -> None:
        self._body.append(body)

    def on_message_complete(self) -> None:
        if not self._parser.should_keep_alive():
            self.closed = True
        if self._answer is not None and not self._answer.done():
            self._answer.set_result(Answer(self._parser.get_status_code(), Headers(self._headers), b"".join(self._body)))

    def _fail(self, exc: Exception) -> None:
        self.closed = True
        if self._answer is not None and not self._answer.done():
            self._answer.set_exception(exc)
        if self.transport is not None:
            self.transport.close()

    async def exchange(self, request: bytes) -> Answer:
        assert self.transport is not None
        self._headers, self._body = [], []
        self._answer = asyncio.get_running_loop().create_future()
        self.transport.write(request)
        return await self._answer


class Http1Pool:
    """Kept-alive connections per origin (at most ``max_idle`` kept each); ``timeout_s``
    for the connection and, separately, for the whole answer."""

    def __init__(self, timeout_s: float, *, max_idle: int = 64, fallback: httpx.AsyncClient | None = None):
        self.timeout_s, self.max_idle, self.fallback = timeout_s, max_idle, fallback
        self._idle: dict[tuple[str, int], list[_Connection]] = {}

    async def request(self, method: str, url: str, *, content: bytes = b"", headers: Mapping[str, str] | None = None) -> Answer | httpx.Response:
        """``https://`` addresses go through ``fallback`` (httpx) when given."""
        parts = urlsplit(url)
        if parts.scheme != "http" or not parts.hostname:
            if self.fallback is not None:
                return await self.fallback.request(method, url, content=content, headers=headers)
            raise httpx.UnsupportedProtocol(f"only http:// addresses are forwarded this way: {url}")
        origin = (parts.hostname, parts.port or 80)
        target = url[len(f"{parts.scheme}://{parts.netloc}") :] or "/"
        head = [f"{method} {target} HTTP/1.1", f"Host: {parts.netloc}"]
        head += [f"{k}: {v}" for k, v in (headers or {}).items()]
        if content or method in ("POST", "PUT", "PATCH"):
            head.append(f"Content-Length: {len(content)}")
        request = ("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + content
        connection = await self._connection(origin)
        try:
            async with asyncio.timeout(self.timeout_s):
                answer = await connection.exchange(request)
        except TimeoutError as exc:
            connection._fail(httpx.ReadTimeout("no answer in time"))
            raise httpx.ReadTimeout(f"no answer from {url} in {self.timeout_s:g} s") from exc
        except BaseException:
            connection._fail(httpx.RemoteProtocolError("request abandoned"))
            raise
        idle = self._idle.setdefault(origin, [])
        if not connection.closed and len(idle) < self.max_idle:
            idle.append(connection)
        elif connection.transport is not None:
            connection.transport.close()
        return answer

    async def _connection(self, origin: tuple[str, int]) -> _Connection:
        idle = self._idle.get(origin)
        while idle:
            connection = idle.pop()
            if not connection.closed and connection.transport is not None and not connection.transport.is_closing():
                return connection
        try:
            async with asyncio.timeout(self.timeout_s):
                _, connection = await asyncio.get_running_loop().create_connection(_Connection, *origin)
        except TimeoutError as exc:
            raise httpx.ConnectTimeout(f"no connection to {origin[0]}:{origin[1]} in {self.timeout_s:g} s") from exc
        except OSError as exc:
            raise httpx.ConnectError(f"no connection to {origin[0]}:{origin[1]}: {exc}") from exc
        return connection

    async def aclose(self) -> None:
        for idle in self._idle.values():
            for connection in idle:
                if connection.transport is not None:
                    connection.transport.close()
        self._idle.clear()
