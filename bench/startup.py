"""Benchmark (issue 19, target 5): how long ``xciss up`` takes to be ready,
and what each of its processes costs in CPU to start and in memory at rest.

Runs ``xciss up`` (demo data on) in a temporary data directory twice: cold
(databases migrated, demo data loaded) and warm (everything already there, as
on a developer's second start). For each: the seconds until it prints "xciss
is up" (every service's and the gateway's ``/ready`` with NATS connected),
then, after ``--idle`` seconds at rest, each process's CPU-seconds since it
started and its resident memory (``/proc``). The load average is printed
before each start. Linux only.

    .venv/bin/python bench/startup.py                    # --idle 15 --nats-port 4322

Then the warm start alternately as ``xciss up`` starts by default (the service
processes forked from a forkserver that imported their common stack) and with
``XCISS_UP_FORKS=0`` (each process its own interpreter: the baseline), ``--rounds``
times each.

Targets: ready in ≤ 5 s on an installed checkout (the warm start); idle
memory ≤ 100 MiB per process.
"""

from __future__ import annotations

import argparse
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from serving import process_cpu_s

ROOT = Path(__file__).resolve().parents[1]


def _children(pid: int) -> list[int]:
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        try:
            kids = [int(k) for t in os.listdir(f"/proc/{p}/task") for k in Path(f"/proc/{p}/task/{t}/children").read_text().split()]
        except OSError:
            continue
        out += kids
        todo += kids
    return out


def _usage(pid: int) -> tuple[float, float, str]:
    cpu = process_cpu_s(pid)
    rss = next(int(line.split()[1]) for line in Path(f"/proc/{pid}/status").read_text().splitlines() if line.startswith("VmRSS")) / 1024
    cmd = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    m = re.search(r"cli (run \w+|gateway|up)|(nats-server|forkserver|resource_tracker)|xciss (up)", cmd)
    return cpu, rss, next((g for g in (m.groups() if m else ()) if g), cmd[:40])


def one_start(data_dir: Path, nats_port: int, idle: float, forks: bool = True) -> float:
    env = {k: v for k, v in os.environ.items() if not k.startswith("XCISS_")}
    env.update(XCISS_DATA_DIR=str(data_dir), XCISS_NATS_PORT=str(nats_port), PYTHONPATH=str(ROOT), XCISS_UP_FORKS="1" if forks else "0")
    print(f"  load average before: {os.getloadavg()[0]:.2f}")
    t0 = time.monotonic()
    proc = subprocess.Popen([sys.executable, "-m", "services.command.cli", "up"], cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        assert proc.stdout is not None
        for line in proc.stdout:
            if "xciss is up" in line:
                ready = time.monotonic() - t0
                print(f"  ready after {ready:.1f} s (wall, from the command); it says: {line.strip()}")
                break
        else:
            raise SystemExit(f"xciss up ended without being ready (exit {proc.wait()})")
        time.sleep(idle)
        rows = [(_usage(pid)) for pid in [proc.pid, *_children(proc.pid)]]
        total = sum(cpu for cpu, _, _ in rows)
        for cpu, rss, name in rows:
            flag = "" if name in ("up", "nats-server") or rss <= 100 else "  > 100 MiB"
            print(f"    {name:<18} {cpu:6.2f} CPU-s  {rss:7.1f} MiB{flag}")
        print(f"    {'all':<18} {total:6.2f} CPU-s (the forked steps' child not counted: it has ended)")
        return ready
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--idle", type=float, default=15.0)
    ap.add_argument("--nats-port", type=int, default=4322)
    ap.add_argument("--rounds", type=int, default=2, help="warm starts of each kind, alternating")
    args = ap.parse_args()
    print(f"machine: {os.cpu_count()} cores")
    warm: dict[bool, list[float]] = {True: [], False: []}
    with tempfile.TemporaryDirectory(prefix="xciss-bench-startup-") as tmp:
        print("cold (fresh data directory)")
        one_start(Path(tmp), args.nats_port, args.idle)
        time.sleep(3)
        for _ in range(args.rounds):
            for forks in (True, False):
                print(f"warm, {'service processes forked from the forkserver' if forks else 'each process its own interpreter (XCISS_UP_FORKS=0, the baseline)'}")
                warm[forks].append(one_start(Path(tmp), args.nats_port, args.idle, forks))
                time.sleep(3)
    for forks, label in ((True, "forked (xciss up's default)"), (False, "own interpreters (baseline)")):
        print(f"warm start, {label}: " + ", ".join(f"{t:.1f}" for t in warm[forks]) + " s")


if __name__ == "__main__":
    main()
