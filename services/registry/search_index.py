"""The catalogue's search index in each registry API process (issue 19, target 3).

The read model (search_model.py: ``search_docs``, ``search_terms``) stays the
source of truth, kept by the worker and the same on SQLite and PostgreSQL. A
database answers a keyword page only by joining every matching instrument to
its document (10–30 ms a miss at 100,000 instruments; bench/README.md); an
inverted index answers it from its postings. Each API process therefore holds
a Tantivy index of the public documents (in a temporary directory of its own,
removed when the process ends) and follows the read model: before a search it
reads the documents refreshed since the generation it holds
(``search_docs.generation``, written by every refresh). Reading every document
(the process's first search, or a database restored to an earlier generation)
runs in the background while the database answers.

The index scores as ``search_sql`` does (search_index_schema.py: the schema,
the documents, the queries). Reading every document writes them in name order
(the name, NUL, the id) into one segment, so that a page is read in the
documents' order with no sort (search_index_pages.py). A refresh adds its
documents after the others; until every document is read again (in the
background, REORDER_AFTER), they are searched apart and merged by name. Where a
page cannot be ordered exactly — too many combinations of weights to write —
the database answers, as it does the price orders.
``tests/integration/registry/test_search_index.py`` compares the index's pages
with the database's on both databases; ``bench/search_library.py`` every page
of the benchmark's mix at 100,000 instruments.
"""

from __future__ import annotations

import asyncio
import logging
import math
import shutil
import tempfile
import time
import weakref
from collections.abc import Mapping
from typing import Any

import tantivy
from prometheus_client import Gauge
from sqlalchemy import select

from services.registry.db.search_models import search_docs, search_terms
from services.registry.domain.synonyms import Group
from services.registry import search_index_pages as pages
from services.registry.search_index_schema import SCHEMA, document, sortkey
from services.registry.search_sql import SHOWN, Filters, Shown
from services.runtime.db.service_db import ServiceDatabase

log = logging.getLogger("xciss.registry.search_index")

INDEX_GENERATION = Gauge("xciss_search_index_generation", "The read model's generation this process's catalogue search index holds (-1 until it has read the catalogue)")
INDEX_DOCUMENTS = Gauge("xciss_search_index_documents", "Public instruments in this process's catalogue search index")
INDEX_IN_NAME_ORDER = Gauge("xciss_search_index_in_name_order", "1 while this process's catalogue search index holds its documents in name order in one segment, 0 after a refresh until it is read again (the refreshed ones are searched apart meanwhile)")
INDEX_GENERATION.set(-1)

#: the orders the index answers (the price orders are the database's)
SORTS = ("relevance", "name")
#: documents read from the database at a time (a statement for them, one for their terms)
CHUNK = 500
#: the writer's memory budget reading every document: enough for one segment at
#: 100,000 instruments (two segments order a page 35% slower, bench/README.md);
#: the registry API's memory limit (deploy/base/services/registry.yaml) holds it
FULL_HEAP = 128_000_000
#: and applying the documents refreshed since (Tantivy's least per thread is 15 MB)
STEP_HEAP = 16_000_000
#: a refresh leaves its documents out of name order (searched apart and merged,
#: about 2.3x a page's time); every document is read again in name order once this many
#: seconds have passed since the last reading began, and REORDER_FACTOR times as
#: long as that reading took (19–20 s at 100,000 instruments, bench/README.md)
REORDER_AFTER = 60.0
REORDER_FACTOR = 10.0


