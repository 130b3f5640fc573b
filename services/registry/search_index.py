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

The index scores as ``search_sql`` does: each term is indexed in the field of
its weight (``w8`` … ``w1``), and a term query per field carries that weight
as a constant score, so a match scores the sum of its terms' weights (a group
of dictionary forms its best form's). Tantivy gives equal scores in the order
of the documents, segment by segment. Reading every document writes them in
name order (``sortkey``: the name, NUL, the id) into one segment, so that a
relevance page is then one search. A refresh adds its documents out of that
order; until every document is read again (in the background, REORDER_AFTER),
a relevance page is assembled score by score: the first search gives how many
matches each score has among the first ``page × page_size``; then each score's
part of the page is read in name order with a query for exactly that score
(the combinations of weights that sum to it). Where that is not possible — too
many combinations to write — the database answers, as it does the price orders.
``tests/integration/registry/test_search_index.py`` compares the index's pages
with the database's on both databases; ``bench/search_library.py`` every page
of the benchmark's mix at 100,000 instruments.
"""

from __future__ import annotations

import asyncio
import collections
import itertools
import logging
import math
import shutil
import tempfile
import time
import weakref
from collections.abc import Iterable, Mapping
from typing import Any

import msgspec
import tantivy
from prometheus_client import Gauge
from sqlalchemy import select

from services.registry.db.search_models import search_docs, search_terms
from services.registry.domain.search_terms import FIELD_WEIGHTS
from services.registry.domain.synonyms import Alternative, Group
from services.registry.search_sql import Filters
from services.runtime.db.service_db import ServiceDatabase

log = logging.getLogger("xciss.registry.search_index")

INDEX_GENERATION = Gauge("xciss_search_index_generation", "The read model's generation this process's catalogue search index holds (-1 until it has read the catalogue)")
INDEX_DOCUMENTS = Gauge("xciss_search_index_documents", "Public instruments in this process's catalogue search index")
INDEX_IN_NAME_ORDER = Gauge("xciss_search_index_in_name_order", "1 while this process's catalogue search index holds its documents in name order (a relevance page in one search), 0 after a refresh until it is read again")
INDEX_GENERATION.set(-1)

#: the orders the index answers (the price orders are the database's)
SORTS = ("relevance", "name")
#: the weights a term can have, one field each
WEIGHTS = tuple(sorted(set(FIELD_WEIGHTS.values()), reverse=True))


class Shown(msgspec.Struct, array_like=True, frozen=True):
    """The ``search_docs`` columns a result shows, stored with each document
    (MessagePack, decoded to this type: a third of the cost of a dict from JSON)."""

    instrument_id: str
    name: str
    category: str
    model: str | None
    unit_id: str
    unit_name: str
    county_code: str | None
    min_price_fen: int | None
    max_price_fen: int | None
    accepts_vouchers: bool
    rating_count: int
    rating_points: int


SHOWN = Shown.__struct_fields__
_decode_shown = msgspec.msgpack.Decoder(Shown).decode
#: the filters held as indexed fields, as named in ``Filters`` and ``search_docs``
KEYED_FILTERS = ("category", "county_code", "unit_id")
#: an instrument without prices lies outside every price bound
NO_PRICE_MIN, NO_PRICE_MAX = 2**62, -1
#: documents read from the database per statement while following
CHUNK = 500
#: the writer's memory budget reading every document: enough for one segment at
#: 100,000 instruments (two segments order a page 35% slower, bench/README.md);
#: the registry API's memory limit (deploy/base/services/registry.yaml) holds it
FULL_HEAP = 128_000_000
#: and applying the documents refreshed since (Tantivy's least per thread is 15 MB)
STEP_HEAP = 16_000_000
#: a refresh leaves its documents out of name order (a relevance page then takes
#: a search per score); every document is read again in name order once this many
#: seconds have passed since the last reading began, and REORDER_FACTOR times as
#: long as that reading took (19–20 s at 100,000 instruments, bench/README.md)
REORDER_AFTER = 60.0
REORDER_FACTOR = 10.0


def _schema() -> tantivy.Schema:
    b = tantivy.SchemaBuilder()
    b.add_text_field("sortkey", stored=True, fast=True, tokenizer_name="raw", index_option="basic")
    b.add_text_field("instrument_id", tokenizer_name="raw", index_option="basic")
    for w in WEIGHTS:
        b.add_text_field(f"w{w}", tokenizer_name="whitespace", index_option="basic")
    for name in (*KEYED_FILTERS, "accepts_vouchers"):
        b.add_text_field(name, tokenizer_name="raw", index_option="basic")
    b.add_integer_field("min_price_fen", fast=True, indexed=True)
    b.add_integer_field("max_price_fen", fast=True, indexed=True)
    # what a result shows (SHOWN), so that a page needs no statement for its documents
    b.add_bytes_field("shown", stored=True)
    return b.build()


SCHEMA = _schema()


def document(doc: Mapping[str, Any], terms: Iterable[tuple[str, int]]) -> tantivy.Document:
    """One public instrument's document: ``doc`` a ``search_docs`` row, ``terms`` its (term, weight)."""
    by_weight: dict[int, list[str]] = {}
    for term, weight in terms:
        by_weight.setdefault(weight, []).append(term)
    fields: dict[str, list[Any]] = {
        "sortkey": [_sortkey(doc)],
        "instrument_id": [doc["instrument_id"]],
        "min_price_fen": [NO_PRICE_MIN if doc["min_price_fen"] is None else int(doc["min_price_fen"])],
        "max_price_fen": [NO_PRICE_MAX if doc["max_price_fen"] is None else int(doc["max_price_fen"])],
        "shown": [msgspec.msgpack.encode(_stored(doc))],
    }
    for weight, ts in by_weight.items():
        fields[f"w{weight}"] = [" ".join(ts)]  # terms hold no whitespace (domain/search_terms.py)
    for name in KEYED_FILTERS:
        if doc[name] is not None:
            fields[name] = [doc[name]]
    if doc["accepts_vouchers"]:
        fields["accepts_vouchers"] = ["yes"]
    return tantivy.Document(**fields)


