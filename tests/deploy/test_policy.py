"""The production overlay as an operator runs it: every container has probes
and resource bounds, API and gateway pods keep serving while their endpoint is
withdrawn (preStop) and outlive their drain, every Deployment spreads over
zones, NATS servers never share a node and start only once their streams have
caught up, the front door is an Ingress with TLS in front of the gateway, and
everything with more than one replica has a disruption budget."""

from __future__ import annotations

import ipaddress
import re
from typing import Any
from urllib.parse import urlsplit

from services.runtime.settings import DEFAULT_PORTS, GATEWAY_PORT, SERVICES
from tests.deploy.conftest import ROOT
from tests.deploy.rendered import (
    Docs,
    containers,
    generated,
    named,
    of_kind,
    pod_templates,
    selects,
    settings_of,
    xciss_deployments,
)

#: how long a pod keeps serving after it is marked terminating: longer than
#: kube-proxy and the ingress controller need to drop its endpoint
MIN_PRESTOP_S = 5
SERVING = ("Deployment", "StatefulSet")


def _serving(docs: Docs) -> list[dict[str, Any]]:
    return [d for kind in SERVING for d in of_kind(docs, kind)]


def _port_number(container: dict[str, Any], port: int | str) -> int:
    if isinstance(port, int):
        return port
    found = [p["containerPort"] for p in container.get("ports", []) if p.get("name") == port]
    assert found, f"container {container['name']} has no port named {port}"
    return found[0]


def _prestop_seconds(container: dict[str, Any]) -> int:
    hook = container.get("lifecycle", {}).get("preStop", {})
    if "sleep" in hook:
        return int(hook["sleep"]["seconds"])
    command = hook.get("exec", {}).get("command", [])
    assert command[:1] == ["sleep"], f"{container['name']}: preStop is not a sleep: {hook}"
    return int(command[1])


def _front_door(docs: Docs) -> list[dict[str, Any]]:
    return [*xciss_deployments(docs, "api"), named(docs, "Deployment", "gateway")]


def test_every_long_running_container_has_probes_and_every_container_resources(prod: Docs) -> None:
    problems = []
    for where, tpl in pod_templates(prod):
        for c in containers(tpl):
            at = f"{where} container {c['name']}"
            res = c.get("resources", {})
            if not all({"cpu", "memory"} <= set(res.get(part, {})) for part in ("requests", "limits")):
                problems.append(f"{at}: no cpu/memory requests and limits")
            if where.startswith("Job/"):
                continue  # runs to completion: nothing to probe
            for probe in ("livenessProbe", "readinessProbe"):
                if probe not in c:
                    problems.append(f"{at}: no {probe}")
                elif "httpGet" in c[probe]:
                    _port_number(c, c[probe]["httpGet"]["port"])
    assert not problems, "\n".join(problems)


def test_workers_and_relays_are_probed_on_their_metrics_port(prod: Docs) -> None:
    port = settings_of(prod).metrics_port
    for d in xciss_deployments(prod, "worker") + xciss_deployments(prod, "relay"):
        (c,) = d["spec"]["template"]["spec"]["containers"]
        assert c["livenessProbe"]["httpGet"]["path"] == "/health", d["metadata"]["name"]
        assert c["readinessProbe"]["httpGet"]["path"] == "/ready", d["metadata"]["name"]
        assert _port_number(c, c["readinessProbe"]["httpGet"]["port"]) == port
        assert _port_number(c, c["livenessProbe"]["httpGet"]["port"]) == port


def test_apis_and_the_gateway_keep_serving_while_their_endpoint_is_withdrawn(prod: Docs) -> None:
    graceful = settings_of(prod).graceful_timeout_s
    front = _front_door(prod)
    assert len(front) == len(SERVICES) + 1
    for d in front:
        (c,) = d["spec"]["template"]["spec"]["containers"]
        prestop = _prestop_seconds(c)
        assert prestop >= MIN_PRESTOP_S, f"{d['metadata']['name']}: preStop {prestop} s"
        grace = d["spec"]["template"]["spec"].get("terminationGracePeriodSeconds", 30)
        # the preStop sleep counts against the grace period; then the drain needs its time
        assert grace > prestop + graceful, f"{d['metadata']['name']}: grace {grace} <= preStop {prestop} + drain {graceful}"


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


