"""A process's connections to one PostgreSQL database (``XCISS_DB_POOL_*``, read by
:class:`services.runtime.settings.Settings`; used by the engine factory)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class PoolSettings:
    """A process's connections to one PostgreSQL database (XCISS_DB_POOL_*)."""

    size: int = 10
    max_overflow: int = 10
    timeout_s: float = 30.0
    #: the URL is a transaction pooler (PgBouncer ``pool_mode = transaction``): consecutive
    #: transactions may run on different server connections, so no prepared statement is
    #: cached across them and each gets a unique name (asyncpg and SQLAlchemy's advice)
    transaction_pooler: bool = False

    def connect_args(self) -> dict[str, Any]:
        """asyncpg's arguments: behind a transaction pooler, no statement cache (asyncpg's
        nor SQLAlchemy's) and a unique name for every prepared statement."""
        if not self.transaction_pooler:
            return {}
        return {"statement_cache_size": 0, "prepared_statement_cache_size": 0, "prepared_statement_name_func": _unique_statement_name}

    @property
    def most(self) -> int:
        """The most connections one process opens to the database."""
        return self.size + self.max_overflow


def _unique_statement_name() -> str:
    return f"__xciss_{uuid.uuid4().hex}__"
