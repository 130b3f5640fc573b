"""The voucher rush's load generator: ``wrk`` (compiled, Debian's package) with a Lua
script that sends each user's own application once, with the user's own token.

Issue 19 asks for a load generator that does not take the server's CPU: on two
cores the earlier hand-rolled Python client (asyncio, one coroutine a connection)
shared them with the service it measured. Here the bench's Python process only
consumes the decision events from NATS; ``wrk`` sends the requests.

How a run goes:

* the bench writes one line a request (``token order_id``) to a file;
* each wrk thread takes every T-th line (T threads) and sends them in order over
  its connections, writing ``order_id send-time`` when it sends one and
  ``status answer-time body`` when the answer comes, both on the monotonic clock
  (``CLOCK_MONOTONIC`` through LuaJIT's FFI: Python's ``time.monotonic``), so a
  request's send time and its decision event's arrival compare directly;
* wrk calls the first thread's ``request()`` once before the run to check it (and sends
  nothing): that call gets ``GET /health``, so no user's request is lost on it;
* a connection that asks for a request after its thread's share is sent gets
  ``GET /health`` (the cheapest answer; not counted) until the thread has all its
  answers, writes its ``done`` file and stops;
* when every thread is done, the bench reads wrk's CPU time from ``/proc`` and
  ends it with SIGINT (wrk otherwise sleeps out its ``-d``).
"""

from __future__ import annotations

import asyncio
import shutil
import signal
from dataclasses import dataclass, field
from pathlib import Path

from serving import WRK_SETUP, process_cpu_s, replica_targets

RUSH_LUA = r"""
local ffi = require("ffi")
ffi.cdef[[
typedef struct { long tv_sec; long tv_nsec; } xciss_timespec;
int clock_gettime(int clk_id, xciss_timespec *tp);
]]
local ts = ffi.new("xciss_timespec")
local function now()
  ffi.C.clock_gettime(1, ts)  -- CLOCK_MONOTONIC
  return tonumber(ts.tv_sec) + tonumber(ts.tv_nsec) / 1e9
end


function init(args)
  local path, out, threads = args[1], args[2], tonumber(args[3])
  reqs, orders = {}, {}
  local i = 0
  for line in io.lines(path) do
    if i % threads == id then
      local token, order = line:match("^(%S+) (%S+)$")
      orders[#orders + 1] = order
      reqs[#reqs + 1] = wrk.format("POST", "/v1/applications/",
        {["Authorization"] = "Bearer " .. token, ["Content-Type"] = "application/json"},
        '{"order_id":"' .. order .. '"}')
    end
    i = i + 1
  end
  idle = wrk.format("GET", "/health")
  nxt, got = 1, 0
  -- wrk 4 calls the first thread's request() once before it runs, to count a pipeline, and
  -- sends nothing of it: that call gets the idle request, so no application is spent on it
  verifying = (id == 0)
  done_path = out .. "/done-" .. id
  sent_f = io.open(out .. "/sent-" .. id, "w")
  answers_f = io.open(out .. "/answers-" .. id, "w")
end

function request()
  if verifying then verifying = false; return idle end
  if nxt > #reqs then return idle end
  sent_f:write(orders[nxt], " ", string.format("%.6f", now()), "\n")
  nxt = nxt + 1
  return reqs[nxt - 1]
end

function response(status, headers, body)
  if status == 200 and body == '{"status":"ok"}' then return end  -- an idle connection's /health
  answers_f:write(status, " ", string.format("%.6f", now()), " ", (body:gsub("\n", " ")), "\n")
  got = got + 1
  if got == #reqs then
    sent_f:close()
    answers_f:close()
    io.open(done_path, "w"):close()
    wrk.thread:stop()
  end
end
"""


@dataclass
class WrkRush:
    """What wrk saw: each order's send time, each answer (status, time, body), wrk's CPU."""

    sent: dict[str, float] = field(default_factory=dict)
    answers: list[tuple[int, float, str]] = field(default_factory=list)
    cpu_s: float = 0.0
    threads: int = 0


def wrk_path() -> str:
    found = shutil.which("wrk")
    if found is None:
        raise SystemExit("wrk is not installed: apt-get install wrk (Debian's package; the bench's load generator)")
    return found


async def run(bases: list[str], requests: list[tuple[str, str]], workdir: Path, connections: int, threads: int = 2, timeout_s: float = 300.0) -> WrkRush:
    """Sends ``requests`` (token, order id) through wrk with ``connections`` connections
    over ``threads`` threads; returns when every request has its answer. With more than
    one base URL (replicas of the API) wrk runs one thread per replica, each with its
    share of the requests and the connections, as a balancer spreading connections would."""
    workdir.mkdir(parents=True, exist_ok=True)
    lines = workdir / "requests.txt"
    lines.write_text("".join(f"{token} {order}\n" for token, order in requests))
    script = workdir / "rush.lua"
    targets = ""
    if len(bases) > 1:
        threads, targets = len(bases), replica_targets(bases, connections)
    script.write_text(targets + WRK_SETUP + RUSH_LUA)
    cmd = [wrk_path(), "-t", str(threads), "-c", str(connections), "-d", f"{timeout_s:g}s", "--timeout", "120s", "-s", str(script), bases[0], "--", str(lines), str(workdir), str(threads)]
    proc = await asyncio.create_subprocess_exec(*cmd, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT)
    try:
        while not all((workdir / f"done-{i}").exists() for i in range(threads)):
            if proc.returncode is not None:
                out = (await proc.stdout.read()).decode() if proc.stdout else ""
                raise SystemExit(f"wrk ended (exit {proc.returncode}) before every answer came:\n{out}")
            await asyncio.sleep(0.05)
        cpu = process_cpu_s(proc.pid)
    finally:
        if proc.returncode is None:
            proc.send_signal(signal.SIGINT)
        await proc.wait()
    result = WrkRush(cpu_s=cpu, threads=threads)
    for i in range(threads):
        for line in (workdir / f"sent-{i}").read_text().splitlines():
            order, t = line.split(" ")
            result.sent[order] = float(t)
        for line in (workdir / f"answers-{i}").read_text().splitlines():
            status, t, body = line.split(" ", 2)
            result.answers.append((int(status), float(t), body))
    return result
