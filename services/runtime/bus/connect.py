"""Connecting to the bus as one identity."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

import nats

from services.runtime.bus_identity.credentials import BusAccess

log = logging.getLogger("xciss.bus")


class BusRefused(RuntimeError):
    """The server refused this identity (wrong or retired credentials): retrying would not help."""


def is_auth_error(exc: BaseException) -> bool:
    text = str(exc).lower()
    return "authorization violation" in text or "authentication" in text or "user authentication" in text


async def connect_nats(access: BusAccess, name: str, **kw: Any) -> nats.NATS:
    """Connect as ``access.identity``, retrying the first connection too, and
    reconnect forever. A refusal of the credentials is raised at once
    (:class:`BusRefused`), not retried: a process with the wrong key must fail
    at start-up, where its operator sees it."""
    delay = 0.2
    options = {**access.connect_options(), **kw}
    caller_cb = options.pop("error_cb", None)
    while True:
        refused: list[BaseException] = []
        seen = asyncio.Event()

        async def on_error(exc: Exception) -> None:
            if is_auth_error(exc):
                refused.append(exc)
                seen.set()
            else:
                log.warning("%s: NATS error: %s", name, exc)
            if caller_cb is not None:
                await caller_cb(exc)

        connecting = asyncio.ensure_future(
            nats.connect(
                access.servers,
                name=name,
                max_reconnect_attempts=-1,
                reconnect_time_wait=0.5,
                connect_timeout=2,
                allow_reconnect=True,
                error_cb=on_error,
                **options,
            )
        )
        waiting = asyncio.ensure_future(seen.wait())
        try:
            await asyncio.wait({connecting, waiting}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            waiting.cancel()
        if not connecting.done():
            connecting.cancel()
            with contextlib.suppress(BaseException):
                await connecting
            raise BusRefused(f"{name}: NATS at {access.url} refused identity {access.identity!r}: {refused[0]}")
        try:
            return connecting.result()
        except (OSError, nats.errors.NoServersError, asyncio.TimeoutError, nats.errors.Error) as exc:
            if is_auth_error(exc):
                raise BusRefused(f"{name}: NATS at {access.url} refused identity {access.identity!r}: {exc}") from exc
            log.warning("%s: NATS at %s not reachable (%s); retrying in %.1fs", name, access.url, exc, delay)
            await asyncio.sleep(delay)
            delay = min(delay * 2, 5.0)
