"""Fault-injection run of the whole platform (issue 7), printing one line:

    journeys=N faults=F lost=0 duplicated=0 unexpected=0 overspend=0 cap=0 unbalanced=0 unfinished=0 indeterminate=K

    python -m bench.faults --journeys 10000 --faults 300 --backend postgres

Runs the real processes (an embedded nats-server, each service as ``xciss run
<service>``) on fresh databases, drives complete journeys concurrently
through the HTTP APIs while it kills, pauses and restarts processes and fails
databases, waits for quiescence and checks what the services hold against what
the clients were told. See docs/faults.md. Exit status 1 when a count other
than journeys, faults and indeterminate is not zero.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import sys
import time
from pathlib import Path

from tests.faults.cluster import Shape
from tests.faults.run import Config, run


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.faults", description=__doc__.split("\n\n")[0])
    p.add_argument("--journeys", type=int, default=500)
    p.add_argument("--faults", type=int, default=30)
    p.add_argument("--backend", choices=("sqlite", "postgres"), default="sqlite")
    p.add_argument("--pg-url", default=os.environ.get("XCISS_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test"))
    p.add_argument("--concurrency", type=int, default=48)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--auto-approve", action="store_true", help="the programme auto-approves applications that pass every check")
    p.add_argument("--ack-wait", type=float, default=2.0, help="XCISS_CONSUMER_ACK_WAIT_S of the services (seconds)")
    p.add_argument("--cluster", action="store_true", help="a three-node JetStream cluster (R3 streams), two replicas of every service, clients through the gateway")
    p.add_argument("--no-gateway", action="store_true", help="with --cluster: clients call the services' first replicas directly")
    p.add_argument("--keep", metavar="DIR", help="run under DIR and keep the logs and data")
    p.add_argument("--details", action="store_true", help="print every finding, not only the line")
    a = p.parse_args(argv)
    cfg = Config(
        backend=a.backend, journeys=a.journeys, faults=a.faults, concurrency=a.concurrency, seed=a.seed, pg_url=a.pg_url if a.backend == "postgres" else None,
        auto_approve=a.auto_approve, ack_wait_s=a.ack_wait, root=Path(a.keep) if a.keep else None, keep=bool(a.keep),
        shape=Shape(nats_nodes=3, replicas=2, gateway=not a.no_gateway, own_postgres=True) if a.cluster else Shape(),
    )
    t0 = time.monotonic()
    # SIGTERM unwinds like Ctrl-C, so the run stops its processes and drops its databases
    signal.signal(signal.SIGTERM, lambda *_: (_ for _ in ()).throw(KeyboardInterrupt()))
    result, journeys, flog = asyncio.run(run(cfg, progress=lambda m: print(f"[{time.monotonic() - t0:6.0f}s] {m}", file=sys.stderr, flush=True)))
    if a.details or not result.clean:
        for e in flog.events if a.details else []:
            print("  fault: " + e, file=sys.stderr)
        for d in result.details:
            print("  " + d, file=sys.stderr)
    print(f"faults by kind: {dict(flog.counts)}; plans: {dict(sorted(_plans(journeys).items()))}; {time.monotonic() - t0:.0f}s", file=sys.stderr)
    print(result.line(), flush=True)
    return 0 if result.clean else 1


def _plans(journeys: list) -> dict[str, int]:
    out: dict[str, int] = {}
    for j in journeys:
        out[j.plan] = out.get(j.plan, 0) + 1
    return out


if __name__ == "__main__":
    raise SystemExit(main())
