"""The rendered overlays: valid Kubernetes objects, and the platform's rules
for running them (non-root, read-only, probes, budgets, autoscaling, network
isolation, secrets by reference, pinned images, a durable NATS cluster)."""

from __future__ import annotations

import functools
import ipaddress
import os
import re
import subprocess
from pathlib import Path
from typing import Any

import kubernetes_validate
import kubernetes_validate.utils
import pytest

from services.command.cli import build_parser
from services.command.natsserver import nats_server_binary
from services.runtime.settings import DEFAULT_PORTS, SERVICES
from tests.deploy.conftest import ROOT
from tests.deploy.natsfiles import lay_out, operator_secrets
from tests.deploy.rendered import (
    Docs,
    containers,
    named,
    nats_conf,
    of_kind,
    pod_templates,
    selects,
    settings_of,
    xciss_config,
    xciss_deployments,
)

K8S_VERSION = "1.32.0"
SECRET_LIKE = re.compile(r"SECRET|KEY|PASSWORD|TOKEN|DATABASE_URL", re.I)
MIN_NATS = (2, 12, 3)
#: The outbox relay's retry horizon (docs/operations.md, "NATS"): a row whose
#: PubAck was lost is retried within publish timeout + the relay's maximum
#: backoff (5 s + 5 s); a row locked by a relay on a lost node is released when
#: PostgreSQL drops the dead connection, by default after TCP keepalive
#: (7200 s idle + 9 probes x 75 s).
RELAY_RETRY_HORIZON_S = 7200 + 9 * 75 + 5 + 5


# --- schema -------------------------------------------------------------------

#: kubernetes-validate reads the (large) definitions file on every call; the
#: schema files do not change during a run, so read each once.
_cached_schema_contents = functools.cache(kubernetes_validate.utils.schema_contents)


def test_every_document_is_a_valid_kubernetes_object(overlay: tuple[str, Docs], monkeypatch: pytest.MonkeyPatch) -> None:
    name, docs = overlay
    assert len(docs) > 50
    monkeypatch.setattr(kubernetes_validate.utils, "schema_contents", _cached_schema_contents)
    errors = []
    for d in docs:
        try:
            kubernetes_validate.validate(d, K8S_VERSION, strict=True)
        except kubernetes_validate.ValidationError as exc:
            errors.append(f"{d['kind']}/{d['metadata']['name']}: {exc.message} at {list(exc.path)}")
    assert not errors, f"{name}:\n" + "\n".join(errors)


# --- the processes ------------------------------------------------------------


def test_each_service_runs_api_worker_relay_and_a_migration_with_real_commands(overlay: tuple[str, Docs]) -> None:
    _, docs = overlay
    for svc in SERVICES:
        for component, verb in (("api", "serve"), ("worker", "worker"), ("relay", "relay")):
            d = named(docs, "Deployment", f"{svc}-{component}")
            (c,) = d["spec"]["template"]["spec"]["containers"]
            assert c["args"] == [verb, svc]
            assert d["spec"]["template"]["spec"]["serviceAccountName"] == f"xciss-{svc}"
        job = named(docs, "Job", f"{svc}-migrate")
        assert job["spec"]["template"]["spec"]["containers"][0]["args"] == ["migrate", svc]
        sa = named(docs, "ServiceAccount", f"xciss-{svc}")
        assert sa["automountServiceAccountToken"] is False
    assert named(docs, "Job", "xciss-streams")["spec"]["template"]["spec"]["containers"][0]["args"] == ["streams"]
    # every xciss container's arguments parse with the real command line
    for where, tpl in pod_templates(docs):
        for c in containers(tpl):
            if c["image"].rsplit(":", 1)[0].endswith("/xciss") and "command" not in c:
                try:
                    build_parser().parse_args(c["args"])
                except SystemExit:
                    pytest.fail(f"{where}: `xciss {' '.join(c['args'])}` is not a command")


def test_apis_listen_on_their_port_with_health_and_readiness_probes(overlay: tuple[str, Docs]) -> None:
    _, docs = overlay
    assert settings_of(docs).http_host == "0.0.0.0"
    apis = xciss_deployments(docs, "api")
    assert {d["metadata"]["name"] for d in apis} == {f"{s}-api" for s in SERVICES}
    for d in apis:
        svc = d["spec"]["template"]["metadata"]["labels"]["xciss.io/service"]
        (c,) = d["spec"]["template"]["spec"]["containers"]
        assert c["ports"][0]["containerPort"] == DEFAULT_PORTS[svc]
        assert c["livenessProbe"]["httpGet"]["path"] == "/health"
        assert c["readinessProbe"]["httpGet"]["path"] == "/ready"
        service = named(docs, "Service", f"{svc}-api")
        assert selects({"matchLabels": service["spec"]["selector"]}, d["spec"]["template"]["metadata"]["labels"])
        assert service["spec"]["ports"][0]["port"] == DEFAULT_PORTS[svc]


