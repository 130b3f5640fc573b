"""The optional monitoring component (deploy/components/monitoring, rendered
through deploy/overlays/prod-monitoring): Prometheus finds every process with
a metrics port and every NATS server, may reach them, and the rules notice
when a whole service, component, the gateway or NATS quorum is gone — the
outages whose own metrics vanish with them."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from services.runtime.settings import SERVICES
from tests.deploy.conftest import DEPLOY, kubectl, render
from tests.deploy.rendered import Docs, named, of_kind, selects, xciss_deployments

COMPONENT_LABEL = "app.kubernetes.io/component"


@pytest.fixture(scope="module")
def docs() -> Docs:
    return render("prod-monitoring")


def _rules(docs: Docs) -> dict[str, dict[str, Any]]:
    rule = named(docs, "PrometheusRule", "xciss")
    return {r["alert"]: r for g in rule["spec"]["groups"] for r in g["rules"]}


def _scraped(docs: Docs) -> list[dict[str, Any]]:
    return [*(d for c in ("api", "worker", "relay") for d in xciss_deployments(docs, c)), named(docs, "Deployment", "gateway")]


def test_every_process_with_metrics_and_every_nats_server_is_scraped(docs: Docs) -> None:
    monitor = named(docs, "PodMonitor", "xciss")["spec"]
    ports = {e["port"] for e in monitor["podMetricsEndpoints"]}
    assert {"app.kubernetes.io/component", "xciss.io/service"} <= set(monitor["podTargetLabels"])
    scraped = _scraped(docs)
    assert len(scraped) == 3 * len(SERVICES) + 1
    for d in scraped:
        tpl = d["spec"]["template"]
        assert selects(monitor["selector"], tpl["metadata"]["labels"]), f"{d['metadata']['name']} is not scraped"
        named_ports = {p["name"] for c in tpl["spec"]["containers"] for p in c.get("ports", [])}
        assert named_ports & ports, f"{d['metadata']['name']} has no port the PodMonitor scrapes ({named_ports})"
    nats = named(docs, "StatefulSet", "nats")["spec"]["template"]
    nats_monitor = named(docs, "PodMonitor", "nats")["spec"]
    assert selects(nats_monitor["selector"], nats["metadata"]["labels"])
    (exporter,) = [c for c in nats["spec"]["containers"] if c["name"] == "exporter"]
    (endpoint,) = nats_monitor["podMetricsEndpoints"]
    assert endpoint["port"] in {p["name"] for p in exporter["ports"]}
    assert any(a.startswith("http://localhost:8222") for a in exporter["args"]) and {"-varz", "-healthz", "-jsz=all"} <= set(exporter["args"])
    assert ":" in exporter["image"] and not exporter["image"].endswith(":latest")
    # as hardened as every other container, and kubectl's default stays the server
    sc = exporter["securityContext"]
    assert sc["readOnlyRootFilesystem"] and sc["runAsNonRoot"] and sc["capabilities"]["drop"] == ["ALL"]
    assert exporter["resources"]["limits"] and exporter["livenessProbe"] and exporter["readinessProbe"]
    assert nats["metadata"]["annotations"]["kubectl.kubernetes.io/default-container"] == "nats"


def test_prometheus_may_reach_every_scraped_port(docs: Docs) -> None:
    policies = [p for p in of_kind(docs, "NetworkPolicy") if p["metadata"]["name"].startswith("prometheus-scrape")]
    targets = [(d["spec"]["template"], d["metadata"]["name"]) for d in _scraped(docs)] + [(named(docs, "StatefulSet", "nats")["spec"]["template"], "nats")]
    for tpl, name in targets:
        wanted = {p["containerPort"] for c in tpl["spec"]["containers"] for p in c.get("ports", []) if p["name"] in ("http", "metrics", "prom-metrics")}
        admitted = {
            port["port"]
            for p in policies
            if selects(p["spec"]["podSelector"], tpl["metadata"]["labels"])
            for r in p["spec"]["ingress"]
            if any("namespaceSelector" in peer for peer in r["from"])
            for port in r["ports"]
        }
        assert wanted and wanted <= admitted, f"{name}: Prometheus may not scrape {sorted(wanted - admitted)}"


def test_a_missing_service_component_gateway_or_nats_quorum_raises_an_alert(docs: Docs) -> None:
    rules = _rules(docs)
    for component in ("api", "worker", "relay"):
        expr = rules[f"Xciss{component.capitalize()}Missing"]["expr"]
        assert f'app_kubernetes_io_component="{component}"' in expr and "unless" in expr
    absent = rules["XcissServiceAbsent"]["expr"]
    assert all(f'xciss_io_service="{svc}"' in absent for svc in SERVICES)
    gateway_label = named(docs, "Deployment", "gateway")["spec"]["template"]["metadata"]["labels"][COMPONENT_LABEL]
    assert f'app_kubernetes_io_component="{gateway_label}"' in rules["XcissGatewayAbsent"]["expr"]
    # the component label values the rules use are the ones the pods carry
    carried = {d["spec"]["template"]["metadata"]["labels"][COMPONENT_LABEL] for d in _scraped(docs)}
    assert carried == {"api", "worker", "relay", "gateway"}
    assert "absent(" in rules["NatsQuorumAtRisk"]["expr"] and "< 3" in rules["NatsQuorumAtRisk"]["expr"]
    for name in ("XcissDeadLetters", "XcissOutboxStuck", "NatsStorageHigh", "NatsJetStreamDisabled", "PostgresConnectionsHigh", "PostgresReplicationLag"):
        assert name in rules
    assert all(r.get("labels", {}).get("severity") in {"info", "warning", "critical"} for r in rules.values())


def test_the_rules_are_a_plain_prometheus_rule_file_too(docs: Docs) -> None:
    """Without the Operator, `.spec` of the PrometheusRule is loaded as a rule file."""
    spec = named(docs, "PrometheusRule", "xciss")["spec"]
    reparsed = yaml.safe_load(yaml.safe_dump(spec))
    assert set(reparsed) == {"groups"} and all({"name", "rules"} <= set(g) for g in reparsed["groups"])
    assert len({g["name"] for g in reparsed["groups"]}) == len(reparsed["groups"])


def _with_keda(tmp_path: Path) -> Docs:
    """The production overlay with both optional components, as an operator's overlay has them."""
    rel = lambda p: os.path.relpath(p, tmp_path)  # noqa: E731 -- kustomize takes no absolute roots
    (tmp_path / "kustomization.yaml").write_text(
        yaml.safe_dump(
            {
                "apiVersion": "kustomize.config.k8s.io/v1beta1",
                "kind": "Kustomization",
                "namespace": "xciss",
                "resources": [rel(DEPLOY / "overlays" / "prod-monitoring")],
                "components": [rel(DEPLOY / "components" / "keda-workers")],
            }
        ),
        encoding="utf-8",
    )
    out = subprocess.run([kubectl(), "kustomize", "--load-restrictor=LoadRestrictionsNone", str(tmp_path)], capture_output=True, text=True, timeout=120, check=False)
    assert out.returncode == 0, out.stderr
    return [d for d in yaml.safe_load_all(out.stdout) if d]


