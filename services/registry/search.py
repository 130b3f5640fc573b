"""The public catalogue search: the query over the read model (search_model.py).

A query is first expanded with the center's synonym dictionary
(domain/synonyms.py, at query time). Its page is then answered by this
process's search index (search_index.py: Tantivy, following the read model by
generation) in the relevance and name orders; the price orders, and the pages
the index cannot order exactly, by the database: the instruments holding every
query term or one form of each dictionary term (search_sql.py), scored by
summed weights, filtered on ``search_docs``, sorted and paged, with the total
from a window count when a filter is set, in one statement that runs on SQLite
and PostgreSQL alike; otherwise the total is a second, index-only count
(search_sql.counted_apart). Either way the same page (tests/integration/
registry/test_search_index.py).
The dictionary is cached with the results and bumps the generation when edited. Results are cached per process and per database, keyed
by the index generation; a cached result is served only while the generation
it was computed at is the current one, as last read from the database at most
:data:`GENERATION_TTL_S` ago (see docs/architecture.md, "Catalogue search").
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any


from services.registry.domain.catalogue import DEFAULT_CATEGORIES
from services.registry.domain.ratings import mean
from services.registry.domain.parties import unknown_county
from services.registry.domain.search_terms import query_terms
from services.registry.domain.synonyms import Dictionary, Group
from services.registry.schemas.catalogue import CatalogueItem, CataloguePage, Suggestion
from services.registry.search_cache import GENERATION_TTL_S as GENERATION_TTL_S  # re-exported
from services.registry.search_cache import Cache, rows
from services.registry.search_sql import (
    SORTS,
    Shown,
    Filters,
    categories_statement,
    count_statement,
    counted_apart,
    page_statement,
    shown_of,
)
from services.runtime.city import City
from services.runtime.db.service_db import ServiceDatabase
from services.runtime.errors import DomainError

if TYPE_CHECKING:  # Tantivy itself loads with the first search (_index)
    from services.registry.search_index import CatalogueIndex

#: at most this many suggestions accompany an empty result
MAX_SUGGESTIONS = 5

MAX_QUERY_CHARS = 50
MAX_QUERY_TERMS = 24
#: at most this many alternatives (dictionary forms) in one query
MAX_ALTERNATIVES = 160
#: set False to compute every page (a result-cache miss each time; the dictionary
#: stays cached by generation): bench/catalogue_search.py's "search miss"
CACHE_ENABLED = True
#: set False to answer every page from the database's statements (search_sql.py)
INDEX_ENABLED = True


class SearchRefused(DomainError):
    """A catalogue search that cannot be run as asked. Its codes are written out where
    it is raised, so the error catalogue (``runtime/http/error_catalogue.py``) reads them."""

    status = 400


@dataclass(frozen=True)
class SearchQuery:
    terms: tuple[str, ...]
    category: str | None = None
    county_code: str | None = None
    unit_id: str | None = None
    price_min_fen: int | None = None
    price_max_fen: int | None = None
    page: int = 1
    page_size: int = 20
    #: the keywords as typed (the dictionary reads them); None without keywords
    text: str | None = None
    #: only instruments of units that accept innovation vouchers
    accepts_vouchers: bool = False
    sort: str = "relevance"

    @property
    def filters(self) -> Filters:
        return Filters(self.category, self.county_code, self.unit_id, self.price_min_fen, self.price_max_fen, self.accepts_vouchers)


def parse_query(
    q: str | None,
    *,
    category: str | None = None,
    county_code: str | None = None,
    unit_id: str | None = None,
    price_min_fen: int | None = None,
    price_max_fen: int | None = None,
    page: int = 1,
    page_size: int = 20,
    accepts_vouchers: bool = False,
    sort: str | None = None,
    categories: tuple[str, ...] = DEFAULT_CATEGORIES,
    city: City,
) -> SearchQuery:
    """Validate the parameters of a search; a bad one is a 400 problem. A county is
    one of ``city``'s divisions (the city file, ``XCISS_CITY_FILE``)."""
    terms: list[str] = []
    if q is not None and q.strip():
        if len(q) > MAX_QUERY_CHARS:
            raise SearchRefused("search.query_too_long", f"关键词不能超过{MAX_QUERY_CHARS}个字符", f"the keywords may have at most {MAX_QUERY_CHARS} characters")
        terms = query_terms(q)
        if not terms:
            raise SearchRefused("search.query_without_words", "关键词中没有可检索的文字", "the keywords contain no searchable word")
        if len(terms) > MAX_QUERY_TERMS:
            raise SearchRefused("search.query_too_long", "关键词过多", f"the keywords make more than {MAX_QUERY_TERMS} terms")
    if category is not None and category not in categories:
        raise SearchRefused("search.unknown_category", f"仪器类别“{category}”不在目录中", f"category {category!r} is not in the catalogue", allowed=list(categories))
    if county_code is not None and county_code not in city.divisions:
        raise unknown_county(county_code, city, search=True)
    for v in (price_min_fen, price_max_fen):
        if v is not None and v < 0:
            raise SearchRefused("search.bad_price_range", "价格不能为负数", "a price cannot be negative")
    if price_min_fen is not None and price_max_fen is not None and price_min_fen > price_max_fen:
        raise SearchRefused("search.bad_price_range", "最低价格不能高于最高价格", "price_min_fen must not exceed price_max_fen")
    if not 1 <= page_size <= 100:
        raise SearchRefused("search.bad_page_size", "每页条数须在1到100之间", "page_size must be between 1 and 100")
    if page < 1:
        raise SearchRefused("search.bad_page", "页码从1开始", "page starts at 1")
    if sort is not None and sort not in SORTS:
        raise SearchRefused("search.bad_sort", "排序方式须为相关度、价格（升序或降序）或名称", f"sort must be one of {', '.join(SORTS)}", field="sort", allowed=list(SORTS))
    text = q.strip() if terms and q else None
    return SearchQuery(
        tuple(terms), category, county_code, unit_id or None, price_min_fen, price_max_fen, page, page_size, text, accepts_vouchers, sort or "relevance"
    )


