"""How the catalogue's search index (search_index.py) writes a document and asks
for a page, in Tantivy's terms: the schema, a public instrument's document,
what a result shows, and the queries that score as ``search_sql`` does.

Each term is indexed in the field of its weight (``w8`` … ``w1``: a term keeps
the weight of the best field holding it, domain/search_terms.py), and a term
query per field carries that weight as a constant score, so a match scores the
sum of its terms' weights, a group of dictionary forms its best form's (a
disjunction's maximum). ``level`` asks for the matches of exactly one score,
for a page assembled score by score.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterable, Mapping
from typing import Any

import msgspec
import tantivy

from services.registry.domain.search_terms import FIELD_WEIGHTS
from services.registry.domain.synonyms import Alternative, Group
from services.registry.search_sql import Filters, Shown, shown_of

#: the weights a term can have, one field each
WEIGHTS = tuple(sorted(set(FIELD_WEIGHTS.values()), reverse=True))


decode_shown = msgspec.msgpack.Decoder(Shown).decode
#: the filters held as indexed fields, as named in ``Filters`` and ``search_docs``
KEYED_FILTERS = ("category", "county_code", "unit_id")
#: an instrument without prices lies outside every price bound
NO_PRICE_MIN, NO_PRICE_MAX = 2**62, -1

def _schema() -> tantivy.Schema:
    b = tantivy.SchemaBuilder()
    b.add_text_field("sortkey", fast=True, tokenizer_name="raw", index_option="basic")
    b.add_text_field("instrument_id", tokenizer_name="raw", index_option="basic")
    for w in WEIGHTS:
        b.add_text_field(f"w{w}", tokenizer_name="whitespace", index_option="basic")
    for name in (*KEYED_FILTERS, "accepts_vouchers", "moved"):
        b.add_text_field(name, tokenizer_name="raw", index_option="basic")
    b.add_integer_field("min_price_fen", fast=True, indexed=True)
    b.add_integer_field("max_price_fen", fast=True, indexed=True)
    # what a result shows (SHOWN), so that a page needs no statement for its documents
    b.add_bytes_field("shown", stored=True)
    return b.build()


SCHEMA = _schema()


def document(doc: Mapping[str, Any], terms: Iterable[tuple[str, int]], moved: bool = False) -> tantivy.Document:
    """One public instrument's document: ``doc`` a ``search_docs`` row, ``terms``
    its (term, weight); ``moved``: refreshed after every document was read, so
    out of name order (search_index_pages.py searches those apart)."""
    by_weight: dict[int, list[str]] = {}
    for term, weight in terms:
        by_weight.setdefault(weight, []).append(term)
    fields: dict[str, list[Any]] = {
        "sortkey": [sortkey(doc)],
        "instrument_id": [doc["instrument_id"]],
        "min_price_fen": [NO_PRICE_MIN if doc["min_price_fen"] is None else int(doc["min_price_fen"])],
        "max_price_fen": [NO_PRICE_MAX if doc["max_price_fen"] is None else int(doc["max_price_fen"])],
        "shown": [msgspec.msgpack.encode(shown_of(doc))],
    }
    for weight, ts in by_weight.items():
        fields[f"w{weight}"] = [" ".join(ts)]  # terms hold no whitespace (domain/search_terms.py)
    for name in KEYED_FILTERS:
        if doc[name] is not None:
            fields[name] = [doc[name]]
    if doc["accepts_vouchers"]:
        fields["accepts_vouchers"] = ["yes"]
    if moved:
        fields["moved"] = ["yes"]
    return tantivy.Document(**fields)


def _term(searcher: tantivy.Searcher, term: str) -> tantivy.Query:
    """Instruments holding ``term``, scored by the weight it has there; only the
    fields that hold it in some document are asked (a union of fewer postings)."""
    fields = [tantivy.Query.const_score_query(tantivy.Query.term_query(SCHEMA, f"w{w}", term), float(w)) for w in _weights(searcher, term) or WEIGHTS[:1]]
    return fields[0] if len(fields) == 1 else tantivy.Query.boolean_query([(tantivy.Occur.Should, q) for q in fields])


def _alternative(searcher: tantivy.Searcher, terms: Alternative) -> tantivy.Query:
    return _term(searcher, terms[0]) if len(terms) == 1 else tantivy.Query.boolean_query([(tantivy.Occur.Must, _term(searcher, t)) for t in terms])


#: the documents refreshed after every document was read
MOVED = tantivy.Query.term_query(SCHEMA, "moved", "yes")


def filters(f: Filters) -> list[tuple[tantivy.Occur, tantivy.Query]]:
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


def query(searcher: tantivy.Searcher, groups: tuple[Group, ...], f: Filters) -> tantivy.Query:
    """What ``search_sql.matches`` and ``search_sql.filters`` select, scored
    alike: an alternative its terms' summed weights, a group its best
    alternative's (a disjunction's maximum), the query its groups' sum."""
    must: list[tuple[tantivy.Occur, tantivy.Query]] = []
    terms = plain_terms(groups)
    if terms:
        must.append((tantivy.Occur.Must, _alternative(searcher, terms)))
    elif groups:
        for g in groups:
            alternatives = [_alternative(searcher, a) for a in g]
            must.append((tantivy.Occur.Must, alternatives[0] if len(alternatives) == 1 else tantivy.Query.disjunction_max_query(alternatives)))
    must += filters(f)
    if len(must) == 1:  # one clause scores as the query
        return must[0][1]
    return tantivy.Query.boolean_query(must) if must else tantivy.Query.all_query()


