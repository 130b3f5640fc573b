"""Rolling out the overlays: a changed setting rolls the pods (generated
ConfigMaps with a content hash), finished Jobs are cleaned up after a day, the
Upgrade step applies the migrations with the ConfigMap they read, and the
connection budget docs/operations.md states is what the manifests allow."""

from __future__ import annotations

import re

from services.runtime.settings import SERVICES
from tests.deploy.conftest import ROOT
from tests.deploy.rendered import Docs, containers, generated, named, of_kind, pod_templates, settings_of


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