def test_every_api_and_worker_has_a_disruption_budget_and_an_autoscaler(overlay: tuple[str, Docs]) -> None:
    _, docs = overlay
    pdbs, hpas = of_kind(docs, "PodDisruptionBudget"), of_kind(docs, "HorizontalPodAutoscaler")
    for d in xciss_deployments(docs, "api") + xciss_deployments(docs, "worker"):
        labels = d["spec"]["template"]["metadata"]["labels"]
        assert any(selects(p["spec"]["selector"], labels) for p in pdbs), f"{d['metadata']['name']} has no PodDisruptionBudget"
        scalers = [h for h in hpas if h["spec"]["scaleTargetRef"] == {"apiVersion": "apps/v1", "kind": "Deployment", "name": d["metadata"]["name"]}]
        assert len(scalers) == 1, f"{d['metadata']['name']} has {len(scalers)} autoscalers"
        assert _sane_autoscaler(scalers[0])
        assert "replicas" not in d["spec"], f"{d['metadata']['name']}: the autoscaler owns replicas"


def _sane_autoscaler(hpa: dict[str, Any]) -> bool:
    return hpa["apiVersion"] == "autoscaling/v2" and 1 <= hpa["spec"]["minReplicas"] < hpa["spec"]["maxReplicas"]


def test_pods_outlive_the_workers_drain(overlay: tuple[str, Docs]) -> None:
    _, docs = overlay
    # the worker waits graceful_timeout + 5 s for in-flight handlers (process.py)
    drain = settings_of(docs).graceful_timeout_s + 5
    for kind in ("Deployment", "StatefulSet"):
        for d in of_kind(docs, kind):
            grace = d["spec"]["template"]["spec"].get("terminationGracePeriodSeconds", 30)
            assert grace > drain, f"{d['metadata']['name']}: terminationGracePeriodSeconds {grace} <= drain {drain}"


# --- security -----------------------------------------------------------------


def test_every_container_is_non_root_read_only_without_privileges_and_bounded(overlay: tuple[str, Docs]) -> None:
    _, docs = overlay
    problems = []
    for where, tpl in pod_templates(docs):
        pod_sc = tpl["spec"].get("securityContext", {})
        for c in containers(tpl):
            sc = {**pod_sc, **c.get("securityContext", {})}
            at = f"{where} container {c['name']}"
            if sc.get("runAsNonRoot") is not True or sc.get("runAsUser", 1) == 0:
                problems.append(f"{at}: may run as root")
            if sc.get("readOnlyRootFilesystem") is not True:
                problems.append(f"{at}: writable root filesystem")
            if sc.get("allowPrivilegeEscalation") is not False or sc.get("privileged"):
                problems.append(f"{at}: privilege escalation")
            if sc.get("capabilities", {}).get("drop") != ["ALL"]:
                problems.append(f"{at}: capabilities not dropped")
            if sc.get("seccompProfile", {}).get("type") != "RuntimeDefault":
                problems.append(f"{at}: no RuntimeDefault seccomp profile")
            res = c.get("resources", {})
            for part in ("requests", "limits"):
                if not {"cpu", "memory"} <= set(res.get(part, {})):
                    problems.append(f"{at}: no cpu/memory {part}")
    assert not problems, "\n".join(problems)


def _mount_paths(template: dict[str, Any], container: dict[str, Any]) -> list[str]:
    return [m["mountPath"] for m in container.get("volumeMounts", [])]


def test_secrets_are_referenced_never_written_down(overlay: tuple[str, Docs]) -> None:
    name, docs = overlay
    if name == "prod":
        assert of_kind(docs, "Secret") == [], "production Secrets are created by the operator, not shipped"
    for where, tpl in pod_templates(docs):
        for c in containers(tpl):
            for e in c.get("env", []):
                if e["name"].endswith("_FILE") and "value" in e:
                    # a path, not a secret: it must lead into a mounted volume
                    assert any(e["value"].startswith(m.rstrip("/") + "/") for m in _mount_paths(tpl, c)), f"{where}: {e['name']} points outside its mounts"
                    continue
                if SECRET_LIKE.search(e["name"]):
                    assert "value" not in e, f"{where}: {e['name']} is written inline"
                    assert "secretKeyRef" in e["valueFrom"], f"{where}: {e['name']} is not from a Secret"
    for cm in of_kind(docs, "ConfigMap"):
        leaked = [k for k in cm.get("data", {}) if SECRET_LIKE.search(k)]
        assert not leaked, f"ConfigMap {cm['metadata']['name']} holds {leaked}"


