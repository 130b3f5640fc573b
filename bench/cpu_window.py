"""Where a run's CPU went, over a window chosen afterwards.

A thread samples, every ``every_s``, the machine's busy CPU-seconds
(``/proc/stat``: all but idle and iowait) and the CPU-seconds of named groups
of processes: some by pid (the service processes, this process), the others
by their command name (``postgres``: every backend of the local PostgreSQL
server, ``nats-server``, ``wrk``), looked for again every ``rescan_s`` (a
walk of ``/proc``: the sampler's own cost, charged to this process) so that a
process started during the run is counted from the sample that first sees it.
``between(t0, t1)`` gives each group's CPU-seconds between two
``time.monotonic()`` instants, from the samples nearest them (so within
``every_s`` of the window at each end).

voucher_rush.py uses it to charge the decisions' window (first request to last
decision event) to each process: the CPU a decision costs the whole machine,
and so the most decisions two cores could make (issue 19, target 2).
"""

from __future__ import annotations

import bisect
import os
import threading
import time
from collections.abc import Mapping
from pathlib import Path

from serving import CLOCK_TICKS, process_cpu_s


def machine_busy_s() -> float:
    """CPU-seconds the machine's cores have spent on anything but idling or waiting on I/O."""
    fields = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    return (sum(fields) - fields[3] - fields[4]) / CLOCK_TICKS


def _by_command(names: frozenset[str]) -> dict[str, list[int]]:
    found: dict[str, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            comm = Path(f"/proc/{entry}/comm").read_text().strip()
        except OSError:  # gone between the listing and the read
            continue
        if comm in names:
            found.setdefault(comm, []).append(int(entry))
    return found


class CpuWindow:
    """Samples until ``stop()``; ``pids`` names groups of processes by pid,
    ``commands`` names groups by a process's command name (``/proc/<pid>/comm``)."""

    def __init__(self, pids: Mapping[str, list[int]], commands: Mapping[str, str], every_s: float = 0.2, rescan_s: float = 1.0) -> None:
        self.pids = {name: list(p) for name, p in pids.items()}
        self.commands = dict(commands)
        self.every_s = every_s
        self.rescan_s = rescan_s
        self._found: dict[str, list[int]] = {}
        self._scanned = float("-inf")
        self.times: list[float] = []
        #: per sample: the machine's busy CPU-s, and each process's CPU-s by (group, pid)
        self.samples: list[tuple[float, dict[tuple[str, int], float]]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="cpu-window", daemon=True)

    def start(self) -> CpuWindow:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()

    def _sample(self) -> None:
        now = time.monotonic()
        if now - self._scanned >= self.rescan_s:
            self._found, self._scanned = _by_command(frozenset(self.commands.values())), now
        groups = [*self.pids.items(), *((name, self._found.get(comm, [])) for name, comm in self.commands.items())]
        cpu: dict[tuple[str, int], float] = {}
        for name, pids in groups:
            for pid in pids:
                try:
                    cpu[(name, pid)] = process_cpu_s(pid)
                except (OSError, IndexError, ValueError):  # ended since it was found
                    continue
        self.samples.append((machine_busy_s(), cpu))
        self.times.append(now)

    def _run(self) -> None:
        while True:
            self._sample()
            if self._stop.wait(self.every_s):
                self._sample()
                return

    def between(self, t0: float, t1: float) -> tuple[float, float, dict[str, float]]:
        """(seconds between the two samples used, the machine's busy CPU-s, each group's CPU-s)."""
        i = max(0, min(bisect.bisect_left(self.times, t0), len(self.times) - 1))
        j = max(i, min(bisect.bisect_left(self.times, t1), len(self.times) - 1))
        busy0, busy1 = self.samples[i][0], self.samples[j][0]
        groups = {name: 0.0 for name in [*self.pids, *self.commands]}
        for name, pid in set().union(*(cpu for _, cpu in self.samples[i : j + 1])):
            # a process started in the window counts from the first sample that saw it, one
            # that ended in it up to the last
            window = [cpu[(name, pid)] for _, cpu in self.samples[i : j + 1] if (name, pid) in cpu]
            groups[name] += window[-1] - window[0]
        return self.times[j] - self.times[i], busy1 - busy0, groups
