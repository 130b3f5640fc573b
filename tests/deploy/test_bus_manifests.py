"""The bus in the rendered overlays (issue 14): each process mounts its own
NATS key and nobody else's, the servers' authorization block is the one the
permission table renders, production is TLS on clients and routes, and the
rendered configuration really runs: nobody gets in without a known key."""

from __future__ import annotations

import asyncio
import os
import re
import subprocess
from pathlib import Path
from typing import Any

import nats

from services.runtime import safety
from services.runtime.bus_identity.permissions import GATEWAY, OPERATOR
from services.runtime.platform import platform_plan
from services.runtime.bus.serverconfig import authorization_block, keys_in
from services.command.natsserver import nats_server_binary, port_open
from services.runtime.settings import SERVICES
from tests.deploy.conftest import DEPLOY, ROOT
from tests.deploy.natsfiles import base_name, lay_out, operator_secrets
from tests.deploy.rendered import (
    Docs,
    containers,
    named,
    nats_conf,
    of_kind,
    pod_templates,
    settings_of,
    xciss_config,
)
from tests.support.polling import eventually

SEED_FILE = "/etc/xciss/nats/seed.nk"


def _secret_volumes(tpl: dict[str, Any], docs: Docs) -> set[str]:
    return {base_name(v["secret"]["secretName"], docs) for v in tpl["spec"].get("volumes", []) if "secret" in v}


def _env(container: dict[str, Any]) -> dict[str, str]:
    return {e["name"]: e.get("value", "") for e in container.get("env", [])}


def test_each_process_mounts_its_own_nats_key_and_nobody_elses(overlay: tuple[str, Docs]) -> None:
    _, docs = overlay
    seen: dict[str, str] = {}
    for where, tpl in pod_templates(docs):
        labels = tpl["metadata"]["labels"]
        nats_secrets = {s for s in _secret_volumes(tpl, docs) if s.startswith("xciss-nats-")}
        if labels.get("app.kubernetes.io/name") == "nats":
            assert nats_secrets <= {"xciss-nats-auth", "xciss-nats-tls"} and "xciss-nats-auth" in nats_secrets, f"{where}: {nats_secrets}"
            continue
        service, component = labels.get("xciss.io/service"), labels.get("app.kubernetes.io/component")
        if component not in ("api", "worker", "relay", "streams", "gateway"):  # migrations, the collector, dev's helpers
            assert not nats_secrets, f"{where} holds NATS keys {nats_secrets}"
            continue
        identity = {"streams": OPERATOR, "gateway": GATEWAY}.get(component, service)
        assert identity, where
        assert nats_secrets == {f"xciss-nats-{identity}"}, f"{where} mounts {nats_secrets}"
        (c,) = containers(tpl)
        assert _env(c).get("XCISS_NATS_NKEY_FILE") == SEED_FILE, where
        seen[where] = identity
    assert sorted(set(seen.values())) == sorted([*SERVICES, OPERATOR, GATEWAY])


def test_the_dev_overlays_authorization_is_the_permission_tables(dev: Docs) -> None:
    directory = DEPLOY / "overlays" / "dev" / "nats-credentials"
    rendered = authorization_block(platform_plan(), keys_in(directory, platform_plan()))
    assert (directory / "auth.conf").read_text() == rendered, (
        "deploy/overlays/dev/nats-credentials/auth.conf is stale: run "
        "`xciss bus server-config deploy/overlays/dev/nats-credentials > deploy/overlays/dev/nats-credentials/auth.conf`"
    )
    assert re.search(r'^\s*include "auth/auth.conf"\s*$', nats_conf(dev), re.M)


