"""The heap of a long-running process once it is ready to serve.

Python's full (oldest-generation) garbage collection walks every tracked
object; a service process holds about a million of them after start-up
(modules, the app's routes and signature models, templates), so each full
collection stopped the event loop for 50-250 ms, measured with a
``gc.callbacks`` probe under ``bench/front_door.py`` — the tail of every
page's latency (p99 200-300 ms against a p50 of 3.5 ms). What exists when the
process is ready lives as long as the process: after one collection of the
start-up garbage it is moved to the permanent generation (``gc.freeze``), and
later collections walk only what requests and events allocate.

It is frozen twice in a process that serves HTTP. First before the server
accepts a connection (``freeze_before_serving``, called by the entry points
once the app is built; a worker or relay alone has no requests to stall):
that collection walks the whole start-up heap (~80 ms for the registry), and
no request waits for it — frozen only later, it (or Python's own first full
collection, whichever came first) stopped the requests of a process's first
seconds (``bench/first_seconds.py``). Then a few seconds after the start
(``settle_s``): the first requests and events build what lives on too
(compiled statements and templates, a service's subscriptions); that
collection walks only what was allocated since the first freeze.

Only the process entry points call this (``xciss run``/``serve``/``worker``/
``relay``, ``xciss gateway``), never an app's lifespan: tests build and drop
apps in one process, and frozen objects are never freed.
"""

from __future__ import annotations

import asyncio
import gc
import logging
from typing import Protocol

log = logging.getLogger(__name__)


class _Starting(Protocol):
    started: bool


def freeze() -> int:
    """Collects the start-up garbage, then freezes what is left; returns how
    many objects are frozen now."""
    gc.collect()
    gc.freeze()
    return gc.get_freeze_count()


#: seconds between a process's start and the freeze
SETTLE_S = 5.0

#: whether ``freeze_before_serving`` freezes (bench/first_seconds.py measures without)
BEFORE_SERVING = True


def freeze_before_serving() -> None:
    """Collects and freezes the start-up heap before the server accepts a connection."""
    if BEFORE_SERVING:
        log.debug("heap frozen before serving: %d objects", freeze())


async def freeze_when_started(server: _Starting | None, *, settle_s: float = SETTLE_S, poll_s: float = 0.05, limit_s: float = 60.0) -> None:
    """Freezes the heap ``settle_s`` after ``server`` (uvicorn's) has started,
    or after the start of a process without a server (a worker or relay
    alone); after ``limit_s`` without a start it freezes anyway."""
    waited = 0.0
    while server is not None and not server.started and waited < limit_s:
        await asyncio.sleep(poll_s)
        waited += poll_s
    await asyncio.sleep(settle_s)
    log.debug("heap frozen after start-up: %d objects", freeze())
