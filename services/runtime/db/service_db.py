"""A service's database handle: engine, sessions, and units of work."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

from sqlalchemy import MetaData, text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from services.runtime.pool_settings import PoolSettings
from services.runtime.db.engine import create_engine, is_sqlite, session_factory
from services.runtime.db.unit_of_work import SYSTEM, Actor, UnitOfWork


class ServiceDatabase:
    def __init__(self, service: str, url: str, metadata: MetaData, pool: PoolSettings | None = None):
        self.service = service
        self.url = url
        self.metadata = metadata
        self.engine = create_engine(url, pool=pool)
        self.sessions = session_factory(self.engine)
        # SQLite: readers get their own engine that never takes the write lock
        self.read_engine = create_engine(url, read_only=True) if is_sqlite(url) else self.engine
        self.read_sessions = session_factory(self.read_engine)
        #: called after every commit that emitted events (wakes an in-process relay)
        self.on_events: list[Callable[[], None]] = []

    @asynccontextmanager
    async def unit_of_work(
        self, actor: Actor = SYSTEM, correlation_id: str | None = None, causation_id: str | None = None, *, bulk: bool = False
    ) -> AsyncIterator[UnitOfWork]:
        """One transaction: commits on success, rolls back on any exception.
        ``bulk``: the outbox rows are inserted together at commit (see
        ``UnitOfWork.on_behalf_of``)."""
        async with self.sessions() as session:
            async with session.begin():
                uow = UnitOfWork(session, self.metadata, actor=actor, correlation_id=correlation_id, causation_id=causation_id, outbox_rows=[] if bulk else None)
                yield uow
                await uow.flush()
            if uow.emitted:
                for cb in self.on_events:
                    cb()

    @asynccontextmanager
    async def read(self) -> AsyncIterator[AsyncSession]:
        """A read-only session: one consistent snapshot, no write lock."""
        async with self.read_sessions() as session:
            yield session

    @asynccontextmanager
    async def read_connection(self) -> AsyncIterator[AsyncConnection]:
        """A read-only Core connection, no ORM session around it: for a hot read of plain
        ``select`` statements (one transaction, rolled back at the end)."""
        async with self.read_engine.connect() as conn:
            yield conn

    async def ping(self) -> None:
        async with self.engine.connect() as conn:
            await conn.execute(text("SELECT 1"))

    async def dispose(self) -> None:
        await self.engine.dispose()
        if self.read_engine is not self.engine:
            await self.read_engine.dispose()
