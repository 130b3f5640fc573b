"""The short fault-injection run (issue 7), on SQLite and PostgreSQL: the real
processes, ≥ 500 complete journeys, ≥ 30 injected faults (SIGKILL and
restart, SIGSTOP past the ack wait, nats-server restarts, transient database
failures), then the checker: nothing lost, duplicated or unexpected, no
overspend, no cap violation, a balanced ledger, every journey finished.

Sizes: ``XCISS_FAULTS_JOURNEYS`` and ``XCISS_FAULTS_FAULTS`` (defaults 500
and 30). The long run is ``python -m bench.faults`` (docs/faults.md)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.faults.run import Config, run
from tests.support.databases import postgres_admin_url

pytestmark = [pytest.mark.faults, pytest.mark.slow]

JOURNEYS = int(os.environ.get("XCISS_FAULTS_JOURNEYS", "500"))
FAULTS = int(os.environ.get("XCISS_FAULTS_FAULTS", "30"))


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

