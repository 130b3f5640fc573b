"""A partial index and a covering key, said once in a model and rendered by the
database at hand, without importing a database's dialect to say it.

SQLAlchemy spells both per dialect (``sqlite_where=``, ``postgresql_where=``,
``postgresql_include=``) and checks such a keyword by importing the dialect it
names: a model that spelled ``postgresql_where`` loaded PostgreSQL's dialect, all
its drivers' modules, into every process that imported it, one on SQLite too
(2.3 MiB of the registry's idle memory under ``xciss up``: issue 19, target 5;
bench/README.md). Here a model puts the condition, or the covered columns, in
the item's ``info``; the hooks below hand them to the dialect's own DDL compiler
when it renders ``CREATE INDEX`` or the key of a ``CREATE TABLE``, and
:func:`spell_for_autogenerate` writes them out as the dialects' keywords before
alembic compares the models with a database (``xciss makemigration``), so that a
new migration carries them.

The migrations state each index as it was built; ``tests/integration/runtime/
test_models_match_migrations.py`` checks that the models still say the same.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import Index, MetaData, PrimaryKeyConstraint, text
from sqlalchemy.exc import CompileError
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.schema import CreateIndex

#: the ``info`` keys the hooks read
WHERE = "where"
INCLUDE = "include"

#: the databases whose indexes take a ``WHERE`` condition
PARTIAL_INDEX_DIALECTS = ("sqlite", "postgresql")


def partial_index(name: str, *columns: str, where: str, unique: bool = False) -> Index:
    """An index over the rows for which ``where`` (SQL) holds, on both databases."""
    return Index(name, *columns, unique=unique, info={WHERE: where})


def covering_primary_key(*columns: str, include: Sequence[str]) -> PrimaryKeyConstraint:
    """A primary key whose index also holds ``include`` (PostgreSQL's ``INCLUDE``,
    for index-only scans; a table ``WITHOUT ROWID`` on SQLite is stored in its key's order)."""
    return PrimaryKeyConstraint(*columns, info={INCLUDE: tuple(include)})


def _spell_where(index: Index, dialect: str) -> None:
    where = index.info.get(WHERE)
    if where is None:
        return
    if dialect not in PARTIAL_INDEX_DIALECTS:
        raise CompileError(f"index {index.name} is partial (WHERE {where}); {dialect} has no partial indexes")
    if index.dialect_options[dialect]["where"] is None:
        index.dialect_options[dialect]["where"] = text(where)


def _spell_include(key: PrimaryKeyConstraint) -> None:
    include = key.info.get(INCLUDE)
    if include and not key.dialect_options["postgresql"]["include"]:
        key.dialect_options["postgresql"]["include"] = list(include)


@compiles(CreateIndex)
def _create_index(create: CreateIndex, compiler: Any, **kw: Any) -> str:
    _spell_where(create.element, compiler.dialect.name)
    return str(compiler.visit_create_index(create, **kw))


@compiles(PrimaryKeyConstraint, "postgresql")
def _primary_key(key: PrimaryKeyConstraint, compiler: Any, **kw: Any) -> str:
    _spell_include(key)
    return str(compiler.visit_primary_key_constraint(key, **kw))


def spell_for_autogenerate(metadatas: Iterable[MetaData]) -> None:
    """Writes each partial index's condition and each covering key's columns as both
    dialects' keywords (which imports both dialects), so that alembic's autogenerate
    renders them into the migration it writes."""
    for metadata in metadatas:
        for table in metadata.tables.values():
            for index in table.indexes:
                if WHERE in index.info:
                    for dialect in PARTIAL_INDEX_DIALECTS:
                        _spell_where(index, dialect)
            _spell_include(table.primary_key)