def test_nats_starts_only_once_its_streams_have_caught_up(prod: Docs) -> None:
    (c,) = named(prod, "StatefulSet", "nats")["spec"]["template"]["spec"]["containers"]
    assert c["startupProbe"]["httpGet"]["path"] == "/healthz"  # not ?js-enabled-only: that passes before catch-up
    assert _port_number(c, c["startupProbe"]["httpGet"]["port"]) == 8222


def test_the_front_door_is_an_ingress_with_tls_to_the_gateway(prod: Docs) -> None:
    (ingress,) = of_kind(prod, "Ingress")
    hosts = {r["host"] for r in ingress["spec"]["rules"]}
    covered = {h for t in ingress["spec"]["tls"] for h in t["hosts"]}
    assert hosts and hosts <= covered, f"hosts without TLS: {hosts - covered}"
    assert {t["secretName"] for t in ingress["spec"]["tls"]} == {"xciss-tls"}
    backends = {p["backend"]["service"]["name"] for r in ingress["spec"]["rules"] for p in r["http"]["paths"]}
    assert backends == {"gateway"}
    assert [p["path"] for r in ingress["spec"]["rules"] for p in r["http"]["paths"]] == ["/"]  # the portal and /api/...
    service = named(prod, "Service", "gateway")
    gateway = named(prod, "Deployment", "gateway")
    tpl = gateway["spec"]["template"]
    assert selects({"matchLabels": service["spec"]["selector"]}, tpl["metadata"]["labels"])
    (c,) = tpl["spec"]["containers"]
    assert c["args"] == ["gateway"]
    assert _port_number(c, service["spec"]["ports"][0]["targetPort"]) == GATEWAY_PORT
    # the gateway finds each service's API Service, on that service's port
    env = {e["name"]: e.get("value") for e in c.get("env", [])}
    for svc in SERVICES:
        assert env[f"XCISS_{svc.upper()}_URL"] == f"http://{svc}-api:{DEFAULT_PORTS[svc]}"
        named(prod, "Service", f"{svc}-api")
    # more than one gateway, scaled on load
    (hpa,) = [h for h in of_kind(prod, "HorizontalPodAutoscaler") if h["spec"]["scaleTargetRef"]["name"] == "gateway"]
    assert 2 <= hpa["spec"]["minReplicas"] < hpa["spec"]["maxReplicas"]


def _admits(policy: dict[str, Any], labels: dict[str, str], port: int) -> bool:
    for rule in policy["spec"].get("ingress", []):
        peers = [p for p in rule.get("from", []) if "podSelector" in p and "namespaceSelector" not in p]
        if any(selects(p["podSelector"], labels) for p in peers) and any(p["port"] == port for p in rule.get("ports", [])):
            return True
    return False


def test_the_ingress_controller_reaches_the_gateway_and_the_gateway_the_apis(prod: Docs) -> None:
    gateway = named(prod, "Deployment", "gateway")["spec"]["template"]["metadata"]["labels"]
    mine = [p for p in of_kind(prod, "NetworkPolicy") if p["spec"]["podSelector"] and selects(p["spec"]["podSelector"], gateway)]
    assert mine, "the gateway has no NetworkPolicy"
    inbound = [r for p in mine for r in p["spec"].get("ingress", [])]
    assert any("namespaceSelector" in peer for r in inbound for peer in r["from"]) and all(
        {port["port"] for port in r["ports"]} == {GATEWAY_PORT} for r in inbound
    ), "only the ingress controller's namespace, only the gateway's port"
    for d in xciss_deployments(prod, "api"):
        api = d["spec"]["template"]["metadata"]["labels"]
        port = DEFAULT_PORTS[api["xciss.io/service"]]
        # the gateway may send ...
        assert _sends(prod, gateway, api, port), f"the gateway may not reach {d['metadata']['name']}"
        # ... and the API accepts
        policies = [p for p in of_kind(prod, "NetworkPolicy") if p["spec"]["podSelector"] and selects(p["spec"]["podSelector"], api)]
        assert any(_admits(p, gateway, port) for p in policies), f"{d['metadata']['name']} refuses the gateway"


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


