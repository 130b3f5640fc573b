"""Which address of a service the gateway calls: several API processes per
service (``XCISS_<SVC>_URL=http://a:8101,http://b:8101``), spread round-robin.

A request goes to the next address in turn. If the connection cannot be made
(``httpx.ConnectError`` / ``httpx.ConnectTimeout``: nothing was sent), the next
address is tried, each at most once per request. Any other failure happens
after the request was sent (a POST may have taken effect) and is never
retried: the caller gets it. An address that refused a connection is set
aside for ``down_for_s`` seconds (tried only after every other address failed
to connect), so a stopped replica does not cost every request a failed connect.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

import httpx

from services.gateway.http1 import Answer, Http1Pool

log = logging.getLogger("xciss.gateway")

#: failures before anything was sent: safe to try the next address
CONNECT_FAILURES = (httpx.ConnectError, httpx.ConnectTimeout)
DOWN_FOR_S = 2.0


class Picker:
    """The addresses of one service and what the gateway has learned of them (no I/O)."""

    def __init__(self, addresses: Sequence[str], *, down_for_s: float = DOWN_FOR_S, clock: Callable[[], float] = time.monotonic):
        if not addresses:
            raise ValueError("a service needs at least one address")
        self.addresses = tuple(dict.fromkeys(a.rstrip("/") for a in addresses))
        self.down_for_s, self.clock = down_for_s, clock
        self._next = 0
        self._down_until: dict[str, float] = {}

    def order(self) -> list[str]:
        """The addresses to try for one request, each once: starting with the next
        in turn, those set aside after a refused connection last."""
        start, self._next = self._next, (self._next + 1) % len(self.addresses)
        turn = self.addresses[start:] + self.addresses[:start]
        now = self.clock()
        up = [a for a in turn if self._down_until.get(a, 0.0) <= now]
        return up + [a for a in turn if a not in up]

    def refused(self, address: str) -> None:
        self._down_until[address] = self.clock() + self.down_for_s

    def answered(self, address: str) -> None:
        self._down_until.pop(address, None)

    def is_down(self, address: str) -> bool:
        return self._down_until.get(address, 0.0) > self.clock()


class Upstream:
    """One service behind the gateway: its picker and the requests to it."""

    def __init__(self, service: str, picker: Picker):
        self.service, self.picker = service, picker

    @property
    def addresses(self) -> tuple[str, ...]:
        return self.picker.addresses

    async def request(self, client: httpx.AsyncClient | Http1Pool, method: str, path: str, **kw: Any) -> httpx.Response | Answer:
        """``method`` on ``<address><path>`` (``path`` may carry the query); raises the
        last connect failure when no address took the connection, any other
        ``httpx.TransportError`` as it came (never retried: the request may have arrived)."""
        failure: Exception | None = None
        for address in self.picker.order():
            try:
                response = await client.request(method, f"{address}{path}", **kw)
            except CONNECT_FAILURES as exc:
                self.picker.refused(address)
                log.warning("gateway: no connection to %s at %s (%s)", self.service, address, type(exc).__name__)
                failure = exc
                continue
            self.picker.answered(address)
            return response
        assert failure is not None
        raise failure


class Upstreams(Mapping[str, Upstream]):
    """Every service's :class:`Upstream`, by service name."""

    def __init__(self, addresses: Mapping[str, str | Sequence[str]], *, down_for_s: float = DOWN_FOR_S, clock: Callable[[], float] = time.monotonic):
        self._by_service = {
            service: Upstream(service, Picker(split(value) if isinstance(value, str) else value, down_for_s=down_for_s, clock=clock))
            for service, value in addresses.items()
        }

    def __getitem__(self, service: str) -> Upstream:
        return self._by_service[service]

    def __iter__(self) -> Iterator[str]:
        return iter(self._by_service)

    def __len__(self) -> int:
        return len(self._by_service)


def split(value: str) -> tuple[str, ...]:
    """``"http://a:1, http://b:2"`` -> ``("http://a:1", "http://b:2")``."""
    return tuple(a.strip().rstrip("/") for a in value.split(",") if a.strip())
