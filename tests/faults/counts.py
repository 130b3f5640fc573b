"""What the cluster run counts besides the checker's findings (issue 21):

- **stream_missing**: events JetStream acknowledged to a relay (the outbox row
  is marked published only after its PubAck) that are not in the stream at
  the end. A loss: counted as ``lost`` too.
- **relay_dedup**: publishes the stream de-duplicated (``Nats-Msg-Id`` seen
  within the duplicate window): a row published twice, by two relays racing on
  one outbox or by one relay retrying after a lost PubAck. Allowed.
- **inbox_dedup**: deliveries a consumer's inbox recognised as already
  applied. Allowed; an effect applied twice is the checker's ``duplicated``.
- **redelivered**: deliveries JetStream made beyond the first, summed over
  every durable consumer (its delivered sequence less the messages it
  matched), after kills, pauses and consumer leader changes.
- **leader_changes**: stream and consumer leaders that moved across the NATS
  faults (asked of the servers before and after each one).

The two dedup counts come from the services' own Prometheus counters, scraped
every few seconds and just before a process is killed (a killed process's
counters start again from zero)."""

from __future__ import annotations

import asyncio
import contextlib
from collections import Counter
from typing import TYPE_CHECKING

import httpx
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy
from nats.errors import Error as NatsError
from prometheus_client.parser import text_string_to_metric_families

from services.runtime.bus.connect import connect_nats
from services.runtime.settings import SERVICES

if TYPE_CHECKING:
    from tests.faults.cluster import Cluster

STREAM_OF = {s: s.upper() for s in SERVICES}
SCRAPED = {"xciss_relay_duplicates": "relay_dedup", "xciss_consumer_messages": "inbox_dedup"}


class MetricsTally:
    """The services' dedup counters, summed over every process lifetime."""

    def __init__(self, cluster: Cluster):
        self.cluster = cluster
        self.banked: Counter[str] = Counter()
        self.current: dict[str, Counter[str]] = {}

    async def scrape(self, instance: str) -> None:
        url = f"http://127.0.0.1:{self.cluster.ports[instance]}/metrics"
        with contextlib.suppress(httpx.HTTPError, ValueError):
            async with httpx.AsyncClient(timeout=1.0) as client:
                text = (await client.get(url)).text
            seen: Counter[str] = Counter()
            for family in text_string_to_metric_families(text):
                for sample in family.samples:
                    name = SCRAPED.get(sample.name.removesuffix("_total"))
                    if name == "inbox_dedup" and sample.labels.get("outcome") != "duplicate":
                        continue
                    if name and sample.name.endswith("_total"):
                        seen[name] += int(sample.value)
            self.current[instance] = seen

    def bank(self, instance: str) -> None:
        """The process is about to die: keep what it counted."""
        self.banked.update(self.current.pop(instance, Counter()))

    async def scrape_all(self) -> None:
        await asyncio.gather(*(self.scrape(i) for i, p in self.cluster.procs.items() if p.alive and not p.stopped))

    async def run(self, stop: asyncio.Event, every_s: float = 3.0) -> None:
        while not stop.is_set():
            await self.scrape_all()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), every_s)

    def totals(self) -> Counter[str]:
        out = Counter(self.banked)
        for c in self.current.values():
            out.update(c)
        return out


async def stream_messages(cluster: Cluster, stream: str, within_s: float = 90.0) -> dict[str, str]:
    """Every message of ``stream``: its ``Nats-Msg-Id`` -> subject (headers only).

    Read through a fresh ephemeral consumer. Just after the NATS faults (a
    cluster restart, a leader killed) the consumer may have no leader yet, and
    a pull is answered 503 (CI, stop 28): the read starts again with a new
    consumer until ``within_s`` has passed. The read ends when as many messages
    as the stream counts were delivered (not distinct ids: the restore drill's
    streams hold some events twice, published again after the restore), or
    when a pull brings nothing for 5 s."""
    deadline = asyncio.get_running_loop().time() + within_s
    while True:
        try:
            return await _read_stream(cluster, stream)
        except NatsError as exc:  # 503 (no consumer leader yet), no responders, a request timed out
            if asyncio.get_running_loop().time() > deadline:
                raise AssertionError(f"the stream audit could not read {stream} within {within_s:.0f}s: {exc!r}") from exc
            await asyncio.sleep(1.0)


async def _read_stream(cluster: Cluster, stream: str) -> dict[str, str]:
    nc = await connect_nats(cluster.bus("operator"), "faults-stream-audit")
    out: dict[str, str] = {}
    try:
        js = nc.jetstream(timeout=10)
        config = ConsumerConfig(deliver_policy=DeliverPolicy.ALL, ack_policy=AckPolicy.NONE, headers_only=True, inactive_threshold=60)
        sub = await js.pull_subscribe("", stream=stream, config=config)
        total = (await js.stream_info(stream)).state.messages
        delivered = 0
        try:
            while delivered < total:
                try:
                    msgs = await sub.fetch(min(500, total - delivered), timeout=5)
                except TimeoutError:  # nothing more to read (nats' TimeoutError is also asyncio's)
                    break
                delivered += len(msgs)
                for m in msgs:
                    out[(m.headers or {}).get("Nats-Msg-Id", f"seq-{m.metadata.sequence.stream}")] = m.subject
        finally:
            with contextlib.suppress(Exception):
                await sub.unsubscribe()
    finally:
        await nc.close()
    return out


async def stream_audit(cluster: Cluster) -> tuple[list[str], Counter[str]]:
    """Events published (PubAck received) but missing from their stream; and messages per subject."""
    missing: list[str] = []
    per_subject: Counter[str] = Counter()
    for s in SERVICES:
        published = {r[0] for r in await cluster.sql(s, "SELECT event_id FROM outbox WHERE published_at IS NOT NULL")}
        held = await stream_messages(cluster, STREAM_OF[s])
        per_subject.update(held.values())
        missing += [f"{s}: event {e} acknowledged by JetStream, absent from {STREAM_OF[s]}" for e in sorted(published - set(held))]
    return missing, per_subject


def _matches(pattern: str, subject: str) -> bool:
    p, s = pattern.split("."), subject.split(".")
    for i, token in enumerate(p):
        if token == ">":
            return len(s) > i
        if i >= len(s) or (token != "*" and token != s[i]):
            return False
    return len(p) == len(s)


async def redeliveries(cluster: Cluster, per_subject: Counter[str]) -> int:
    """Deliveries beyond the first, over every durable consumer of the platform's streams."""
    nc = await connect_nats(cluster.bus("operator"), "faults-redeliveries")
    total = 0
    try:
        js = nc.jetstream(timeout=10)
        for stream in STREAM_OF.values():
            for ci in await js.consumers_info(stream):
                if not ci.config.durable_name:
                    continue
                filters = [f for f in [ci.config.filter_subject, *(ci.config.filter_subjects or [])] if f] or [">"]
                matched = sum(n for subj, n in per_subject.items() if any(_matches(f, subj) for f in filters))
                total += max(0, (ci.delivered.consumer_seq or 0) - matched) if ci.delivered else 0
    finally:
        await nc.close()
    return total