# --- the query ----------------------------------------------------------------


def _item(r: Any) -> CatalogueItem:
    """A result from a ``search_docs`` row of the database's page."""
    return _shown_item(shown_of(r), int(r["score"] or 0))


def _shown_item(r: Shown, score: int) -> CatalogueItem:
    """A result from what it shows (stored with the search index's documents) and its score."""
    return CatalogueItem(
        instrument_id=r.instrument_id,
        name=r.name,
        category=r.category,
        model=r.model,
        unit_id=r.unit_id,
        unit_name=r.unit_name,
        county_code=r.county_code,
        min_price_fen=r.min_price_fen,
        max_price_fen=r.max_price_fen,
        accepts_vouchers=r.accepts_vouchers,
        score=score,
        rating_average=mean(r.rating_points, r.rating_count),
        rating_count=r.rating_count,
    )


def _groups(q: SearchQuery, dictionary: Dictionary) -> tuple[Group, ...]:
    groups = dictionary.expand(q.text) if q.text else ()
    if sum(len(g) for g in groups) > MAX_ALTERNATIVES:
        raise SearchRefused("search.query_too_long", "关键词过多", "the keywords and their synonyms make too many alternatives")
    return groups


async def _count(db: ServiceDatabase, groups: tuple[Group, ...], f: Filters) -> int:
    return int((await rows(db, count_statement(groups, f)))[0]["n"])


def _index(db: ServiceDatabase) -> CatalogueIndex:
    from services.registry.search_index import CatalogueIndex  # Tantivy loads with the first search

    index = _indexes.get(db)
    if index is None:
        index = _indexes[db] = CatalogueIndex()
    return index


async def index_current(db: ServiceDatabase) -> None:
    """Wait until this process's search index holds the database's generation (tests, benchmarks)."""
    await _index(db).follow(db, await _cache(db).current_generation(db), wait=True)


