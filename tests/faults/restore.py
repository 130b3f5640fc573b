"""The restore drill (issue 20): back up mid-run, lose everything, restore,
and check that nothing acknowledged before the backup point is lost.

The run, on the real processes of ``cluster.py`` with a PostgreSQL server of
its own that archives its WAL (``tests/support/pgarchive.py``):

1. the world is set up; **a base backup** is taken (last night's);
2. the *before* journeys run to their end;
3. the *across* journeys start; while they run, **the streams are backed
   up** with ``xciss bus backup``'s code (at time S), then the journeys'
   acknowledged state is copied and **the backup point T** is taken;
4. the across journeys go on to their end (what they are told after T is
   beyond the backup point: a restore to T loses it, by design);
5. **the disaster**: every service process, nats-server and PostgreSQL
   are killed; the NATS store and the database directory are deleted;
6. **the restore**, as docs/operations.md's runbook says: PostgreSQL from
   the base backup and the WAL archive to T (all four databases at one
   moment); the streams from their backup (messages and consumers as at S);
   the outbox rows published since S less a margin marked unpublished, so the
   relays publish again what the streams lost; the services started;
7. once quiet, **the checks**: the before journeys pass the fault checker's
   per-journey checks in full; every order, document, application, voucher,
   settlement and payment an across journey was told of before T is there;
   budget, caps and ledger balance over everything; every event an outbox
   holds as published is in its stream; no dead letters.

The figures (``DrillReport.line()``) include the recovery time, from the
disaster to a quiet platform, on this machine.
"""

from __future__ import annotations

import asyncio
import copy
import dataclasses
import random
import shutil
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from services.runtime.bus.backup import StreamBackup, backup_all, restore_all
from services.runtime.bus.connect import connect_nats
from services.runtime.settings import SERVICES
from tests.faults.checker import (
    CheckContext,
    Result,
    budget_and_caps,
    documents,
    ledger,
    observe,
    orders_and_journeys,
    settlements,
    vouchers_and_applications,
)
from tests.faults.client import Api, History
from tests.faults.cluster import Cluster, Shape
from tests.faults.journeys import Journey, new_journey, run_journey
from tests.faults.run import Config, FaultLog, _quiescence, count_bus, setup_world
from tests.support.pgarchive import (
    archive_current_wal,
    base_backup,
    destroy,
    restore_to,
)

#: outbox rows published this long before the stream backup began are published again too
#: (a relay's publish and its row's update are not one step)
REPUBLISH_MARGIN = timedelta(seconds=30)


@dataclass
class DrillConfig:
    pg_url: str
    before: int = 24
    across: int = 24
    concurrency: int = 12
    seed: int = 20
    root: Path | None = None
    keep: bool = False


@dataclass
class DrillReport:
    result: Result
    streams: list[StreamBackup] = field(default_factory=list)
    #: outbox rows marked unpublished, per service
    republished: dict[str, int] = field(default_factory=dict)
    #: steps the across journeys were told of after the backup point (lost by design)
    steps_after_backup: int = 0
    steps_before_backup: int = 0
    pg_restore_s: float = 0.0
    recovery_s: float = 0.0

    def line(self) -> str:
        return (
            f"{self.result.line()} streams={len(self.streams)} stream_messages={sum(b.messages for b in self.streams)}"
            f" republished={sum(self.republished.values())} steps_before_backup={self.steps_before_backup}"
            f" steps_after_backup={self.steps_after_backup} pg_restore_s={self.pg_restore_s:.1f} recovery_s={self.recovery_s:.1f}"
        )