#: at most this many weight combinations of the alternatives, and of the groups'
#: scores, make one score's query (see _ways and _exact)
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
            by_score.setdefault(sum(weights), []).append(each[0][1] if len(each) == 1 else tantivy.Query.boolean_query(each))
    return by_score


def _exactly(by_score: dict[int, list[tantivy.Query]], score: int, alone: bool) -> tantivy.Query:
    """The group's best alternative scores ``score``: one gives it, none gives more
    (nothing to exclude when the group is ``alone``, one alternative: a document
    holds each term in one field, so it matches one combination of fields)."""
    gives = by_score[score][0] if len(by_score[score]) == 1 else tantivy.Query.boolean_query([(tantivy.Occur.Should, q) for q in by_score[score]])
    more = [] if alone else [(tantivy.Occur.MustNot, q) for s, qs in by_score.items() if s > score for q in qs]
    return tantivy.Query.boolean_query([(tantivy.Occur.Must, gives), *more]) if more else gives


def _ways(searcher: tantivy.Searcher, groups: tuple[Group, ...]) -> tuple[tuple[Group, ...], list[dict[int, list[tantivy.Query]]], dict[int, list[tuple[int, ...]]]] | None:
    """The groups as scored, each group's queries by score, and every way the
    groups' scores sum to each score the query can give; None when there are
    too many combinations of weights to write."""
    terms = plain_terms(groups)
    groups = ((terms,),) if terms is not None else groups  # as search_sql.matches: each term once
    if sum(math.prod(len(_weights(searcher, t)) for t in a) for g in groups for a in g) > MAX_COMBINATIONS:
        return None
    scored = [_scored(searcher, g) for g in groups]
    ways: dict[int, list[tuple[int, ...]]] = {}
    for way in itertools.product(*(sorted(by) for by in scored)):
        ways.setdefault(sum(way), []).append(way)
    return groups, scored, ways


def _exact(groups: tuple[Group, ...], scored: list[dict[int, list[tantivy.Query]]], ways: list[tuple[int, ...]], f: Filters) -> tantivy.Query | None:
    """The instruments scored exactly as ``ways`` sum, under the filters; None
    when there are too many ways to write."""
    if not ways or len(ways) > MAX_COMBINATIONS:
        return None
    each = [tantivy.Query.boolean_query([(tantivy.Occur.Must, _exactly(by, s, len(g) == 1)) for by, s, g in zip(scored, way, groups, strict=True)]) for way in ways]
    exact = each[0] if len(each) == 1 else tantivy.Query.boolean_query([(tantivy.Occur.Should, q) for q in each])
    keep = filters(f)
    return tantivy.Query.boolean_query([(tantivy.Occur.Must, exact), *keep]) if keep else exact


def level(searcher: tantivy.Searcher, groups: tuple[Group, ...], score: int, f: Filters) -> tantivy.Query | None:
    """The instruments the query scores exactly ``score``: every way the groups'
    scores sum to it. None when there are too many ways to write."""
    found = _ways(searcher, groups)
    return None if found is None else _exact(found[0], found[1], found[2].get(score, []), f)


def levels(searcher: tantivy.Searcher, groups: tuple[Group, ...], f: Filters, most: int) -> list[tuple[int, tantivy.Query]] | None:
    """Every score the query can give, best first, each with ``level``'s query;
    None when there are more than ``most`` scores, or too many ways to write one."""
    found = _ways(searcher, groups)
    if found is None or len(found[2]) > most:
        return None
    out = []
    for score in sorted(found[2], reverse=True):
        exact = _exact(found[0], found[1], found[2][score], f)
        if exact is None:
            return None
        out.append((score, exact))
    return out


def level_sizes(searcher: tantivy.Searcher, groups: tuple[Group, ...], f: Filters) -> dict[int, int] | None:
    """How many documents ``levels`` finds at each score, from the postings'
    lengths, where they are the counts: one term and no filter (a document holds
    a term in one field, so the field's posting is the score's matches). The
    lengths count deleted documents too: only for an index without any."""
    terms = plain_terms(groups)
    if terms is None or len(terms) != 1 or filters(f):
        return None
    return {w: searcher.doc_freq(f"w{w}", terms[0]) for w in _weights(searcher, terms[0])}


def sortkey(doc: Mapping[str, Any]) -> str:
    """A result's place by name, then id: code point order, as ``C.UTF-8`` and SQLite order."""
    return f"{doc['name']}\x00{doc['instrument_id']}"
