"""The ``world`` fixture: one running platform per test (and backend) for the voucher model."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterator
from typing import Any

import pytest

from tests.model.world import World, policy_time


@pytest.fixture
def world(make_settings: Callable[..., Awaitable[Any]]) -> Iterator[World]:
    with asyncio.Runner() as runner:
        w = World(runner, make_settings)
        runner.run(w.start())
        World.current = w
        try:
            yield w
        finally:
            World.current = None
            policy_time(None)
            runner.run(w.stop())

