"""``xciss up`` end to end: the real command as a subprocess, the four
services and the embedded nats-server it starts, one flow through the bus,
and a clean stop on Ctrl-C (SIGINT) that leaves no process behind."""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import signal
import stat
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from services.command.natsserver import die_with_parent
from services.runtime.settings import SERVICES
from tests.support.codes import credit_code
from tests.support.ports import free_port

ROOT = Path(__file__).resolve().parents[2]
READY_LINE = "Press Ctrl-C to stop."
START_TIMEOUT_S = 150.0
FLOW_TIMEOUT_S = 60.0
STOP_TIMEOUT_S = 40.0
STREAMS = ("REGISTRY", "VOUCHERS", "EVALUATION", "PAYMENTS", "DEADLETTER")

pytestmark = pytest.mark.slow


# -- /proc helpers (Linux; psutil is not a dependency) -------------------------


def _stat(pid: int) -> tuple[str, int, int, int] | None:
    """(state, ppid, pgid, starttime) of ``pid``, or None when it is gone."""
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        return None
    # the command name is in parentheses and may contain spaces
    fields = raw[raw.rindex(")") + 2 :].split()
    return fields[0], int(fields[1]), int(fields[2]), int(fields[19])


def _all_pids() -> list[int]:
    return [int(d) for d in os.listdir("/proc") if d.isdigit()]


def _tree(root: int) -> dict[int, int]:
    """Descendants of ``root`` plus members of its process group: pid → start time.

    The embedded nats-server runs in its own session (so a terminal's Ctrl-C
    reaches only ``xciss up``), hence the parent-pid walk as well."""
    stats = {pid: st for pid in _all_pids() if (st := _stat(pid)) is not None}
    found: dict[int, int] = {pid: st[3] for pid, st in stats.items() if st[2] == root and pid != root}
    frontier = [root]
    while frontier:
        parent = frontier.pop()
        for pid, st in stats.items():
            if st[1] == parent and pid not in found and pid != root:
                found[pid] = st[3]
                frontier.append(pid)
    return found


def _alive(pid: int, started: int) -> bool:
    """Still running (a zombie or a recycled pid does not count)."""
    st = _stat(pid)
    return st is not None and st[3] == started and st[0] not in ("Z", "X")


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace").strip()
    except OSError:
        return "?"


def _rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def _port_accepts(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(0.5)
        return s.connect_ex(("127.0.0.1", port)) == 0


# -- the running platform --------------------------------------------------------


class Output:
    """Collects a pipe in a background thread, so the child never blocks on it."""

    def __init__(self, stream: Any) -> None:
        self._lines: list[str] = []
        self._lock = threading.Lock()
        self._changed = threading.Condition(self._lock)
        self._thread = threading.Thread(target=self._pump, args=(stream,), daemon=True)
        self._thread.start()

    def _pump(self, stream: Any) -> None:
        for raw in iter(stream.readline, b""):
            with self._changed:
                self._lines.append(raw.decode(errors="replace"))
                self._changed.notify_all()
        stream.close()

    @property
    def text(self) -> str:
        with self._lock:
            return "".join(self._lines)

    def wait_for(self, needle: str, timeout_s: float, give_up: Callable[[], bool]) -> bool:
        deadline = time.monotonic() + timeout_s
        with self._changed:
            while needle not in "".join(self._lines):
                left = deadline - time.monotonic()
                if left <= 0 or give_up():
                    return needle in "".join(self._lines)
                self._changed.wait(min(left, 0.5))
        return True

    def join(self, timeout_s: float) -> None:
        self._thread.join(timeout_s)


def _env(data_dir: Path, ports: dict[str, int], nats_port: int, gateway_port: int) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("XCISS_")}
    env.update(
        XCISS_DATA_DIR=str(data_dir),
        XCISS_NATS_PORT=str(nats_port),
        XCISS_GATEWAY_PORT=str(gateway_port),
        XCISS_LOG_LEVEL="WARNING",
        **{f"XCISS_{s.upper()}_PORT": str(p) for s, p in ports.items()},
    )
    return env


