"""Per-test databases: a SQLite file, or a fresh PostgreSQL database cloned
from a migrated template (``XCISS_TEST_POSTGRES_URL`` names the server)."""

from __future__ import annotations

import asyncio
import os
import uuid
from pathlib import Path

import asyncpg

from services.runtime.db.migrations import upgrade

PG_ENV = "XCISS_TEST_POSTGRES_URL"


def postgres_admin_url() -> str | None:
    return os.environ.get(PG_ENV) or None


def _asyncpg_dsn(url: str) -> str:
    return url.replace("postgresql+asyncpg://", "postgresql://")


def _with_database(url: str, name: str) -> str:
    base = _asyncpg_dsn(url).rsplit("/", 1)[0]
    return f"{base.replace('postgresql://', 'postgresql+asyncpg://', 1)}/{name}"


class PostgresDatabases:
    """Creates databases on the test server; migrates one template per service
    per session and clones it for each test (fast, and every test is fresh)."""

    def __init__(self, admin_url: str):
        self.admin_url = _asyncpg_dsn(admin_url)
        self.run_id = uuid.uuid4().hex[:8]
        self.templates: dict[str, str] = {}
        self.created: list[str] = []

    async def _exec(self, sql: str) -> None:
        conn = await asyncpg.connect(self.admin_url)
        try:
            await conn.execute(sql)
        finally:
            await conn.close()

    async def template(self, service: str) -> str:
        if service not in self.templates:
            name = f"xt_{self.run_id}_{service}_tpl"
            await self._exec(f'CREATE DATABASE "{name}"')
            self.created.append(name)
            await asyncio.to_thread(upgrade, service, _with_database(self.admin_url, name))
            self.templates[service] = name
        return self.templates[service]

    async def fresh(self, service: str) -> str:
        tpl = await self.template(service)
        name = f"xt_{self.run_id}_{service}_{uuid.uuid4().hex[:8]}"
        await self._exec(f'CREATE DATABASE "{name}" TEMPLATE "{tpl}"')
        self.created.append(name)
        return _with_database(self.admin_url, name)

    async def drop(self, url: str) -> None:
        name = url.rsplit("/", 1)[1]
        await self._exec(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        if name in self.created:
            self.created.remove(name)

    async def drop_all(self, connections: int = 8) -> None:
        """Drops every database this session created, templates last. Each DROP
        waits for a checkpoint (~110 ms here); on several connections at once
        the checkpoints are shared: a worker's ~100 databases took 12 s of its
        session's end one by one, ~2 s this way."""
        templates = set(self.templates.values())
        clones = [n for n in self.created if n not in templates]

        async def drop(names: list[str]) -> None:
            conn = await asyncpg.connect(self.admin_url)
            try:
                for name in names:
                    await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            finally:
                await conn.close()

        for batch in (clones, [n for n in self.created if n in templates]):
            await asyncio.gather(*(drop(batch[i::connections]) for i in range(min(connections, len(batch)))))
        self.created.clear()


class SqliteDatabases:
    """Migrates one template file per service per session and copies it."""

    def __init__(self, root: Path):
        self.root = root
        self.templates: dict[str, Path] = {}

    async def fresh(self, service: str, directory: Path) -> str:
        if service not in self.templates:
            tpl = self.root / f"{service}-template.db"
            await asyncio.to_thread(upgrade, service, f"sqlite+aiosqlite:///{tpl}")
            self.templates[service] = tpl
        target = directory / f"{service}.db"
        # a database's write-ahead log left by an earlier one at this path would be replayed
        # onto the fresh copy (the model restarts its platform in the same directory)
        for leftover in (directory / f"{service}.db-wal", directory / f"{service}.db-shm"):
            leftover.unlink(missing_ok=True)
        target.write_bytes(self.templates[service].read_bytes())
        return f"sqlite+aiosqlite:///{target}"