class _Store:
    """A Tantivy index in a temporary directory of its own, removed with it."""

    def __init__(self) -> None:
        self.dir = tempfile.mkdtemp(prefix="xciss-search-")
        weakref.finalize(self, shutil.rmtree, self.dir, True)
        self.index = tantivy.Index(SCHEMA, path=self.dir)
        #: whether documents were refreshed since every document was read in name
        #: order into one segment (they carry the moved mark and follow the others,
        #: which keep that order); None before that reading or after one out of order
        self.moved: bool | None = None
        #: it holds what one reading of every document wrote, none deleted since: a
        #: posting's length counts its matches, a document's number is its place
        self.intact = False

    async def read(self, db: ServiceDatabase, since: int | None) -> int:
        """Write the documents refreshed after generation ``since`` — every public
        one, in name order, with None — CHUNK at a time, each chunk's documents
        and terms in short reads of their own, so that a process's memory does not
        grow with the catalogue (reading 100,000 instruments at once took 2.2 GB);
        returns how many documents were read. Nothing is written unless all are."""
        everything = since is None
        refreshed = await _refreshed(db, since)
        if everything:
            refreshed.sort(key=lambda r: sortkey({"name": r[1], "instrument_id": r[0]}))  # one writer thread keeps this order in the segment
        else:
            self.refreshing(refreshed)
        writer = await asyncio.to_thread(self.index.writer, heap_size=FULL_HEAP if everything else STEP_HEAP, num_threads=1)
        try:
            last: str | None = ""
            for i in range(0, len(refreshed), CHUNK):
                ids = [iid for iid, _, _ in refreshed[i : i + CHUNK]]
                docs, terms = await _documents(db, ids)
                place = {iid: k for k, iid in enumerate(ids)}
                docs.sort(key=lambda doc: place[doc["instrument_id"]])
                last = await asyncio.to_thread(self._add, writer, docs, terms, everything, last)
            await asyncio.to_thread(self._commit, writer, everything, last is not None)
        except BaseException:
            writer.rollback()
            raise
        return len(refreshed)

    @property
    def in_name_order(self) -> bool:
        """Every document lies in name order in one segment."""
        return self.moved is False

    def refreshing(self, refreshed: list[tuple[str, str, bool]]) -> None:
        """Before a search can see the refreshed documents (instrument_id, name,
        public): each is deleted, and the public ones are added after the others."""
        self.intact = self.intact and not refreshed
        if self.moved is not None and any(public for _, _, public in refreshed):
            self.moved = True

    def apply(self, docs: list[Mapping[str, Any]], terms: dict[str, list[tuple[str, int]]], everything: bool = True) -> None:
        """Write documents from rows at hand, as ``read`` does: every document,
        or ``docs`` refreshed (bench/search_library.py)."""
        if not everything:
            self.refreshing([(doc["instrument_id"], doc["name"], bool(doc["public"])) for doc in docs])
        writer = self.index.writer(heap_size=FULL_HEAP if everything else STEP_HEAP, num_threads=1)
        last = self._add(writer, sorted(docs, key=sortkey) if everything else docs, terms, everything, "")
        self._commit(writer, everything, last is not None)

    @staticmethod
    def _add(writer: Any, docs: list[Mapping[str, Any]], terms: dict[str, list[tuple[str, int]]], everything: bool, last: str | None) -> str | None:
        """Write ``docs`` in their order (refreshed ones replace what the index
        held); the last name order key written, None once one came before the last."""
        for doc in docs:
            if not everything:
                writer.delete_documents_by_term("instrument_id", doc["instrument_id"])
            if doc["public"]:
                writer.add_document(document(doc, terms.get(doc["instrument_id"], ()), moved=not everything))
                if last is not None:  # a name refreshed after the ids were read may be out of order
                    key = sortkey(doc)
                    last = key if key >= last else None
        return last

    def _commit(self, writer: Any, everything: bool, in_order: bool) -> None:
        writer.commit()
        writer.wait_merging_threads()
        self.index.reload()
        if everything:
            self.moved = False if in_order and self.index.searcher().num_segments <= 1 else None
            self.intact = True


