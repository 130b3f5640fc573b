"""The optional CloudNativePG component (deploy/components/cloudnative-pg,
rendered through deploy/overlays/prod-cnpg): what an operator relies on.
Three instances that never share a node, WAL archived to object storage with
a retention and a nightly base backup (point-in-time recovery), PgBouncer in
transaction mode in front of the primary, a database and a role per service,
every service process reaching its database through the pooler with the
statement cache off, migrations going to the primary directly, and
NetworkPolicies that open exactly those paths.

kubernetes-validate knows only Kubernetes' own kinds: the component's custom
resources (Cluster, Database, Pooler, ScheduledBackup, ObjectStore) are
checked here field by field, against CloudNativePG 1.30 and the Barman Cloud
plugin 0.14 as their documentation describes them."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Callable
from urllib.parse import urlsplit

import kubernetes_validate
import kubernetes_validate.utils
import pytest

from services.runtime.settings import SERVICES, Settings
from tests.deploy import (
    test_manifests,
    test_network_paths,
    test_probes_resources_and_drain,
    test_rollout_and_connection_budget,
    test_spread_and_disruption_budgets,
)
from tests.deploy.conftest import ROOT, render
from tests.deploy.rendered import Docs, containers, named, of_kind, pod_templates, process_env, selects, sends

CLUSTER = "xciss-pg"
POOLER = "xciss-pg-pooler-rw"
PLUGIN = "barman-cloud.cloudnative-pg.io"
CUSTOM = {"Cluster", "Database", "Pooler", "ScheduledBackup", "ObjectStore"}
#: the labels CloudNativePG 1.30 gives its pods (pkg/specs: pods.go, jobs.go, pgbouncer/deployments.go)
INSTANCE = {
    "cnpg.io/cluster": CLUSTER,
    "cnpg.io/instanceName": f"{CLUSTER}-1",
    "cnpg.io/podRole": "instance",
    "app.kubernetes.io/name": "postgresql",
    "app.kubernetes.io/instance": CLUSTER,
    "app.kubernetes.io/component": "database",
    "app.kubernetes.io/managed-by": "cloudnative-pg",
}
POOLER_POD = {
    "cnpg.io/poolerName": POOLER,
    "cnpg.io/cluster": CLUSTER,
    "cnpg.io/podRole": "pooler",
    "app.kubernetes.io/name": "postgresql",
    "app.kubernetes.io/instance": CLUSTER,
    "app.kubernetes.io/component": "pooler",
    "app.kubernetes.io/managed-by": "cloudnative-pg",
    "app.kubernetes.io/part-of": "xciss",  # pooler.yaml's template
}
OPERATOR_NAMESPACE = {"kubernetes.io/metadata.name": "cnpg-system"}
OPERATOR_POD = {"app.kubernetes.io/name": "cloudnative-pg"}


@pytest.fixture(scope="module")
def docs() -> Docs:
    return render("prod-cnpg")


def _cluster(docs: Docs) -> dict[str, Any]:
    return named(docs, "Cluster", CLUSTER)["spec"]


def _env(container: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {e["name"]: e for e in container.get("env", [])}


def _settings(docs: Docs, container: dict[str, Any]) -> Settings:
    """What the process reads: the ConfigMap, then its own env (env wins, as in Kubernetes)."""
    plain = {name: e["value"] for name, e in _env(container).items() if "value" in e}
    return Settings.from_env({**process_env(docs), **plain})


def _service_pods(docs: Docs, svc: str) -> list[tuple[str, dict[str, Any]]]:
    found = [(f"Deployment/{svc}-{role}", named(docs, "Deployment", f"{svc}-{role}")) for role in ("api", "worker", "relay")]
    return [(where, d["spec"]["template"]) for where, d in found]


# --- the operator's custom resources --------------------------------------------


def test_everything_else_is_a_valid_kubernetes_object(docs: Docs, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(kubernetes_validate.utils, "schema_contents", test_manifests._cached_schema_contents)
    assert CUSTOM <= {d["kind"] for d in docs}
    errors = []
    for d in docs:
        if d["kind"] in CUSTOM:
            continue
        try:
            kubernetes_validate.validate(d, test_manifests.K8S_VERSION, strict=True)
        except kubernetes_validate.ValidationError as exc:
            errors.append(f"{d['kind']}/{d['metadata']['name']}: {exc.message} at {list(exc.path)}")
    assert not errors, "\n".join(errors)
    for d in docs:
        if d["kind"] in CUSTOM:
            group = "barmancloud.cnpg.io/v1" if d["kind"] == "ObjectStore" else "postgresql.cnpg.io/v1"
            assert d["apiVersion"] == group and d["metadata"]["namespace"] == "xciss", f"{d['kind']}/{d['metadata']['name']}"


def test_three_instances_on_three_nodes_with_a_synchronous_standby(docs: Docs) -> None:
    spec = _cluster(docs)
    assert spec["instances"] == 3
    affinity = spec["affinity"]
    assert affinity["enablePodAntiAffinity"] is True and affinity["podAntiAffinityType"] == "required"
    assert affinity["topologyKey"] == "kubernetes.io/hostname"
    sync = spec["postgresql"]["synchronous"]
    assert sync["method"] in ("any", "first") and sync["number"] == 1 and sync["dataDurability"] == "required"
    assert spec["resources"]["requests"] == spec["resources"]["limits"] and {"cpu", "memory"} <= set(spec["resources"]["limits"])
    image = re.fullmatch(r"ghcr\.io/cloudnative-pg/postgresql:(\d+)\.(\d+)-[a-z]+-[a-z]+", spec["imageName"])
    assert image and int(image.group(1)) in (16, 17), f"{spec['imageName']}: PostgreSQL 16 or 17, pinned to a minor release"
    assert spec["storage"]["size"] and spec["storage"]["storageClass"]


def test_wal_is_archived_to_object_storage_with_a_retention_and_a_nightly_base_backup(docs: Docs) -> None:
    spec = _cluster(docs)
    assert "backup" not in spec, "the in-tree barmanObjectStore is deprecated: the plugin archives"
    (plugin,) = spec["plugins"]
    assert plugin["name"] == PLUGIN and plugin["isWALArchiver"] is True
    store = named(docs, "ObjectStore", plugin["parameters"]["barmanObjectName"])["spec"]
    assert re.fullmatch(r"\d+[dwm]", store["retentionPolicy"]), store["retentionPolicy"]
    config = store["configuration"]
    assert config["destinationPath"].startswith("s3://") and config["endpointURL"].startswith("https://")
    for ref in config["s3Credentials"].values():
        assert set(ref) == {"name", "key"}, "credentials come from a Secret"
    assert config["wal"]["compression"] and "serverName" not in config  # the plugin's serverName is a Cluster parameter
    # the archive is at most 5 minutes behind: the RPO in docs/operations.md
    assert spec["postgresql"]["parameters"]["archive_timeout"] == "5min"
    doc = (ROOT / "docs" / "operations.md").read_text(encoding="utf-8")
    assert "WAL every ≤ 5 min): ≤ 5 min" in doc
    (scheduled,) = of_kind(docs, "ScheduledBackup")
    sb = scheduled["spec"]
    assert sb["cluster"]["name"] == CLUSTER and sb["method"] == "plugin" and sb["pluginConfiguration"]["name"] == PLUGIN
    fields = sb["schedule"].split()
    assert len(fields) == 6, "CloudNativePG's cron starts with seconds"
    assert all(re.fullmatch(r"\d+", f) for f in fields[:3]) and fields[3:] == ["*", "*", "*"], f"daily: {sb['schedule']}"


def test_pgbouncer_pools_in_transaction_mode_within_the_connection_budget(docs: Docs) -> None:
    pooler = named(docs, "Pooler", POOLER)["spec"]
    assert pooler["cluster"]["name"] == CLUSTER and pooler["type"] == "rw"
    assert pooler["pgbouncer"]["poolMode"] == "transaction"
    image = pooler["pgbouncer"]["image"]
    version = re.fullmatch(r"ghcr\.io/cloudnative-pg/pgbouncer:(\d+)\.(\d+)\.\d+", image)
    assert version and (int(version.group(1)), int(version.group(2))) >= (1, 19), f"{image}: CloudNativePG needs auth_dbname (1.19)"
    instances = pooler["instances"]
    assert instances >= 2
    template = pooler["template"]
    (rule,) = template["spec"]["affinity"]["podAntiAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"]
    assert rule["topologyKey"] == "kubernetes.io/hostname" and selects(rule["labelSelector"], POOLER_POD)
    (c,) = template["spec"]["containers"]
    assert c["name"] == "pgbouncer" and c["resources"]["requests"] == c["resources"]["limits"]
    # CloudNativePG makes no disruption budget for a Pooler
    (pdb,) = [p for p in of_kind(docs, "PodDisruptionBudget") if selects(p["spec"]["selector"], POOLER_POD)]
    assert pdb["spec"]["maxUnavailable"] == 1
    # server connections: the pooler's (per pod, per database) and the migrations' (direct)
    params = pooler["pgbouncer"]["parameters"]
    each = Settings.from_env(process_env(docs)).db_pool().most
    pooled = instances * len(SERVICES) * int(params["default_pool_size"])
    migrations = len(SERVICES) * each
    max_connections = int(_cluster(docs)["postgresql"]["parameters"]["max_connections"])
    assert pooled + migrations + 20 <= max_connections, "room for the operator, backups and an operator's sessions"
    doc = (ROOT / "docs" / "operations.md").read_text(encoding="utf-8")
    assert f"`max_connections` {max_connections}" in doc and f"`default_pool_size` {params['default_pool_size']}" in doc
    # one PgBouncer takes every client alone while the other restarts
    budget = int(re.search(r"(\d+) for the\nfour databases", doc).group(1))
    assert int(params["max_client_conn"]) > budget


def test_each_service_has_its_own_role_and_database(docs: Docs) -> None:
    spec = _cluster(docs)
    roles = {r["name"]: r for r in spec["managed"]["roles"]}
    assert set(roles) == set(SERVICES)
    databases = {d["spec"]["name"]: d["spec"] for d in of_kind(docs, "Database")}
    assert set(databases) == set(SERVICES)
    for svc in SERVICES:
        role = roles[svc]
        assert role["login"] is True and role.get("ensure", "present") == "present"
        assert not role.get("superuser") and not role.get("createdb") and not role.get("createrole")
        assert role["passwordSecret"] == {"name": f"xciss-pg-{svc}"}
        db = databases[svc]
        assert db["owner"] == svc and db["cluster"]["name"] == CLUSTER and db.get("ensure", "present") == "present"
        assert db.get("databaseReclaimPolicy", "retain") == "retain", "deleting the object must not drop the data"
    initdb = spec["bootstrap"]["initdb"]
    assert initdb["database"] == initdb["owner"] in SERVICES and initdb["secret"] == roles[initdb["owner"]]["passwordSecret"]
    # a role reaches only the database named after it (the databases' names are their owners')
    hba = spec["postgresql"]["pg_hba"]
    assert hba[0].split()[:3] == ["hostssl", "sameuser", "all"] and hba[-1].split()[-1] == "reject"


# --- the services ------------------------------------------------------------------


def test_every_service_process_reaches_its_database_through_the_pooler(docs: Docs) -> None:
    pooler = named(docs, "Pooler", POOLER)["metadata"]["name"]  # CloudNativePG names the Service after the Pooler
    for svc in SERVICES:
        pods = _service_pods(docs, svc)
        assert len(pods) == 3
        for where, tpl in pods:
            (c,) = tpl["spec"]["containers"]
            url = urlsplit(_env(c)[f"XCISS_{svc.upper()}_DATABASE_URL"]["value"])
            assert (url.scheme, url.hostname, url.port, url.path, url.username) == ("postgresql+asyncpg", pooler, 5432, f"/{svc}", svc), where
            assert url.password is None, f"{where}: a password in the URL"
            assert _env(c)["PGPASSWORD"]["valueFrom"]["secretKeyRef"] == {"name": f"xciss-pg-{svc}", "key": "password"}
            settings = _settings(docs, c)
            assert settings.db_pool().transaction_pooler, f"{where}: XCISS_DB_TRANSACTION_POOLER is off behind PgBouncer"
            assert settings.database_url(svc) == url.geturl()


def test_migrations_go_to_the_primary_directly(docs: Docs) -> None:
    for svc in SERVICES:
        (c,) = named(docs, "Job", f"{svc}-migrate")["spec"]["template"]["spec"]["containers"]
        url = urlsplit(_env(c)[f"XCISS_{svc.upper()}_DATABASE_URL"]["value"])
        assert (url.hostname, url.port, url.path, url.username, url.password) == (f"{CLUSTER}-rw", 5432, f"/{svc}", svc, None)
        assert _env(c)["PGPASSWORD"]["valueFrom"]["secretKeyRef"] == {"name": f"xciss-pg-{svc}", "key": "password"}
        assert not _settings(docs, c).db_pool().transaction_pooler


def test_no_secret_is_written_down_and_the_guide_creates_every_secret_referenced(docs: Docs) -> None:
    assert of_kind(docs, "Secret") == []
    for where, tpl in pod_templates(docs):
        for c in containers(tpl):
            for name, e in _env(c).items():
                if not test_manifests.SECRET_LIKE.search(name) or name.endswith("_FILE"):
                    continue
                if name.endswith("DATABASE_URL") and "value" in e:
                    assert urlsplit(e["value"]).password is None, f"{where}: {name} holds a password"
                else:
                    assert "secretKeyRef" in e["valueFrom"], f"{where}: {name} is not from a Secret"
    needed: dict[str, set[str]] = {}
    for where, tpl in pod_templates(docs):
        for c in containers(tpl):
            for e in c.get("env", []):
                ref = e.get("valueFrom", {}).get("secretKeyRef")
                if ref and ref["name"].startswith("xciss-pg"):
                    needed.setdefault(ref["name"], set()).add(ref["key"])
    spec = _cluster(docs)
    for role in spec["managed"]["roles"]:
        needed.setdefault(role["passwordSecret"]["name"], set()).update({"username", "password"})  # kubernetes.io/basic-auth
    for store in of_kind(docs, "ObjectStore"):
        for ref in store["spec"]["configuration"]["s3Credentials"].values():
            needed.setdefault(ref["name"], set()).add(ref["key"])
    created = _created_by_the_guide()
    for secret, keys in needed.items():
        assert secret in created, f"docs/operations.md does not create Secret {secret}"
        assert keys <= created[secret], f"Secret {secret}: the guide lacks {keys - created[secret]}"


def _created_by_the_guide() -> dict[str, set[str]]:
    lines = (ROOT / "docs" / "operations.md").read_text(encoding="utf-8").splitlines()
    created: dict[str, set[str]] = {}
    for i, line in enumerate(lines):
        m = re.search(r"kubectl -n xciss create secret generic (\S+)", line)
        if not m:
            continue
        command = [line]
        while command[-1].rstrip().endswith("\\") and i + len(command) < len(lines):
            command.append(lines[i + len(command)])
        joined = " ".join(command)
        if "xciss-pg-" in m.group(1) and m.group(1) != "xciss-pg-backup-s3":
            assert "--type=kubernetes.io/basic-auth" in joined, f"{m.group(1)}: CloudNativePG wants a basic-auth Secret"
        created[m.group(1).replace("$s", "{svc}")] = set(re.findall(r"--from-(?:literal|file)=([A-Za-z0-9_.]+)=", joined))
    for name in [n for n in created if "{svc}" in n]:
        for svc in SERVICES:
            created[name.format(svc=svc)] = created[name]
    return created


# --- the network -------------------------------------------------------------------


def _policies(docs: Docs, labels: dict[str, str]) -> list[dict[str, Any]]:
    return [p for p in of_kind(docs, "NetworkPolicy") if p["spec"]["podSelector"] and selects(p["spec"]["podSelector"], labels)]


def _admitted(docs: Docs, to: dict[str, str], port: int, labels: dict[str, str], namespace: dict[str, str] | None = None) -> bool:
    """Whether some ingress rule of the policies over ``to`` admits pods ``labels`` (of
    ``namespace``, None: this one) on ``port``."""
    for p in _policies(docs, to):
        for rule in p["spec"].get("ingress", []):
            if port not in {x["port"] for x in rule.get("ports", [])}:
                continue
            for peer in rule.get("from", []):
                if "ipBlock" in peer:
                    continue
                in_namespace = selects(peer["namespaceSelector"], namespace) if "namespaceSelector" in peer and namespace else ("namespaceSelector" not in peer and namespace is None)
                if in_namespace and selects(peer.get("podSelector", {}), labels):
                    return True
    return False


def test_services_reach_the_pooler_and_the_pooler_the_instances(docs: Docs) -> None:
    for svc in SERVICES:
        for where, tpl in _service_pods(docs, svc):
            labels = tpl["metadata"]["labels"]
            assert sends(docs, labels, POOLER_POD, 5432), f"{where} may not send to the pooler"
            assert _admitted(docs, POOLER_POD, 5432, labels), f"the pooler refuses {where}"
            # only through the pooler, and no longer to the external address
            assert not sends(docs, labels, INSTANCE, 5432), f"{where} may bypass the pooler"
            egress = [r for p in _policies(docs, labels) for r in p["spec"].get("egress", []) if 5432 in {x["port"] for x in r.get("ports", [])}]
            assert egress and all("ipBlock" not in peer for r in egress for peer in r["to"]), f"{where} still reaches an external database"
    assert sends(docs, POOLER_POD, INSTANCE, 5432) and _admitted(docs, INSTANCE, 5432, POOLER_POD)
    for svc in SERVICES:
        job = named(docs, "Job", f"{svc}-migrate")["spec"]["template"]["metadata"]["labels"]
        assert sends(docs, job, INSTANCE, 5432) and _admitted(docs, INSTANCE, 5432, job), f"{svc}-migrate"


def test_instances_replicate_and_the_operator_reaches_their_status_port(docs: Docs) -> None:
    replica = {**INSTANCE, "cnpg.io/instanceName": f"{CLUSTER}-2"}
    for port in (5432, 8000):
        assert sends(docs, replica, INSTANCE, port) and _admitted(docs, INSTANCE, port, replica), f"instances on {port}"
    assert _admitted(docs, INSTANCE, 8000, OPERATOR_POD, OPERATOR_NAMESPACE)
    # another namespace's pods, or another pod of the operator's namespace, are not the operator
    assert not _admitted(docs, INSTANCE, 8000, OPERATOR_POD, {"kubernetes.io/metadata.name": "elsewhere"})
    assert not _admitted(docs, INSTANCE, 8000, {"app.kubernetes.io/name": "something"}, OPERATOR_NAMESPACE)
    # instances and the pooler may reach the Kubernetes API; instances the backup bucket
    for labels in (INSTANCE, POOLER_POD):
        assert {443, 6443} <= test_manifests._egress_ports(_policies(docs, labels))
    assert any(
        "ipBlock" in peer and 443 in {x["port"] for x in r["ports"]}
        for p in _policies(docs, INSTANCE)
        if p["metadata"]["labels"].get("xciss.io/egress") == "backup-object-store"
        for r in p["spec"]["egress"]
        for peer in r["to"]
    )


def test_nothing_else_in_the_namespace_reaches_the_pooler_or_the_instances(docs: Docs) -> None:
    others = [(where, tpl["metadata"]["labels"]) for where, tpl in pod_templates(docs)]
    for where, labels in others:
        for port in (5432, 8000):
            if labels.get("app.kubernetes.io/component") != "migrate":
                assert not _admitted(docs, INSTANCE, port, labels), f"the instances admit {where} on {port}"
        if "xciss.io/service" not in labels:
            assert not _admitted(docs, POOLER_POD, 5432, labels), f"the pooler admits {where}"
    # every peer of the instances' and the pooler's ingress is one of the intended ones
    intended = [POOLER_POD, INSTANCE, {"app.kubernetes.io/part-of": "xciss", "app.kubernetes.io/component": "migrate"}]
    for target in (INSTANCE, POOLER_POD):
        for p in _policies(docs, target):
            for rule in p["spec"].get("ingress", []):
                for peer in rule["from"]:
                    if "namespaceSelector" in peer:
                        assert peer == {"namespaceSelector": {"matchLabels": OPERATOR_NAMESPACE}, "podSelector": {"matchLabels": OPERATOR_POD}}
                    elif target is INSTANCE:
                        assert any(selects(peer["podSelector"], labels) and peer["podSelector"]["matchLabels"] for labels in intended), peer
                    else:
                        assert peer["podSelector"]["matchLabels"].get("xciss.io/service") in SERVICES, peer


# --- the production policy still holds with the component ---------------------------------

POLICY_CHECKS: list[Callable[..., None]] = [
    test_probes_resources_and_drain.test_every_long_running_container_has_probes_and_every_container_resources,
    test_probes_resources_and_drain.test_workers_and_relays_are_probed_on_their_metrics_port,
    test_probes_resources_and_drain.test_apis_and_the_gateway_keep_serving_while_their_endpoint_is_withdrawn,
    test_spread_and_disruption_budgets.test_every_deployment_spreads_over_zones_and_nats_servers_never_share_a_node,
    test_spread_and_disruption_budgets.test_everything_with_more_than_one_replica_has_a_disruption_budget,
    test_network_paths.test_the_ingress_controller_reaches_the_gateway_and_the_gateway_the_apis,
    test_rollout_and_connection_budget.test_the_connection_budget_in_the_docs_is_what_the_manifests_allow,
]
def _services_reach_only_productions_ports(overlay: tuple[str, Docs]) -> None:
    """Production's ports (object store on 443); 5432 now leads to the pooler."""
    test_manifests.test_services_reach_only_nats_their_database_telemetry_and_for_registry_and_evaluation_documents(("prod", overlay[1]))


