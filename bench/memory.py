"""Profile (issue 19, target 5): where each process's idle memory goes.

Two parts, each in processes of their own:

1. **Imports.** For every service (and the gateway), a fresh interpreter
   imports the service's ``app`` module with an import hook that reads the
   resident size (``/proc/self/status``) before and after every import and
   charges each package only for what it added itself (its own imports
   charged to them): the packages that cost the most, exclusively.
2. **At rest.** ``xciss up`` (demo data on) in a temporary data directory,
   started once to migrate and load, then again; after ``--idle`` seconds
   each process's ``smaps_rollup``: resident size, of which anonymous (the
   Python heap: objects, code, the allocator's arenas) and file-backed
   (shared libraries' pages, shared with every other process on the host
   but counted in each one's RSS, as the target counts it).

    .venv/bin/python bench/memory.py                  # --idle 15 --top 8

Target: idle memory ≤ 100 MiB per process (RSS).
"""

from __future__ import annotations

import argparse
import builtins
import collections
import importlib
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from serving import free_port, stop_server, wait_healthy
from startup import _children

ROOT = Path(__file__).resolve().parents[1]
APPS = {s: f"services.{s}.app" for s in ("registry", "vouchers", "evaluation", "payments", "gateway")}


def _rss_mib() -> float:
    with open("/proc/self/status") as f:
        return next(int(line.split()[1]) for line in f if line.startswith("VmRSS")) / 1024


def charge_imports(module: str) -> dict[str, object]:
    """Imports ``module`` here, charging each top-level package for the RSS its
    own import added (the imports it made charged to their packages)."""
    real = builtins.__import__
    charged: collections.Counter[str] = collections.Counter()
    inner: list[float] = []

    def hook(name, globals=None, locals=None, fromlist=(), level=0):  # type: ignore[no-untyped-def]
        package = ((globals or {}).get("__package__") or "") if level else name
        if (level == 0 and name in sys.modules) and not fromlist:
            return real(name, globals, locals, fromlist, level)
        before = _rss_mib()
        inner.append(0.0)
        try:
            return real(name, globals, locals, fromlist, level)
        finally:
            own, added = inner.pop(), _rss_mib() - before
            charged[package.split(".")[0] or name.split(".")[0]] += added - own
            if inner:
                inner[-1] += added

    start = _rss_mib()
    builtins.__import__ = hook
    try:
        importlib.import_module(module)
    finally:
        builtins.__import__ = real
    return {"start": start, "end": _rss_mib(), "modules": len(sys.modules), "charged": charged.most_common()}


def imports_part(top: int) -> None:
    print("imports: a fresh interpreter imports the service's app module (RSS, MiB)")
    for service, module in APPS.items():
        out = subprocess.run([sys.executable, __file__, "--charge", module], cwd=ROOT, capture_output=True, text=True, check=True,
                             env={**os.environ, "PYTHONPATH": str(ROOT)})
        r = json.loads(out.stdout.strip().splitlines()[-1])
        heaviest = ", ".join(f"{name} {mib:.1f}" for name, mib in r["charged"][:top])
        print(f"  {service:<11} {r['start']:5.1f} → {r['end']:5.1f} ({r['modules']:,} modules); heaviest: {heaviest}")


def _rollup(pid: int) -> dict[str, float]:
    fields = {}
    for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines()[1:]:
        name, value, *_ = line.split()
        fields[name.rstrip(":")] = int(value) / 1024
    return fields


def _print_rest(name: str, pid: int) -> None:
    m = _rollup(pid)
    flag = "  > 100" if m["Rss"] > 100 else ""
    # PSS: each page shared with other processes (libraries, the pages `xciss up`'s service
    # processes share with the forkserver they were forked from) counted by its share
    print(f"  {name:<18} RSS {m['Rss']:6.1f} = anonymous {m['Anonymous']:5.1f} + files {m['Rss'] - m['Anonymous']:5.1f}; PSS {m['Pss']:6.1f}{flag}")


def _name(pid: int) -> str:
    """``registry`` for ``… cli run registry``, ``forkserver`` for multiprocessing's, and so on.
    (A forked service process's command line is one string, set by setproctitle.)"""
    words = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode().split()
    for known in ("forkserver", "resource_tracker", "nats-server"):
        if any(known in w for w in words):
            return known
    return words[-1] if words else str(pid)


