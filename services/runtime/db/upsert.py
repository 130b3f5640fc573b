"""``INSERT … ON CONFLICT`` for the database at hand.

SQLAlchemy's generic ``insert`` has no ``ON CONFLICT``; each dialect's own
``insert`` has. Each is imported on first use, so a process on SQLite (``xciss
up``'s) need not load PostgreSQL's dialect: 2.3 MiB of idle memory in vouchers,
evaluation and payments (issue 19, target 5; bench/README.md, "Two cuts"). The
registry's models say their partial indexes without naming it (``dialect_ddl.py``).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Table


def conflict_insert(dialect_name: str, table: Table) -> Any:
    """``insert(table)`` of the named dialect (``postgresql`` or ``sqlite``), which
    takes ``on_conflict_do_nothing`` and ``on_conflict_do_update``."""
    if dialect_name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    return insert(table)