def test_the_install_guide_creates_every_secret_production_references(prod: Docs, tmp_path: Path) -> None:
    guide = (ROOT / "docs" / "operations.md").read_text(encoding="utf-8")
    # the bus's keys come from `xciss bus k8s-secrets` (step 6; tests/deploy/test_bus_manifests.py)
    created: dict[str, set[str]] = {name: set(files) for name, files in operator_secrets(tmp_path / "bus-keys").items()}
    lines = guide.splitlines()
    for i, line in enumerate(lines):
        m = re.search(r"kubectl -n xciss create (?:secret generic|configmap) (\S+)", line)
        if not m:
            continue
        command = [line]
        while command[-1].rstrip().endswith("\\") and i + len(command) < len(lines):
            command.append(lines[i + len(command)])
        created[m.group(1)] = set(re.findall(r"--from-(?:literal|file)=([A-Za-z0-9_.]+)=", " ".join(command)))
    needed: dict[str, set[str]] = {}
    rendered = {d["metadata"]["name"] for d in of_kind(prod, "ConfigMap")}
    for _, tpl in pod_templates(prod):
        for c in containers(tpl):
            for e in c.get("env", []):
                ref = e.get("valueFrom", {}).get("secretKeyRef")
                if ref:
                    needed.setdefault(ref["name"], set()).add(ref["key"])
            for src in c.get("envFrom", []):
                if "secretRef" in src:
                    needed.setdefault(src["secretRef"]["name"], set())
        for v in tpl["spec"].get("volumes", []):
            if "secret" in v:
                needed.setdefault(v["secret"]["secretName"], set())
            # a ConfigMap the overlay renders itself (xciss-config, xciss-city, nats-config, ...) is no operator's to create
            if "configMap" in v and v["configMap"]["name"] not in rendered:
                needed.setdefault(v["configMap"]["name"], set())
    assert needed, "production references no Secret?"
    for secret, keys in needed.items():
        assert secret in created, f"docs/operations.md does not create Secret {secret}"
        assert keys <= created[secret], f"Secret {secret}: the guide lacks {keys - created[secret]}"
    # the settings a Secret must carry for the processes to start in prod mode
    assert {"XCISS_PII_KEY", "XCISS_FIELD_KEYS"} <= created["xciss-auth"]
    assert created["xciss-token-signing"] == {"signing.pem"} and created["xciss-token-jwks"] == {"jwks.json"}
    assert {"XCISS_S3_ENDPOINT", "XCISS_S3_ACCESS_KEY", "XCISS_S3_SECRET_KEY"} <= created["xciss-s3"]


def test_images_are_pinned(overlay: tuple[str, Docs]) -> None:
    name, docs = overlay
    for where, tpl in pod_templates(docs):
        for c in containers(tpl):
            image = c["image"]
            repo, _, tag = image.rpartition(":")
            assert repo and "/" not in tag and tag not in ("", "latest"), f"{where}: image {image} is not pinned"
            if name == "prod":
                assert not image.startswith("localhost/"), f"{where}: a local image in production"


# --- network ------------------------------------------------------------------


def _policies_for(docs: Docs, labels: dict[str, str]) -> list[dict[str, Any]]:
    return [p for p in of_kind(docs, "NetworkPolicy") if p["spec"]["podSelector"] and selects(p["spec"]["podSelector"], labels)]


def _egress_ports(policies: list[dict[str, Any]]) -> set[int]:
    return {port["port"] for p in policies for rule in p["spec"].get("egress", []) for port in rule.get("ports", [])}


def test_everything_is_denied_unless_a_policy_for_that_pod_allows_it(overlay: tuple[str, Docs]) -> None:
    _, docs = overlay
    deny = named(docs, "NetworkPolicy", "default-deny")["spec"]
    assert deny["podSelector"] == {} and set(deny["policyTypes"]) == {"Ingress", "Egress"}
    assert "ingress" not in deny and "egress" not in deny
    for where, tpl in pod_templates(docs):
        assert _policies_for(docs, tpl["metadata"]["labels"]), f"{where}: no NetworkPolicy of its own"