async def drill(cfg: DrillConfig, say: Callable[[str], None] = lambda _m: None) -> DrillReport:
    tmp = None if cfg.root else tempfile.TemporaryDirectory(prefix="xciss-restore-drill-")
    root = cfg.root or Path(tmp.name)  # type: ignore[union-attr]
    cluster = Cluster(root, "postgres", pg_url=cfg.pg_url, shape=Shape(own_postgres=True, wal_archive=True))
    api = Api(cluster, History())
    try:
        await cluster.start()
        if cluster.pg is None:
            raise RuntimeError("the restore drill needs a PostgreSQL server of its own (tests/support/pgserver.py)")
        world = await setup_world(cluster, api, Config(backend="postgres", journeys=cfg.before + cfg.across, seed=cfg.seed), random.Random(cfg.seed))
        base = await asyncio.to_thread(base_backup, cluster.pg)
        say(f"world set up; base backup in {base}")

        sem = asyncio.Semaphore(cfg.concurrency)

        async def one(j: Journey) -> None:
            async with sem:
                await run_journey(j, world)

        before = [new_journey(world, i) for i in range(cfg.before)]
        await asyncio.gather(*(one(j) for j in before))
        say(f"{cfg.before} journeys done before the backup")

        across = [new_journey(world, cfg.before + i) for i in range(cfg.across)]
        running = [asyncio.create_task(one(j)) for j in across]
        # well under way (or, should they all have stopped early, over: the checks then say why)
        while sum(len(j.done_steps) for j in across) < 2 * cfg.across and not all(t.done() for t in running):
            await asyncio.sleep(0.1)
        report = DrillReport(Result())
        streams_at = datetime.now(UTC)
        nc = await connect_nats(cluster.bus("operator"), "restore-drill")
        try:
            report.streams = await backup_all(nc, root / "nats-backup")
        finally:
            await nc.close()
        await asyncio.sleep(0.5)
        # what the clients were told so far, and the backup point just after it (no await between)
        as_of_backup = copy.deepcopy(across)
        backup_point = datetime.now(UTC)
        report.steps_before_backup = sum(len(j.done_steps) for j in as_of_backup)
        say(f"streams backed up ({sum(b.messages for b in report.streams)} messages); backup point {backup_point.isoformat()}")
        await asyncio.gather(*running)
        report.steps_after_backup = sum(len(j.done_steps) for j in across) - report.steps_before_backup
        await archive_current_wal(cluster.pg)

        began = time.monotonic()
        await _disaster(cluster)
        say("everything destroyed; restoring")
        report.pg_restore_s = await restore_to(cluster.pg, base, backup_point)
        for s in SERVICES:
            rows = await cluster.sql(s, "UPDATE outbox SET published_at = NULL WHERE published_at >= ? RETURNING event_id", streams_at - REPUBLISH_MARGIN)
            report.republished[s] = len(rows)
        await _restore_bus(cluster, root / "nats-backup")
        for p in cluster.procs.values():
            p.start()
        await cluster.wait_ready(cluster.procs)
        quiet, why = await _quiescence(cluster, 300.0)
        report.recovery_s = time.monotonic() - began
        say(f"restored and {'quiet' if quiet else 'NOT quiet: ' + why} after {report.recovery_s:.1f}s")
        r = report.result
        r.journeys = len(before) + len(across)
        if not quiet:
            r.add("unfinished", f"no quiescence after the restore: {why}")
        await cluster.tally.scrape_all()  # the dedup counters of the restored processes
        await count_bus(cluster, r, FaultLog())  # no faults injected: the disaster is the fault
        await check_restored(await observe(world, [*before, *as_of_backup]), before, as_of_backup, r)
        if dead := await cluster.dead_letters():
            r.add("unfinished", f"{dead} dead letter(s) parked")
        return report
    finally:
        await api.aclose()
        await cluster.close()
        if tmp is not None and not cfg.keep:
            tmp.cleanup()


async def _disaster(cluster: Cluster) -> None:
    for p in cluster.procs.values():
        await asyncio.to_thread(p.kill)
    assert cluster.nats is not None and cluster.pg is not None
    await asyncio.to_thread(cluster.nats.kill)
    shutil.rmtree(cluster.nats.store_dir)
    await destroy(cluster.pg)


async def _restore_bus(cluster: Cluster, backup: Path) -> None:
    """A new, empty nats-server (same address and keys); the streams and their consumers from the backup."""
    assert cluster.nats is not None
    await asyncio.to_thread(cluster.nats.start)
    nc = await connect_nats(cluster.bus("operator"), "restore-drill")
    try:
        await restore_all(nc, backup)
    finally:
        await nc.close()


async def check_restored(ctx: CheckContext, before: list[Journey], as_of_backup: list[Journey], r: Result) -> None:
    """The before journeys in full; the across journeys as far as they were told before the backup point."""
    descriptions = {f"journey {j.id}" for j in as_of_backup}
    theirs = {j.order_id for j in as_of_backup if j.order_id} | {oid for oid, o in ctx.orders.items() if o.get("description") in descriptions}
    mine = dataclasses.replace(
        ctx,
        journeys=before,
        orders={k: v for k, v in ctx.orders.items() if k not in theirs},
        applications=[a for a in ctx.applications if a["order_id"] not in theirs],
        vouchers=[v for v in ctx.vouchers if v["order_id"] not in theirs],
        settlements=[s for s in ctx.settlements if s["order_id"] not in theirs],
    )
    for fn in (orders_and_journeys, documents, vouchers_and_applications, settlements):
        fn(mine, r)
    budget_and_caps(ctx, r)
    ledger(ctx, r)
    for j in as_of_backup:
        acknowledged_before_backup(ctx, j, r)


def acknowledged_before_backup(ctx: CheckContext, j: Journey, r: Result) -> None:
    """What a journey had been told when the backup point was taken is all there."""
    if not j.order_id:
        return
    o = ctx.orders.get(j.order_id)
    if o is None:
        r.add("lost", f"journey {j.id}: order {j.order_id}, acknowledged before the backup point, is absent")
        return
    held = {d["document_id"] for d in o["documents"]}
    for kind, document_id in sorted(j.documents.items()):
        if document_id not in held:
            r.add("lost", f"journey {j.id}: {kind} document {document_id}, acknowledged before the backup point, is absent")
    if j.application_id and j.application_id not in {a["application_id"] for a in ctx.applications}:
        r.add("lost", f"journey {j.id}: application {j.application_id}, acknowledged before the backup point, is absent")
    if j.voucher_id:
        v = next((v for v in ctx.vouchers if v["voucher_id"] == j.voucher_id), None)
        if v is None or v["amount_fen"] != j.voucher_fen:
            r.add("lost", f"journey {j.id}: voucher {j.voucher_id} ({j.voucher_fen} fen), seen before the backup point, is {v and v['amount_fen']}")
    if j.settlement_id:
        s = next((s for s in ctx.settlements if s["settlement_id"] == j.settlement_id), None)
        if s is None:
            r.add("lost", f"journey {j.id}: settlement {j.settlement_id}, acknowledged before the backup point, is absent")
        elif s["paid_fen"] < j.paid_fen:
            r.add("lost", f"journey {j.id}: settlement {j.settlement_id} paid {s['paid_fen']}, {j.paid_fen} acknowledged before the backup point")
