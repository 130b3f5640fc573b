"""The short fault-injection runs, on SQLite and PostgreSQL. Issue 7: the real
processes, ≥ 500 complete journeys, ≥ 30 injected faults (SIGKILL and
restart, SIGSTOP past the ack wait, nats-server restarts, transient database
failures), then the checker: nothing lost, duplicated or unexpected, no
overspend, no cap violation, a balanced ledger, every journey finished.

Issue 21, the production shape: a three-node JetStream cluster (R3 streams),
two replicas of every service, the clients through the gateway; ≥ 300
journeys with ≥ 20 faults on NATS servers (random and leader kills, stops,
isolation, a full cluster restart, a full store) among the others; the
checker also counts events acknowledged by JetStream and missing from the
stream (must be 0), de-duplicated publishes and deliveries, redeliveries and
leader changes.

Sizes: ``XCISS_FAULTS_JOURNEYS`` and ``XCISS_FAULTS_FAULTS`` (defaults 500
and 30), ``XCISS_FAULTS_CLUSTER_JOURNEYS`` and ``XCISS_FAULTS_CLUSTER_FAULTS``
(300 and 32). The long runs are ``python -m bench.faults`` (docs/faults.md)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.faults.cluster import Shape
from tests.faults.run import Config, run
from tests.support.databases import postgres_admin_url

pytestmark = [pytest.mark.faults, pytest.mark.slow]

JOURNEYS = int(os.environ.get("XCISS_FAULTS_JOURNEYS", "500"))
FAULTS = int(os.environ.get("XCISS_FAULTS_FAULTS", "30"))
CLUSTER_JOURNEYS = int(os.environ.get("XCISS_FAULTS_CLUSTER_JOURNEYS", "300"))
CLUSTER_FAULTS = int(os.environ.get("XCISS_FAULTS_CLUSTER_FAULTS", "32"))
#: of which on NATS servers
BUS_FAULTS = min(20, CLUSTER_FAULTS)


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
async def test_no_fault_loses_duplicates_or_overspends(backend: str, tmp_path: Path) -> None:
    pg = postgres_admin_url()
    if backend == "postgres" and not pg:
        pytest.skip("XCISS_TEST_POSTGRES_URL is not set")
    # SQLite: the center approves; PostgreSQL: the programme auto-approves (batched)
    cfg = Config(backend=backend, journeys=JOURNEYS, faults=FAULTS, pg_url=pg, auto_approve=backend == "postgres", root=tmp_path, seed=7)
    result, journeys, _faults = await run(cfg, progress=print)
    print(result.line())
    # the order journeys, and the claim journeys that redeem their used vouchers
    assert result.journeys > JOURNEYS and result.faults >= FAULTS, result.line()
    assert result.clean, "\n".join([result.line(), *result.details[:60], *(j.error or "" for j in journeys if j.error)][:80])



@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
async def test_a_cluster_loses_nothing_when_nats_servers_fail(backend: str, tmp_path: Path) -> None:
    pg = postgres_admin_url()
    if backend == "postgres" and not pg:
        pytest.skip("XCISS_TEST_POSTGRES_URL is not set")
    cfg = Config(
        backend=backend, journeys=CLUSTER_JOURNEYS, faults=CLUSTER_FAULTS, pg_url=pg, auto_approve=backend == "postgres", root=tmp_path, seed=21,
        shape=Shape(nats_nodes=3, replicas=2, gateway=True, own_postgres=True), min_bus_faults=BUS_FAULTS,
    )
    result, journeys, faults = await run(cfg, progress=print)
    print(result.line())
    print("faults by kind:", dict(faults.counts))
    bus = sum(n for kind, n in faults.counts.items() if kind.startswith("nats"))
    assert result.journeys > CLUSTER_JOURNEYS and result.faults >= CLUSTER_FAULTS and bus >= BUS_FAULTS, (result.line(), dict(faults.counts))
    assert result.extra["stream_missing"] == 0 and result.extra["leader_changes"] > 0, result.line()
    assert result.clean, "\n".join([result.line(), *result.details[:60], *(j.error or "" for j in journeys if j.error)][:80])