def test_services_reach_only_nats_their_database_telemetry_and_for_registry_and_evaluation_documents(overlay: tuple[str, Docs]) -> None:
    name, docs = overlay
    object_store = {"dev": 9000, "prod": 443}[name]
    for svc in SERVICES:
        for component in ("api", "worker", "relay", "migrate"):
            kind = "Job" if component == "migrate" else "Deployment"
            tpl = named(docs, kind, f"{svc}-{component}")["spec"]["template"]
            # the OpenID Connect issuer (APIs only, prod): test_network_paths.py checks it
            own = [p for p in _policies_for(docs, tpl["metadata"]["labels"]) if p["metadata"].get("labels", {}).get("xciss.io/egress") != "oidc"]
            ports = _egress_ports(own)
            # 8222: NATS's monitoring endpoint, for the start-up safety check (NATS admits only workers and relays there)
            expected = {4222, 8222, 5432, 4317, 4318} | ({object_store} if svc in ("registry", "evaluation") else set())
            assert ports == expected, f"{svc}-{component} may reach ports {sorted(ports)}"
        api = named(docs, "Deployment", f"{svc}-api")["spec"]["template"]["metadata"]["labels"]
        ingress = [r for p in _policies_for(docs, api) for r in p["spec"].get("ingress", [])]
        sources = [peer for r in ingress for peer in r["from"]]
        assert {"namespaceSelector": {"matchLabels": {"xciss.io/gateway": "true"}}} in sources
        assert all(peer in ({"namespaceSelector": {"matchLabels": {"xciss.io/gateway": "true"}}},
                            {"podSelector": {"matchLabels": {"xciss.io/gateway": "true"}}},
                            {"podSelector": {"matchLabels": {"app.kubernetes.io/name": "otel-collector"}}})
                   for peer in sources), f"{svc}-api accepts traffic from {sources}"


def test_production_reaches_the_external_database_and_object_store_by_address(prod: Docs) -> None:
    for p in of_kind(prod, "NetworkPolicy"):
        role = p["metadata"].get("labels", {}).get("xciss.io/egress")
        if role in ("database", "object-store"):
            (rule,) = p["spec"]["egress"]
            (peer,) = rule["to"]
            ipaddress.ip_network(peer["ipBlock"]["cidr"])


# --- NATS ---------------------------------------------------------------------


def test_nats_config_is_accepted_by_the_nats_server(overlay: tuple[str, Docs], tmp_path: Path) -> None:
    name, docs = overlay
    conf = lay_out(name, docs, nats_conf(docs), tmp_path).conf  # with its auth/auth.conf (and tls/) beside it
    env = {**os.environ, "POD_NAME": "nats-0"}  # the StatefulSet sets it from the pod name
    out = subprocess.run([nats_server_binary(), "-t", "-c", str(conf)], capture_output=True, text=True, env=env, timeout=60, check=False)
    assert out.returncode == 0, out.stderr
    broken = tmp_path / "broken.conf"
    broken.write_text(conf.read_text().replace("sync_interval: always", "sync_interval: sometimes"))
    assert subprocess.run([nats_server_binary(), "-t", "-c", str(broken)], capture_output=True, env=env, timeout=60, check=False).returncode != 0


def test_production_nats_is_a_durable_three_server_cluster(prod: Docs) -> None:
    sts = named(prod, "StatefulSet", "nats")
    assert sts["spec"]["replicas"] == 3
    (c,) = sts["spec"]["template"]["spec"]["containers"]
    version = re.match(r"nats:(\d+)\.(\d+)\.(\d+)", c["image"])
    assert version, c["image"]
    assert tuple(int(x) for x in version.groups()) >= MIN_NATS
    conf = nats_conf(prod)
    jetstream = re.search(r"jetstream\s*\{([^}]*)\}", conf)
    assert jetstream and re.search(r"^\s*sync_interval:\s*always\s*$", jetstream.group(1), re.M)
    assert re.search(r"store_dir:\s*/data/jetstream", jetstream.group(1))
    routes = re.findall(r"nats://(nats-\d)\.nats-headless:6222", conf)
    assert sorted(routes) == [f"nats-{i}" for i in range(3)]
    assert named(prod, "Service", "nats-headless")["spec"]["clusterIP"] == "None"
    settings = settings_of(prod)
    assert settings.stream_replicas == 3
    assert settings.duplicate_window_s > RELAY_RETRY_HORIZON_S


def test_development_runs_one_nats_server_with_jetstream(dev: Docs) -> None:
    docs = dev
    assert named(docs, "StatefulSet", "nats")["spec"]["replicas"] == 1
    assert "cluster {" not in nats_conf(docs) and "jetstream {" in nats_conf(docs)
    assert settings_of(docs).stream_replicas == 1


def test_processes_send_traces_to_the_collector(overlay: tuple[str, Docs]) -> None:
    _, docs = overlay
    config = xciss_config(docs)
    assert config["OTEL_TRACES_EXPORTER"] == "otlp"
    collector = named(docs, "Service", "otel-collector")
    port = {p["port"] for p in collector["spec"]["ports"]}
    assert config["OTEL_EXPORTER_OTLP_ENDPOINT"] == "http://otel-collector:4318" and 4318 in port
    assert config["XCISS_METRICS_PORT"] == "9464"

