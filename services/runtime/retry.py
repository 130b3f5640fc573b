"""Trying a transient failure again: ``await again_after(op, (0.25, 0.5, 1.0), _TRANSIENT)``
runs ``op()``; a failure of one of the transient kinds is tried again after each delay in
turn, and the last one (or any other failure at once) is raised for the caller to log."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from typing import TypeVar

__all__ = ["again_after"]

T = TypeVar("T")


async def again_after(
    op: Callable[[], Awaitable[T]],
    delays_s: Sequence[float],
    transient: type[BaseException] | tuple[type[BaseException], ...] = Exception,
) -> T:
    """``op()``'s result; ``len(delays_s) + 1`` tries at the most."""
    for delay in delays_s:
        try:
            return await op()
        except transient:
            await asyncio.sleep(delay)
    return await op()
