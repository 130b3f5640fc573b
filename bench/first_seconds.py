"""Benchmark: a service's first seconds under load (services/runtime/heap.py).

A process that has just started holds its whole start-up heap (about a million
objects for the registry) in Python's young generations; the first full
collection walks all of it and stops the event loop meanwhile. This starts
`xciss serve registry` (its own OS process, SQLite, no NATS) and drives
`GET /health` with `wrk` (16 connections, one thread) from the moment it answers,
in back-to-back windows, so the window holding that collection shows it in its
p99 and maximum. Each round starts the server twice, alternating: as shipped
(the heap collected and frozen before the server accepts a connection) and
without that first freeze (`heap.BEFORE_SERVING = False`: frozen only
`SETTLE_S` after the start, as before 2026-12-06), the baseline of the same run.
The load average is printed before each start.

    .venv/bin/python bench/first_seconds.py                 # --rounds 2 --windows 4 --window 3
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from serving import free_port, run_wrk, start_server, stop_server, wait_healthy  # noqa: E402

from services.runtime.db.migrations import upgrade  # noqa: E402


def start(url: str, work: Path, before_serving: bool) -> tuple[subprocess.Popen[bytes], str, Path]:
    """`xciss serve registry` with ``heap.BEFORE_SERVING`` set as asked."""
    port = free_port()
    proc, log = start_server(url, port, work, no_cache=False, prelude=f"import services.runtime.heap as h; h.BEFORE_SERVING = {before_serving}; ")
    return proc, f"http://127.0.0.1:{port}", log


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--windows", type=int, default=4, help="wrk runs back to back from the first answer")
    ap.add_argument("--window", type=float, default=3.0, help="seconds each")
    args = ap.parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is not installed: apt-get install -y wrk")
    work = Path(tempfile.mkdtemp(prefix="xciss-bench-first-"))
    url = f"sqlite+aiosqlite:///{work / 'registry.db'}"
    try:
        upgrade("registry", url)
        print(f"machine: {os.cpu_count()} cores; wrk -t1 -c16, {args.windows} windows of {args.window:g} s from the first /health answer")
        for r in range(args.rounds):
            for before_serving in (True, False):
                label = "frozen before serving" if before_serving else "baseline: frozen 5 s after the start"
                print(f"load average {os.getloadavg()[0]:.2f}; round {r + 1}, {label}:", flush=True)
                proc, base, log = start(url, work, before_serving)
                try:
                    wait_healthy(base, proc, log)
                    for w in range(args.windows):
                        x = run_wrk(base, ["/health"], work, f"w{w}", args.window, 16, 1)
                        print(f"  {w * args.window:4.0f}-{(w + 1) * args.window:<4.0f} s  {x['rps']:7.0f} req/s  p50 {x['p50']:6.2f}  p99 {x['p99']:7.2f}  max {x['max']:7.1f} ms", flush=True)
                finally:
                    stop_server(proc)
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