def _sends(docs: Docs, labels: dict[str, str], to: dict[str, str], port: int) -> bool:
    """Whether some NetworkPolicy over ``labels`` lets them send to pods labelled ``to`` on ``port``."""
    mine = [p for p in of_kind(docs, "NetworkPolicy") if p["spec"]["podSelector"] and selects(p["spec"]["podSelector"], labels)]
    return any(
        any(selects(peer["podSelector"], to) for peer in r.get("to", []) if "podSelector" in peer) and port in {x["port"] for x in r.get("ports", [])}
        for p in mine
        for r in p["spec"].get("egress", [])
    )


def test_the_nats_safety_check_reaches_the_servers_monitoring_endpoint(prod: Docs) -> None:
    """Issue 20, item 5: without the monitor URL the check could not verify
    ``sync_interval: always`` in the cluster (``nats.sync_unverified``)."""
    url = urlsplit(settings_of(prod).nats_monitor_url or "")
    assert url.scheme == "http" and url.hostname and url.port, "XCISS_NATS_MONITOR_URL is not set in the cluster"
    service = named(prod, "Service", url.hostname)
    (port,) = [p for p in service["spec"]["ports"] if p["port"] == url.port]
    nats = named(prod, "StatefulSet", "nats")["spec"]["template"]
    assert selects({"matchLabels": service["spec"]["selector"]}, nats["metadata"]["labels"])
    (c,) = nats["spec"]["containers"]
    target = _port_number(c, port["targetPort"])
    assert "http: 0.0.0.0:%d" % target in named(prod, "ConfigMap", "nats-config")["data"]["nats.conf"]
    nats_policy = named(prod, "NetworkPolicy", "nats")
    checkers = [*xciss_deployments(prod, "worker"), *xciss_deployments(prod, "relay"), named(prod, "Job", "xciss-streams")]
    assert len(checkers) == 2 * len(SERVICES) + 1
    for w in checkers:
        labels = w["spec"]["template"]["metadata"]["labels"]
        assert _sends(prod, labels, nats["metadata"]["labels"], target), f"{w['metadata']['name']} may not reach the monitoring port"
        assert _admits(nats_policy, labels, target), f"NATS refuses {w['metadata']['name']} on the monitoring port"
    # and nobody else: the API pods and the gateway do not read it
    for d in [*xciss_deployments(prod, "api"), named(prod, "Deployment", "gateway")]:
        assert not _admits(nats_policy, d["spec"]["template"]["metadata"]["labels"], target), d["metadata"]["name"]


def _bytes(quantity: str) -> int:
    units = {"Ki": 2**10, "Mi": 2**20, "Gi": 2**30}
    for suffix, factor in units.items():
        if quantity.endswith(suffix):
            return int(float(quantity[: -len(suffix)]) * factor)
    return int(quantity)


def test_nats_servers_are_guaranteed_their_resources_and_collect_before_their_limit(overlay: tuple[str, Docs]) -> None:
    """The NATS chart's advice: GOMEMLIMIT about 90 % of the memory limit (the Go
    runtime collects instead of being OOM-killed); in production requests = limits."""
    name, docs = overlay
    (c,) = named(docs, "StatefulSet", "nats")["spec"]["template"]["spec"]["containers"]
    limit = _bytes(c["resources"]["limits"]["memory"])
    env = {e["name"]: e.get("value") for e in c.get("env", [])}
    assert "GOMEMLIMIT" in env, f"{name}: no GOMEMLIMIT"
    assert 0.75 * limit <= _bytes(env["GOMEMLIMIT"].removesuffix("B")) <= 0.9 * limit, f"{name}: GOMEMLIMIT {env['GOMEMLIMIT']} for a limit of {limit}"
    if name == "prod":
        assert c["resources"]["requests"] == c["resources"]["limits"], "prod NATS: requests = limits (Guaranteed)"


