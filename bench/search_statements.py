"""The database's own cost of a catalogue search miss (issue 19, target 3).

Runs every distinct query of ``catalogue_search.py``'s mix once, sequentially,
on one connection, as this checkout's code builds them (the page statement,
and the count where the code issues one), against a database that
``catalogue_search.py`` loaded (``--database-url … --reuse`` keeps it), and
prints mean, p50, p90, p99 and the slowest three. No HTTP, no result cache.
To compare two versions in the same minutes, run it alternately from an export
of each (``git archive <commit> | tar -x -C /tmp/old``), e.g.

    .venv/bin/python bench/search_statements.py sqlite+aiosqlite:////tmp/r.db
    .venv/bin/python /tmp/old/bench/search_statements.py postgresql+asyncpg://postgres@127.0.0.1:5432/xciss_bench_search
"""

from __future__ import annotations

import asyncio
import os
import sys
import time
import urllib.parse
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from catalogue_data import search_paths  # noqa: E402
from sqlalchemy.ext.asyncio import create_async_engine  # noqa: E402

from services.registry import search, search_sql  # noqa: E402
from services.registry.domain.synonyms import Dictionary  # noqa: E402
from services.runtime.city import packaged_city  # noqa: E402

CITY = packaged_city()


async def measure(url: str) -> None:
    engine = create_async_engine(url)
    dictionary = Dictionary([])
    apart = getattr(search_sql, "counted_apart", None)  # absent before 385dd1d
    times: list[tuple[float, str]] = []
    try:
        async with engine.connect() as conn:
            for path in dict.fromkeys(search_paths(2000)):
                qs = dict(urllib.parse.parse_qsl(path.split("?", 1)[1]))
                price = int(qs["price_max_fen"]) if "price_max_fen" in qs else None
                q = search.parse_query(qs.get("q"), category=qs.get("category"), county_code=qs.get("county_code"), price_max_fen=price, page=int(qs.get("page", 1)), city=CITY)
                groups = search._groups(q, dictionary)
                t = time.perf_counter()
                found = (await conn.execute(search_sql.page_statement(groups, q.filters, q.sort, q.page, q.page_size))).all()
                separate = apart is not None and apart(groups, q.filters) and not (q.page == 1 and len(found) < q.page_size)
                if separate or (not found and q.page > 1):
                    (await conn.execute(search_sql.count_statement(groups, q.filters))).all()
                times.append(((time.perf_counter() - t) * 1000, path))
    finally:
        await engine.dispose()
    ts = sorted(t for t, _ in times)
    n = len(ts)
    print(f"load average {os.getloadavg()[0]:.2f}; {n} queries: mean {sum(ts) / n:.1f} ms, p50 {ts[n // 2]:.1f}, p90 {ts[int(n * 0.9)]:.1f}, p99 {ts[int(n * 0.99)]:.1f}, max {ts[-1]:.1f}")
    for t, path in sorted(times)[-3:]:
        print(f"  {t:.0f} ms {urllib.parse.unquote(path)}")


if __name__ == "__main__":
    if len(sys.argv) != 2:
        raise SystemExit(__doc__)
    asyncio.run(measure(sys.argv[1]))