class CatalogueIndex:
    """One process's index of one database's public documents, at ``generation``."""

    def __init__(self) -> None:
        self._store = _Store()
        self.generation: int | None = None
        self._lock = asyncio.Lock()
        self._building: asyncio.Task[None] | None = None
        self._read_at = -math.inf  # when the last reading of every document began (monotonic)
        self._read_seconds = 0.0  # and how long it took

    @property
    def _index(self) -> tantivy.Index:
        return self._store.index

    @property
    def in_name_order(self) -> bool:
        """The documents lie in name order in one segment: a relevance page is one search."""
        return self._store.in_name_order

    async def follow(self, db: ServiceDatabase, generation: int, *, wait: bool = False) -> bool:
        """Bring the index to ``generation`` (read from ``search_state`` before);
        whether it holds it now. The documents refreshed since the index's own
        generation are applied at once. Reading every document (the first time,
        after a restore took the generation back, or to put documents refreshed
        since back in name order) runs in the background, unless ``wait``: the
        database answers meanwhile the first time and after a restore, the index
        itself (out of name order) after a refresh."""
        if self.generation is None or generation < self.generation:
            self._read_all(db, generation)
            if not wait:
                return False
            await self._building  # type: ignore[misc]
            if self.generation is None or generation < self.generation:
                return False
        if self.generation == generation:
            if not self.in_name_order and time.monotonic() - self._read_at >= max(REORDER_AFTER, REORDER_FACTOR * self._read_seconds):
                self._read_all(db, generation)
            return True
        async with self._lock:
            if self.generation is not None and self.generation < generation:
                await self._store.read(db, self.generation)
                self._held(generation)
        return self.generation == generation

    def _read_all(self, db: ServiceDatabase, generation: int) -> None:
        if self._building is None or self._building.done():
            self._building = asyncio.create_task(self._rebuild(db, generation))

    async def _rebuild(self, db: ServiceDatabase, generation: int) -> None:
        """Every document read again into a new index, which then replaces the one
        in use; a failure is logged and the next search tries again."""
        self._read_at = started = time.monotonic()
        try:
            store = _Store()
            n = await store.read(db, None)
            async with self._lock:
                self._store = store
                self._held(generation)  # what was refreshed during the reading is applied by the next follow
            self._read_seconds = time.monotonic() - started
            log.info("catalogue search index: %d documents read at generation %d in %.1f s", n, generation, self._read_seconds)
        except Exception:
            log.warning("catalogue search index: reading the documents failed; it is tried again with a later search", exc_info=True)

    def _held(self, generation: int) -> None:
        self.generation = generation
        INDEX_GENERATION.set(generation)
        INDEX_DOCUMENTS.set(self._index.searcher().num_docs)
        INDEX_IN_NAME_ORDER.set(int(self.in_name_order))

    def page(self, groups: tuple[Group, ...], f: Filters, sort: str, page: int, page_size: int) -> tuple[list[tuple[Shown, int]], int] | None:
        """The page's documents in order (what each shows, and its score), and
        how many match; None when the index cannot order it exactly (the database
        then answers). search_index_pages.py reads it."""
        store = self._store
        moved, intact = store.moved, store.intact  # read before the searcher: a refresh sets them before writing
        return pages.page(store.index.searcher(), moved, intact, groups, f, sort, page, page_size)


async def _refreshed(db: ServiceDatabase, since: int | None) -> list[tuple[str, str, bool]]:
    """(instrument_id, name, public) of the documents refreshed after generation
    ``since``; of every public document with None."""
    d = search_docs
    stmt = select(d.c.instrument_id, d.c.name, d.c.public)
    stmt = stmt.where(d.c.public.is_(True)) if since is None else stmt.where(d.c.generation > since)
    async with db.read() as s:
        return [(iid, name, bool(public)) for iid, name, public in (await s.execute(stmt)).all()]


async def _documents(db: ServiceDatabase, ids: list[str]) -> tuple[list[Mapping[str, Any]], dict[str, list[tuple[str, int]]]]:
    """The documents of ``ids`` as they are now, and the terms of the public ones."""
    d, t = search_docs, search_terms
    terms: dict[str, list[tuple[str, int]]] = {}
    async with db.read() as s:
        docs = list((await s.execute(select(d.c.public, *(d.c[c] for c in SHOWN)).where(d.c.instrument_id.in_(ids)))).mappings().all())
        public = [doc["instrument_id"] for doc in docs if doc["public"]]
        if public:
            for term, iid, weight in (await s.execute(select(t.c.term, t.c.instrument_id, t.c.weight).where(t.c.instrument_id.in_(public)))).all():
                terms.setdefault(iid, []).append((term, weight))
    return docs, terms