def _stored(doc: Mapping[str, Any]) -> Shown:
    """What a ``search_docs`` row shows, typed as decoded (SQLite gives 0/1 for a boolean)."""
    fields = {c: doc[c] for c in SHOWN}
    fields.update(accepts_vouchers=bool(doc["accepts_vouchers"]), rating_count=int(doc["rating_count"] or 0), rating_points=int(doc["rating_points"] or 0))
    return Shown(**fields)


def _term(term: str) -> tantivy.Query:
    """Instruments holding ``term``, scored by the weight it has there."""
    fields = [(tantivy.Occur.Should, tantivy.Query.const_score_query(tantivy.Query.term_query(SCHEMA, f"w{w}", term), float(w))) for w in WEIGHTS]
    return tantivy.Query.boolean_query(fields)


def _alternative(terms: Alternative) -> tantivy.Query:
    return _term(terms[0]) if len(terms) == 1 else tantivy.Query.boolean_query([(tantivy.Occur.Must, _term(t)) for t in terms])


def _filters(f: Filters) -> list[tuple[tantivy.Occur, tantivy.Query]]:
    """``search_sql.filters``, scoring nothing."""
    qs: list[tantivy.Query] = []
    for name in KEYED_FILTERS:
        value = getattr(f, name)
        if value:
            qs.append(tantivy.Query.term_query(SCHEMA, name, value))
    if f.accepts_vouchers:
        qs.append(tantivy.Query.term_query(SCHEMA, "accepts_vouchers", "yes"))
    # the instrument's price range overlaps the wanted one
    if f.price_min_fen is not None:
        qs.append(tantivy.Query.range_query(SCHEMA, "max_price_fen", tantivy.FieldType.Integer, f.price_min_fen, None))
    if f.price_max_fen is not None:
        qs.append(tantivy.Query.range_query(SCHEMA, "min_price_fen", tantivy.FieldType.Integer, None, f.price_max_fen))
    return [(tantivy.Occur.Must, tantivy.Query.const_score_query(q, 0.0)) for q in qs]


def plain_terms(groups: tuple[Group, ...]) -> Alternative | None:
    """The query's terms when it has no dictionary forms (as ``search_sql.matches``
    takes them: each once), else None."""
    if all(len(g) == 1 for g in groups):
        return tuple(dict.fromkeys(t for g in groups for t in g[0]))
    return None


def query(groups: tuple[Group, ...], f: Filters) -> tantivy.Query:
    """What ``search_sql.matches`` and ``search_sql.filters`` select, scored
    alike: an alternative its terms' summed weights, a group its best
    alternative's (a disjunction's maximum), the query its groups' sum."""
    must: list[tuple[tantivy.Occur, tantivy.Query]] = []
    terms = plain_terms(groups)
    if terms:
        must.append((tantivy.Occur.Must, _alternative(terms)))
    elif groups:
        for g in groups:
            alternatives = [_alternative(a) for a in g]
            must.append((tantivy.Occur.Must, alternatives[0] if len(alternatives) == 1 else tantivy.Query.disjunction_max_query(alternatives)))
    must += _filters(f)
    return tantivy.Query.boolean_query(must) if must else tantivy.Query.all_query()


