"""The files a NATS pod of a rendered overlay sees under /etc/nats, laid out
in a test directory: nats.conf from the ConfigMap, auth/auth.conf from the
Secret xciss-nats-auth (the dev overlay ships it; in production the operator
creates it with `xciss bus k8s-secrets`, run here on fresh keys) and, for the
production overlay, tls/ with a test CA's certificate."""

from __future__ import annotations

import base64
import contextlib
import io
from pathlib import Path
from typing import Any

import pytest
import yaml

from services.command.cli import main as xciss
from tests.support.ports import free_port
from tests.support.tlscerts import make_certificates

Docs = list[dict[str, Any]]


def base_name(name: str, docs: Docs) -> str:
    """A Secret's name without the hash suffix kustomize gives a generated one
    (only the dev overlay generates Secrets; production ships none)."""
    generated = {d["metadata"]["name"] for d in docs if d["kind"] == "Secret"}
    head, _, tail = name.rpartition("-")
    return head if name in generated and len(tail) == 10 else name


def secrets_of(docs: Docs, *, hashed: bool = True) -> dict[str, dict[str, str]]:
    """Secret (base name) -> file -> text, from rendered Secrets (``hashed``: kustomize's)."""
    return {
        (base_name(d["metadata"]["name"], docs) if hashed else d["metadata"]["name"]): {k: base64.b64decode(v).decode() for k, v in d.get("data", {}).items()}
        for d in docs
        if d["kind"] == "Secret"
    }


def operator_secrets(directory: Path, partners: tuple[str, ...] = ()) -> dict[str, dict[str, str]]:
    """What `xciss bus keys DIR [--partner P]` and `xciss bus k8s-secrets DIR` give a production operator."""
    with contextlib.redirect_stdout(io.StringIO()), pytest.raises(SystemExit):
        xciss(["bus", "keys", str(directory), *(f"--partner={p}" for p in partners)])
    out = io.StringIO()
    with contextlib.redirect_stdout(out), pytest.raises(SystemExit) as done:
        xciss(["bus", "k8s-secrets", str(directory), "--namespace", "xciss"])
    assert done.value.code == 0
    return secrets_of([d for d in yaml.safe_load_all(out.getvalue()) if d], hashed=False)


class NatsPodFiles:
    def __init__(self, root: Path, conf: Path, seeds: dict[str, str], client_port: int, tls: bool):
        self.root = root
        self.conf = conf
        self.seeds = seeds  # identity -> seed text
        self.client_port = client_port
        self.tls = tls

    def seed_file(self, identity: str) -> Path:
        path = self.root / f"{identity}.nk"
        path.write_text(self.seeds[identity])
        path.chmod(0o600)
        return path


def lay_out(name: str, docs: Docs, conf_text: str, root: Path) -> NatsPodFiles:
    """/etc/nats of overlay ``name`` under ``root``, on free local ports."""
    if name == "dev":
        secrets = secrets_of(docs)
    else:
        assert not [d for d in docs if d["kind"] == "Secret"]
        secrets = operator_secrets(root / "operator-keys", partners=("provincial",))
    (root / "auth").mkdir(parents=True)
    (root / "auth" / "auth.conf").write_text(secrets["xciss-nats-auth"]["auth.conf"])
    seeds = {n.removeprefix("xciss-nats-"): files["seed.nk"] for n, files in secrets.items() if "seed.nk" in files}
    # a partner's seed is handed to the partner, never stored in the cluster
    assert not [n for n in seeds if n.startswith("partner-")]
    seeds.update({p.stem: p.read_text() for p in (root / "operator-keys").glob("partner-*.nk")} if name != "dev" else {})
    tls = "/etc/nats/tls/" in conf_text
    if tls:
        make_certificates(root / "tls")
    client, monitor, route = free_port(), free_port(), free_port()
    text = (
        conf_text.replace("/etc/nats/", f"{root}/")
        .replace("listen: 0.0.0.0:4222", f"listen: 127.0.0.1:{client}")
        .replace("http: 0.0.0.0:8222", f"http: 127.0.0.1:{monitor}")
        .replace("listen: 0.0.0.0:6222", f"listen: 127.0.0.1:{route}")
        .replace("/data/jetstream", str(root / "jetstream"))
        .replace('pid_file: "/var/run/nats/nats.pid"', f'pid_file: "{root}/nats.pid"')
    )
    conf = root / "nats.conf"
    conf.write_text(text)
    return NatsPodFiles(root, conf, seeds, client, tls)