async def _indexed(db: ServiceDatabase, q: SearchQuery, groups: tuple[Group, ...]) -> tuple[list[CatalogueItem], int] | None:
    """The page from this process's search index (search_index.py), with the
    documents it stores; None when the database answers: a price order, equal
    scores the index cannot order by name, or an index still being built."""
    from services.registry.search_index import SORTS as INDEX_SORTS

    if q.sort not in INDEX_SORTS:
        return None
    index = _index(db)
    if not await index.follow(db, await _cache(db).current_generation(db)):
        return None
    found = index.page(groups, q.filters, q.sort, q.page, q.page_size)
    if found is None:
        return None
    shown, total = found
    return [_shown_item(r, score) for r, score in shown], total


async def _run(db: ServiceDatabase, q: SearchQuery, dictionary: Dictionary) -> tuple[list[CatalogueItem], int]:
    groups = _groups(q, dictionary)
    if INDEX_ENABLED:
        indexed = await _indexed(db, q, groups)
        if indexed is not None:
            return indexed
    found = await rows(db, page_statement(groups, q.filters, q.sort, q.page, q.page_size))
    if counted_apart(groups, q.filters):  # the page carries no window count
        if q.page == 1 and len(found) < q.page_size:
            total = len(found)
        else:
            total = await _count(db, groups, q.filters)
    elif found:
        total = int(found[0]["total"])
    elif q.page == 1:
        total = 0
    else:  # past the last page: the window count saw no row
        total = await _count(db, groups, q.filters)
    return [_item(r) for r in found], total


async def _suggestions(db: ServiceDatabase, q: SearchQuery, dictionary: Dictionary) -> list[Suggestion]:
    out: list[Suggestion] = []
    if q.text:  # the dictionary's terms closest to the keywords that find something here
        for canonical in dictionary.closest(q.text):
            n = await _count(db, dictionary.expand(canonical), q.filters)
            if n:
                out.append(Suggestion(kind="term", text=canonical, total=n))
            if len(out) == MAX_SUGGESTIONS:
                break
    if not out:  # else the categories holding instruments under the other filters
        cats = await rows(db, categories_statement(replace(q.filters, category=None)))
        out = [Suggestion(kind="category", text=r["category"], total=int(r["n"])) for r in cats[:MAX_SUGGESTIONS]]
    return out


_caches: weakref.WeakKeyDictionary[ServiceDatabase, Cache] = weakref.WeakKeyDictionary()
_indexes: weakref.WeakKeyDictionary[ServiceDatabase, CatalogueIndex] = weakref.WeakKeyDictionary()


def _cache(db: ServiceDatabase) -> Cache:
    cache = _caches.get(db)
    if cache is None:
        cache = _caches[db] = Cache()
    return cache


async def _cached(db: ServiceDatabase, key: Any, compute: Any) -> Any:
    return await _cache(db).get(db, key, compute, keep=CACHE_ENABLED)


async def search(db: ServiceDatabase, q: SearchQuery) -> tuple[list[CatalogueItem], int]:
    """One page of public instruments matching ``q``, best first, and the total."""
    result: tuple[list[CatalogueItem], int] = await _cached(db, q, lambda d: _run(db, q, d))
    return result


async def suggest(db: ServiceDatabase, q: SearchQuery) -> list[Suggestion]:
    """What to try when ``q`` finds nothing: the dictionary's canonical terms
    closest to the keywords that find something under the same filters, or
    else the categories holding instruments (kind, text, total)."""
    result: list[Suggestion] = await _cached(db, ("suggest", q), lambda d: _suggestions(db, q, d))
    return result


async def catalogue_page(db: ServiceDatabase, q: SearchQuery) -> CataloguePage:
    """The answer to a catalogue search: the page, and on an empty first page
    the suggestions (the cached lists are copied: the page is the caller's)."""
    items, total = await search(db, q)
    suggestions = await suggest(db, q) if total == 0 and q.page == 1 else []
    return CataloguePage(items=list(items), total=total, page=q.page, page_size=q.page_size, suggestions=list(suggestions))