def deployed_part(up_pid: int, idle: float) -> None:
    """Each role of each service as its own process, as deploy/ runs them (one
    Deployment per role: ``xciss serve|worker|relay SERVICE``), beside the running
    ``xciss up`` and with its children's environment (bus, databases, keys); the API
    on a port of its own. Read ``idle`` seconds after the API answers ``/health``."""
    print(f"as deployed: one process per role (deploy/base/services), {idle:g} s after the API answers (MiB)")
    envs = {}
    for pid in _children(up_pid):  # (`xciss up` started each with an interpreter of its own: its environment is in /proc)
        if (service := _name(pid)) in APPS and service != "gateway":  # the gateway has no roles: xciss up runs it as deployed
            raw = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
            envs[service] = dict(e.decode().split("=", 1) for e in raw if b"=" in e)
    with tempfile.TemporaryDirectory(prefix="xciss-bench-roles-") as logs:
        for service, env in sorted(envs.items()):
            port = free_port()
            procs, log_paths = {}, {}
            for role in ("serve", "worker", "relay"):
                log_paths[role] = Path(logs) / f"{service}-{role}.log"
                with log_paths[role].open("wb") as log:
                    procs[role] = subprocess.Popen(
                        [sys.executable, "-m", "services.command.cli", role, service],
                        cwd=ROOT,
                        # XCISS_PARENT_PID: a process whose parent is not that pid stops (here: this bench)
                        env={**env, f"XCISS_{service.upper()}_PORT": str(port), "XCISS_METRICS_PORT": str(free_port()), "XCISS_PARENT_PID": str(os.getpid())},
                        stdout=log,
                        stderr=subprocess.STDOUT,
                    )
            try:
                wait_healthy(f"http://127.0.0.1:{port}", procs["serve"], log_paths["serve"], timeout=120, what=f"xciss serve {service}")
                time.sleep(idle)
                for role, p in procs.items():
                    _print_rest(f"{service} {role}", p.pid)
            finally:
                for p in procs.values():
                    stop_server(p)


def at_rest_part(idle: float, nats_port: int, deployed: bool = False, forks: bool = True) -> None:
    how = "service processes forked from the forkserver" if forks and not deployed else "each process its own interpreter"
    print(f"at rest: `xciss up` (demo data; {how}), {idle:g} s after it is up, the second start (MiB)")
    with tempfile.TemporaryDirectory(prefix="xciss-bench-memory-") as tmp:
        env = {k: v for k, v in os.environ.items() if not k.startswith("XCISS_")}
        env.update(XCISS_DATA_DIR=tmp, XCISS_NATS_PORT=str(nats_port), PYTHONPATH=str(ROOT))
        # the roles alone (--deployed) take each service process's environment from /proc, which a forked one does not show
        env["XCISS_UP_FORKS"] = "1" if forks and not deployed else "0"
        for last in (False, True):
            proc = subprocess.Popen([sys.executable, "-m", "services.command.cli", "up"], cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
            try:
                assert proc.stdout is not None
                if not any("xciss is up" in line for line in proc.stdout):
                    raise SystemExit(f"xciss up ended without being ready (exit {proc.wait()})")
                if last:
                    time.sleep(idle)
                    rest = {pid: _name(pid) for pid in _children(proc.pid)}
                    for pid, name in rest.items():
                        if name != "nats-server":
                            _print_rest(name, pid)
                    pss = sum(_rollup(pid)["Pss"] for pid in [proc.pid, *rest] if rest.get(pid) != "nats-server")
                    print(f"  {'all (PSS)':<18} {pss:6.1f}: what `xciss up`'s Python processes hold together")
                    if deployed:
                        deployed_part(proc.pid, idle)
            finally:
                proc.send_signal(signal.SIGTERM)
                proc.wait(30)
            time.sleep(2)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--idle", type=float, default=15.0)
    ap.add_argument("--top", type=int, default=8)
    ap.add_argument("--nats-port", type=int, default=4323)
    ap.add_argument("--deployed", action="store_true", help="also each role as its own process, as deploy/ runs them")
    ap.add_argument("--no-imports", action="store_true", help="skip the imports part")
    ap.add_argument("--no-forks", action="store_true", help="`xciss up` with XCISS_UP_FORKS=0: each service process its own interpreter")
    ap.add_argument("--charge", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.charge:
        print(json.dumps(charge_imports(args.charge)))
        return
    print(f"machine: {os.cpu_count()} cores; python {sys.version.split()[0]}")
    if not args.no_imports:
        imports_part(args.top)
    at_rest_part(args.idle, args.nats_port, args.deployed, forks=not args.no_forks)


if __name__ == "__main__":
    main()