#: at most this many weight combinations of the alternatives, and of the groups'
#: scores, make one score's query (see _level)
MAX_COMBINATIONS = 400


def _weights(searcher: tantivy.Searcher, term: str) -> list[int]:
    """The weights ``term`` has in some document (the fields holding it)."""
    return [w for w in WEIGHTS if searcher.doc_freq(f"w{w}", term)]


def _scored(searcher: tantivy.Searcher, group: Group) -> dict[int, list[tantivy.Query]]:
    """Each score an alternative of ``group`` can give, with the combinations of
    fields (one term query per term, in the field of its weight) that give it."""
    by_score: dict[int, list[tantivy.Query]] = {}
    for alternative in group:
        for weights in itertools.product(*(_weights(searcher, t) for t in alternative)):
            each = [(tantivy.Occur.Must, tantivy.Query.term_query(SCHEMA, f"w{w}", t)) for t, w in zip(alternative, weights, strict=True)]
            by_score.setdefault(sum(weights), []).append(tantivy.Query.boolean_query(each))
    return by_score


def _exactly(by_score: dict[int, list[tantivy.Query]], score: int) -> tantivy.Query:
    """The group's best alternative scores ``score``: one gives it, none gives more."""
    gives = tantivy.Query.boolean_query([(tantivy.Occur.Should, q) for q in by_score[score]])
    more = [(tantivy.Occur.MustNot, q) for s, qs in by_score.items() if s > score for q in qs]
    return tantivy.Query.boolean_query([(tantivy.Occur.Must, gives), *more])


def _level(searcher: tantivy.Searcher, groups: tuple[Group, ...], score: int, f: Filters) -> tantivy.Query | None:
    """The instruments the query scores exactly ``score``: every way the groups'
    scores sum to it. None when there are too many ways to write."""
    terms = plain_terms(groups)
    groups = ((terms,),) if terms is not None else groups  # as search_sql.matches: each term once
    if sum(math.prod(len(_weights(searcher, t)) for t in a) for g in groups for a in g) > MAX_COMBINATIONS:
        return None
    scored = [_scored(searcher, g) for g in groups]
    ways = [w for w in itertools.product(*(sorted(by) for by in scored)) if sum(w) == score]
    if not ways or len(ways) > MAX_COMBINATIONS:
        return None
    each = [(tantivy.Occur.Should, tantivy.Query.boolean_query([(tantivy.Occur.Must, _exactly(by, s)) for by, s in zip(scored, way, strict=True)])) for way in ways]
    return tantivy.Query.boolean_query([(tantivy.Occur.Must, tantivy.Query.boolean_query(each)), *_filters(f)])


def _id(sortkey: str) -> str:
    return sortkey.rsplit("\x00", 1)[1]


