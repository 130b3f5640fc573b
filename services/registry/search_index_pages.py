"""How one page of the catalogue is read from the search index's searcher
(search_index.py holds the index and follows the read model).

Reading every document writes them in name order (the name, NUL, the id) into
one segment, and Tantivy gives equal scores in the order of the documents. So
every match of a query scored alike comes in name order, with no sort:

- a relevance page is read score by score, best first: a search per score the
  query can give (``levels``), each in the documents' order, with its count;
  while no document was deleted since the reading, a one-term unfiltered query
  takes each score's count from its posting's length and searches only the
  scores on the page (``level_sizes``);
- a page without keywords or filters is the documents at its places;
- a page by name is one search in the documents' order.

A refresh deletes its documents and adds them again after the others, with the
moved mark (``MOVED``): they are out of that order, the rest keep it (a segment
merge keeps each segment's order). Until every document is read again, each
search reads the rest in the documents' order and the moved ones apart, ordered
by the name key field, and the first ``page × page_size`` of both are merged by
name. Past MERGED_PLACES, or when the reading itself was out of order
(``moved`` None), a page is ordered by the name key field; a relevance page is
then assembled score by score from a search of the whole query. Where a
score's query has too many combinations to write, None: the database answers.
"""

from __future__ import annotations

import collections
import heapq
from typing import Any

import tantivy

from services.registry.domain.synonyms import Group
from services.registry.search_index_schema import MOVED, SCHEMA, decode_shown, filters, level, level_sizes, levels, query
from services.registry.search_sql import Filters, Shown

#: a relevance page is read score by score (a search for each score the query
#: can give, with its count) when there are at most this many: a search then
#: walks only the postings of one score's fields, where one search of the whole
#: query scores every match through the union of a term's fields
#: (bench/README.md, "Target 3 with a margin")
LEVEL_SEARCHES = 6
#: with documents refreshed since the reading, the first ``page × page_size``
#: matches of a score, moved and not, are merged by name up to this many places;
#: deeper pages are ordered by the name key field
MERGED_PLACES = 500

Found = tuple[list[tuple[Shown, int]], int]
Hit = tuple[Any, Shown]  # a document's address and what it shows


def page(searcher: tantivy.Searcher, moved: bool | None, intact: bool, groups: tuple[Group, ...], f: Filters, sort: str, page: int, page_size: int) -> Found | None:
    """The page's documents in order (what each shows, and its score), and how
    many match; None when the index cannot order it exactly. ``moved``: whether
    documents were refreshed since the reading (None: the order is unknown);
    ``intact``: none was deleted since."""
    offset, end = (page - 1) * page_size, page * page_size
    # the rest lie in name order in one segment; past MERGED_PLACES a merge would decode too many
    in_order = moved is not None and (end <= MERGED_PLACES if moved else searcher.num_segments == 1)
    if not in_order:
        return _by_key_field(searcher, groups, f, sort, offset, end)
    if not moved and intact and not groups and not filters(f):  # every instrument: the n-th document is the n-th by name
        total = searcher.num_docs
        return [(_document(searcher, tantivy.DocAddress(0, n)), 0) for n in range(offset, min(end, total))], total
    if not groups or sort == "name":  # by name, then id
        return _with_scores(searcher, groups, f, *_in_name_order(searcher, query(searcher, groups, f), offset, end, moved))
    every = levels(searcher, groups, f, LEVEL_SEARCHES)
    if every is None:
        if moved:
            return _by_key_field(searcher, groups, f, sort, offset, end)
        found = searcher.search(query(searcher, groups, f), limit=page_size, offset=offset, count=True)  # the page at once
        return [(_document(searcher, addr), round(score)) for score, addr in found.hits], int(found.count)
    sizes = level_sizes(searcher, groups, f) if intact and not moved else None
    out: list[tuple[Shown, int]] = []
    before = 0
    for score, exact in every:
        lo = max(offset, before)
        size = None if sizes is None else sizes[score]
        if size is None or lo < min(end, before + size):
            hits, size = _in_name_order(searcher, exact, lo - before, end - before, moved)
            out += [(shown, score) for _, shown in hits]
        before += size
    return out, before