def test_the_connection_budget_in_the_docs_is_what_the_manifests_allow(prod: Docs) -> None:
    """docs/operations.md, "Connections": pods at the autoscalers' maxima x
    (pool + overflow), per service database, the migration Job included."""
    settings = settings_of(prod)
    each = settings.db_pool().most
    hpas = {h["spec"]["scaleTargetRef"]["name"]: h["spec"]["maxReplicas"] for h in of_kind(prod, "HorizontalPodAutoscaler")}
    per_db = set()
    for svc in SERVICES:
        pods = sum(hpas.get(d["metadata"]["name"], d["spec"].get("replicas", 1)) for d in of_kind(prod, "Deployment") if d["spec"]["template"]["metadata"]["labels"].get("xciss.io/service") == svc)
        per_db.add((pods + 1) * each)  # + the migration Job
    (budget,) = per_db
    doc = (ROOT / "docs" / "operations.md").read_text(encoding="utf-8")
    assert f"**Per database at the autoscalers' maxima: {budget} connections**" in doc
    assert f"{budget * len(SERVICES)} for the\nfour databases" in doc


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


def test_finished_jobs_are_cleaned_up_after_a_day(every_overlay: tuple[str, Docs]) -> None:
    """Issue 20, item 9: a finished Job is deleted (its log kept a day), so the next
    apply re-creates it; the Jobs here (migrations, streams, the dev bucket) are
    idempotent, so running one again is harmless."""
    name, docs = every_overlay
    jobs = of_kind(docs, "Job")
    assert len(jobs) >= len(SERVICES) + 1
    for job in jobs:
        ttl = job["spec"].get("ttlSecondsAfterFinished")
        assert ttl is not None and 3600 <= ttl <= 7 * 86400, f"{name}: Job/{job['metadata']['name']} ttlSecondsAfterFinished {ttl}"


def test_a_changed_setting_rolls_the_pods(production: tuple[str, Docs]) -> None:
    """Issue 20, item 9: xciss-config is generated with a hash of its content in its
    name, and every workload references that exact name, so changing a value changes
    every pod template and the Deployments roll by themselves."""
    name, docs = production
    config = generated(docs, "ConfigMap", "xciss-config")["metadata"]["name"]
    assert not [d for d in of_kind(docs, "ConfigMap") if d["metadata"]["name"] == "xciss-config"]
    referenced = []
    for where, tpl in pod_templates(docs):
        for c in containers(tpl):
            refs = [s["configMapRef"]["name"] for s in c.get("envFrom", []) if "configMapRef" in s]
            stale = [r for r in refs if r.startswith("xciss-config") and r != config]
            assert not stale, f"{name}: {where} container {c['name']} reads {stale}, not {config}"
            if c["image"].rsplit(":", 1)[0].endswith("/xciss"):
                assert config in refs, f"{name}: {where} container {c['name']} does not read {config}"
                referenced.append(where)
    deployments = {f"Deployment/{d['metadata']['name']}" for d in of_kind(docs, "Deployment") if d["metadata"]["name"] != "otel-collector"}
    assert deployments <= set(referenced)
    # the collector's configuration likewise
    collector_config = generated(docs, "ConfigMap", "otel-collector")["metadata"]["name"]
    volumes = named(docs, "Deployment", "otel-collector")["spec"]["template"]["spec"]["volumes"]
    assert [v["configMap"]["name"] for v in volumes if "configMap" in v] == [collector_config]


#: https://kubernetes.io/docs/concepts/security/pod-security-standards/, "Restricted": the
#: volume types a pod may use (everything else, hostPath included, is refused)
RESTRICTED_VOLUMES = {"configMap", "csi", "downwardAPI", "emptyDir", "ephemeral", "persistentVolumeClaim", "projected", "secret"}
#: sysctls the Baseline profile (and so Restricted) allows
SAFE_SYSCTLS = {
    "kernel.shm_rmid_forced", "net.ipv4.ip_local_port_range", "net.ipv4.ip_unprivileged_port_start",
    "net.ipv4.tcp_syncookies", "net.ipv4.ping_group_range", "net.ipv4.ip_local_reserved_ports",
    "net.ipv4.tcp_keepalive_time", "net.ipv4.tcp_fin_timeout", "net.ipv4.tcp_keepalive_intvl", "net.ipv4.tcp_keepalive_probes",
}