class _Store:
    """A Tantivy index in a temporary directory of its own, removed with it."""

    def __init__(self) -> None:
        self.dir = tempfile.mkdtemp(prefix="xciss-search-")
        weakref.finalize(self, shutil.rmtree, self.dir, True)
        self.index = tantivy.Index(SCHEMA, path=self.dir)
        #: its documents lie in name order in one segment (see CatalogueIndex.page)
        self.in_name_order = False

    def apply(self, docs: list[Mapping[str, Any]], terms: dict[str, list[tuple[str, int]]], everything: bool) -> None:
        """Write every document (``everything``: in name order), or the refreshed ones."""
        writer = self.index.writer(heap_size=FULL_HEAP if everything else STEP_HEAP, num_threads=1)
        if everything:
            writer.delete_all_documents()
            docs = sorted(docs, key=_sortkey)  # one writer thread keeps this order in the segment
        elif any(doc["public"] for doc in docs):
            self.in_name_order = False  # before a search can see them: they follow the others
        for doc in docs:
            if not everything:
                writer.delete_documents_by_term("instrument_id", doc["instrument_id"])
            if doc["public"]:
                writer.add_document(document(doc, terms.get(doc["instrument_id"], ())))
        writer.commit()
        writer.wait_merging_threads()
        self.index.reload()
        if everything:
            self.in_name_order = self.index.searcher().num_segments <= 1


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
                docs, terms = await _changes(db, self.generation)
                await asyncio.to_thread(self._store.apply, docs, terms, False)
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
            docs, terms = await _changes(db, None)
            store = _Store()
            await asyncio.to_thread(store.apply, docs, terms, True)
            async with self._lock:
                self._store = store
                self._held(generation)  # what was refreshed during the reading is applied by the next follow
            self._read_seconds = time.monotonic() - started
            log.info("catalogue search index: %d documents read at generation %d in %.1f s", len(docs), generation, self._read_seconds)
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
        then answers)."""
        store = self._store
        in_name_order = store.in_name_order  # read before the searcher: a refresh clears it before writing
        searcher = store.index.searcher()
        offset, end = (page - 1) * page_size, page * page_size
        if not groups or sort == "name":  # by name, then id
            found = searcher.search(query(groups, f), limit=page_size, offset=offset, count=True, order_by_field="sortkey", order=tantivy.Order.Asc)
            addresses = [addr for _, addr in found.hits]
            scores = _scores(searcher, groups, f, [_id(str(k)) for k, _ in found.hits], addresses) if groups and addresses else [0] * len(addresses)
            return [_shown(searcher, addr, score) for addr, score in zip(addresses, scores, strict=True)], int(found.count)
        if in_name_order and searcher.num_segments == 1:
            # Tantivy gives equal scores in the order of the documents, here the names': the page at once
            found = searcher.search(query(groups, f), limit=page_size, offset=offset, count=True)
            return [_shown(searcher, addr, round(score)) for score, addr in found.hits], int(found.count)
        # the scores of the first ``end`` matches; equal scores come by segment, not by name
        found = searcher.search(query(groups, f), limit=end, count=True)
        # each score's matches by name: the window's part of every score above the
        # last is complete among them, and of the last score the first by name are wanted
        levels = collections.Counter(round(score) for score, _ in found.hits)
        out: list[tuple[Shown, int]] = []
        before = 0
        for score in sorted(levels, reverse=True):
            lo, hi = max(offset, before), min(end, before + levels[score])
            level = _level(searcher, groups, score, f) if lo < hi else None
            if lo < hi and level is None:
                return None
            if level is not None:
                hits = searcher.search(level, limit=hi - lo, offset=lo - before, count=False, order_by_field="sortkey", order=tantivy.Order.Asc)
                out += [_shown(searcher, addr, score) for _, addr in hits.hits]
            before += levels[score]
        return out, int(found.count)


def _sortkey(doc: Mapping[str, Any]) -> str:
    """A result's place by name, then id: code point order, as ``C.UTF-8`` and SQLite order."""
    return f"{doc['name']}\x00{doc['instrument_id']}"


def _shown(searcher: tantivy.Searcher, address: Any, score: int) -> tuple[Shown, int]:
    return _decode_shown(searcher.doc(address)["shown"][0]), score


def _scores(searcher: tantivy.Searcher, groups: tuple[Group, ...], f: Filters, ids: list[str], addresses: list[Any]) -> list[int]:
    """The scores of a page ordered by name (each result shows its score): the
    query again, only over the page's instruments."""
    only = tantivy.Query.const_score_query(tantivy.Query.term_set_query(SCHEMA, "instrument_id", ids), 0.0)
    scored = searcher.search(tantivy.Query.boolean_query([(tantivy.Occur.Must, query(groups, f)), (tantivy.Occur.Must, only)]), limit=len(ids))
    by_address = {(a.segment_ord, a.doc): round(score) for score, a in scored.hits}
    return [by_address[(a.segment_ord, a.doc)] for a in addresses]


async def _changes(db: ServiceDatabase, since: int | None) -> tuple[list[Mapping[str, Any]], dict[str, list[tuple[str, int]]]]:
    """The documents refreshed after generation ``since`` (all with None), and the terms of the public ones."""
    d, t = search_docs, search_terms
    cols = (d.c.public, *(d.c[c] for c in SHOWN))
    stmt = select(*cols) if since is None else select(*cols).where(d.c.generation > since)
    terms: dict[str, list[tuple[str, int]]] = {}
    async with db.read() as s:
        docs = list((await s.execute(stmt)).mappings().all())
        if since is None:
            for term, iid, weight in (await s.execute(select(t.c.term, t.c.instrument_id, t.c.weight))).all():
                terms.setdefault(iid, []).append((term, weight))
        else:
            public = [doc["instrument_id"] for doc in docs if doc["public"]]
            for i in range(0, len(public), CHUNK):
                chunk = public[i : i + CHUNK]
                for term, iid, weight in (await s.execute(select(t.c.term, t.c.instrument_id, t.c.weight).where(t.c.instrument_id.in_(chunk)))).all():
                    terms.setdefault(iid, []).append((term, weight))
    return docs, terms
