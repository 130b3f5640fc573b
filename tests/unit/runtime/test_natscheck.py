"""The NATS safety checks on fabricated server facts."""

from __future__ import annotations

from pathlib import Path

from services.runtime.bus.natscheck import NatsFacts, StreamFacts, cluster_size, evaluate, parse_version
from services.runtime.bus.relay import relay_retry_horizon_s
from services.runtime.settings import Settings

SYNC_ALWAYS = {"jetstream": {"config": {"sync_interval": 120_000_000_000, "sync_always": True}}}
CLUSTER = {"version": "2.12.3", "jetstream": True, "cluster": "xciss", "connect_urls": ["10.0.0.1:4222", "10.0.0.2:4222", "10.0.0.3:4222"]}


def _settings(**kw: object) -> Settings:
    return Settings(data_dir=Path("/tmp"), **kw)  # type: ignore[arg-type]


def _codes(facts: NatsFacts, settings: Settings) -> list[str]:
    return sorted(f.code for f in evaluate(facts, settings))


def test_a_safe_production_cluster_has_no_findings() -> None:
    streams = [StreamFacts("REGISTRY", 3, 120.0), StreamFacts("DEADLETTER", 3, 120.0)]
    facts = NatsFacts(server_info=CLUSTER, streams=streams, varz=SYNC_ALWAYS)
    assert evaluate(facts, _settings(mode="prod", stream_replicas=3, nats_monitor_url="http://nats:8222")) == []


def test_a_laptop_server_is_fine_in_dev_mode() -> None:
    facts = NatsFacts(server_info={"version": "2.15.1", "jetstream": True}, streams=[StreamFacts("REGISTRY", 1, 120.0)])
    assert evaluate(facts, _settings()) == []


def test_old_server_and_missing_jetstream_are_reported() -> None:
    assert _codes(NatsFacts(server_info={"version": "2.12.2", "jetstream": True}), _settings()) == ["nats.version_old"]
    assert _codes(NatsFacts(server_info={"version": "2.10.29", "jetstream": False}), _settings()) == ["nats.jetstream_disabled", "nats.version_old"]
    assert parse_version("v2.12.3-RC.1") == (2, 12, 3)
    assert _codes(NatsFacts(server_info={"version": "3.0.0", "jetstream": True}), _settings()) == []


def test_replicas_must_fit_the_cluster_and_be_three_in_prod() -> None:
    standalone = NatsFacts(server_info={"version": "2.12.3", "jetstream": True}, varz=SYNC_ALWAYS)
    assert cluster_size(standalone) == 1
    assert _codes(standalone, _settings(stream_replicas=3)) == ["nats.replicas_exceed_cluster"]
    # a three-node cluster, but one stream was declared with one replica
    facts = NatsFacts(server_info=CLUSTER, streams=[StreamFacts("REGISTRY", 1, 120.0)], varz=SYNC_ALWAYS)
    assert cluster_size(facts) == 3
    assert _codes(facts, _settings(stream_replicas=3)) == []  # dev: one replica is allowed
    findings = evaluate(facts, _settings(mode="prod", stream_replicas=3))
    assert [(f.code, "REGISTRY" in f.message) for f in findings] == [("nats.replicas_not_3", True)]
    # the monitoring endpoint's meta-cluster size wins over advertised URLs
    two = NatsFacts(server_info=CLUSTER, meta_cluster_size=2, varz=SYNC_ALWAYS)
    assert _codes(two, _settings(mode="prod", stream_replicas=3)) == ["nats.replicas_exceed_cluster"]


def test_duplicate_window_must_outlast_the_relay_retry_horizon() -> None:
    settings = _settings(publish_timeout_s=5.0, outbox_poll_s=0.1)
    horizon = relay_retry_horizon_s(5.0, 0.1)
    assert horizon == 10.1  # publish timeout + the relay's longest backoff (5 s) + one poll
    ok = NatsFacts(server_info={"version": "2.12.3", "jetstream": True}, streams=[StreamFacts("REGISTRY", 1, horizon)])
    assert evaluate(ok, settings) == []
    short = NatsFacts(server_info={"version": "2.12.3", "jetstream": True}, streams=[StreamFacts("REGISTRY", 1, 10.0)])
    assert _codes(short, settings) == ["nats.duplicate_window_short"]
    assert _codes(ok, _settings(duplicate_window_s=2.0)) == ["nats.duplicate_window_short"]


def test_sync_interval_is_read_from_varz_or_reported_unverified_in_prod() -> None:
    prod = _settings(mode="prod", stream_replicas=3, nats_monitor_url="http://nats:8222")
    periodic = NatsFacts(server_info=CLUSTER, varz={"jetstream": {"config": {"sync_interval": 120_000_000_000}}})
    assert _codes(periodic, prod) == ["nats.sync_not_always"]
    unknown = evaluate(NatsFacts(server_info=CLUSTER, varz=None), prod)
    assert [(f.code, f.unsafe) for f in unknown] == [("nats.sync_unverified", False)]
    assert "did not answer" in unknown[0].message
    assert "XCISS_NATS_MONITOR_URL is not set" in evaluate(NatsFacts(server_info=CLUSTER), _settings(mode="prod", stream_replicas=3))[0].message
