"""The production overlay survives losing a node or a zone: every Deployment
spreads over zones, NATS servers never share a node, everything with more
than one replica has a disruption budget, and the two telemetry collectors
spread over nodes with a budget that keeps one receiving."""

from __future__ import annotations

from typing import Any

from services.runtime.settings import SERVICES
from tests.deploy.rendered import Docs, named, of_kind, selects


SERVING = ("Deployment", "StatefulSet")


def _serving(docs: Docs) -> list[dict[str, Any]]:
    return [d for kind in SERVING for d in of_kind(docs, kind)]


def test_every_deployment_spreads_over_zones_and_nats_servers_never_share_a_node(prod: Docs) -> None:
    for d in of_kind(prod, "Deployment"):
        spec = d["spec"]["template"]["spec"]
        labels = d["spec"]["template"]["metadata"]["labels"]
        zone = [t for t in spec.get("topologySpreadConstraints", []) if t["topologyKey"] == "topology.kubernetes.io/zone"]
        assert zone, f"{d['metadata']['name']}: no zone spread"
        assert all(selects(t["labelSelector"], labels) for t in zone), f"{d['metadata']['name']}: the spread counts other pods"
        assert zone[0]["whenUnsatisfiable"] == "ScheduleAnyway"  # a single-zone cluster still schedules
    nats = named(prod, "StatefulSet", "nats")["spec"]["template"]
    host = [t for t in nats["spec"]["topologySpreadConstraints"] if t["topologyKey"] == "kubernetes.io/hostname"]
    assert len(host) == 1 and host[0]["whenUnsatisfiable"] == "DoNotSchedule" and host[0]["maxSkew"] == 1
    assert selects(host[0]["labelSelector"], nats["metadata"]["labels"])


def test_everything_with_more_than_one_replica_has_a_disruption_budget(prod: Docs) -> None:
    pdbs = of_kind(prod, "PodDisruptionBudget")
    hpas = {h["spec"]["scaleTargetRef"]["name"]: h for h in of_kind(prod, "HorizontalPodAutoscaler")}
    checked = []
    for d in _serving(prod):
        name = d["metadata"]["name"]
        replicas = hpas[name]["spec"]["minReplicas"] if name in hpas else d["spec"].get("replicas", 1)
        if replicas <= 1:
            continue
        labels = d["spec"]["template"]["metadata"]["labels"]
        budgets = [p for p in pdbs if selects(p["spec"]["selector"], labels)]
        assert len(budgets) == 1, f"{d['kind']}/{name} ({replicas} replicas) has {len(budgets)} PodDisruptionBudgets"
        budget = budgets[0]["spec"]
        # a drain may move one pod at a time, never all
        assert budget.get("maxUnavailable", 0) == 1 or 1 <= budget.get("minAvailable", 0) < replicas, f"{name}: {budget}"
        checked.append(name)
    assert {"gateway", "nats", *(f"{s}-api" for s in SERVICES), *(f"{s}-relay" for s in SERVICES)} <= set(checked)


def test_the_collector_survives_a_node_drain(production: tuple[str, Docs]) -> None:
    """Issue 20, item 9: two collectors on different nodes and zones (soft spread,
    like every Deployment) with a budget that keeps one of them receiving."""
    _, prod = production
    d = named(prod, "Deployment", "otel-collector")
    assert d["spec"]["replicas"] == 2
    tpl = d["spec"]["template"]
    spread = {t["topologyKey"]: t for t in tpl["spec"]["topologySpreadConstraints"]}
    assert {"kubernetes.io/hostname", "topology.kubernetes.io/zone"} <= set(spread)
    for t in spread.values():
        assert t["maxSkew"] == 1 and t["whenUnsatisfiable"] == "ScheduleAnyway"
        assert selects(t["labelSelector"], tpl["metadata"]["labels"])
    (pdb,) = [p for p in of_kind(prod, "PodDisruptionBudget") if selects(p["spec"]["selector"], tpl["metadata"]["labels"])]
    assert pdb["spec"] == {"minAvailable": 1, "selector": pdb["spec"]["selector"]}