def _distinct_free_ports(n: int) -> list[int]:
    ports: list[int] = []
    while len(ports) < n:
        p = free_port()
        if p not in ports:
            ports.append(p)
    return ports


def _token(env: dict[str, str], role: str, *extra: str) -> str:
    out = subprocess.run(
        [sys.executable, "-m", "services.command.cli", "token", "--role", role, *extra],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=60, check=True,
    )
    return out.stdout.strip().splitlines()[-1]


def _eventually(fn: Callable[[], Any], timeout_s: float, what: str) -> Any:
    deadline = time.monotonic() + timeout_s
    last: Any = None
    while time.monotonic() < deadline:
        last = fn()
        if last:
            return last
        time.sleep(0.25)
    pytest.fail(f"{what} did not happen within {timeout_s:.0f}s (last: {last!r})")


async def _stream_names(url: str, credentials: Path) -> dict[str, list[str]]:
    import nats

    from services.runtime.bus_identity.credentials import seed_path

    # as the operator, with the seed `xciss up` made under its data directory
    nc = await nats.connect(url, connect_timeout=5, max_reconnect_attempts=0, nkeys_seed=str(seed_path(credentials, "operator")), inbox_prefix="_INBOX_operator")
    try:
        js = nc.jetstream()
        return {name: list((await js.stream_info(name)).config.subjects or []) for name in STREAMS}
    finally:
        await nc.close()


def _environ(pid: int) -> str:
    return Path(f"/proc/{pid}/environ").read_bytes().replace(b"\0", b"\n").decode(errors="replace")


async def _anonymous_refused(url: str) -> bool:
    import nats

    try:
        nc = await nats.connect(url, connect_timeout=3, max_reconnect_attempts=0, allow_reconnect=False)
    except Exception as exc:  # the server closes the connection: 'Authorization Violation'
        return "authorization" in str(exc).lower() or isinstance(exc, nats.errors.NoServersError)
    await nc.close()
    return False


@contextlib.contextmanager
def _xciss_up(env: dict[str, str]) -> Iterator[tuple[subprocess.Popen[bytes], Output, dict[int, int]]]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "services.command.cli", "up"],
        cwd=ROOT, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        start_new_session=True,
        preexec_fn=die_with_parent,  # a killed test run leaves no platform behind
    )
    out = Output(proc.stdout)
    seen: dict[int, int] = {}  # the test records the tree here once it is up
    try:
        yield proc, out, seen
    finally:
        # only after a failure is anything still running: take it all down
        if proc.poll() is None:
            seen.update(_tree(proc.pid))
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(10)
        for pid, started in seen.items():
            if _alive(pid, started):
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
        out.join(5)


# -- the test ----------------------------------------------------------------------