def test_production_speaks_tls_on_clients_and_routes(prod: Docs) -> None:
    conf = nats_conf(prod)
    top = conf.split("cluster {")[0]
    assert re.search(r"^tls \{[^}]*cert_file: \"/etc/nats/tls/tls.crt\"", top, re.M)
    cluster = conf.split("cluster {")[1]
    assert re.search(r"tls \{[^}]*ca_file: \"/etc/nats/tls/ca.crt\"[^}]*verify: true", cluster)
    assert re.search(r'^\s*include "auth/auth.conf"\s*$', conf, re.M)
    settings = settings_of(prod)
    assert settings.nats_url and settings.nats_url.startswith("tls://")
    # every process that holds a NATS key trusts the CA, from a ConfigMap (no private key in its pod)
    ca = xciss_config(prod)["XCISS_NATS_TLS_CA_FILE"]
    docs = prod
    for where, tpl in pod_templates(prod):
        (c, *_) = containers(tpl)
        if "XCISS_NATS_NKEY_FILE" not in _env(c):
            continue
        volumes = {v["name"]: v for v in tpl["spec"]["volumes"]}
        mounts = [m for m in c["volumeMounts"] if ca.startswith(m["mountPath"].rstrip("/") + "/")]
        assert mounts and volumes[mounts[0]["name"]].get("configMap", {}).get("name") == "xciss-nats-ca", where
        assert "xciss-nats-tls" not in _secret_volumes(tpl, docs), f"{where} holds the servers' private key"
    # with its key mounted, a production process has nothing about the bus to refuse
    import msgspec

    with_key = msgspec.structs.replace(settings, nats_nkey_file=Path(SEED_FILE), nats_tls_ca_file=Path(ca))
    assert not [p for p in safety.configuration_problems(with_key, OPERATOR) if p.code.startswith("bus.")]


def test_the_install_guide_creates_the_bus_secrets_production_mounts(prod: Docs, tmp_path: Path) -> None:
    guide = (ROOT / "docs" / "operations.md").read_text(encoding="utf-8")
    by_cli = set(operator_secrets(tmp_path / "keys"))
    by_guide = set(re.findall(r"kubectl -n xciss create secret generic (\S+)", guide))
    config_maps = set(re.findall(r"kubectl -n xciss create configmap (\S+)", guide))
    assert "xciss bus k8s-secrets" in guide and "xciss bus keys" in guide
    docs = prod
    for where, tpl in pod_templates(prod):
        for secret in _secret_volumes(tpl, docs):
            assert secret in by_cli | by_guide, f"{where} mounts Secret {secret}, which neither the guide nor `xciss bus k8s-secrets` creates"
        for v in tpl["spec"].get("volumes", []):
            if "configMap" in v and v["configMap"]["name"] not in {d["metadata"]["name"] for d in of_kind(prod, "ConfigMap")}:
                assert v["configMap"]["name"] in config_maps, f"{where} mounts ConfigMap {v['configMap']['name']} nobody creates"
    assert named(prod, "NetworkPolicy", "nats")  # the network policy stays, as a second line


async def _connect(files, identity: str | None, tls: bool) -> str:  # noqa: ANN001
    import ssl

    options: dict[str, Any] = {"connect_timeout": 3, "allow_reconnect": False, "max_reconnect_attempts": 0}
    if identity:
        options["nkeys_seed"] = str(files.seed_file(identity))
        options["inbox_prefix"] = f"_INBOX_{identity}"
    if tls:
        options["tls"] = ssl.create_default_context(cafile=str(files.root / "tls" / "ca.crt"))
    errors: list[Exception] = []

    async def on_error(e: Exception) -> None:
        errors.append(e)

    try:
        nc = await nats.connect(f"nats://127.0.0.1:{files.client_port}", error_cb=on_error, **options)
    except Exception as exc:  # noqa: BLE001
        return f"refused: {exc}"
    try:
        await nc.publish("registry.award.approved.v1", b"{}")  # another producer's subject
        await nc.flush()
        await asyncio.sleep(0.3)
    finally:
        await nc.close()
    return "connected" + (" but refused to publish" if any("permissions violation" in str(e).lower() for e in errors) else "")


async def test_the_rendered_bus_admits_only_known_keys(overlay: tuple[str, Docs], tmp_path: Path) -> None:
    name, docs = overlay
    files = lay_out(name, docs, nats_conf(docs), tmp_path)
    log = open(tmp_path / "nats.log", "wb")  # noqa: SIM115
    proc = subprocess.Popen([nats_server_binary(), "-c", str(files.conf)], stdout=log, stderr=log, env={**os.environ, "POD_NAME": "nats-0"})
    try:
        await eventually(lambda: port_open("127.0.0.1", files.client_port), timeout=10, what="the rendered bus listening")
        assert await _connect(files, "payments", files.tls) == "connected but refused to publish"
        assert (await _connect(files, None, files.tls)).startswith("refused")
        if files.tls:
            assert (await _connect(files, "payments", tls=False)).startswith("refused")
            # a partner issued by `xciss bus keys --partner` connects to the deployed bus, and is kept off internal subjects
            assert await _connect(files, "partner-provincial", files.tls) == "connected but refused to publish"
    finally:
        proc.terminate()
        proc.wait(10)
        log.close()