def restricted_violations(template: dict[str, Any]) -> list[str]:
    """What in a pod template the ``restricted`` Pod Security level (version
    ``latest``) refuses: the Baseline controls plus the Restricted ones."""
    spec = template["spec"]
    pod_sc = spec.get("securityContext", {})
    found = []
    for field in ("hostNetwork", "hostPID", "hostIPC"):
        if spec.get(field):
            found.append(f"{field}: true")
    for v in spec.get("volumes", []):
        kinds = set(v) - {"name"}
        if not kinds <= RESTRICTED_VOLUMES:
            found.append(f"volume {v['name']}: type {sorted(kinds - RESTRICTED_VOLUMES)}")
    for s in pod_sc.get("sysctls", []):
        if s["name"] not in SAFE_SYSCTLS:
            found.append(f"sysctl {s['name']}")
    if pod_sc.get("runAsUser") == 0:
        found.append("pod runAsUser: 0")
    pod_seccomp = pod_sc.get("seccompProfile", {}).get("type")
    if pod_seccomp == "Unconfined":
        found.append("pod seccompProfile Unconfined")
    for c in [*spec.get("initContainers", []), *spec["containers"], *spec.get("ephemeralContainers", [])]:
        sc = c.get("securityContext", {})
        at = f"container {c['name']}"
        if sc.get("privileged"):
            found.append(f"{at}: privileged")
        if sc.get("windowsOptions", {}).get("hostProcess") or pod_sc.get("windowsOptions", {}).get("hostProcess"):
            found.append(f"{at}: hostProcess")
        if any(p.get("hostPort") for p in c.get("ports", [])):
            found.append(f"{at}: hostPort")
        if sc.get("procMount", "Default") != "Default":
            found.append(f"{at}: procMount {sc['procMount']}")
        if sc.get("allowPrivilegeEscalation") is not False:
            found.append(f"{at}: allowPrivilegeEscalation not false")
        # runAsNonRoot: true on the pod (and not false on the container) or on the container
        if sc.get("runAsNonRoot") is False or not (sc.get("runAsNonRoot") or pod_sc.get("runAsNonRoot")):
            found.append(f"{at}: runAsNonRoot not true")
        if sc.get("runAsUser") == 0:
            found.append(f"{at}: runAsUser 0")
        seccomp = sc.get("seccompProfile", {}).get("type") or pod_seccomp
        if seccomp not in ("RuntimeDefault", "Localhost"):
            found.append(f"{at}: seccompProfile {seccomp}")
        caps = sc.get("capabilities", {})
        if "ALL" not in caps.get("drop", []):
            found.append(f"{at}: capabilities not dropped (ALL)")
        if set(caps.get("add", [])) - {"NET_BIND_SERVICE"}:
            found.append(f"{at}: adds capabilities {caps['add']}")
    return found


def test_every_pod_meets_the_restricted_pod_security_level(production: tuple[str, Docs]) -> None:
    """Issue 20, item 9: the production namespace enforces ``restricted``, and
    every pod template the overlays ship is admitted by it. (CloudNativePG's own
    pods are not in the manifests: see the component's cluster.yaml.)"""
    name, docs = production
    problems = [f"{where}: {v}" for where, tpl in pod_templates(docs) for v in restricted_violations(tpl)]
    assert not problems, f"{name}:\n" + "\n".join(problems)
    (ns,) = of_kind(docs, "Namespace")
    assert ns["metadata"]["name"] == "xciss"
    labels = ns["metadata"]["labels"]
    for mode in ("enforce", "audit", "warn"):
        assert labels[f"pod-security.kubernetes.io/{mode}"] == "restricted", mode
        assert labels[f"pod-security.kubernetes.io/{mode}-version"] == "latest", mode
    assert {d["metadata"].get("namespace") for d in docs if d["kind"] != "Namespace" and d["kind"] not in ("ClusterRole", "ClusterRoleBinding")} == {"xciss"}


