"""The token keys in the rendered overlays: only registry's API holds the
signing key, every process verifies with the JWKS it mounts."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from services.runtime.settings import SERVICES, Settings
from tests.deploy.rendered import (
    Docs,
    containers,
    named,
    of_kind,
    pod_templates,
    process_env,
)

# --- token keys -----------------------------------------------------------------


def _volume_sources(template: dict[str, Any], container: dict[str, Any]) -> dict[str, tuple[str, str]]:
    """mountPath -> (kind, name) of the Secret or ConfigMap mounted there."""
    volumes = {v["name"]: v for v in template["spec"].get("volumes", [])}
    out = {}
    for m in container.get("volumeMounts", []):
        v = volumes.get(m["name"], {})  # a StatefulSet's claim templates are not here
        if "secret" in v:
            out[m["mountPath"]] = ("Secret", v["secret"]["secretName"])
        elif "configMap" in v:
            out[m["mountPath"]] = ("ConfigMap", v["configMap"]["name"])
    return out


def test_only_registrys_api_mounts_the_token_signing_key(overlay: tuple[str, Docs]) -> None:
    _, docs = overlay
    signing = [
        where
        for where, tpl in pod_templates(docs)
        for c in containers(tpl)
        for kind, name in _volume_sources(tpl, c).values()
        if kind == "Secret" and name.startswith("xciss-token-signing")
    ]
    assert signing == ["Deployment/registry-api"]
    for where, tpl in pod_templates(docs):
        for c in containers(tpl):
            names = {e["name"] for e in c.get("env", [])}
            assert not {"XCISS_JWT_SECRET", "XCISS_JWT_SIGNING_KEY"} & names, where
            for src in c.get("envFrom", []):
                ref = src.get("secretRef") or src.get("configMapRef") or {}
                assert not ref.get("name", "").startswith("xciss-token-signing"), f"{where}: the signing key as environment"
    for svc in SERVICES:
        for component in ("api", "worker", "relay"):
            tpl = named(docs, "Deployment", f"{svc}-{component}")["spec"]["template"]
            (c,) = tpl["spec"]["containers"]
            env = {e["name"]: e.get("value") for e in c.get("env", [])}
            sources = _volume_sources(tpl, c)
            jwks_dir = env["XCISS_JWT_JWKS_FILE"].rsplit("/", 1)[0]
            assert sources[jwks_dir][0] == "ConfigMap" and sources[jwks_dir][1].startswith("xciss-token-jwks"), f"{svc}-{component}"
            assert ("XCISS_JWT_SIGNING_KEY_FILE" in env) == (svc == "registry" and component == "api"), f"{svc}-{component}"


def test_each_dev_pod_passes_the_production_token_key_check_with_what_it_mounts(dev: Docs, tmp_path: Path) -> None:
    """The dev overlay's generated key and JWKS, mounted as the manifests say, pass
    ``token_key_problems`` for every api, worker and relay (as if in prod mode)."""
    import base64

    from services.runtime.tokenkeys import token_key_problems

    contents = {("ConfigMap", d["metadata"]["name"]): d.get("data", {}) for d in of_kind(dev, "ConfigMap")}
    contents |= {("Secret", d["metadata"]["name"]): {k: base64.b64decode(v).decode() for k, v in d.get("data", {}).items()} for d in of_kind(dev, "Secret")}
    for svc in SERVICES:
        for component in ("api", "worker", "relay"):
            tpl = named(dev, "Deployment", f"{svc}-{component}")["spec"]["template"]
            (c,) = tpl["spec"]["containers"]
            root = tmp_path / f"{svc}-{component}"
            for mount, source in _volume_sources(tpl, c).items():
                for key, text in contents[source].items():
                    (root / mount.lstrip("/")).mkdir(parents=True, exist_ok=True)
                    (root / mount.lstrip("/") / key).write_text(text)
            env = {e["name"]: str(root) + e["value"] if e["name"].startswith("XCISS_JWT_") else e.get("value", "") for e in c.get("env", []) if "value" in e}
            settings = Settings.from_env({**process_env(dev), **env, "XCISS_DATA_DIR": str(root), "XCISS_MODE": "prod"})
            assert token_key_problems(settings, svc, signs=svc == "registry" and component == "api") == [], f"{svc}-{component}"