def test_keda_scales_each_services_workers_on_its_consumer_lag_and_cpu(tmp_path: Path) -> None:
    docs = _with_keda(tmp_path)
    workers = {d["metadata"]["name"] for d in xciss_deployments(docs, "worker")}
    hpa_targets = {h["spec"]["scaleTargetRef"]["name"] for h in of_kind(docs, "HorizontalPodAutoscaler")}
    assert not workers & hpa_targets, "a worker keeps its CPU autoscaler beside KEDA's"
    assert {f"{s}-api" for s in SERVICES} | {"gateway"} <= hpa_targets, "only the workers' autoscalers go"
    scaled = {o["spec"]["scaleTargetRef"]["name"]: o for o in of_kind(docs, "ScaledObject")}
    assert set(scaled) == workers
    for name, obj in scaled.items():
        svc = name.removesuffix("-worker")
        assert obj["metadata"]["namespace"] == "xciss"
        assert 2 <= obj["spec"]["minReplicaCount"] < obj["spec"]["maxReplicaCount"]
        triggers = {t["type"]: t for t in obj["spec"]["triggers"]}
        assert set(triggers) == {"prometheus", "cpu"}
        query = triggers["prometheus"]["metadata"]["query"]
        assert "xciss_consumer_lag_messages" in query and f'service="{svc}"' in query and "max by (durable)" in query
        assert int(triggers["prometheus"]["metadata"]["threshold"]) > 0
