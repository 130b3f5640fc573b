"""Free loopback ports for the servers the tests start.

A port is picked, then a server binds it a moment later. Under pytest-xdist
(``make test`` runs several workers) two workers asking the kernel for "any
free port" could be handed the same one in that moment, so each worker takes
its ports from a block of its own below the kernel's ephemeral range
(``/proc/sys/net/ipv4/ip_local_port_range``, 32768 and up by default), where
no outgoing connection takes one either. It walks its block in turn, so a port
comes back only after ``BLOCK`` others. Outside xdist the kernel picks."""

from __future__ import annotations

import itertools
import os
import socket

from services.command.natsserver import free_port as any_free_port

#: worker ``gw<i>`` picks from ``FIRST + i * BLOCK`` .. ``FIRST + (i + 1) * BLOCK - 1``
FIRST = 12000
BLOCK = 1500
_turn = itertools.count()


def worker_index() -> int | None:
    """``i`` of pytest-xdist's worker ``gw<i>``; None outside xdist."""
    worker = os.environ.get("PYTEST_XDIST_WORKER", "")
    return int(worker[2:]) if worker.startswith("gw") else None


def _bindable(port: int) -> bool:
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


def free_port() -> int:
    index = worker_index()
    if index is None:
        return any_free_port()
    first = FIRST + index * BLOCK
    for _ in range(BLOCK):
        port = first + next(_turn) % BLOCK
        if _bindable(port):
            return port
    raise RuntimeError(f"no free port in {first}..{first + BLOCK - 1} for xdist worker gw{index}")
