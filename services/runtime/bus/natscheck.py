"""Start-up safety checks of the NATS JetStream deployment.

A worker, a relay and ``xciss streams`` check, when they connect, what the
platform's delivery guarantees rest on; each unsafe finding is logged as a
WARNING with a stable code (and exported as ``xciss_nats_unsafe{code}``);
``xciss streams --check`` exits non-zero on one in prod mode.

=============================== ===============================================
code                            unsafe when
=============================== ===============================================
``nats.version_old``            server version < 2.12.3
``nats.jetstream_disabled``     the server runs without JetStream
``nats.replicas_exceed_cluster`` XCISS_STREAM_REPLICAS or a stream's replicas >
                                the JetStream cluster size
``nats.replicas_not_3``         (prod) XCISS_STREAM_REPLICAS or a stream's
                                replicas is not 3
``nats.duplicate_window_short`` a stream's (or the configured) de-duplication
                                window is shorter than the relay's retry horizon
``nats.sync_not_always``        (prod) the server's JetStream ``sync_interval``
                                is not ``always`` (read from ``/varz``)
``nats.sync_unverified``        (prod) ``sync_interval`` could not be read:
                                XCISS_NATS_MONITOR_URL unset or not answering.
                                A warning, not a failure of ``--check``.
=============================== ===============================================

``sync_interval`` is a server setting the client protocol does not show; the
monitoring endpoint does: ``/varz`` → ``jetstream.config.sync_always`` is
``true`` with ``sync_interval: always``. In a cluster the monitor URL reaches
one server at a time, so every server must carry the same configuration.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import nats
from nats.js.errors import NotFoundError

from contracts.subjects import DEADLETTER_STREAM, stream_name
from services.runtime.bus.relay import relay_retry_horizon_s
from services.runtime.settings import Settings

log = logging.getLogger("xciss.natscheck")

MIN_VERSION = (2, 12, 3)
RECOMMENDED_REPLICAS = 3


@dataclass(frozen=True)
class Finding:
    code: str
    message: str
    #: False: the setting could not be verified (a warning, not a failure)
    unsafe: bool = True


@dataclass(frozen=True)
class StreamFacts:
    name: str
    replicas: int
    duplicate_window_s: float


@dataclass(frozen=True)
class NatsFacts:
    """What the checks look at, gathered from a live server or fabricated by a test."""

    server_info: dict[str, Any]
    streams: Sequence[StreamFacts] = ()
    #: ``/varz`` of the monitoring endpoint, None when not configured or not answering
    varz: dict[str, Any] | None = None
    #: ``/jsz`` meta-cluster size when the monitoring endpoint answers
    meta_cluster_size: int | None = None
    notes: list[str] = field(default_factory=list)


def parse_version(text: str) -> tuple[int, int, int]:
    m = re.match(r"v?(\d+)\.(\d+)\.(\d+)", text or "")
    if not m:
        return (0, 0, 0)
    return (int(m.group(1)), int(m.group(2)), int(m.group(3)))


def cluster_size(facts: NatsFacts) -> int:
    """The JetStream meta-cluster's size: from ``/jsz`` when available, else
    the cluster members the server advertises to clients, else 1 (standalone)."""
    if facts.meta_cluster_size:
        return facts.meta_cluster_size
    info = facts.server_info
    if not info.get("cluster"):
        return 1
    urls = set(info.get("connect_urls") or [])
    return max(len(urls), 1)


def evaluate(facts: NatsFacts, settings: Settings) -> list[Finding]:
    """The findings for these facts (pure)."""
    prod = settings.mode == "prod"
    out: list[Finding] = []
    info = facts.server_info
    version = str(info.get("version", ""))
    if parse_version(version) < MIN_VERSION:
        out.append(Finding("nats.version_old", f"nats-server {version or '(unknown)'} is older than {'.'.join(map(str, MIN_VERSION))}"))
    if not info.get("jetstream"):
        out.append(Finding("nats.jetstream_disabled", "the NATS server runs without JetStream (start it with -js or a jetstream block)"))
        return out
    size = cluster_size(facts)
    wanted = settings.stream_replicas
    for name, replicas in [("XCISS_STREAM_REPLICAS", wanted), *((f"stream {s.name}", s.replicas) for s in facts.streams)]:
        if replicas > size:
            out.append(Finding("nats.replicas_exceed_cluster", f"{name} asks for {replicas} replicas but the JetStream cluster has {size} server(s)"))
        elif prod and replicas != RECOMMENDED_REPLICAS:
            out.append(
                Finding("nats.replicas_not_3", f"{name} has {replicas} replica(s); production runs {RECOMMENDED_REPLICAS} so one server can fail")
            )
    horizon = relay_retry_horizon_s(settings.publish_timeout_s, settings.outbox_poll_s)
    for name, window in [("XCISS_DUPLICATE_WINDOW_S", settings.duplicate_window_s), *((f"stream {s.name}", s.duplicate_window_s) for s in facts.streams)]:
        if window < horizon:
            out.append(
                Finding(
                    "nats.duplicate_window_short",
                    f"{name}: de-duplication window {window:g}s is shorter than the outbox relay's retry horizon {horizon:g}s; "
                    "a retried publish would be stored twice",
                )
            )
    if prod:
        if facts.varz is None:
            why = "XCISS_NATS_MONITOR_URL is not set" if not settings.nats_monitor_url else "the monitoring endpoint did not answer"
            out.append(Finding("nats.sync_unverified", f"cannot verify JetStream sync_interval: always ({why})", unsafe=False))
        else:
            config = (facts.varz.get("jetstream") or {}).get("config") or {}
            if not config.get("sync_always"):
                out.append(
                    Finding(
                        "nats.sync_not_always",
                        "JetStream sync_interval is not 'always': a power loss can lose acknowledged messages",
                    )
                )
    return out


async def _monitor(url: str) -> tuple[dict[str, Any] | None, int | None]:
    # only with XCISS_NATS_MONITOR_URL: a service process imports no HTTP client otherwise (httpx
    # brings its command line's rich and pygments along, 7-8 MiB a process: bench/memory.py)
    import httpx

    base = url.rstrip("/")
    try:
        async with httpx.AsyncClient(timeout=3.0) as client:
            varz = (await client.get(f"{base}/varz")).raise_for_status().json()
            size = None
            try:
                jsz = (await client.get(f"{base}/jsz")).raise_for_status().json()
                size = (jsz.get("meta_cluster") or {}).get("cluster_size")
            except (httpx.HTTPError, ValueError):
                pass
            return varz, size
    except (httpx.HTTPError, ValueError) as exc:
        log.warning("NATS monitoring endpoint %s not readable: %s", url, exc)
        return None, None


async def gather(nc: nats.NATS, settings: Settings, producers: Sequence[str], buckets: Sequence[str] = ()) -> NatsFacts:
    """Facts from the connected server: its INFO, the streams that exist (the
    producers', the dead letters', and the streams under the key-value
    ``buckets`` this identity may read: they need the same replicas), and the
    monitoring endpoint when ``XCISS_NATS_MONITOR_URL`` is set."""
    info = dict(getattr(nc, "_server_info", {}) or {})
    streams: list[StreamFacts] = []
    if info.get("jetstream"):
        js = nc.jetstream(timeout=5.0)
        for name in [*(stream_name(p) for p in producers), DEADLETTER_STREAM, *buckets]:
            try:
                si = await js.stream_info(name)
            except NotFoundError:
                continue
            streams.append(StreamFacts(name, si.config.num_replicas or 1, float(si.config.duplicate_window or 0)))
    varz, size = (None, None)
    if settings.nats_monitor_url:
        varz, size = await _monitor(settings.nats_monitor_url)
    return NatsFacts(server_info=info, streams=streams, varz=varz, meta_cluster_size=size)


def report(findings: Sequence[Finding], who: str) -> None:
    for f in findings:
        log.warning("%s: NATS %s [%s]: %s", who, "unsafe" if f.unsafe else "unverified", f.code, f.message, extra={"code": f.code})


async def check(nc: nats.NATS, settings: Settings, producers: Sequence[str], who: str, buckets: Sequence[str] = ()) -> list[Finding]:
    """Gather, evaluate, log; returns the findings."""
    findings = evaluate(await gather(nc, settings, producers, buckets), settings)
    report(findings, who)
    return findings
