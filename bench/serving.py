"""What the benchmarks share: the registry API as its own OS process (a free
loopback port, start, wait for /health, stop with SIGTERM) and a ``wrk`` run
through a Lua script that prints one parseable summary line.

catalogue_search.py, bookings.py, http_server.py, front_door.py and voucher_rush.py import this
module; it imports none of them (and nothing of the platform).
"""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def server_command(no_cache: bool, no_index: bool = False, prelude: str = "") -> list[str]:
    """``prelude``: statements the server process runs first (setting a module's flag)."""
    # the result cache and the search index are module flags: switch them off in the server process, then the same CLI
    flags = "".join(f"s.{flag} = False; " for flag, off in (("CACHE_ENABLED", no_cache), ("INDEX_ENABLED", no_index)) if off)
    if flags:
        prelude += f"import services.registry.search as s; {flags}"
    if not prelude:
        return [sys.executable, "-m", "services.command.cli", "serve", "registry"]
    return [sys.executable, "-c", f"{prelude}from services.command.cli import main; main(['serve', 'registry'])"]


def start_server(url: str, port: int, data_dir: Path, no_cache: bool, no_index: bool = False, prelude: str = "") -> tuple[subprocess.Popen[bytes], Path]:
    """`xciss serve registry` as its own OS process, without NATS (``prelude``: see server_command)."""
    env = {k: v for k, v in os.environ.items() if k != "XCISS_NATS_URL"}
    env.update(
        {
            "XCISS_REGISTRY_DATABASE_URL": url,
            "XCISS_REGISTRY_PORT": str(port),
            "XCISS_DATA_DIR": str(data_dir),
            "XCISS_LOG_LEVEL": "WARNING",
            "PYTHONPATH": os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH", "")) if p),
        }
    )
    log_path = data_dir / "server.log"
    with log_path.open("wb") as log:
        proc = subprocess.Popen(server_command(no_cache, no_index, prelude), cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    return proc, log_path


def wait_healthy(base: str, proc: subprocess.Popen[bytes], log_path: Path, timeout: float = 60.0, what: str = "the registry server") -> None:
    """Wait for ``base``/health to answer 200; ``what`` (the process, for the message) exiting first ends the run."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"{what} exited with {proc.returncode}:\n{log_path.read_text(errors='replace')}")
        try:
            if httpx.get(base + "/health", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise SystemExit(f"{what} did not answer /health within {timeout:.0f} s:\n{log_path.read_text(errors='replace')}")


def stop_server(proc: subprocess.Popen[bytes]) -> int | None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    return proc.returncode


#: wrk's ``setup``: thread k connects to ``targets[k]`` when the script defines them
#: (``replica_targets``), its connections with it; each thread gets its number as ``id``
WRK_SETUP = """
local counter = 0
function setup(thread)
  if targets then
    local t = targets[(counter % #targets) + 1]
    thread.addr = wrk.lookup(t[1], t[2])[1]
  end
  thread:set("id", counter); counter = counter + 1
end
"""

WRK_DONE = WRK_SETUP + """
function init(args) i = (id or 0) * 7919 end
function request() i = i + 1; return wrk.format("GET", paths[(i % #paths) + 1]) end
function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("WRK %d %d %d %d %d %d %d %d\\n", summary.requests, summary.duration, e.status, e.connect + e.read + e.write + e.timeout,
    latency:percentile(50), latency:percentile(95), latency:percentile(99), latency.max))
end
"""


def replica_targets(replicas: list[str], connections: int) -> str:
    """The Lua ``targets`` table for :data:`WRK_SETUP`: one wrk thread per replica (base URL),
    the connections split evenly between them."""
    if connections % len(replicas):
        raise SystemExit(f"{connections} connections do not split evenly over {len(replicas)} replicas")
    hosts = [httpx.URL(r) for r in replicas]
    return "targets = {" + ",".join(f"{{{json.dumps(h.host)}, {json.dumps(str(h.port))}}}" for h in hosts) + "}\n"


#: the kernel's clock ticks a second, the unit of ``/proc``'s CPU times
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def process_cpu_s(pid: int) -> float:
    """User + system CPU-seconds of a process so far, all its threads (``/proc/<pid>/stat``)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def run_wrk(
    base: str, paths: list[str], workdir: Path, name: str, duration: float, connections: int, threads: int, headers: dict[str, str] | None = None, replicas: list[str] | None = None
) -> dict[str, float]:
    """``headers`` go with every request (``wrk -H``), e.g. a bearer token. ``replicas``
    (base URLs of servers of the same app): wrk runs one thread per replica, each
    thread's connections to its own replica, the connections split evenly as a
    balancer that spreads connections would; one latency histogram over all."""
    script = workdir / f"{name}.lua"
    targets = ""
    if replicas:
        threads, targets = len(replicas), replica_targets(replicas, connections)
    script.write_text("paths = {" + ",".join(json.dumps(p) for p in paths) + "}\n" + targets + WRK_DONE)
    load_before = os.getloadavg()
    cmd = ["wrk", "-t", str(threads), "-c", str(connections), "-d", f"{duration:g}s", "--timeout", "10s", "-s", str(script)]
    cmd += [arg for k, v in (headers or {}).items() for arg in ("-H", f"{k}: {v}")] + [base]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    m = re.search(r"^WRK (.*)$", out, re.MULTILINE)
    if m is None:
        raise SystemExit(f"wrk printed no summary:\n{out}")
    reqs, dur_us, status_err, sock_err, p50, p95, p99, mx = (int(x) for x in m.group(1).split())
    return {"load": load_before, "n": reqs, "rps": reqs / (dur_us / 1e6), "non2xx": status_err, "socket_errors": sock_err, "p50": p50 / 1000, "p95": p95 / 1000, "p99": p99 / 1000, "max": mx / 1000}
