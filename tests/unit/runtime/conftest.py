"""Fixtures of the runtime's unit tests."""

from __future__ import annotations

import asyncio

import pytest


@pytest.fixture
def waits(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """``asyncio.sleep`` returns at once and records how long it was asked to wait
    (a retry's delays, read without waiting them)."""
    waited: list[float] = []

    async def sleep(s: float) -> None:
        waited.append(s)

    monkeypatch.setattr(asyncio, "sleep", sleep)
    return waited
