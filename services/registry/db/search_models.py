"""The registry's catalogue search tables: the read model the public search runs
on (search_docs, search_terms, search_state; services/registry/search_model.py, search.py, search_index.py) and the
synonym and abbreviation dictionary (domain/synonyms.py), which the center edits. It shares ``metadata`` with the
rest of the registry, so one alembic history covers it (``db/models.py`` imports
this module)."""

from __future__ import annotations

from sqlalchemy import JSON, BigInteger, Boolean, Column, Index, Integer, String, Table, text

from services.registry.db.metadata import metadata
from services.runtime.db.dialect_ddl import covering_primary_key
from services.runtime.db.schema import UtcDateTime

#: one entry: a canonical term and its synonyms and abbreviations
search_synonyms = Table(
    "search_synonyms",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("canonical", String(50), nullable=False),
    #: the canonical term as forms are compared (domain/synonyms.form_key); unique
    Column("canonical_key", String(50), nullable=False, unique=True),
    Column("synonyms", JSON, nullable=False),
    Column("created_by", String(200), nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
)


#: one row per instrument: what the public catalogue filters and shows
search_docs = Table(
    "search_docs",
    metadata,
    Column("instrument_id", String(36), primary_key=True),
    Column("unit_id", String(36), nullable=False),
    Column("unit_name", String(200), nullable=False),
    Column("county_code", String(6), nullable=True),
    Column("category", String(40), nullable=False),
    Column("name", String(200), nullable=False),
    Column("model", String(200), nullable=True),
    #: listed and in service: the public sees it
    Column("public", Boolean, nullable=False),
    #: the range of the instrument's active prices; null when it has none
    Column("min_price_fen", BigInteger, nullable=True),
    Column("max_price_fen", BigInteger, nullable=True),
    #: the instrument's unit is approved and accepts innovation vouchers (R18)
    Column("accepts_vouchers", Boolean, nullable=False, server_default=text("false")),
    Column("instrument_version", Integer, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    #: the ``search_state.generation`` of this row's last refresh: each registry API
    #: process's search index reads the rows changed since the generation it holds
    #: (services/registry/search_index.py)
    Column("generation", BigInteger, nullable=False, server_default=text("0")),
    #: the users' ratings of the instrument's rated orders (an order once): how many, and
    #: their stars summed; the catalogue shows their mean (domain/ratings.py) with each result
    Column("rating_count", Integer, nullable=False, server_default=text("0")),
    Column("rating_points", BigInteger, nullable=False, server_default=text("0")),
    Index("ix_search_docs_generation", "generation"),
    # a page without keywords is read in name order, filtered or not, and its
    # total counted on the index alone (search_sql.page_statement)
    Index("ix_search_docs_public_name", "public", "name", "instrument_id"),
    Index("ix_search_docs_category_name", "category", "public", "name", "instrument_id"),
    Index("ix_search_docs_county_name", "county_code", "public", "name", "instrument_id"),
    Index("ix_search_docs_unit_name", "unit_id", "public", "name", "instrument_id"),
    Index("ix_search_docs_public_price", "public", "min_price_fen", "max_price_fen"),
    sqlite_with_rowid=False,
)

#: the inverted index: CJK bigrams (and single characters) and ASCII words of
#: public instruments, each with the weight of the best field holding it
search_terms = Table(
    "search_terms",
    metadata,
    Column("term", String(64), nullable=False),
    Column("instrument_id", String(36), nullable=False),
    Column("weight", Integer, nullable=False),
    # a query reads every row of its terms: the key covers the weight
    # (clustered on SQLite, an index-only scan on PostgreSQL)
    covering_primary_key("term", "instrument_id", include=["weight"]),
    Index("ix_search_terms_instrument", "instrument_id"),
    sqlite_with_rowid=False,
)

#: one row (id 1): grows with every change of the index; a per-process result
#: cache is valid only for the generation it was computed at
search_state = Table(
    "search_state",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("generation", BigInteger, nullable=False),
)
