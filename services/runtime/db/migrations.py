"""Alembic, one history per service, run by ``xciss migrate`` (never at import).

Each service keeps its scripts in ``services/<service>/db/migrations`` whose
``env.py`` calls :func:`run_env` with the service's metadata.
"""

from __future__ import annotations

import asyncio
import importlib
from importlib import resources
from pathlib import Path

from alembic import command, context
from alembic.config import Config
from sqlalchemy import MetaData, pool
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import async_engine_from_config

from services.runtime.db.dialect_ddl import spell_for_autogenerate


def script_location(service: str) -> Path:
    return Path(str(resources.files(f"services.{service}.db") / "migrations"))


def alembic_config(service: str, url: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(script_location(service)))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    cfg.attributes["service"] = service
    return cfg


def upgrade(service: str, url: str, revision: str = "head") -> None:
    """Bring a service's database to ``revision`` (blocking; use a thread from async code)."""
    if url.startswith("sqlite"):
        db_path = url.split(":///", 1)[-1]
        if db_path and db_path != ":memory:":
            Path(db_path).parent.mkdir(parents=True, exist_ok=True)
    command.upgrade(alembic_config(service, url), revision)


def revision(service: str, url: str, message: str) -> None:
    """Autogenerate a new revision from the models (developers' command). The models'
    partial indexes and covering keys are spelled out first, so that the revision
    renders them (``runtime/db/dialect_ddl.py``)."""
    spell_for_autogenerate([importlib.import_module(f"services.{service}.db.models").metadata])
    command.revision(alembic_config(service, url), message=message, autogenerate=True)


def run_env(metadata: MetaData) -> None:
    """The body of every service's ``env.py``."""
    config = context.config

    def do_run(connection: Connection) -> None:
        context.configure(
            connection=connection,
            target_metadata=metadata,
            render_as_batch=connection.dialect.name == "sqlite",
            compare_type=True,
        )
        with context.begin_transaction():
            context.run_migrations()

    async def run_async() -> None:
        engine = async_engine_from_config(config.get_section(config.config_ini_section, {}), prefix="sqlalchemy.", poolclass=pool.NullPool)
        async with engine.connect() as connection:
            await connection.run_sync(do_run)
        await engine.dispose()

    if context.is_offline_mode():
        context.configure(url=config.get_main_option("sqlalchemy.url"), target_metadata=metadata, literal_binds=True)
        with context.begin_transaction():
            context.run_migrations()
    else:
        asyncio.run(run_async())
