"""Benchmark (issue 19, target 6): the front door at the speed of the services.

Starts the platform as ``xciss up`` does (its own NATS, SQLite, the demo data, free
ports, a temporary data directory; the gateway's rate limit raised so that wrk is
not refused) and drives ``wrk`` (``-t1``, 16 connections by default) against, in one
run: the gateway's ``/health``; a catalogue search on the registry directly and the
same through the gateway (``/api/registry/...``); a signed-in read (a center
officer's notifications, one token for every request, as a signed-in client sends
it) directly and through the gateway; the portal's home page, catalogue search and
an instrument's page (anonymous: the kept public pages). The machine's load average
is printed before each run.

Targets: the search through the gateway ≥ 50% of the same directly; each public page
≥ 25% of the gateway's ``/health`` with p99 ≤ 50 ms.

    .venv/bin/python bench/front_door.py                     # 10 s per run
    .venv/bin/python bench/front_door.py --duration 5 --gateway http://127.0.0.1:8100 --registry http://127.0.0.1:8101
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import quote

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import httpx  # noqa: E402
from serving import free_port, run_wrk, stop_server  # noqa: E402

QUERY = "q=" + quote("显微镜")


def start_platform(workdir: Path) -> tuple[subprocess.Popen[bytes], str, str]:
    """``xciss up`` with the demo data on free ports; its gateway and registry addresses."""
    ports = {name: free_port() for name in ("GATEWAY", "REGISTRY", "VOUCHERS", "EVALUATION", "PAYMENTS", "NATS")}
    env = {**os.environ, "XCISS_DATA_DIR": str(workdir / "data"), "XCISS_GATEWAY_RATE_LIMIT_PER_MINUTE": "100000000", **{f"XCISS_{k}_PORT": str(v) for k, v in ports.items()}}
    log = (workdir / "up.log").open("wb")
    proc = subprocess.Popen([sys.executable, "-m", "services.command.cli", "up"], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 180
    while b"Press Ctrl-C" not in (workdir / "up.log").read_bytes():
        if proc.poll() is not None or time.monotonic() > deadline:
            stop_server(proc)
            raise SystemExit(f"xciss up did not start:\n{(workdir / 'up.log').read_text()[-3000:]}")
        time.sleep(0.5)
    return proc, f"http://127.0.0.1:{ports['GATEWAY']}", f"http://127.0.0.1:{ports['REGISTRY']}"


def center_token(workdir: Path) -> str:
    """A center officer's token signed with the started platform's development key."""
    from services.runtime.http.auth import issue_token
    from services.runtime.roles import Role
    from services.runtime.settings import Settings

    return issue_token(Settings(data_dir=workdir / "data"), subject="bench-center", role=Role.CENTER)


def measure(gateway: str, registry: str, workdir: Path, duration: float, connections: int, token: str | None) -> dict[str, dict[str, float]]:
    found = httpx.get(f"{registry}/v1/catalogue/instruments?{QUERY}&page_size=1", timeout=10).json()["items"]
    if not found:
        raise SystemExit("the catalogue has no instrument for the search (no demo data?)")
    instrument = found[0]["instrument_id"]
    runs: dict[str, tuple[str, str, dict[str, str] | None]] = {
        "gateway /health": (gateway, "/health", None),
        "search, registry directly": (registry, f"/v1/catalogue/instruments?{QUERY}", None),
        "search through the gateway": (gateway, f"/api/registry/v1/catalogue/instruments?{QUERY}", None),
    }
    if token:
        signed_in = {"Authorization": f"Bearer {token}"}
        runs["signed-in read, directly"] = (registry, "/v1/notifications", signed_in)
        runs["signed-in read, via gateway"] = (gateway, "/api/registry/v1/notifications", signed_in)
    runs["portal home /"] = (gateway, "/", None)
    runs["portal catalogue search"] = (gateway, f"/instruments?{QUERY}", None)
    runs["portal instrument page"] = (gateway, f"/instruments/{instrument}", None)
    results = {}
    for k, (name, (base, path, headers)) in enumerate(runs.items()):
        r = results[name] = run_wrk(base, [path], workdir, f"run{k}", duration, connections, 1, headers)
        bad = f"  non-2xx {r['non2xx']:.0f}, socket errors {r['socket_errors']:.0f}" if r["non2xx"] or r["socket_errors"] else ""
        print(f"  load {r['load'][0]:.2f} {r['load'][1]:.2f} {r['load'][2]:.2f}  {name:<28} {r['rps']:8.0f} req/s  p50 {r['p50']:6.1f} ms  p99 {r['p99']:6.1f} ms{bad}", flush=True)
    return results


def verdict(results: dict[str, dict[str, float]], connections: int) -> bool:
    ok = True
    direct, via = results["search, registry directly"]["rps"], results["search through the gateway"]["rps"]
    ratio = via / direct
    ok &= ratio >= 0.5
    print(f"API through the gateway: {ratio:.0%} of directly (target ≥ 50%): {'PASS' if ratio >= 0.5 else 'MISS'}")
    if "signed-in read, directly" in results:
        signed = results["signed-in read, via gateway"]["rps"] / results["signed-in read, directly"]["rps"]
        ok &= signed >= 0.5
        print(f"signed-in API through the gateway: {signed:.0%} of directly (target ≥ 50%): {'PASS' if signed >= 0.5 else 'MISS'}")
    health = results["gateway /health"]["rps"]
    for name in ("portal home /", "portal catalogue search", "portal instrument page"):
        r = results[name]
        good = r["rps"] / health >= 0.25 and r["p99"] <= 50
        ok &= good
        print(f"{name}: {r['rps'] / health:.0%} of the gateway's /health, p99 {r['p99']:.1f} ms at {connections} connections (target ≥ 25%, p99 ≤ 50 ms): {'PASS' if good else 'MISS'}")
    return ok


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--duration", type=float, default=10.0, help="seconds per wrk run")
    ap.add_argument("--connections", type=int, default=16)
    ap.add_argument("--gateway", help="a running gateway (with --registry): measure it instead of starting the platform")
    ap.add_argument("--registry", help="the running registry's own address")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="xciss-front-door-") as tmp:
        workdir = Path(tmp)
        proc = None
        if args.gateway and args.registry:
            gateway, registry = args.gateway.rstrip("/"), args.registry.rstrip("/")
        else:
            print("starting the platform (xciss up with the demo data) ...", flush=True)
            proc, gateway, registry = start_platform(workdir)
        try:
            print(f"wrk -t1 -c{args.connections} -d{args.duration:g}s; {os.cpu_count()} CPUs", flush=True)
            # a running platform's own keys are not known here: its signed-in reads are not measured
            results = measure(gateway, registry, workdir, args.duration, args.connections, None if proc is None else center_token(workdir))
            verdict(results, args.connections)
        finally:
            if proc is not None:
                stop_server(proc)


if __name__ == "__main__":
    main()
