"""How SQLite reads a catalogue page (issue 19, target 3). Without keywords:
in the order of an index, stopping at the page, and the total counted on an
index alone (a page that sorted every public document, or every one of a
category, took seconds at 100,000 instruments). With keywords and no filter:
the total counted on the index of terms alone, no document read."""

from __future__ import annotations

import sqlite3
from typing import Any

import pytest
from sqlalchemy import create_engine

from services.registry.db.search_models import search_docs, search_terms
from services.registry.search_sql import Filters, count_statement, counted_apart, page_statement


@pytest.fixture(scope="module")
def engine() -> Any:
    e = create_engine("sqlite://")
    search_docs.create(e)
    search_terms.create(e)
    yield e
    e.dispose()


def plan(engine: Any, stmt: Any) -> list[str]:
    sql = str(stmt.compile(engine, compile_kwargs={"literal_binds": True}))
    with engine.connect() as conn:
        raw: sqlite3.Connection = conn.connection.dbapi_connection
        return [row[3] for row in raw.execute("EXPLAIN QUERY PLAN " + sql)]


FILTERS = [
    Filters(),
    Filters(category="分析仪器"),
    Filters(county_code="411002"),
    Filters(unit_id="u-1"),
    Filters(category="分析仪器", county_code="411002"),
]


@pytest.mark.parametrize("f", FILTERS, ids=repr)
@pytest.mark.parametrize("page", [1, 3])
def test_a_page_without_keywords_is_read_in_name_order(engine: Any, f: Filters, page: int) -> None:
    steps = plan(engine, page_statement((), f, "relevance", page, 20))
    assert not any("TEMP B-TREE" in s for s in steps), steps
    assert any("USING INDEX" in s for s in steps), steps
    assert plan(engine, page_statement((), f, "relevance", page, 20)) == plan(engine, page_statement((), f, "name", page, 20))


@pytest.mark.parametrize("f", [*FILTERS[:4], Filters(price_max_fen=100_000), Filters(price_min_fen=5_000)], ids=repr)
def test_the_total_without_keywords_is_counted_on_an_index(engine: Any, f: Filters) -> None:
    steps = plan(engine, count_statement((), f))
    assert len(steps) == 1 and "COVERING INDEX" in steps[0], steps


@pytest.mark.parametrize("groups", [((("光谱",),),), ((("光谱", "红外"),),), ((("光谱",),), (("ftir",), ("傅里", "里叶")))], ids=repr)
def test_the_total_of_keywords_without_filters_reads_no_document(engine: Any, groups: Any) -> None:
    assert counted_apart(groups, Filters()) and not counted_apart(groups, Filters(category="分析仪器"))
    steps = plan(engine, count_statement(groups, Filters()))
    assert not any("search_docs" in s for s in steps), steps
    page = plan(engine, page_statement(groups, Filters(), "relevance", 1, 20))
    assert any("search_docs" in s for s in page), page  # the page still reads its names
