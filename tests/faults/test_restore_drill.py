"""The restore drill (issue 20, tests/faults/restore.py): back up the
databases (base backup + WAL archive) and the streams (``xciss bus backup``)
while journeys run, destroy every database and stream, restore to the backup
point, let the relays publish again what the streams lost, and check that
nothing acknowledged before the backup point is lost, duplicated or
unbalanced."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.faults.restore import DrillConfig, drill
from tests.support.databases import postgres_admin_url
from tests.support.pgserver import PgServer

pytestmark = [pytest.mark.faults, pytest.mark.slow]


async def test_a_restore_to_the_backup_point_loses_nothing_acknowledged_before_it(tmp_path: Path) -> None:
    pg = postgres_admin_url()
    if not pg or not PgServer.available():
        pytest.skip(f"needs PostgreSQL binaries for a server of its own: {PgServer.why_unavailable() or 'XCISS_TEST_POSTGRES_URL is not set'}")
    report = await drill(DrillConfig(pg_url=pg, root=tmp_path), say=print)
    print(report.line())
    r = report.result
    # the drill means something only if the backup point fell mid-run: told of steps on both sides of it,
    # and events published after the stream backup that the relays had to publish again
    assert report.steps_before_backup > 0 and report.steps_after_backup > 0, report.line()
    assert sum(report.republished.values()) > 0 and report.streams, report.line()
    assert r.extra["stream_missing"] == 0, report.line()
    assert r.clean and r.counts["unfinished"] == 0, "\n".join([report.line(), *r.details[:60]])