OVERLAY_CHECKS: list[Callable[..., None]] = [
    test_manifests.test_each_service_runs_api_worker_relay_and_a_migration_with_real_commands,
    test_manifests.test_every_container_is_non_root_read_only_without_privileges_and_bounded,
    test_manifests.test_everything_is_denied_unless_a_policy_for_that_pod_allows_it,
    test_manifests.test_images_are_pinned,
    _services_reach_only_productions_ports,
]


@pytest.mark.parametrize("check", POLICY_CHECKS, ids=lambda f: f.__name__)
def test_the_production_policy_holds_with_the_component(docs: Docs, check: Callable[[Docs], None]) -> None:
    check(docs)


@pytest.mark.parametrize("check", OVERLAY_CHECKS, ids=lambda f: f.__name__.lstrip("_"))
def test_the_overlay_rules_hold_with_the_component(docs: Docs, check: Callable[[tuple[str, Docs]], None]) -> None:
    check(("prod-cnpg", docs))


def test_the_overlay_is_production_plus_the_component() -> None:
    text = (ROOT / "deploy" / "overlays" / "prod-cnpg" / "kustomization.yaml").read_text(encoding="utf-8")
    assert "- ../prod" in text and "- ../../components/cloudnative-pg" in text
    assert Path(ROOT / "deploy" / "components" / "cloudnative-pg" / "kustomization.yaml").read_text(encoding="utf-8").count("kind: Component") == 1