def test_xciss_up_serves_a_flow_and_stops_cleanly(tmp_path: Path) -> None:
    nats_port, gateway_port, *http_ports = _distinct_free_ports(2 + len(SERVICES))
    ports = dict(zip(SERVICES, http_ports, strict=True))
    env = _env(tmp_path / "data", ports, nats_port, gateway_port)
    base = {s: f"http://127.0.0.1:{p}" for s, p in ports.items()}
    gateway = f"http://127.0.0.1:{gateway_port}"

    t0 = time.monotonic()
    with _xciss_up(env) as (proc, out, seen):
        # 1. start-up
        up = out.wait_for(READY_LINE, START_TIMEOUT_S, give_up=lambda: proc.poll() is not None)
        startup_s = time.monotonic() - t0
        assert up, f"`xciss up` was not ready within {START_TIMEOUT_S:.0f}s (exit {proc.poll()}):\n{out.text}"
        m = re.search(r"NATS JetStream\s+(nats://\S+)", out.text)
        assert m, out.text
        nats_url = m.group(1)
        assert nats_url.endswith(f":{nats_port}")

        tree = _tree(proc.pid)
        seen.update(tree)
        services_pid = {s: pid for pid in tree for s in SERVICES if _cmdline(pid).endswith(f"services.command.cli run {s}")}
        nats_pids = [pid for pid in tree if "nats-server" in _cmdline(pid)]
        gateway_pids = [pid for pid in tree if _cmdline(pid).endswith("services.command.cli gateway")]
        assert sorted(services_pid) == sorted(SERVICES), {pid: _cmdline(pid) for pid in tree}
        assert len(gateway_pids) == 1, {pid: _cmdline(pid) for pid in tree}
        assert re.search(rf"gateway\s+{re.escape(gateway)}", out.text), out.text
        assert len(nats_pids) == 1, {pid: _cmdline(pid) for pid in tree}

        # 2. every service answers /ready and serves its OpenAPI document
        with httpx.Client(timeout=10.0) as client:
            for s in SERVICES:
                r = client.get(f"{base[s]}/ready")
                assert r.status_code == 200, (s, r.text)
                assert r.json()["status"] == "ready", (s, r.text)
                r = client.get(f"{base[s]}/schema/openapi.json")
                assert r.status_code == 200, (s, r.text[:500])
                assert r.json()["openapi"].startswith("3."), s

            r = client.get(f"{gateway}/ready")
            assert r.status_code == 200 and r.json()["status"] == "ready", r.text
            r = client.get(f"{gateway}/api/openapi.json")
            assert r.status_code == 200 and any(p.startswith("/api/vouchers/") for p in r.json()["paths"]), r.text[:300]

            # idle footprint, once ready
            rss = {s: _rss_kib(pid) for s, pid in services_pid.items()}
            rss["nats-server"] = _rss_kib(nats_pids[0])
            rss["gateway"] = _rss_kib(gateway_pids[0])

            # the demo accounts are printed after the URL and sign in through the gateway (issue 9)
            assert "demo accounts" in out.text and "Xuchang-Demo-2026" in out.text and "demo data not loaded" not in out.text, out.text
            for username in ("demo-user", "demo-center", "demo-sysadmin"):
                r = client.post(f"{gateway}/api/registry/v1/sessions", json={"username": username, "password": "Xuchang-Demo-2026"})
                assert r.status_code == 201, (username, r.text)
            # ... and the sign-in page offers one per business role, as the registry lists them
            page = client.get(f"{gateway}/signin")
            assert page.status_code == 200, page.text[:500]
            for role in ("user", "unit", "center", "bureau", "department", "expert", "finance"):
                assert f'data-role="{role}"' in page.text and f"demo-{role}" in page.text, (role, page.text[-3000:])
            # XCISS_LOG_LEVEL=WARNING holds in the gateway: no httpx line per upstream request
            assert "HTTP Request:" not in out.text, out.text[-3000:]

            # 3. the streams exist on the embedded server, which admits nobody without a key (issue 14)
            credentials = tmp_path / "data" / "nats-credentials"
            assert stat.S_IMODE(credentials.stat().st_mode) == 0o700
            assert {stat.S_IMODE(f.stat().st_mode) for f in credentials.iterdir()} == {0o600}
            # the service processes are forked from one forkserver (services/command/service_forks.py),
            # each given its own seed and token keys after the fork (tests/unit/runtime/test_service_forks.py):
            # the forkserver holds no seed and no private key that a fork could inherit
            forkservers = {_stat(pid)[1] for pid in services_pid.values()}  # type: ignore[index]
            assert len(forkservers) == 1 and "multiprocessing.forkserver" in _cmdline(next(iter(forkservers))), {pid: _cmdline(pid) for pid in forkservers}
            inherited = _environ(next(iter(forkservers)))
            for name in ("XCISS_NATS_NKEY_FILE", "XCISS_NATS_CREDENTIALS_DIR", "XCISS_JWT_SIGNING_KEY_FILE", "XCISS_JWT_SIGNING_KEY"):
                assert f"\n{name}=" not in f"\n{inherited}", name
            # ... the gateway (its own interpreter) its own seed; registry alone signs tokens (it signs in below)
            assert f"XCISS_NATS_NKEY_FILE={credentials / 'gateway.nk'}" in _environ(gateway_pids[0])
            assert "XCISS_NATS_CREDENTIALS_DIR" not in _environ(gateway_pids[0])
            keys = tmp_path / "data" / "token-keys"
            assert stat.S_IMODE(keys.stat().st_mode) == 0o700
            assert {stat.S_IMODE(f.stat().st_mode) for f in keys.iterdir()} == {0o600}
            assert f"XCISS_JWT_JWKS_FILE={keys / 'jwks.json'}" in _environ(gateway_pids[0])
            r = client.get(f"{gateway}/api/registry/v1/.well-known/jwks.json")
            assert r.status_code == 200 and len(r.json()["keys"]) == 1, r.text
            assert asyncio.run(_anonymous_refused(nats_url))
            streams = asyncio.run(_stream_names(nats_url, credentials))
            assert set(streams) == set(STREAMS)
            assert all(streams[name] for name in STREAMS), streams

            # 4. one flow through the bus: register → verify → eligible in vouchers
            user = {"Authorization": f"Bearer {_token(env, 'user')}"}
            center = {"Authorization": f"Bearer {_token(env, 'center')}"}
            # (through the gateway, as a web client would)
            r = client.post(
                f"{gateway}/api/registry/v1/users/",
                headers=user,
                json={"name": "许昌智造科技有限公司", "kind": "enterprise", "classes": ["high_tech"], "credit_code": credit_code()},
            )
            assert r.status_code == 201, r.text
            user_id = r.json()["user_id"]
            r = client.post(f"{gateway}/api/registry/v1/users/{user_id}/verify", headers=center, json={})
            assert r.status_code == 200, r.text

            def eligible() -> dict[str, Any] | None:
                r = client.get(f"{base['vouchers']}/v1/eligibility/users/{user_id}", headers=center)
                assert r.status_code == 200, r.text
                return r.json() if r.json()["eligible"] else None

            t_flow = time.monotonic()
            body = _eventually(eligible, FLOW_TIMEOUT_S, f"user {user_id} eligible in vouchers")
            flow_s = time.monotonic() - t_flow
            assert body["known"] is True and body["reasons"] == []

        # 5. Ctrl-C stops everything
        t_stop = time.monotonic()
        os.kill(proc.pid, signal.SIGINT)
        try:
            code = proc.wait(STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            pytest.fail(f"`xciss up` did not stop within {STOP_TIMEOUT_S:.0f}s of SIGINT:\n{out.text}")
        stop_s = time.monotonic() - t_stop
        out.join(5)
        assert code == 0, f"exit code {code}:\n{out.text}"
        assert "xciss stopped." in out.text, out.text

        # the group may take a moment to be reaped by init if anything was orphaned
        left = _eventually_empty(lambda: [pid for pid, started in tree.items() if _alive(pid, started)], 5.0)
        assert not left, {pid: _cmdline(pid) for pid in left}
        busy = [p for p in (nats_port, gateway_port, *http_ports) if _port_accepts(p)]
        assert not busy, f"ports still accepting connections: {busy}"

    figures = " ".join(f"{name}={kib / 1024:.0f}MiB" for name, kib in rss.items())
    print(
        f"\n[xciss up] startup={startup_s:.1f}s flow={flow_s:.2f}s stop={stop_s:.1f}s "
        f"idle RSS: {figures} total={sum(rss.values()) / 1024:.0f}MiB"
    )


def _eventually_empty(fn: Callable[[], list[int]], timeout_s: float) -> list[int]:
    deadline = time.monotonic() + timeout_s
    left = fn()
    while left and time.monotonic() < deadline:
        time.sleep(0.2)
        left = fn()
    return left
