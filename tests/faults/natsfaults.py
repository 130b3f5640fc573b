"""Faults on the three-node JetStream cluster (issue 21): a server killed or
stopped (at random, or the current leader of a stream or of a consumer, as the
servers report it), a server isolated from the other two, the whole cluster
restarted, a server's store directory full.

Each fault returns a short description for the fault log; the leader faults
name the stream or consumer whose leader they hit."""

from __future__ import annotations

import asyncio
import random
from collections import Counter

from nats.js.api import ConsumerInfo

from services.runtime.bus.connect import connect_nats
from tests.faults.natscluster import ELECTION_TIMEOUT_S, NatsCluster, NatsNode

STREAMS = ("REGISTRY", "VOUCHERS", "EVALUATION", "PAYMENTS")

#: name -> relative weight, for a cluster run (the service and database faults are added to these)
NATS_FAULTS = {
    "nats_kill": 3,
    "nats_leader_kill": 3,
    "nats_consumer_leader_kill": 2,
    "nats_pause": 2,
    "nats_isolate": 2,
    "nats_cluster_restart": 1,
    "nats_store_full": 1,
}


class Leaders:
    """Asks the cluster which server leads a stream or a consumer."""

    def __init__(self, natsc: NatsCluster):
        self.natsc = natsc

    async def _ask(self, rng: random.Random, consumer: bool) -> tuple[str, NatsNode | None]:
        nc = await connect_nats(self.natsc.access("operator"), "faults-leaders")
        try:
            js = nc.jetstream(timeout=3)
            stream = rng.choice(STREAMS)
            if not consumer:
                info = await js.stream_info(stream)
                leader = info.cluster.leader if info.cluster else None
                return f"stream {stream}", self.natsc.node_named(leader)
            consumers: list[ConsumerInfo] = await js.consumers_info(stream)
            if not consumers:
                return f"stream {stream} (no consumer)", None
            ci = rng.choice(consumers)
            leader = ci.cluster.leader if ci.cluster else None
            return f"consumer {stream}/{ci.name}", self.natsc.node_named(leader)
        finally:
            await nc.close()

    async def snapshot(self) -> dict[str, str]:
        """Every stream's and consumer's leader (what could be asked: an election may be under way)."""
        out: dict[str, str] = {}
        try:
            nc = await connect_nats(self.natsc.access("operator"), "faults-leaders")
        except Exception:  # noqa: BLE001 - no server reachable: nothing known
            return out
        try:
            js = nc.jetstream(timeout=3)
            for stream in STREAMS:
                try:
                    info = await js.stream_info(stream)
                    if info.cluster and info.cluster.leader:
                        out[stream] = info.cluster.leader
                    for ci in await js.consumers_info(stream):
                        if ci.cluster and ci.cluster.leader:
                            out[f"{stream}/{ci.name}"] = ci.cluster.leader
                except Exception:  # noqa: BLE001, S112 - that stream is between leaders
                    continue
        finally:
            await nc.close()
        return out

    async def of_stream(self, rng: random.Random) -> tuple[str, NatsNode | None]:
        return await self._ask(rng, consumer=False)

    async def of_consumer(self, rng: random.Random) -> tuple[str, NatsNode | None]:
        return await self._ask(rng, consumer=True)


async def _down_then_up(natsc: NatsCluster, node: NatsNode, down_s: float) -> None:
    await asyncio.to_thread(node.kill)
    await asyncio.sleep(down_s)
    await asyncio.to_thread(node.start)


async def inject(natsc: NatsCluster, kind: str, rng: random.Random, tally: Counter[str]) -> str:
    """One NATS fault of ``kind``; returns what was done. Counts in ``tally["leader_changes"]``
    the stream and consumer leaders that moved across it."""
    leaders = Leaders(natsc)
    before = await leaders.snapshot()
    try:
        return await _inject(natsc, leaders, kind, rng)
    finally:
        await asyncio.sleep(ELECTION_TIMEOUT_S)  # let elections settle before asking again
        after = await leaders.snapshot()
        tally["leader_changes"] += sum(1 for k, v in before.items() if after.get(k) not in (None, v))


async def _inject(natsc: NatsCluster, leaders: Leaders, kind: str, rng: random.Random) -> str:
    if kind in ("nats_kill", "nats_leader_kill", "nats_consumer_leader_kill"):
        what = "random"
        node: NatsNode | None = None
        if kind == "nats_leader_kill":
            what, node = await leaders.of_stream(rng)
        elif kind == "nats_consumer_leader_kill":
            what, node = await leaders.of_consumer(rng)
        if node is None:  # no leader reported (an election under way): any server
            what += " (no leader: random)" if kind != "nats_kill" else ""
            node = rng.choice(natsc.nodes)
        await _down_then_up(natsc, node, 0.5 + rng.random() * 2)
        return f"SIGKILL {node.name} ({what}), back after its restart"
    node = rng.choice(natsc.nodes)
    if kind == "nats_pause":  # shorter than an election: the others wait for it
        seconds = 0.5 + rng.random() * 2
        natsc.pause(node)
        try:
            await asyncio.sleep(seconds)
        finally:
            natsc.resume(node)
        return f"SIGSTOP {node.name} {seconds:.1f}s"
    if kind == "nats_isolate":  # longer than an election: the other two go on without it
        seconds = ELECTION_TIMEOUT_S + 2 + rng.random() * 5
        natsc.isolate(node)
        try:
            await asyncio.sleep(seconds)
        finally:
            natsc.heal(node)
        return f"isolated {node.name} ({natsc.isolation}) {seconds:.1f}s"
    if kind == "nats_cluster_restart":
        await asyncio.to_thread(natsc.stop_all)
        await asyncio.sleep(0.5 + rng.random())
        await asyncio.to_thread(natsc.start_all)
        return "whole cluster stopped and started"
    if kind == "nats_store_full":
        filler = await asyncio.to_thread(natsc.fill_store)
        if filler is None:
            return "store full: skipped (no tmpfs on this machine)"
        node = natsc.nodes[-1]
        seconds = 3 + rng.random() * 3
        try:
            await asyncio.sleep(seconds)
        finally:
            natsc.unfill(filler)
        # a server that met a full disk may have switched JetStream off: restart it
        await asyncio.to_thread(natsc.restart, node)
        return f"store of {node.name} full for {seconds:.1f}s, then restarted"
    raise ValueError(kind)