def test_the_restricted_check_refuses_what_kubernetes_refuses(prod: Docs) -> None:
    """The checker above is not vacuous: a root container, a host path, an added
    capability or a missing seccomp profile are each found."""
    import copy

    tpl = named(prod, "Deployment", "registry-api")["spec"]["template"]
    assert restricted_violations(tpl) == []
    for breaks in (
        lambda t: t["spec"]["containers"][0]["securityContext"].update(runAsNonRoot=False),
        lambda t: t["spec"]["volumes"].append({"name": "h", "hostPath": {"path": "/"}}),
        lambda t: t["spec"]["containers"][0]["securityContext"]["capabilities"].update(add=["NET_ADMIN"]),
        lambda t: (t["spec"]["securityContext"].pop("seccompProfile"), t["spec"]["containers"][0]["securityContext"].pop("seccompProfile")),
        lambda t: t["spec"]["containers"][0]["securityContext"].pop("allowPrivilegeEscalation"),
        lambda t: t["spec"].update(hostNetwork=True),
        lambda t: t["spec"]["containers"][0]["ports"][0].update(hostPort=8101),
    ):
        broken = copy.deepcopy(tpl)
        breaks(broken)
        assert restricted_violations(broken), "a violation went unnoticed"


def test_the_token_verifiers_reach_the_oidc_issuer_and_nothing_else_gains_egress(production: tuple[str, Docs]) -> None:
    """Issue 20, item 9: with XCISS_OIDC_JWKS_URL the APIs and the gateway fetch the
    issuer's JWKS (services/runtime/http/auth.py); default-deny would block it. They get
    HTTPS to the issuer's address range (EDIT) and nothing more; no other pod is
    selected by those policies."""
    name, docs = production
    oidc = [p for p in of_kind(docs, "NetworkPolicy") if p["metadata"].get("labels", {}).get("xciss.io/egress") == "oidc"]
    assert oidc, f"{name}: no OIDC egress policy"
    for p in oidc:
        assert p["spec"]["policyTypes"] == ["Egress"] and "ingress" not in p["spec"], p["metadata"]["name"]
        (rule,) = p["spec"]["egress"]
        (peer,) = rule["to"]
        assert set(peer) == {"ipBlock"} and ipaddress.ip_network(peer["ipBlock"]["cidr"]).prefixlen >= 8, f"{p['metadata']['name']}: {peer}"
        assert rule["ports"] == [{"protocol": "TCP", "port": 443}], p["metadata"]["name"]
    verifiers = {f"{s}-api" for s in SERVICES} | {"gateway"}
    for where, tpl in pod_templates(docs):
        kind, _, workload = where.partition("/")
        mine = [p for p in oidc if selects(p["spec"]["podSelector"], tpl["metadata"]["labels"])]
        if kind == "Deployment" and workload in verifiers:
            assert len(mine) == 1, f"{name}: {where} is under {len(mine)} OIDC policies"
        else:
            assert not mine, f"{name}: {where} gains egress from {[p['metadata']['name'] for p in mine]}"
    assert {d["metadata"]["name"] for d in of_kind(docs, "Deployment")} >= verifiers


def test_the_upgrade_applies_the_migrations_with_the_configmap_they_read(production: tuple[str, Docs]) -> None:
    """docs/operations.md "Upgrade" applies the migration Jobs alone first; the
    generated ConfigMap they read is a new object after a change, so the same
    selector must bring it along, or the Jobs' pods wait for a ConfigMap that
    does not exist yet."""
    name, docs = production
    guide = (ROOT / "docs" / "operations.md").read_text(encoding="utf-8")
    m = re.search(r"kubectl apply -k deploy/overlays/prod -l '([\w./-]+) in \(([\w,]+)\)'", guide)
    assert m, "the Upgrade step's selective apply is not where this test looks"
    key, values = m.group(1), set(m.group(2).split(","))
    chosen = {(d["kind"], d["metadata"]["name"]) for d in docs if d["metadata"].get("labels", {}).get(key) in values}
    jobs = [d for d in of_kind(docs, "Job") if d["metadata"]["name"].endswith("-migrate")]
    assert len(jobs) == len(SERVICES) and all(("Job", j["metadata"]["name"]) in chosen for j in jobs)
    for j in jobs:
        for c in containers(j["spec"]["template"]):
            for src in c.get("envFrom", []):
                if "configMapRef" in src:
                    assert ("ConfigMap", src["configMapRef"]["name"]) in chosen, f"{name}: {j['metadata']['name']} reads {src['configMapRef']['name']}, not applied with it"
    assert {kind for kind, _ in chosen} == {"Job", "ConfigMap"}, f"{name}: the selector also applies {chosen}"
