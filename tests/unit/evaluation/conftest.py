"""Fixtures evaluation's unit tests share."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from services.evaluation.app import SPEC
from services.runtime.db.service_db import ServiceDatabase


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[ServiceDatabase]:
    """Evaluation's tables in a fresh SQLite file."""
    d = ServiceDatabase("evaluation", f"sqlite+aiosqlite:///{tmp_path / 'evaluation.db'}", SPEC.metadata)
    async with d.engine.begin() as conn:
        await conn.run_sync(SPEC.metadata.create_all)
    yield d
    await d.dispose()
