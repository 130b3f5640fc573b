"""The statements of a catalogue search, portable between SQLite and PostgreSQL.

A query is a list of groups (see domain/synonyms.py): an instrument matches
when it satisfies every group, and a group when it holds every term of one of
its alternatives. A query without dictionary forms has one-term groups only
and keeps the plain plan: the instruments holding every term (GROUP BY …
HAVING count = n), scored by summed weights. With forms, each alternative is
such a set, a group the union of its alternatives (scored by the best one),
and the query the instruments found in every group (scores summed).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import msgspec
from sqlalchemy import func, literal, select, union_all

from services.registry.db.search_models import search_docs, search_terms
from services.registry.domain.synonyms import Alternative, Group

#: the orders a result page can have
SORTS = ("relevance", "price_asc", "price_desc", "name")



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


def shown_of(row: Any) -> Shown:
    """What a ``search_docs`` row shows, typed (SQLite gives 0/1 for a boolean)."""
    fields = {c: row[c] for c in SHOWN}
    fields.update(accepts_vouchers=bool(row["accepts_vouchers"]), rating_count=int(row["rating_count"] or 0), rating_points=int(row["rating_points"] or 0))
    return Shown(**fields)

@dataclass(frozen=True)
class Filters:
    category: str | None = None
    county_code: str | None = None
    unit_id: str | None = None
    price_min_fen: int | None = None
    price_max_fen: int | None = None
    accepts_vouchers: bool = False


def _alternative(a: Alternative) -> Any:
    t = search_terms
    if len(a) == 1:
        return select(t.c.instrument_id, t.c.weight.label("score")).where(t.c.term == a[0])
    return select(t.c.instrument_id, func.sum(t.c.weight).label("score")).where(t.c.term.in_(a)).group_by(t.c.instrument_id).having(func.count() == len(a))


def _best_of(alternatives: list[Any]) -> Any:
    if len(alternatives) == 1:
        return alternatives[0]
    u = union_all(*alternatives).subquery()
    return select(u.c.instrument_id, func.max(u.c.score).label("score")).group_by(u.c.instrument_id)


def matches(groups: tuple[Group, ...]) -> Any:
    """Instruments satisfying every group, with their score."""
    if all(len(g) == 1 for g in groups):  # no dictionary form: every term must match
        terms = tuple(dict.fromkeys(t for g in groups for t in g[0]))
        return _alternative(terms).subquery("m")
    parts = [_best_of([_alternative(a) for a in g]) for g in groups]
    if len(parts) == 1:
        return parts[0].subquery("m")
    u = union_all(*parts).subquery()
    return select(u.c.instrument_id, func.sum(u.c.score).label("score")).group_by(u.c.instrument_id).having(func.count() == len(parts)).subquery("m")


def filters(f: Filters) -> list[Any]:
    d = search_docs
    # "= true", not "IS TRUE": an index on (public, …) can serve it
    conds: list[Any] = [d.c.public == True]  # noqa: E712
    if f.category:
        conds.append(d.c.category == f.category)
    if f.county_code:
        conds.append(d.c.county_code == f.county_code)
    if f.unit_id:
        conds.append(d.c.unit_id == f.unit_id)
    # the instrument's price range overlaps the wanted one
    if f.price_min_fen is not None:
        conds.append(d.c.max_price_fen >= f.price_min_fen)
    if f.price_max_fen is not None:
        conds.append(d.c.min_price_fen <= f.price_max_fen)
    if f.accepts_vouchers:
        conds.append(d.c.accepts_vouchers.is_(True))
    return conds


def _order(sort: str, score: Any, name: Any, price: Any, ident: Any) -> list[Any]:
    """Relevance: best first, then by name; price: the lowest active price,
    instruments without prices last; name: by name alone. Without keywords
    (``score`` None) every score is the same and relevance is by name."""
    by_score = [] if score is None else [score.desc()]
    if sort == "price_asc":
        return [price.is_(None), price, *by_score, name, ident]
    if sort == "price_desc":
        return [price.is_(None), price.desc(), *by_score, name, ident]
    if sort == "name":
        return [name, ident]
    return [*by_score, name, ident]


def counted_apart(groups: tuple[Group, ...], f: Filters) -> bool:
    """Whether a page comes without its total, which :func:`count_statement`
    then gives: without keywords, or with keywords and no filter. A window
    count over the page's matches read every one of them (with their
    documents) a second time; these totals are counted on an index alone."""
    return not groups or f == Filters()


def page_statement(groups: tuple[Group, ...], f: Filters, sort: str, page: int, page_size: int) -> Any:
    """With keywords: the page's ids are chosen on narrow rows (id, score,
    name, price), then joined to their documents: sorting 20,000 matches is
    cheaper without the rest; with a filter the total comes along as a window
    count. Without keywords there is no score: the page walks the name index
    (or a filter's, which holds the name after it) and stops at the page."""
    d = search_docs
    if not groups:
        return select(d, literal(0).label("score")).where(*filters(f)).order_by(*_order(sort, None, d.c.name, d.c.min_price_fen, d.c.instrument_id)).limit(page_size).offset((page - 1) * page_size)
    cols = (d.c.instrument_id, d.c.name, d.c.min_price_fen)
    m = matches(groups)
    score: Any = m.c.score
    total = literal(None) if counted_apart(groups, f) else func.count().over()
    narrow = select(*cols, score.label("score"), total.label("total")).join_from(m, d, d.c.instrument_id == m.c.instrument_id)
    p = (
        narrow.where(*filters(f))
        .order_by(*_order(sort, score, d.c.name, d.c.min_price_fen, d.c.instrument_id))
        .limit(page_size)
        .offset((page - 1) * page_size)
        .subquery("p")
    )
    return (
        select(d, p.c.score, p.c.total)
        .join_from(p, d, d.c.instrument_id == p.c.instrument_id)
        .order_by(*_order(sort, p.c.score, p.c.name, p.c.min_price_fen, p.c.instrument_id))
    )


def count_statement(groups: tuple[Group, ...], f: Filters) -> Any:
    """How many public instruments match. With keywords and no filter the
    matches alone are counted: the index holds public instruments only
    (search_model.refresh_instrument), so no document needs reading."""
    d = search_docs
    if not groups:
        return select(func.count().label("n")).select_from(d).where(*filters(f))
    m = matches(groups)
    if f == Filters():
        return select(func.count().label("n")).select_from(m)
    return select(func.count().label("n")).select_from(m.join(d, d.c.instrument_id == m.c.instrument_id)).where(*filters(f))


def categories_statement(f: Filters) -> Any:
    """Categories holding public instruments under the other filters, fullest first."""
    d = search_docs
    n = func.count().label("n")
    return select(d.c.category, n).where(*filters(f)).group_by(d.c.category).order_by(n.desc(), d.c.category)
