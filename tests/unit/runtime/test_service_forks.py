"""``xciss up`` forks its four service processes from a forkserver that imported their
common stack (services/command/service_forks.py): each runs ``xciss`` with the
environment it was given — its own NATS seed and token keys — not the forkserver's,
and its exit code comes back. (That each is named by its command line, stops on
Ctrl-C and leaves nothing behind: ``tests/e2e/test_up.py``.)"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from services.command.service_forks import ServiceForks, wanted
from services.command.up import process_env
from services.runtime.bus_identity.credentials import ensure_seeds, seed_path
from services.runtime.settings import SERVICES, Settings
from services.runtime.tokenkeys import ensure_dev_keys


@pytest.fixture(scope="module")
def forks() -> ServiceForks:
    return ServiceForks(preload=())  # the forking, not the imports, is under test


def _base_env(data_dir: Path) -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith("XCISS_")} | {"XCISS_DATA_DIR": str(data_dir)}


def test_a_forked_process_runs_xciss_with_the_environment_it_is_given(forks: ServiceForks, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    signing, jwks = ensure_dev_keys(tmp_path)
    # keys that do not exist here, in the process that asks for the fork
    monkeypatch.setenv("XCISS_JWT_JWKS_FILE", str(tmp_path / "missing.json"))
    fit = forks.start(["keys", "token-check", "--identity", "registry"], _base_env(tmp_path) | {"XCISS_JWT_JWKS_FILE": str(jwks), "XCISS_JWT_SIGNING_KEY_FILE": str(signing)})
    unfit = forks.start(["keys", "token-check", "--identity", "registry"], _base_env(tmp_path) | {"XCISS_JWT_JWKS_FILE": str(tmp_path / "missing.json")})
    assert fit.wait(60) == 0
    assert unfit.wait(60) == 1
    assert fit.poll() == 0 and unfit.poll() == 1


def test_xciss_up_forks_unless_told_not_to() -> None:
    assert wanted({}) and wanted({"XCISS_UP_FORKS": "1"})
    assert not wanted({"XCISS_UP_FORKS": "0"}) and not wanted({"XCISS_UP_FORKS": "off"})


def test_each_process_gets_its_own_seed_and_only_the_issuer_the_signing_key(tmp_path: Path) -> None:
    credentials = tmp_path / "nats-credentials"
    ensure_seeds(credentials, [*SERVICES, "gateway", "operator"])
    settings = Settings(data_dir=tmp_path, nats_url="nats://127.0.0.1:4222", nats_credentials_dir=credentials)
    env = _base_env(tmp_path)
    for service in SERVICES:
        own = process_env(env, settings, service, signs=service == "registry")
        assert own["XCISS_NATS_NKEY_FILE"] == str(seed_path(credentials, service))
        assert "XCISS_NATS_CREDENTIALS_DIR" not in own
        assert own["XCISS_JWT_JWKS_FILE"] == str(tmp_path / "token-keys" / "jwks.json")
        assert ("XCISS_JWT_SIGNING_KEY_FILE" in own) == (service == "registry"), service
    gateway = process_env(env, settings, "gateway", signs=False)
    assert gateway["XCISS_NATS_NKEY_FILE"] == str(seed_path(credentials, "gateway")) and "XCISS_JWT_SIGNING_KEY_FILE" not in gateway
