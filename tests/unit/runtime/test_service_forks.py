"""``xciss up`` forks its four service processes from a forkserver that imported their
common stack (services/command/service_forks.py): each runs ``xciss`` with the
environment it was given — its own NATS seed and token keys — not the forkserver's,
and its exit code comes back. (That each is named by its command line, stops on
Ctrl-C and leaves nothing behind: ``tests/e2e/test_up.py``.)"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from services.command.service_forks import ServiceForks, wanted
from services.command.up import process_env
from services.runtime.bus_identity.credentials import ensure_seeds, seed_path
from services.runtime.env import SettingsError
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


ROOT = Path(__file__).resolve().parents[3]


def _until_the_parent_is_gone(argv: list[str]) -> None:
    """A forked process's stand-in for a service: it ends when its parent does (``cli._watch_parent``)."""
    parent = os.getppid()
    deadline = time.monotonic() + 60
    while os.getppid() == parent and time.monotonic() < deadline:
        time.sleep(0.05)
    Path(argv[0]).write_text("parent gone" if os.getppid() != parent else "timed out")


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state not in ("Z", "X")


def test_a_killed_xciss_up_takes_the_forkserver_and_the_forked_processes_with_it(tmp_path: Path) -> None:
    """multiprocessing hands each forked process the forkserver's "alive" pipe, so the
    forkserver outlived a killed ``xciss up`` as long as its forks lived, and they, watching
    their parent, lived as long as it did: nothing ended."""
    mark = tmp_path / "orphaned"
    script = (
        "import os, sys, time\n"
        "from multiprocessing import forkserver\n"
        "from services.command.service_forks import ServiceForks\n"
        "from tests.unit.runtime.test_service_forks import _until_the_parent_is_gone\n"
        "forks = ServiceForks(preload=())\n"
        f"child = forks.start([{str(mark)!r}], dict(os.environ), run=_until_the_parent_is_gone)\n"
        "print(forkserver._forkserver._forkserver_pid, child.pid, flush=True)\n"
        "time.sleep(60)\n"
    )
    parent = subprocess.Popen([sys.executable, "-c", script], cwd=ROOT, stdout=subprocess.PIPE, text=True)
    server = child = 0
    try:
        assert parent.stdout is not None
        server, child = (int(w) for w in parent.stdout.readline().split())
        assert _alive(server) and _alive(child)
        parent.send_signal(signal.SIGKILL)
        parent.wait(10)
        deadline = time.monotonic() + 15
        while (_alive(server) or _alive(child)) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not _alive(server), "the forkserver outlived xciss up"
        assert not _alive(child), "a forked process outlived xciss up"
        assert mark.read_text() == "parent gone"
    finally:
        parent.kill()
        parent.wait(10)
        for pid in (server, child):  # what a failure left behind
            if pid and _alive(pid):
                os.kill(pid, signal.SIGKILL)


def test_xciss_up_forks_unless_told_not_to() -> None:
    assert wanted({}) and wanted({"XCISS_UP_FORKS": "1"})
    assert not wanted({"XCISS_UP_FORKS": "0"}) and not wanted({"XCISS_UP_FORKS": "off"})
    with pytest.raises(SettingsError, match="XCISS_UP_FORKS"):  # the settings' one parser of a yes or a no
        wanted({"XCISS_UP_FORKS": "maybe"})


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
