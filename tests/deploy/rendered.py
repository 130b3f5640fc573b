"""Reading the rendered overlays: documents by kind and name, pod templates,
their containers and their named ports, the settings a process in the cluster
reads, and what the NetworkPolicies let pods send and admit."""

from __future__ import annotations

import functools
import re
import tempfile
from pathlib import Path, PurePosixPath
from typing import Any

from services.runtime.settings import Settings

Docs = list[dict[str, Any]]

WORKLOADS = ("Deployment", "StatefulSet", "Job", "DaemonSet")


def of_kind(docs: Docs, kind: str) -> list[dict[str, Any]]:
    return [d for d in docs if d["kind"] == kind]


def named(docs: Docs, kind: str, name: str) -> dict[str, Any]:
    found = [d for d in of_kind(docs, kind) if d["metadata"]["name"] == name]
    assert found, f"no {kind} {name}"
    return found[0]


def pod_templates(docs: Docs) -> list[tuple[str, dict[str, Any]]]:
    return [(f"{d['kind']}/{d['metadata']['name']}", d["spec"]["template"]) for d in docs if d["kind"] in WORKLOADS]


def containers(template: dict[str, Any]) -> list[dict[str, Any]]:
    spec = template["spec"]
    return [*spec.get("initContainers", []), *spec["containers"]]


#: a kustomize-generated name: the base name, a dash and a hash of the content
GENERATED = re.compile(r"^(?P<base>.+)-(?P<hash>[a-z0-9]{10})$")


def generated(docs: Docs, kind: str, base: str) -> dict[str, Any]:
    """The one object kustomize generated as ``base`` (its name with the content hash)."""
    found = [d for d in of_kind(docs, kind) if (m := GENERATED.match(d["metadata"]["name"])) and m.group("base") == base]
    assert len(found) == 1, f"{len(found)} generated {kind}s {base}-<hash>"
    return found[0]


def xciss_config(docs: Docs) -> dict[str, str]:
    return generated(docs, "ConfigMap", "xciss-config")["data"]


def city_config_map(docs: Docs) -> dict[str, str]:
    """The files of the generated ConfigMap xciss-city, mounted at XCISS_CITY_FILE's directory."""
    return generated(docs, "ConfigMap", "xciss-city")["data"]


@functools.cache
def _laid_out(name: str, text: str) -> str:
    """A mounted file's text written on this machine (once per content): its path."""
    path = Path(tempfile.mkdtemp(prefix="xciss-deploy-")) / name
    path.write_text(text, encoding="utf-8")
    return str(path)


def process_env(docs: Docs) -> dict[str, str]:
    """The settings of xciss-config as a process in the cluster reads them, with the city
    file it mounts (XCISS_CITY_FILE) laid out on this machine, where the settings read it."""
    env = dict(xciss_config(docs))
    name = PurePosixPath(env["XCISS_CITY_FILE"]).name
    env["XCISS_CITY_FILE"] = _laid_out(name, city_config_map(docs)[name])
    return env


def settings_of(docs: Docs) -> Settings:
    """What a process in the cluster reads, parsed by the real settings code."""
    return Settings.from_env(process_env(docs))


def selects(selector: dict[str, Any], labels: dict[str, str]) -> bool:
    assert not selector.get("matchExpressions"), "selectors here use matchLabels only"
    return all(labels.get(k) == v for k, v in selector.get("matchLabels", {}).items())


def xciss_deployments(docs: Docs, component: str) -> list[dict[str, Any]]:
    return [
        d
        for d in of_kind(docs, "Deployment")
        if d["spec"]["template"]["metadata"]["labels"].get("app.kubernetes.io/component") == component
        and d["spec"]["template"]["metadata"]["labels"].get("app.kubernetes.io/part-of") == "xciss"
    ]


def nats_conf(docs: Docs) -> str:
    return named(docs, "ConfigMap", "nats-config")["data"]["nats.conf"]


def port_number(container: dict[str, Any], port: int | str) -> int:
    """A container port by its number or its name."""
    if isinstance(port, int):
        return port
    found = [p["containerPort"] for p in container.get("ports", []) if p.get("name") == port]
    assert found, f"container {container['name']} has no port named {port}"
    return found[0]


def sends(docs: Docs, labels: dict[str, str], to: dict[str, str], port: int) -> bool:
    """Whether some NetworkPolicy over ``labels`` lets them send to pods labelled ``to`` on ``port``."""
    mine = [p for p in of_kind(docs, "NetworkPolicy") if p["spec"]["podSelector"] and selects(p["spec"]["podSelector"], labels)]
    return any(
        any(selects(peer["podSelector"], to) for peer in r.get("to", []) if "podSelector" in peer) and port in {x["port"] for x in r.get("ports", [])}
        for p in mine
        for r in p["spec"].get("egress", [])
    )


def admits(policy: dict[str, Any], labels: dict[str, str], port: int) -> bool:
    """Whether ``policy`` admits pods labelled ``labels`` (of its own namespace) on ``port``."""
    for rule in policy["spec"].get("ingress", []):
        peers = [p for p in rule.get("from", []) if "podSelector" in p and "namespaceSelector" not in p]
        if any(selects(p["podSelector"], labels) for p in peers) and any(p["port"] == port for p in rule.get("ports", [])):
            return True
    return False
