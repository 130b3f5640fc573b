"""A long-running process freezes its start-up heap once it serves
(services/runtime/heap.py): full collections then walk only what requests
allocate."""

from __future__ import annotations

import asyncio
import gc
from collections.abc import Iterator

import pytest

from services.runtime import heap


@pytest.fixture(autouse=True)
def unfrozen() -> Iterator[None]:
    gc.unfreeze()
    yield
    gc.unfreeze()


class Server:
    started = False


async def test_the_heap_is_frozen_once_the_server_has_started_not_before() -> None:
    server = Server()
    freezing = asyncio.create_task(heap.freeze_when_started(server, poll_s=0.01))
    await asyncio.sleep(0.05)
    assert not freezing.done() and gc.get_freeze_count() == 0
    server.started = True
    await asyncio.wait_for(freezing, 1)
    assert gc.get_freeze_count() > 0


async def test_a_process_without_a_server_freezes_at_once_and_a_server_that_never_starts_at_the_limit() -> None:
    await asyncio.wait_for(heap.freeze_when_started(None), 1)
    assert gc.get_freeze_count() > 0
    gc.unfreeze()
    await asyncio.wait_for(heap.freeze_when_started(Server(), poll_s=0.01, limit_s=0.05), 1)
    assert gc.get_freeze_count() > 0


def test_what_is_frozen_is_left_out_of_later_collections() -> None:
    kept = [[] for _ in range(1000)]
    frozen = heap.freeze()
    assert frozen >= len(kept)
    # a full collection leaves them in the permanent generation
    gc.collect()
    assert gc.get_freeze_count() == frozen
