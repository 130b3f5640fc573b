"""Profile of the free-slot query (issue 16), in-process: CPU per call and cProfile's top entries.

Migrates a temporary SQLite registry database (or the empty PostgreSQL
database of ``--database-url``), loads N instruments (default
200) with a year of bookings each (default 110) through ``bench/bookings.py``'s
own generator and loader, then calls, on one event loop and without NATS:

* ``usecase``: ``services.registry.schedules.availability`` directly;
* ``asgi``: ``GET /v1/instruments/{id}/availability`` through the registry's
  whole Litestar app (middleware, routing, encoding) over httpx's ASGI transport;
* ``health``: ``GET /health`` the same way, the HTTP baseline of ``asgi``.

Each mode warms up, then makes ``--calls`` calls over the same four-week paths
the benchmark uses, and prints CPU ms per call (``time.process_time``; the
median of ``--repeat`` rounds, so a neighbour's burst counts less) and, with
``--profile``, cProfile's top entries by cumulative time. The CPU is this
process's (aiosqlite's thread included, the PostgreSQL server's not), and in
``asgi`` and ``health`` the httpx client's too: compare ``asgi`` with
``health``, not with wrk's figures.

    .venv/bin/python bench/profiles/availability.py
    .venv/bin/python bench/profiles/availability.py --profile asgi --top 40
    .venv/bin/python bench/profiles/availability.py --database-url postgresql+asyncpg://postgres@127.0.0.1:5432/xciss_profile
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import io
import pstats
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from datetime import datetime
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from bookings import CST, _load_postgres, _load_sqlite, availability_paths, generate  # noqa: E402

from services.registry import schedules  # noqa: E402
from services.runtime.db.migrations import upgrade  # noqa: E402
from services.runtime.service import create_app, create_database, load_spec  # noqa: E402
from services.runtime.settings import Settings  # noqa: E402
from services.runtime.workdays import load_calendar  # noqa: E402
from tests.support.asgi import LifespanClient  # noqa: E402

Call = Callable[[int], Awaitable[None]]


async def rounds(call: Call, calls: int, repeat: int) -> float:
    """CPU ms per call, the median over ``repeat`` rounds of ``calls`` calls."""
    per = []
    for _ in range(repeat):
        t0 = time.process_time()
        for i in range(calls):
            await call(i)
        per.append((time.process_time() - t0) * 1000 / calls)
    return statistics.median(per)


async def profiled(call: Call, calls: int, top: int) -> str:
    prof = cProfile.Profile()
    prof.enable()
    for i in range(calls):
        await call(i)
    prof.disable()
    out = io.StringIO()
    pstats.Stats(prof, stream=out).sort_stats("cumulative").print_stats(top)
    return out.getvalue()


def prepare(args: argparse.Namespace, tmp: Path) -> tuple[str, list[str]]:
    """The migrated, loaded database (alembic runs its own event loop: before ours) and the paths."""
    url = args.database_url or f"sqlite+aiosqlite:///{tmp / 'registry.db'}"
    upgrade("registry", url)
    today = datetime.now(CST).date()
    data = generate(args.instruments, args.per_instrument, 1, today)
    if url.startswith("postgresql"):
        asyncio.run(_load_postgres(url, data))
    else:
        _load_sqlite(url, data)
    paths = availability_paths(data["instrument_ids"], today, 500)
    print(f"{url.partition(':')[0]}: {args.instruments} instruments, {len(data['bookings']):,} bookings; {len(paths)} paths", flush=True)
    return url, paths


async def run(args: argparse.Namespace, tmp: Path, url: str, paths: list[str]) -> None:
    settings = Settings(data_dir=tmp, database_urls={"registry": url}, pii_secret="profile")
    spec = load_spec("registry")
    db = create_database(spec, settings)  # the app's own handle, shared with the direct calls
    calendar = load_calendar(settings)
    app = create_app(spec, settings, db)
    async with LifespanClient(app, "http://registry.local") as http:
        queries = []
        for p in paths:
            parts = urlsplit(p)
            q = parse_qs(parts.query)
            queries.append((parts.path.split("/")[3], datetime.fromisoformat(q["from"][0]), datetime.fromisoformat(q["to"][0])))

        async def usecase(i: int) -> None:
            iid, start, end = queries[i % len(queries)]
            await schedules.availability(db, calendar, iid, start=start, end=end)

        async def asgi(i: int) -> None:
            r = await http.get(paths[i % len(paths)])
            if r.status_code != 200:
                raise SystemExit(r.text)

        async def health(i: int) -> None:
            r = await http.get("/health")
            if r.status_code != 200:
                raise SystemExit(r.text)

        modes: dict[str, Call] = {"usecase": usecase, "asgi": asgi, "health": health}
        sample = (await http.get(paths[0])).json()
        print(f"sample answer: {len(sample['busy'])} busy, {len(sample['free'])} free intervals", flush=True)
        for name, call in modes.items():
            for i in range(args.warmup):
                await call(i)
            print(f"  {name:<8} {await rounds(call, args.calls, args.repeat):7.3f} CPU ms per call", flush=True)
        for name in args.profile:
            print(f"\n=== cProfile: {name}, {args.calls} calls ===")
            print(await profiled(modes[name], args.calls, args.top))
    await db.dispose()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--instruments", type=int, default=200)
    ap.add_argument("--per-instrument", type=int, default=110)
    ap.add_argument("--calls", type=int, default=300)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--warmup", type=int, default=50)
    ap.add_argument("--profile", action="append", default=[], choices=["usecase", "asgi", "health"])
    ap.add_argument("--top", type=int, default=30)
    ap.add_argument("--database-url", default=None, help="an empty PostgreSQL database (postgresql+asyncpg://…); default a temporary SQLite file")
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="xciss-avail-prof-"))
    try:
        asyncio.run(run(args, tmp, *prepare(args, tmp)))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
