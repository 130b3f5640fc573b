"""The city file in the rendered overlays (issue 18): every xciss process mounts the
ConfigMap xciss-city at the directory of XCISS_CITY_FILE, and that ConfigMap holds the
packaged Xuchang file, so the cluster serves the city the image would."""

from __future__ import annotations

import copy
import os
import subprocess
from pathlib import Path, PurePosixPath
from typing import Any

import yaml

from services.runtime.city import DEFAULT_FILE, packaged_city
from tests.deploy.conftest import DEPLOY, kubectl
from tests.deploy.rendered import (
    GENERATED,
    Docs,
    city_config_map,
    containers,
    named,
    of_kind,
    pod_templates,
    settings_of,
    xciss_config,
)
from tests.support.city import ZHENGZHOU


def _runs_xciss(container: dict[str, Any]) -> bool:
    """The image's entrypoint is the xciss command, which reads the settings; a container
    with a command of its own (the dev overlay's bucket maker) does not."""
    return "xciss" in container.get("image", "") and "command" not in container


def _base(name: str) -> str:
    """A generated object's name without its content hash."""
    m = GENERATED.match(name)
    return m.group("base") if m else name


def city_file_problems(docs: Docs) -> list[str]:
    """Each xciss container that would not find the city file where XCISS_CITY_FILE says."""
    problems: list[str] = []
    config = xciss_config(docs)
    cities = {d["metadata"]["name"] for d in of_kind(docs, "ConfigMap") if _base(d["metadata"]["name"]) == "xciss-city"}
    for where, tpl in pod_templates(docs):
        volumes = {v["name"]: v for v in tpl["spec"].get("volumes", [])}
        for c in containers(tpl):
            if not _runs_xciss(c):
                continue
            env = {**config, **{e["name"]: e["value"] for e in c.get("env", []) if "value" in e}}
            path = env.get("XCISS_CITY_FILE")
            if not path:
                problems.append(f"{where}/{c['name']}: no XCISS_CITY_FILE (it would serve the image's packaged city)")
                continue
            file = PurePosixPath(path)
            mounts = [m for m in c.get("volumeMounts", []) if PurePosixPath(m["mountPath"]) == file.parent]
            if not mounts:
                problems.append(f"{where}/{c['name']}: nothing mounted at {file.parent} for XCISS_CITY_FILE {path}")
                continue
            volume = volumes.get(mounts[0]["name"], {})
            if volume.get("configMap", {}).get("name") not in cities:
                problems.append(f"{where}/{c['name']}: {file.parent} is not the ConfigMap xciss-city")
            elif file.name not in named(docs, "ConfigMap", volume["configMap"]["name"]).get("data", {}):
                problems.append(f"{where}/{c['name']}: xciss-city has no {file.name}")
    return problems


def test_every_xciss_process_mounts_the_city_file(every_overlay: tuple[str, Docs]) -> None:
    name, docs = every_overlay
    assert city_file_problems(docs) == [], name
    # the services' three processes, their migrations, the gateway and the streams Job
    mounted = {where for where, tpl in pod_templates(docs) for c in containers(tpl) if _runs_xciss(c)}
    assert {"Deployment/gateway", "Job/xciss-streams", "Job/registry-migrate", "Deployment/payments-worker"} <= mounted, name


def test_the_mounted_city_is_the_packaged_xuchang_file(every_overlay: tuple[str, Docs]) -> None:
    name, docs = every_overlay
    assert city_config_map(docs)["city.yaml"] == DEFAULT_FILE.read_text(encoding="utf-8"), f"{name}: deploy/base/city.yaml differs from {DEFAULT_FILE.name}"
    assert settings_of(docs).city == packaged_city(), name


def test_a_manifest_without_the_city_file_mount_fails(prod: Docs) -> None:
    assert city_file_problems(prod) == []

    unmounted = copy.deepcopy(prod)
    api = named(unmounted, "Deployment", "registry-api")["spec"]["template"]["spec"]["containers"][0]
    api["volumeMounts"] = [m for m in api["volumeMounts"] if m["mountPath"] != "/etc/xciss/city"]
    assert city_file_problems(unmounted) == ["Deployment/registry-api/api: nothing mounted at /etc/xciss/city for XCISS_CITY_FILE /etc/xciss/city/city.yaml"]

    other = copy.deepcopy(prod)
    gateway = named(other, "Deployment", "gateway")["spec"]["template"]["spec"]
    for v in gateway["volumes"]:
        if v["name"] == "city":
            v["configMap"]["name"] = "xciss-token-jwks"
    assert city_file_problems(other) == ["Deployment/gateway/gateway: /etc/xciss/city is not the ConfigMap xciss-city"]

    unset = copy.deepcopy(prod)
    for d in unset:
        if d["kind"] == "ConfigMap" and d["metadata"]["name"].startswith("xciss-config-"):
            del d["data"]["XCISS_CITY_FILE"]
    problems = city_file_problems(unset)
    assert problems and all("no XCISS_CITY_FILE" in p for p in problems)
    assert any(p.startswith("Job/registry-migrate/") for p in problems)


def test_the_next_city_replaces_the_file_in_its_overlay(tmp_path: Path) -> None:
    """docs/operations.md, "The city": an overlay on prod replacing xciss-city's city.yaml
    mounts the new city in every process, under a new hashed name."""
    (tmp_path / "city-zhengzhou.yaml").write_text(ZHENGZHOU, encoding="utf-8")
    prod = os.path.relpath(DEPLOY / "overlays" / "prod", tmp_path)
    (tmp_path / "kustomization.yaml").write_text(
        "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\n"
        f"resources:\n  - {prod}\n"
        "configMapGenerator:\n  - name: xciss-city\n    behavior: replace\n    files:\n      - city.yaml=city-zhengzhou.yaml\n",
        encoding="utf-8",
    )
    out = subprocess.run([kubectl(), "kustomize", str(tmp_path)], capture_output=True, text=True, timeout=120, check=False)
    assert out.returncode == 0, out.stderr
    docs = [d for d in yaml.safe_load_all(out.stdout) if d]
    assert city_file_problems(docs) == []
    assert city_config_map(docs) == {"city.yaml": ZHENGZHOU}
    city = settings_of(docs).city
    assert (city.name.en, city.division_prefix, list(city.divisions)) == ("Zhengzhou", "4101", ["410102", "410103"])
