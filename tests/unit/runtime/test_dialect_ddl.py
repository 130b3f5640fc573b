"""A partial index and a covering key, said once in the registry's models, come out
in each database's DDL, and importing the models loads neither database's dialect
beyond SQLite's (issue 19, target 5: PostgreSQL's dialect was 2.3 MiB of the
registry's idle memory under ``xciss up``)."""

from __future__ import annotations

import subprocess
import sys

import pytest
from sqlalchemy import Index
from sqlalchemy.dialects import mysql, postgresql, sqlite
from sqlalchemy.exc import CompileError
from sqlalchemy.schema import CreateIndex, CreateTable

from services.registry.db.models import metadata


def _index(table: str, name: str) -> Index:
    return next(i for i in metadata.tables[table].indexes if i.name == name)


def test_importing_the_registrys_models_loads_no_postgresql_dialect() -> None:
    probe = "import sys, services.registry.db.models; print(sorted(m for m in sys.modules if m.startswith('sqlalchemy.dialects.postgresql')))"
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


@pytest.mark.parametrize(
    ("table", "index", "where"),
    [
        ("users", "uq_users_credit_code_verified", "WHERE verified"),
        ("units", "uq_units_credit_code_top", "WHERE parent_unit_id IS NULL"),
        ("affiliations", "uq_affiliations_active", "WHERE removed_at IS NULL"),
        ("blacklist", "uq_blacklist_active", "WHERE removed_at IS NULL"),
        ("usage_sessions", "uq_usage_sessions_open", "WHERE ended_at IS NULL"),
    ],
)
def test_each_partial_index_keeps_its_condition_on_both_databases(table: str, index: str, where: str) -> None:
    for dialect in (sqlite.dialect(), postgresql.dialect()):
        ddl = str(CreateIndex(_index(table, index)).compile(dialect=dialect))
        assert ddl.startswith(f"CREATE UNIQUE INDEX {index} ON {table} ")
        assert ddl.endswith(where), (dialect.name, ddl)


def test_a_database_without_partial_indexes_is_refused_rather_than_given_a_full_unique_index() -> None:
    with pytest.raises(CompileError, match="uq_users_credit_code_verified is partial"):
        CreateIndex(_index("users", "uq_users_credit_code_verified")).compile(dialect=mysql.dialect())


def test_the_search_terms_key_covers_the_weight_on_postgresql() -> None:
    pg = str(CreateTable(metadata.tables["search_terms"]).compile(dialect=postgresql.dialect()))
    assert "PRIMARY KEY (term, instrument_id) INCLUDE (weight)" in pg
    lite = str(CreateTable(metadata.tables["search_terms"]).compile(dialect=sqlite.dialect()))
    assert "PRIMARY KEY (term, instrument_id)\n" in lite
    assert "INCLUDE" not in lite
    assert lite.rstrip().endswith("WITHOUT ROWID")
