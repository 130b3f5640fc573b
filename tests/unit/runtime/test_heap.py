"""A long-running process freezes its start-up heap once it serves
(services/runtime/heap.py): full collections then walk only what requests
allocate."""

from __future__ import annotations

import asyncio
import gc
import weakref
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


async def test_the_heap_is_frozen_a_while_after_the_server_has_started_not_before() -> None:
    server = Server()
    freezing = asyncio.create_task(heap.freeze_when_started(server, settle_s=0.1, poll_s=0.01))
    await asyncio.sleep(0.05)
    assert not freezing.done() and gc.get_freeze_count() == 0
    server.started = True
    await asyncio.sleep(0.05)  # started, still settling
    assert not freezing.done() and gc.get_freeze_count() == 0
    await asyncio.wait_for(freezing, 1)
    assert gc.get_freeze_count() > 0


async def test_a_process_without_a_server_freezes_at_once_and_a_server_that_never_starts_at_the_limit() -> None:
    await asyncio.wait_for(heap.freeze_when_started(None, settle_s=0), 1)
    assert gc.get_freeze_count() > 0
    gc.unfreeze()
    await asyncio.wait_for(heap.freeze_when_started(Server(), settle_s=0, poll_s=0.01, limit_s=0.05), 1)
    assert gc.get_freeze_count() > 0


class Node:
    me: object = None


def test_start_up_garbage_is_freed_and_what_lives_is_left_out_of_later_collections() -> None:
    gc.disable()  # only heap.freeze collects here
    try:
        _start_up_and_freeze()
    finally:
        gc.enable()


def _start_up_and_freeze() -> None:
    garbage = Node()
    garbage.me = garbage  # a cycle only a collection frees
    gone = weakref.ref(garbage)
    del garbage
    kept = [Node() for _ in range(1000)]
    frozen = heap.freeze()
    assert gone() is None, "the start-up garbage was frozen instead of freed"
    # nothing is left for a full collection to walk: the oldest generation is empty
    assert len(gc.get_objects(generation=2)) < len(kept)
    gc.collect()
    assert gc.get_freeze_count() == frozen


def test_the_start_up_heap_is_frozen_before_serving_unless_switched_off(monkeypatch: pytest.MonkeyPatch) -> None:
    """The entry points freeze once the app is built, before the server accepts a
    connection (bench/first_seconds.py measures the difference); the switch is the
    benchmark's baseline."""
    monkeypatch.setattr(heap, "BEFORE_SERVING", False)
    heap.freeze_before_serving()
    assert gc.get_freeze_count() == 0
    monkeypatch.setattr(heap, "BEFORE_SERVING", True)
    heap.freeze_before_serving()
    assert gc.get_freeze_count() > 0
