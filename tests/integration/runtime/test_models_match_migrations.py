"""Each service's models say what its migrations build, on both databases: after
``xciss migrate`` alembic's autogenerate (what ``xciss makemigration`` runs) finds
nothing to add, drop or change. And a partial index said once in a model
(``runtime/db/dialect_ddl.py``) reaches the migration autogenerate writes with its
condition for both databases."""

from __future__ import annotations

import importlib
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata, produce_migrations, render_python_code
from alembic.migration import MigrationContext
from sqlalchemy import MetaData, text
from sqlalchemy.ext.asyncio import create_async_engine

from services.runtime.db.dialect_ddl import spell_for_autogenerate

SERVICES = ("registry", "vouchers", "evaluation", "payments")


async def _against(url: str, metadata: MetaData, step: Any, before: str | None = None) -> Any:
    engine = create_async_engine(url)
    try:
        async with engine.begin() as conn:
            if before:
                await conn.execute(text(before))
            return await conn.run_sync(lambda sync: step(MigrationContext.configure(sync, opts={"compare_type": True}), metadata))
    finally:
        await engine.dispose()


def _metadata(service: str) -> MetaData:
    return importlib.import_module(f"services.{service}.db.models").metadata  # type: ignore[no-any-return]


@pytest.mark.parametrize("service", SERVICES)
async def test_the_models_say_what_the_migrations_build(service: str, fresh_database: Callable[[str], Awaitable[str]]) -> None:
    url = await fresh_database(service)
    assert await _against(url, _metadata(service), compare_metadata) == []


async def test_a_new_migration_writes_a_partial_indexs_condition_for_both_databases(fresh_database: Callable[[str], Awaitable[str]]) -> None:
    url = await fresh_database("registry")
    metadata = _metadata("registry")
    spell_for_autogenerate([metadata])
    differences = await _against(url, metadata, compare_metadata, before="DROP INDEX uq_users_credit_code_verified")
    assert [(d[0], d[1].name) for d in differences] == [("add_index", "uq_users_credit_code_verified")]
    script = await _against(url, metadata, lambda ctx, md: render_python_code(produce_migrations(ctx, md).upgrade_ops))
    line = next(x for x in script.splitlines() if "uq_users_credit_code_verified" in x)
    assert "unique=True" in line
    assert "sqlite_where=sa.text('verified')" in line
    assert "postgresql_where=sa.text('verified')" in line
