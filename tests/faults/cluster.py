"""The real platform as separate processes, for fault injection: NATS (one
embedded ``nats-server -js``, or the three-node JetStream cluster of
``natscluster.py``), each service as ``xciss run <service>`` (api + worker +
relay; one or two replicas) with its own database — SQLite files in a data
directory, or PostgreSQL databases ``xf_<run>_<service>`` on the shared
server or on a server of the run's own (``tests/support/pgserver.py``) — and,
in the cluster shape, the gateway in front of the API replicas.

Everything started here is a child in its own process group, killed on
``close()`` (and, through PR_SET_PDEATHSIG, when this process dies)."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sqlite3
import time
import uuid
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import msgspec
from nats.js.api import ConsumerInfo

from services.runtime.roles import Role
from services.runtime.http.auth import issue_token
from services.runtime.bus_identity.credentials import BusAccess, seed_path
from services.runtime.db.migrations import upgrade
from services.command.natsserver import EmbeddedNats
from services.runtime.bus.connect import connect_nats
from services.runtime.settings import SERVICES, Settings
from services.runtime.tokenkeys import ensure_dev_keys
from tests.faults.counts import MetricsTally
from tests.faults.natscluster import NatsCluster
from tests.faults.processes import ServiceProcess
from tests.support.pgserver import PgServer
from tests.support.ports import free_port

PII_KEY = "faults-test-pii-key"
class Shape(msgspec.Struct, frozen=True, kw_only=True):
    """What runs: one nats-server or a three-node JetStream cluster (R3 streams),
    one process per service or ``replicas`` of each (each ``xciss run``: API,
    worker and relay), and whether the clients go through the gateway, which
    spreads over the API replicas."""

    nats_nodes: int = 1
    replicas: int = 1
    gateway: bool = False
    #: PostgreSQL backend: a server of the run's own (tests/support/pgserver.py), which the
    #: ``postgres_restart`` fault restarts or crashes, instead of the shared one
    own_postgres: bool = False
    #: that server archives its WAL (a base backup and point-in-time recovery: the restore drill)
    wal_archive: bool = False

    @property
    def clustered(self) -> bool:
        return self.nats_nodes > 1


class Cluster:
    def __init__(
        self,
        root: Path,
        backend: str,
        *,
        pg_url: str | None = None,
        ack_wait_s: float = 2.0,
        expiry_interval_s: float = 1.0,
        shape: Shape | None = None,
    ):
        if backend not in ("sqlite", "postgres"):
            raise ValueError(backend)
        if backend == "postgres" and not pg_url:
            raise ValueError("postgres needs pg_url")
        self.root = Path(root)
        self.backend = backend
        self.shape = shape or Shape()
        self.pg_admin = (pg_url or "").replace("postgresql+asyncpg://", "postgresql://")
        self.run_id = uuid.uuid4().hex[:8]
        self.ack_wait_s = ack_wait_s
        self.expiry_interval_s = expiry_interval_s
        self.data_dir = self.root / "data"
        self.credentials = self.root / "nats-credentials"
        self.nats: EmbeddedNats | None = None
        self.natsc: NatsCluster | None = None
        #: each service's instances: "registry", "registry.2", ...
        self.instances = {s: [s if r == 0 else f"{s}.{r + 1}" for r in range(self.shape.replicas)] for s in SERVICES}
        names = [i for group in self.instances.values() for i in group]
        ports: list[int] = []
        while len(ports) < len(names) + 2:  # nothing listens yet: make sure no two are the same
            if (p := free_port()) not in ports:
                ports.append(p)
        self.nats_port, self.gateway_port, *http = ports
        self.ports = dict(zip(names, http, strict=True))
        self.db_urls: dict[str, str] = {}
        self.pg_names: dict[str, str] = {}
        self.procs: dict[str, ServiceProcess] = {}
        self.gateway: ServiceProcess | None = None
        self.settings: Settings | None = None
        self.tally = MetricsTally(self)
        self.pg: PgServer | None = None

    # -- lifecycle -------------------------------------------------------------

    @property
    def nats_url(self) -> str:
        if self.natsc is not None:
            return self.natsc.url
        assert self.nats is not None
        return self.nats.url

    def bus(self, identity: str) -> BusAccess:
        """How ``identity`` reaches the bus (every server of the cluster)."""
        if self.natsc is not None:
            return self.natsc.access(identity)
        assert self.nats is not None
        return self.nats.access(identity)

    async def start(self) -> None:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        if self.shape.clustered:
            self.natsc = NatsCluster(self.root, self.credentials, size=self.shape.nats_nodes)
            await asyncio.to_thread(self.natsc.start)
        else:
            self.nats = EmbeddedNats(self.root / "nats-store", self.nats_port, log_file=self.root / "nats-server.log", credentials_dir=self.credentials)
            self.nats.start()
        if self.backend == "postgres" and self.shape.own_postgres and PgServer.available():
            self.pg = PgServer(self.root / "pg", wal_archive=self.shape.wal_archive)
            await self.pg.astart()
            self.pg_admin = self.pg.url
        for s in SERVICES:
            if self.backend == "postgres":
                name = f"xf_{self.run_id}_{s}"
                await self._pg_exec(f'CREATE DATABASE "{name}"')
                self.pg_names[s] = name
                base = self.pg_admin.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://", 1)
                self.db_urls[s] = f"{base}/{name}"
            else:
                self.db_urls[s] = f"sqlite+aiosqlite:///{self.data_dir / f'{s}.db'}"
        for s in SERVICES:  # alembic is not thread-safe: one after another
            await asyncio.to_thread(upgrade, s, self.db_urls[s])
        signing, jwks = ensure_dev_keys(self.root)  # registry and this harness sign; the others verify only
        self.settings = Settings(
            data_dir=self.data_dir, nats_url=self.nats_url, nats_credentials_dir=self.credentials,
            database_urls=dict(self.db_urls), http_ports={s: self.ports[s] for s in SERVICES},
            jwt_signing_key_file=signing, jwt_jwks_file=jwks, pii_secret=PII_KEY,
        )
        env = {k: v for k, v in os.environ.items() if not k.startswith("XCISS_")}
        env.update(
            XCISS_DATA_DIR=str(self.data_dir),
            XCISS_NATS_URL=self.nats_url,
            XCISS_JWT_JWKS_FILE=str(jwks),
            XCISS_PII_KEY=PII_KEY,
            XCISS_LOG_LEVEL="WARNING",
            XCISS_CONSUMER_ACK_WAIT_S=str(self.ack_wait_s),
            # a fault may fail a handler several times in a row: park only what truly keeps failing
            XCISS_CONSUMER_MAX_ATTEMPTS="30",
            XCISS_CONSUMER_BACKOFF="0.2,0.5,1,2",
            XCISS_OUTBOX_POLL_S="0.05",
            XCISS_GRACEFUL_TIMEOUT_S="3",
            XCISS_VOUCHER_EXPIRY_INTERVAL_S=str(self.expiry_interval_s),
            XCISS_STREAM_REPLICAS=str(min(3, self.shape.nats_nodes)),
            OTEL_TRACES_EXPORTER="none",
            **{f"XCISS_{s.upper()}_DATABASE_URL": u for s, u in self.db_urls.items()},
        )
        for s in SERVICES:  # each process holds only its own identity's seed
            for name in self.instances[s]:
                own = {**env, "XCISS_NATS_NKEY_FILE": str(seed_path(self.credentials, s)), f"XCISS_{s.upper()}_PORT": str(self.ports[name])}
                if s == "registry":  # the issuer of login tokens
                    own["XCISS_JWT_SIGNING_KEY_FILE"] = str(signing)
                self.procs[name] = ServiceProcess(s, own, self.root / f"{name}.log", args=("run", s))
                self.procs[name].start()
        await self.wait_ready(self.procs)
        if self.shape.gateway:
            gw = {
                **env,
                "XCISS_NATS_NKEY_FILE": str(seed_path(self.credentials, "gateway")),
                "XCISS_GATEWAY_PORT": str(self.gateway_port),
                "XCISS_GATEWAY_RATE_LIMIT_PER_MINUTE": "1000000",
                **{f"XCISS_{s.upper()}_URL": ",".join(f"http://127.0.0.1:{self.ports[i]}" for i in self.instances[s]) for s in SERVICES},
            }
            self.gateway = ServiceProcess("gateway", gw, self.root / "gateway.log", args=("gateway",))
            self.gateway.start()
            await self._wait_url(f"http://127.0.0.1:{self.gateway_port}/health", self.gateway)

    async def close(self) -> None:
        for p in [*self.procs.values(), *([self.gateway] if self.gateway else [])]:
            p.kill()
        if self.nats is not None:
            self.nats.kill()
        if self.natsc is not None:
            await asyncio.to_thread(self.natsc.close)
        if self.pg is not None:  # the whole server goes, with its databases
            await self.pg.aclose()
            self.pg_names.clear()
        for name in self.pg_names.values():
            with contextlib.suppress(Exception):
                await self._pg_exec(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        self.pg_names.clear()

    async def wait_ready(self, instances: Any, timeout_s: float = 120.0) -> None:
        deadline = time.monotonic() + timeout_s
        pending = set(instances)
        async with httpx.AsyncClient(timeout=3.0) as client:
            while pending:
                for s in list(pending):
                    if not self.procs[s].alive:
                        raise RuntimeError(f"{s} exited with {self.procs[s].proc.returncode if self.procs[s].proc else '?'}; see {self.procs[s].log_path}")
                    with contextlib.suppress(httpx.HTTPError, ValueError):
                        r = await client.get(f"http://127.0.0.1:{self.ports[s]}/ready")
                        # /ready is 200 on the database alone; NATS is in its checks: wait for both
                        if r.status_code == 200 and all(v == "ok" for v in r.json()["checks"].values()):
                            pending.discard(s)
                if pending and time.monotonic() > deadline:
                    raise TimeoutError(f"not ready within {timeout_s}s: {sorted(pending)}")
                await asyncio.sleep(0.2)

    async def _wait_url(self, url: str, proc: ServiceProcess, timeout_s: float = 60.0) -> None:
        deadline = time.monotonic() + timeout_s
        async with httpx.AsyncClient(timeout=3.0) as client:
            while True:
                if not proc.alive:
                    raise RuntimeError(f"{proc.name} exited; see {proc.log_path}")
                with contextlib.suppress(httpx.HTTPError):
                    if (await client.get(url)).status_code == 200:
                        return
                if time.monotonic() > deadline:
                    raise TimeoutError(f"{url} not answering within {timeout_s}s")
                await asyncio.sleep(0.2)

    # -- access ------------------------------------------------------------------

    def base(self, service: str) -> str:
        """Where a client sends ``service``'s requests: the gateway, or the service's first instance."""
        if self.gateway is not None:
            return f"http://127.0.0.1:{self.gateway_port}/api/{service}"
        return f"http://127.0.0.1:{self.ports[service]}"

    def token(self, role: Role | str, org: str | None = None) -> str:
        assert self.settings is not None
        return issue_token(self.settings, subject=f"faults-{role}", role=role, org=org, ttl_s=24 * 3600)

    # -- faults --------------------------------------------------------------------

    async def kill_restart(self, instance: str) -> None:
        """SIGKILL: no shutdown, in-flight transactions and unacked messages abandoned."""
        p = self.procs[instance]
        if not p.stopped:  # what it counted so far (its counters die with it)
            await self.tally.scrape(instance)
        self.tally.bank(instance)
        await asyncio.to_thread(p.kill)
        p.start()
        await self.wait_ready([instance])

    async def pause(self, instance: str, seconds: float) -> None:
        """SIGSTOP for longer than the ack wait: its pulled messages are redelivered elsewhere (or to it, later)."""
        p = self.procs[instance]
        p.signal(signal.SIGSTOP)
        p.stopped = True
        try:
            await asyncio.sleep(seconds)
        finally:
            p.signal(signal.SIGCONT)
            p.stopped = False

    async def restart_nats(self, down_s: float = 1.0) -> None:
        """Stop nats-server and start it again on the same port and store: JetStream state survives."""
        assert self.nats is not None
        await asyncio.to_thread(self.nats.stop)
        await asyncio.sleep(down_s)
        await asyncio.to_thread(self.nats.start)

    async def restart_postgres(self, mode: str) -> str:
        """The run's own PostgreSQL server restarted (``fast``) or crashed (``immediate``:
        no checkpoint, WAL replayed): every service's connections break at once."""
        assert self.pg is not None
        outage = await self.pg.arestart(mode)  # type: ignore[arg-type]
        return f"postgres {mode} restart, down {outage.down_s:.1f}s{', WAL replayed' if outage.recovered else ''}"

    async def database_fault(self, service: str, seconds: float) -> None:
        """A consumer's database fails transiently. PostgreSQL: every connection of
        the service's database is terminated (twice, ``seconds`` apart). SQLite: an
        exclusive lock is held from another connection for ``seconds``."""
        if self.backend == "postgres":
            sql = f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{self.pg_names[service]}' AND pid <> pg_backend_pid()"
            await self._pg_exec(sql)
            await asyncio.sleep(seconds)
            await self._pg_exec(sql)
            return
        path = self.data_dir / f"{service}.db"

        def hold() -> None:
            conn = sqlite3.connect(path, timeout=30)
            try:
                conn.execute("BEGIN EXCLUSIVE")
                time.sleep(seconds)
                conn.rollback()
            finally:
                conn.close()

        await asyncio.to_thread(hold)

    # -- direct database access (the harness only; never the services' code) --------

    async def sql(self, service: str, statement: str, *args: Any) -> list[tuple[Any, ...]]:
        """Run one statement on a service's database (``?`` placeholders) and return its rows."""
        if self.backend == "postgres":
            text = statement
            for i in range(len(args)):
                text = text.replace("?", f"${i + 1}", 1)
            # the harness's own statements are idempotent, and its connection
            # meets the same faults as the services' (terminated backends, a
            # server out of connection slots; a backend terminated mid-statement
            # can leave asyncpg's protocol in an InternalClientError): retry for a minute
            for attempt in range(20):
                try:
                    conn = await asyncpg.connect(f"{self.pg_admin.rsplit('/', 1)[0]}/{self.pg_names[service]}")
                    try:
                        return [tuple(r) for r in await conn.fetch(text, *args)]
                    finally:
                        with contextlib.suppress(Exception):
                            await conn.close()
                # OperatorInterventionError: the server shutting down, crashed or starting up (the postgres_restart fault)
                except (OSError, asyncpg.PostgresConnectionError, asyncpg.TooManyConnectionsError, asyncpg.OperatorInterventionError, asyncpg.InterfaceError,
                        asyncpg.InternalClientError):
                    if attempt == 19:
                        raise
                    await asyncio.sleep(min(0.2 * 2**attempt, 5.0))

        def run() -> list[tuple[Any, ...]]:
            conn = sqlite3.connect(self.data_dir / f"{service}.db", timeout=60)
            try:
                cur = conn.execute(statement, args)
                rows = cur.fetchall()
                conn.commit()
                return rows
            finally:
                conn.close()

        return await asyncio.to_thread(run)

    async def quiescent(self) -> tuple[bool, str]:
        """Outboxes empty and every durable consumer caught up (nothing pending or unacked)."""
        for s in SERVICES:
            (n,) = (await self.sql(s, "SELECT count(*) FROM outbox WHERE published_at IS NULL"))[0]
            if n:
                return False, f"{s} outbox holds {n}"
        nc = await connect_nats(self.bus("operator"), "faults-quiescence")
        try:
            js = nc.jetstream()
            for stream in ("REGISTRY", "VOUCHERS", "EVALUATION", "PAYMENTS"):
                infos: list[ConsumerInfo] = await js.consumers_info(stream)
                for ci in infos:
                    if ci.num_pending or ci.num_ack_pending:
                        return False, f"{ci.name} pending={ci.num_pending} unacked={ci.num_ack_pending}"
        finally:
            await nc.close()
        return True, "quiet"

    async def dead_letters(self) -> int:
        nc = await connect_nats(self.bus("operator"), "faults-dlq")
        try:
            info = await nc.jetstream().stream_info("DEADLETTER")
            return int(info.state.messages)
        except Exception:  # noqa: BLE001 - no stream, no dead letters
            return 0
        finally:
            await nc.close()

    async def _pg_exec(self, sql: str) -> None:
        conn = await asyncpg.connect(self.pg_admin)
        try:
            await conn.execute(sql)
        finally:
            await conn.close()