def _in_name_order(searcher: tantivy.Searcher, q: tantivy.Query, lo: int, hi: int, moved: bool) -> tuple[list[Hit], int]:
    """The matches of ``q`` at places ``lo``…``hi`` by name, and how many match:
    with documents ``moved``, the others in the documents' order and the moved
    ones by the name key field, the first ``hi`` of each merged by name."""
    if not moved:
        return _window(searcher, tantivy.Query.const_score_query(q, 0.0), lo, hi)
    apart = searcher.search(tantivy.Query.boolean_query([(tantivy.Occur.Must, q), (tantivy.Occur.Must, MOVED)]), limit=max(1, hi), count=True, order_by_field="sortkey", order=tantivy.Order.Asc)
    rest = tantivy.Query.const_score_query(tantivy.Query.boolean_query([(tantivy.Occur.Must, q), (tantivy.Occur.MustNot, MOVED)]), 0.0)
    if not apart.count or hi <= lo:
        hits, n = _window(searcher, rest, lo, hi)
        return hits, n + int(apart.count)
    first, n = _window(searcher, rest, 0, hi)
    merged = heapq.merge(first, [(addr, _document(searcher, addr)) for _, addr in apart.hits], key=lambda hit: (hit[1].name, hit[1].instrument_id))
    return list(merged)[lo:hi], n + int(apart.count)


def _window(searcher: tantivy.Searcher, alike: tantivy.Query, lo: int, hi: int) -> tuple[list[Hit], int]:
    """The matches of ``alike`` (every match scored alike) at places ``lo``…``hi``
    in the documents' order, and how many match."""
    found = searcher.search(alike, limit=max(1, hi - lo), offset=lo, count=True)
    return ([(addr, _document(searcher, addr)) for _, addr in found.hits] if hi > lo else []), int(found.count)


def _by_key_field(searcher: tantivy.Searcher, groups: tuple[Group, ...], f: Filters, sort: str, offset: int, end: int) -> Found | None:
    """The page with the documents out of name order: ordered by the name key
    field; a relevance page from the scores of its first ``end`` matches, each
    score's part by the name key (None when a score's query cannot be written)."""
    by_key = {"order_by_field": "sortkey", "order": tantivy.Order.Asc}
    if not groups or sort == "name":
        found = searcher.search(query(searcher, groups, f), limit=end - offset, offset=offset, count=True, **by_key)
        return _with_scores(searcher, groups, f, [(addr, _document(searcher, addr)) for _, addr in found.hits], int(found.count))
    # equal scores come by segment, not by name: the window's part of every score
    # above the last is complete among the first ``end``, and of the last score
    # the first by name are wanted
    found = searcher.search(query(searcher, groups, f), limit=end, count=True)
    counts = collections.Counter(round(score) for score, _ in found.hits)
    out: list[tuple[Shown, int]] = []
    before = 0
    for score in sorted(counts, reverse=True):
        lo, hi = max(offset, before), min(end, before + counts[score])
        if lo < hi:
            exact = level(searcher, groups, score, f)
            if exact is None:
                return None
            hits = searcher.search(exact, limit=hi - lo, offset=lo - before, count=False, **by_key)
            out += [(_document(searcher, addr), score) for _, addr in hits.hits]
        before += counts[score]
    return out, int(found.count)


def _document(searcher: tantivy.Searcher, address: Any) -> Shown:
    return decode_shown(searcher.doc(address).get_first("shown"))


def _with_scores(searcher: tantivy.Searcher, groups: tuple[Group, ...], f: Filters, hits: list[Hit], total: int) -> Found:
    """A page ordered by name, each result with its score (0 without keywords)."""
    scores = _scores(searcher, groups, f, hits) if groups and hits else [0] * len(hits)
    return [(shown, score) for (_, shown), score in zip(hits, scores, strict=True)], total


def _scores(searcher: tantivy.Searcher, groups: tuple[Group, ...], f: Filters, hits: list[Hit]) -> list[int]:
    """The scores of a page ordered by name (each result shows its score): the
    query again, only over the page's instruments."""
    # a term query an instrument (a term set query walks the ids' dictionary: 340 against 37 µs for 20)
    page_ids = tantivy.Query.boolean_query([(tantivy.Occur.Should, tantivy.Query.term_query(SCHEMA, "instrument_id", shown.instrument_id)) for _, shown in hits])
    only = tantivy.Query.const_score_query(page_ids, 0.0)
    scored = searcher.search(tantivy.Query.boolean_query([(tantivy.Occur.Must, query(searcher, groups, f)), (tantivy.Occur.Must, only)]), limit=len(hits))
    by_address = {(a.segment_ord, a.doc): round(score) for score, a in scored.hits}
    return [by_address[(a.segment_ord, a.doc)] for a, _ in hits]
