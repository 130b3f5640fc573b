"""The search index's own cost of a catalogue search miss, beside the
database's (issue 19, target 3: "a maintained search library — measure before
choosing").

Target 3 needs a miss answered in about 1–2 ms of the machine's time
(bench/README.md, "Where the time goes"); the database's statements take
10–30 ms a miss because every matching instrument is joined to its document.
This measures the registry's search index (services/registry/search_index.py:
Tantivy, one per API process) without HTTP and without the database: the read
model ``catalogue_search.py`` generates is written into a ``CatalogueIndex``
as the process would after reading it, then every distinct query of the
2,000-query mix is answered once per pass, sequentially, as the registry builds
it (``search.parse_query``, ``search._groups``, ``CatalogueIndex.page``: the
page's ids and scores and the total), in three states: with the documents in
name order, as every document was read; after ``--refreshed`` documents were
refreshed (added again after the others: searched apart and merged by name);
and as after a reading out of order (every page ordered by the name key
field). With ``--database-url`` (a database
``catalogue_search.py`` loaded with the same ``--instruments``) the same
queries' page statements run there too, in the same minutes, and every page's
ids are compared with the index's.

    .venv/bin/python bench/search_library.py                  # 100,000 instruments
    .venv/bin/python bench/search_library.py --database-url sqlite+aiosqlite:////tmp/r.db
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import resource
import sys
import time
import urllib.parse
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from catalogue_data import generate, read_model, search_paths  # noqa: E402

from services.registry import search, search_sql  # noqa: E402
from services.registry.domain.synonyms import Dictionary, Group  # noqa: E402
from services.registry.search_index import CatalogueIndex  # noqa: E402
from services.runtime.city import packaged_city  # noqa: E402

CITY = packaged_city()


def build(docs: list[dict[str, Any]], by_doc: dict[str, list[tuple[str, int]]]) -> tuple[CatalogueIndex, float]:
    """The index a registry API process holds after reading this read model."""
    t0 = time.perf_counter()
    index = CatalogueIndex()
    index._store.apply(docs, by_doc)
    return index, time.perf_counter() - t0


def queries() -> list[tuple[str, Any, tuple[Group, ...]]]:
    dictionary = Dictionary([])
    out = []
    for path in dict.fromkeys(search_paths(2000)):
        qs = dict(urllib.parse.parse_qsl(path.split("?", 1)[1]))
        price = int(qs["price_max_fen"]) if "price_max_fen" in qs else None
        q = search.parse_query(qs.get("q"), category=qs.get("category"), county_code=qs.get("county_code"), price_max_fen=price, page=int(qs.get("page", 1)), city=CITY)
        out.append((path, q, search._groups(q, dictionary)))
    return out


async def database_pages(url: str, todo: list[tuple[str, Any, tuple[Group, ...]]]) -> tuple[list[float], list[list[str]]]:
    from sqlalchemy.ext.asyncio import create_async_engine

    engine = create_async_engine(url)
    times, pages = [], []
    try:
        async with engine.connect() as conn:
            for _, q, groups in todo:
                t = time.perf_counter()
                found = (await conn.execute(search_sql.page_statement(groups, q.filters, q.sort, q.page, q.page_size))).mappings().all()
                if search_sql.counted_apart(groups, q.filters) and not (q.page == 1 and len(found) < q.page_size):
                    (await conn.execute(search_sql.count_statement(groups, q.filters))).all()
                times.append((time.perf_counter() - t) * 1000)
                pages.append([r["instrument_id"] for r in found])
    finally:
        await engine.dispose()
    return times, pages


def summary(label: str, ts: list[float]) -> str:
    s = sorted(ts)
    n = len(s)
    return f"{label}: {n} queries, mean {sum(s) / n:.2f} ms, p50 {s[n // 2]:.2f}, p90 {s[int(n * 0.9)]:.2f}, p99 {s[int(n * 0.99)]:.2f}, max {s[-1]:.2f}"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--instruments", type=int, default=100_000)
    ap.add_argument("--database-url", help="a database catalogue_search.py loaded with the same --instruments: its pages are compared")
    ap.add_argument("--rounds", type=int, default=3, help="passes over the distinct queries in each state (each pass's figures printed)")
    ap.add_argument("--refreshed", type=int, default=500, help="documents refreshed after the reading, for the second and third states")
    args = ap.parse_args()
    print(f"machine: {os.cpu_count()} cores; load average before {os.getloadavg()[0]:.2f}")
    t0 = time.perf_counter()
    _, inst_rows, price_rows = generate(args.instruments)
    docs, terms = read_model(inst_rows, price_rows)
    del inst_rows, price_rows
    print(f"read model: {len(docs)} instruments, {len(terms)} terms, generated in {time.perf_counter() - t0:.1f} s")
    rss0 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    by_doc: dict[str, list[tuple[str, int]]] = {}
    for term, iid, weight in terms:
        by_doc.setdefault(iid, []).append((term, weight))
    del terms
    index, build_s = build(docs, by_doc)
    size = sum(p.stat().st_size for p in Path(index._store.dir).iterdir()) / 2**20
    searcher = index._index.searcher()
    print(f"index: {searcher.num_docs} documents in {searcher.num_segments} segment(s), {size:.1f} MiB on disk, written in {build_s:.1f} s")
    todo = queries()
    public = [d for d in docs if d["public"]]
    moved = random.Random(3).sample(public, args.refreshed)
    pages: dict[str, list[list[str] | None]] = {}
    states = ("in name order", f"after {args.refreshed} refreshes (searched apart)", "order unknown (by the name key field)")
    for state in states:
        if state != states[0]:
            index._store.apply(moved, by_doc, everything=False)  # as the process applies a refresh
        if state == states[2]:
            index._store.moved = None  # as after a reading out of order (a name refreshed while it ran)
        for r in range(args.rounds):
            times, got = [], []
            for _, q, groups in todo:
                t = time.perf_counter()
                found = index.page(groups, q.filters, q.sort, q.page, q.page_size)
                times.append((time.perf_counter() - t) * 1000)
                got.append(None if found is None else [shown.instrument_id for shown, _ in found[0]])
            answered = sum(p is not None for p in got)
            print(f"load average {os.getloadavg()[0]:.2f}; " + summary(f"index pass {r + 1}, {state} ({answered} answered, {len(todo) - answered} left to the database)", times))
        pages[state] = got
    print(f"peak RSS of this process {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB (before the index {rss0:.0f})")
    if args.database_url:
        db_times, db_pages = asyncio.run(database_pages(args.database_url, todo))
        print(f"load average {os.getloadavg()[0]:.2f}; " + summary("database page statements (search_sql)", db_times))
        for state, got in pages.items():
            differ = [path for (path, _, _), a, b in zip(todo, got, db_pages, strict=True) if a is not None and a != b]
            print(f"pages equal to the database's, {state}: {len(todo) - len(differ)} of {len(todo)}")
            for path in differ[:5]:
                print(f"  differs: {urllib.parse.unquote(path)}")


if __name__ == "__main__":
    main()
