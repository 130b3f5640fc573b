"""Benchmark (issue 19, target 1): the full stack's ``/health`` against a bare
Litestar app, per HTTP server, in one run.

For each server stack — uvicorn with h11 on the standard asyncio loop (what
ran before), uvicorn with httptools on uvloop (``services.runtime.eventloop``'s
default), and granian (one worker; only when installed: ``pip install
granian``) — the bare app (``bench/bare_litestar.py``) is started as its own
process and ``wrk`` (Debian's, compiled; ``-t1`` so the other core is the
server's) drives ``GET /health``. Then the registry (``xciss serve registry``
on a migrated SQLite file, no NATS: its ``/health`` runs the auth, metrics,
security-header and tracing middleware) on each uvicorn stack. The machine's
load average is printed before each wrk run.

Target: the registry's ``/health`` on the chosen stack ≥ 30% of the bare app
on the fastest server measured.

    .venv/bin/python bench/http_server.py                      # 10 s per run, 16 connections
    .venv/bin/python bench/http_server.py --duration 15 --connections 4,16
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from serving import free_port, run_wrk, stop_server, wait_healthy  # noqa: E402

from services.runtime.db.migrations import upgrade  # noqa: E402

STACKS = {"uvicorn-h11-asyncio": {"XCISS_EVENT_LOOP": "asyncio", "XCISS_HTTP_PARSER": "h11"},
          "uvicorn-httptools-uvloop": {"XCISS_EVENT_LOOP": "uvloop", "XCISS_HTTP_PARSER": "httptools"}}
CHOSEN = "uvicorn-httptools-uvloop"


def _env(extra: dict[str, str]) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("XCISS_")}
    env.update(extra, PYTHONPATH=str(ROOT), XCISS_LOG_LEVEL="WARNING")
    return env


def measure(name: str, cmd: list[str], env: dict[str, str], port: int, work: Path, args: argparse.Namespace) -> list[dict[str, float]]:
    log = work / f"{name}.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        base = f"http://127.0.0.1:{port}"
        wait_healthy(base, proc, log)
        rows = []
        for c in args.connections:
            time.sleep(2)  # let the load average settle a little after start-up
            r = run_wrk(base, ["/health"], work, name, args.duration, c, 1)
            r["c"] = c
            rows.append(r)
            print(f"  {name:<38} -c{c:<3} {r['rps']:>8.0f} req/s  p50 {r['p50']:6.2f}  p99 {r['p99']:7.2f} ms  errors {r['non2xx'] + r['socket_errors']:.0f}  load before {r['load'][0]:.2f}")
        return rows
    finally:
        stop_server(proc)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--duration", type=float, default=10.0)
    ap.add_argument("--connections", type=lambda s: [int(x) for x in s.split(",")], default=[16])
    args = ap.parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is not installed: apt-get install -y wrk")
    work = Path(tempfile.mkdtemp(prefix="xciss-bench-http-"))
    print(f"machine: {os.cpu_count()} cores; load average {os.getloadavg()[0]:.2f}; wrk -t1, {args.duration:g} s per run")
    bare: dict[str, list[dict[str, float]]] = {}
    for name, extra in STACKS.items():
        port = free_port()
        bare[name] = measure(f"bare {name}", [sys.executable, "bench/bare_litestar.py", str(port)], _env(extra), port, work, args)
    granian = shutil.which("granian") or (str(Path(sys.executable).parent / "granian") if (Path(sys.executable).parent / "granian").exists() else None)
    if granian:
        port = free_port()
        cmd = [granian, "--interface", "asgi", "--workers", "1", "--port", str(port), "--log-level", "warning", "bench.bare_litestar:app"]
        bare["granian"] = measure("bare granian", cmd, _env({}), port, work, args)
    else:
        print("  granian is not installed (pip install granian): not measured")
    db = work / "registry.db"
    upgrade("registry", f"sqlite+aiosqlite:///{db}")
    full: dict[str, list[dict[str, float]]] = {}
    for name, extra in STACKS.items():
        port = free_port()
        env = _env({**extra, "XCISS_REGISTRY_DATABASE_URL": f"sqlite+aiosqlite:///{db}", "XCISS_REGISTRY_PORT": str(port), "XCISS_DATA_DIR": str(work / "data")})
        full[name] = measure(f"registry {name}", [sys.executable, "-m", "services.command.cli", "serve", "registry"], env, port, work, args)
    for i, c in enumerate(args.connections):
        fastest = max(bare, key=lambda n: bare[n][i]["rps"])
        ratio = full[CHOSEN][i]["rps"] / bare[fastest][i]["rps"]
        before = full["uvicorn-h11-asyncio"][i]["rps"]
        print(f"-c{c}: registry /health on {CHOSEN} {full[CHOSEN][i]['rps']:.0f} req/s = {ratio:.0%} of bare Litestar on the fastest server"
              f" ({fastest}, {bare[fastest][i]['rps']:.0f} req/s): {'PASS' if ratio >= 0.30 else 'MISS'} (target >= 30%);"
              f" {full[CHOSEN][i]['rps'] / before:.2f}x the h11/asyncio stack ({before:.0f} req/s)")
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
