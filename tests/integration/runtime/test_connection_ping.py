"""A pooled PostgreSQL connection that died while it waited (a restart, a
failover, an idle timeout in a pooler) is replaced at checkout
(``pool_pre_ping``): the request that takes it never sees the failure."""

from __future__ import annotations

import asyncpg
import pytest
from sqlalchemy import text

from services.runtime.pool_settings import PoolSettings
from services.runtime.db.engine import create_engine
from tests.support.databases import postgres_admin_url


@pytest.fixture
def pg_url() -> str:
    url = postgres_admin_url()
    if not url:
        pytest.skip("XCISS_TEST_POSTGRES_URL is not set (CI sets it; `make test` sets it when PostgreSQL answers)")
    return url.replace("postgresql://", "postgresql+asyncpg://", 1)


async def test_a_connection_killed_in_the_pool_is_replaced_before_use(pg_url: str) -> None:
    engine = create_engine(pg_url, pool=PoolSettings(size=1, max_overflow=0))
    try:
        async with engine.connect() as conn:
            pid = (await conn.execute(text("SELECT pg_backend_pid()"))).scalar_one()
        # the pooled connection's server process is killed while it is idle in the pool
        admin = await asyncpg.connect(pg_url.replace("postgresql+asyncpg://", "postgresql://", 1))
        try:
            assert await admin.fetchval("SELECT pg_terminate_backend($1)", pid)
        finally:
            await admin.close()
        async with engine.connect() as conn:  # no error: the checkout ping found it dead
            again = (await conn.execute(text("SELECT pg_backend_pid()"))).scalar_one()
        assert again != pid
    finally:
        await engine.dispose()
