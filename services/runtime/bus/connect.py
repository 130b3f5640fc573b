"""Connecting to the bus as one identity."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import nats

from services.runtime.bus.credentials import BusAccess

log = logging.getLogger("xciss.bus")


class BusRefused(RuntimeError):
    """The server refused this identity (wrong or retired credentials): retrying would not help."""


def is_auth_error(exc: BaseException) -> bool:
    text = str(exc).lower()
    return "authorization violation" in text or "authentication" in text or "user authentication" in text


async def connect_nats(access: BusAccess, name: str, **kw: Any) -> nats.NATS:
    """Connect as ``access.identity``, retrying the first connection too, and
    reconnect forever. A refusal of the credentials is raised at once
    (:class:`BusRefused`), not retried."""
    delay = 0.2
    options = {**access.connect_options(), **kw}
    while True:
        try:
            return await nats.connect(
                access.url,
                name=name,
                max_reconnect_attempts=-1,
                reconnect_time_wait=0.5,
                connect_timeout=2,
                allow_reconnect=True,
                **options,
            )
        except (OSError, nats.errors.NoServersError, asyncio.TimeoutError, nats.errors.Error) as exc:
            if is_auth_error(exc):
                raise BusRefused(f"{name}: NATS at {access.url} refused identity {access.identity!r}: {exc}") from exc
            log.warning("%s: NATS at %s not reachable (%s); retrying in %.1fs", name, access.url, exc, delay)
            await asyncio.sleep(delay)
            delay = min(delay * 2, 5.0)
