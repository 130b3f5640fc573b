"""Waiting for a condition instead of sleeping: ``eventually`` polls a check
until it passes or its deadline expires, so a test waits as long as the
condition takes, and no longer, and says what it waited for when it fails."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any


async def eventually(
    check: Callable[[], Any],
    *,
    timeout: float = 30.0,
    interval: float = 0.05,
    retrying: tuple[type[BaseException], ...] = (AssertionError,),
    what: str = "condition",
) -> Any:
    """Call ``check`` (sync, or returning an awaitable) every ``interval``
    seconds until it returns a truthy value, and return that value.

    A check that raises one of ``retrying`` (an ``assert`` in it, by default)
    has not passed yet; any other exception fails at once. When ``timeout``
    seconds have passed the last value or error is reported in an
    ``AssertionError`` naming ``what``."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        error: BaseException | None = None
        try:
            last = check()
            if asyncio.iscoroutine(last) or asyncio.isfuture(last):
                last = await last
        except retrying as exc:
            last, error = None, exc
        if last and error is None:
            return last
        if loop.time() > deadline:
            reason = f"last error {error!r}" if error is not None else f"last value {last!r}"
            raise AssertionError(f"{what} not met within {timeout}s ({reason})") from error
        await asyncio.sleep(interval)
