"""Connecting to a test server as one bus identity (or as nobody), and
waiting for the server's report of a refused publish or subscription."""

from __future__ import annotations

from typing import Any

import nats

from services.runtime.bus_identity.credentials import BusAccess
from tests.support.polling import eventually


class Probe:
    """One client connection and the asynchronous errors the server sent it."""

    def __init__(self, nc: nats.NATS, errors: list[Exception]):
        self.nc = nc
        self.errors = errors

    async def refused(self, timeout: float = 10.0) -> bool:
        """Whether the server reported a permissions violation (waits for it)."""
        try:
            await eventually(lambda: any("permissions violation" in str(e).lower() for e in self.errors), timeout=timeout, interval=0.02)
        except AssertionError:
            return False
        self.errors.clear()
        return True

    async def close(self) -> None:
        if not self.nc.is_closed:
            await self.nc.close()


async def probe(access: BusAccess, **kw: Any) -> Probe:
    errors: list[Exception] = []

    async def on_error(e: Exception) -> None:
        errors.append(e)

    nc = await nats.connect(access.url, error_cb=on_error, allow_reconnect=False, connect_timeout=3, **access.connect_options(), **kw)
    return Probe(nc, errors)
