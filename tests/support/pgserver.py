"""A PostgreSQL server of the test's own, which it may restart or crash.

The machine's server (``XCISS_TEST_POSTGRES_URL``) is shared by the whole
test suite, so a fault that restarts PostgreSQL (issue 21) needs a server of
its own. ``PgServer`` runs Debian's PostgreSQL binaries
(``/usr/lib/postgresql/<version>/bin``, or ``XCISS_PG_BIN``) on a loopback port
with trust authentication, its data directory, unix socket and log under one
directory, removed by ``close()``.

How the fault harness (``tests/faults/``) uses it::

    if not PgServer.available():
        print("no PostgreSQL restart fault:", PgServer.why_unavailable())
    server = PgServer(run_dir / "pg")
    await server.astart()                    # initdb on first start
    admin_url = server.url                   # postgresql://postgres@127.0.0.1:<port>/postgres
    ...                                      # create the services' databases there
    outage = await server.arestart("immediate")   # the fault: a crash, recovery from WAL
    outage.down_s, outage.recovered          # how long it refused connections; WAL replayed
    await server.aclose()                    # stop and remove the directory

``restart("fast")`` is an orderly restart (sessions are ended, a checkpoint
is written); ``restart("immediate")`` is ``pg_ctl stop -m immediate``: every
process quits at once without a checkpoint, and the next start replays the
WAL as after a power cut. The port stays the same across restarts; open
connections break either way.

The postmaster runs in the foreground as our child (not daemonised through
``pg_ctl start``, which would orphan it): as root it runs as the ``postgres``
OS user (``initdb`` and ``postgres`` refuse root) and gets SIGINT (a fast
shutdown) when the thread that started it ends, so a killed test run leaves
no server behind. Start it from a long-lived thread: the async methods start
it from the event loop's thread and only wait in worker threads.
"""

from __future__ import annotations

import asyncio
import ctypes
import functools
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import weakref
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, Self

from tests.support.ports import free_port

RestartMode = Literal["fast", "immediate"]

#: pg_ctl's shutdown modes as the postmaster's signals
_SHUTDOWN_SIGNALS: dict[str, signal.Signals] = {"fast": signal.SIGINT, "immediate": signal.SIGQUIT}
_RECOVERY_MARK = "automatic recovery in progress"
_OS_USER = "postgres"


def _bin_dir() -> Path | None:
    configured = os.environ.get("XCISS_PG_BIN")
    if configured:
        return Path(configured)
    versions = sorted(Path("/usr/lib/postgresql").glob("*/bin"), key=lambda p: int(p.parent.name) if p.parent.name.isdigit() else 0)
    return versions[-1] if versions else None


def _as_root() -> bool:
    return os.geteuid() == 0


def _user_args() -> dict[str, object]:
    """Popen arguments that run a child as the postgres OS user when we are root."""
    if not _as_root():
        return {}
    return {"user": _OS_USER, "group": _OS_USER, "extra_groups": []}


def _die_with_parent() -> None:
    """Runs in the child after the switch to the postgres user (a change of
    user clears the parent-death signal, so it is set here, not before)."""
    try:
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(1, signal.SIGINT)  # PR_SET_PDEATHSIG: a fast shutdown
    except OSError:
        pass


def _child_env() -> dict[str, str]:
    return {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LC_ALL": "C", "LANG": "C", "TZ": "UTC"}


@dataclass(frozen=True)
class Outage:
    """One restart: how long the server refused connections, and whether it
    replayed its WAL on the way up (a crash: ``immediate``)."""

    mode: RestartMode
    down_s: float
    recovered: bool


class PgServer:
    def __init__(self, root: Path, port: int | None = None, *, wal_archive: bool = False):
        self.root = Path(root)
        #: continuous archiving: every finished WAL segment copied to ``archive_dir`` (the restore drill, pgarchive.py)
        self.wal_archive = wal_archive
        self.port = port or free_port()
        #: where the files live: ``root/pgserver`` when the postgres user can reach it, else a directory under the system temp dir
        self.home: Path | None = None
        #: the running postmaster (shared with the finalizer that stops it at interpreter exit)
        self._running: dict[str, subprocess.Popen[bytes]] = {}
        self.outages: list[Outage] = []
        self._log = None
        self._finalizer: weakref.finalize | None = None

    # -- availability -------------------------------------------------------

    @classmethod
    def available(cls) -> bool:
        return cls.why_unavailable() is None

    @staticmethod
    @functools.cache
    def why_unavailable() -> str | None:
        """None when a server can be started here, else the reason (for the harness's "skipped" line)."""
        if not sys.platform.startswith("linux"):
            return "the PostgreSQL fault needs Linux"
        bin_dir = _bin_dir()
        if bin_dir is None:
            return "no PostgreSQL binaries in /usr/lib/postgresql/*/bin (set XCISS_PG_BIN)"
        missing = [name for name in ("initdb", "postgres") if not (bin_dir / name).exists()]
        if missing:
            return f"{', '.join(missing)} not found in {bin_dir}"
        try:
            done = subprocess.run([str(bin_dir / "postgres"), "--version"], check=False, capture_output=True, timeout=30, env=_child_env(), **_user_args())
        except (OSError, KeyError, subprocess.SubprocessError) as exc:
            return f"cannot run postgres as the {_OS_USER} OS user: {exc}"
        if done.returncode != 0:
            return f"postgres --version failed: {done.stderr.decode(errors='replace').strip()}"
        return None

    # -- paths --------------------------------------------------------------

    @property
    def proc(self) -> subprocess.Popen[bytes] | None:
        return self._running.get("proc")

    @property
    def url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def url_for(self, database: str) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"

    @property
    def data_dir(self) -> Path:
        return self._home() / "data"

    @property
    def socket_dir(self) -> Path:
        return self._home() / "socket"

    @property
    def archive_dir(self) -> Path:
        return self._home() / "wal-archive"

    @property
    def log_file(self) -> Path:
        return self._home() / "server.log"

    def _home(self) -> Path:
        if self.home is None:
            raise RuntimeError("the server has not been started")
        return self.home

    def _prepare_home(self) -> Path:
        """``root/pgserver``, owned by the postgres user; when that user cannot
        reach it (pytest's ``tmp_path`` is under a directory only root may
        enter), a fresh directory under the system temp dir instead."""
        home = self.root / "pgserver"
        home.mkdir(parents=True, exist_ok=True)
        if not _as_root():
            return home
        os.chown(home, *_postgres_ids())
        os.chmod(home, 0o700)
        if subprocess.run(["test", "-w", str(home)], check=False, env=_child_env(), **_user_args()).returncode == 0:
            return home
        home.rmdir()
        home = Path(tempfile.mkdtemp(prefix="xciss-pg-"))
        os.chown(home, *_postgres_ids())
        return home

    # -- lifecycle ----------------------------------------------------------

    def start(self, timeout_s: float = 60.0) -> None:
        self._spawn()
        self._wait_ready(timeout_s)

    def stop(self, mode: RestartMode = "fast", timeout_s: float = 60.0) -> None:
        """Shut the server down (``fast``: sessions ended, a checkpoint; ``immediate``: a crash)."""
        proc = self.proc
        if proc is None or proc.poll() is not None:
            return
        proc.send_signal(_SHUTDOWN_SIGNALS[mode])
        try:
            proc.wait(timeout_s)
        except subprocess.TimeoutExpired:
            proc.send_signal(signal.SIGQUIT)
            proc.wait(timeout_s)

    def restart(self, mode: RestartMode = "fast", timeout_s: float = 60.0) -> Outage:
        """Stop in ``mode`` and start again on the same port; returns (and
        appends to ``outages``) how long no connection was accepted."""
        began = time.monotonic()
        self.stop(mode, timeout_s)
        log_from = self._log_size()
        self.start(timeout_s)
        return self._record(mode, began, log_from)

    def close(self) -> None:
        """Stop the server and remove its directory (idempotent)."""
        self.stop()
        self._close_log()
        if self._finalizer is not None:
            self._finalizer()
        self.home = None

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- asyncio ------------------------------------------------------------

    async def astart(self, timeout_s: float = 60.0) -> None:
        await asyncio.to_thread(self._initdb_once)
        self._spawn()  # in the loop's thread: the parent-death signal follows the thread that forked
        await self._await_ready(timeout_s)

    async def arestart(self, mode: RestartMode = "fast", timeout_s: float = 60.0) -> Outage:
        began = time.monotonic()
        await asyncio.to_thread(self.stop, mode, timeout_s)
        log_from = self._log_size()
        await self.astart(timeout_s)
        return self._record(mode, began, log_from)

    async def astop(self, mode: RestartMode = "fast", timeout_s: float = 60.0) -> None:
        await asyncio.to_thread(self.stop, mode, timeout_s)

    async def aclose(self) -> None:
        await asyncio.to_thread(self.close)

    # -- internals ----------------------------------------------------------

    def _initdb_once(self) -> None:
        if self.home is None:
            self.home = self._prepare_home()
            self._finalizer = weakref.finalize(self, _cleanup, self.home, self._running)
        if (self.data_dir / "PG_VERSION").exists():
            return
        bin_dir = _bin_dir()
        assert bin_dir is not None, self.why_unavailable()
        # --no-sync: the server runs with fsync=on; initdb's own flush only guards against an OS crash
        initdb = [str(bin_dir / "initdb"), "-D", str(self.data_dir), "-U", "postgres", "--auth=trust", "-E", "UTF8", "--locale=C"]
        done = subprocess.run(
            [*initdb, "--no-instructions", "--no-sync"], check=False, capture_output=True, env=_child_env(), cwd=self.home, **_user_args()
        )
        if done.returncode != 0:
            raise RuntimeError(f"initdb failed: {done.stderr.decode(errors='replace')}")
        hba = "local all all trust\nhost all all 127.0.0.1/32 trust\n"
        if self.wal_archive:  # pg_basebackup connects for replication
            hba += "local replication all trust\nhost replication all 127.0.0.1/32 trust\n"
        (self.data_dir / "pg_hba.conf").write_text(hba, encoding="utf-8")
        with (self.data_dir / "postgresql.conf").open("a", encoding="utf-8") as conf:
            conf.write(
                "\n# tests/support/pgserver.py\n"
                "listen_addresses = '127.0.0.1'\n"
                f"unix_socket_directories = '{self.socket_dir}'\n"
                "fsync = on\nsynchronous_commit = on\nfull_page_writes = on\n"
                "shared_buffers = 16MB\nmax_connections = 300\nhuge_pages = off\n"
                "lc_messages = 'C'\ntimezone = 'UTC'\nlogging_collector = off\n"
            )
            if self.wal_archive:
                conf.write(f"wal_level = replica\narchive_mode = on\narchive_command = 'test ! -f {self.archive_dir}/%f && cp %p {self.archive_dir}/%f'\n")
                self.archive_dir.mkdir(exist_ok=True)
                if _as_root():
                    os.chown(self.archive_dir, *_postgres_ids())
        self.socket_dir.mkdir(exist_ok=True)
        if _as_root():
            os.chown(self.socket_dir, *_postgres_ids())
            os.chown(self.data_dir / "pg_hba.conf", *_postgres_ids())

    def _spawn(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            return
        self._initdb_once()
        bin_dir = _bin_dir()
        assert bin_dir is not None, self.why_unavailable()
        self._close_log()
        self._log = open(self.log_file, "ab")  # noqa: SIM115 (kept open while the server runs)
        # preexec_fn: the parent-death signal, set in the child after the switch to the postgres user
        self._running["proc"] = subprocess.Popen(
            [str(bin_dir / "postgres"), "-D", str(self.data_dir), "-p", str(self.port)],
            stdout=self._log, stderr=self._log, stdin=subprocess.DEVNULL, env=_child_env(), cwd=self.home,
            start_new_session=True, preexec_fn=_die_with_parent, **_user_args(),  # noqa: PLW1509
        )

    def _ready(self) -> bool:
        """The postmaster's own word (``postmaster.pid`` line 8), as ``pg_ctl start -w`` reads it."""
        proc = self.proc
        if proc is None:
            return False
        if proc.poll() is not None:
            raise RuntimeError(f"postgres exited with {proc.returncode}; see {self.log_file}:\n{self._log_tail()}")
        try:
            lines = (self.data_dir / "postmaster.pid").read_text(encoding="utf-8").splitlines()
        except OSError:
            return False
        return len(lines) >= 8 and lines[0].strip() == str(proc.pid) and lines[7].strip() == "ready"

    def _wait_ready(self, timeout_s: float) -> None:
        deadline = time.monotonic() + timeout_s
        while not self._ready():
            if time.monotonic() > deadline:
                self.stop("immediate")
                raise TimeoutError(f"postgres did not accept connections within {timeout_s}s:\n{self._log_tail()}")
            time.sleep(0.02)

    async def _await_ready(self, timeout_s: float) -> None:
        deadline = time.monotonic() + timeout_s
        while not self._ready():
            if time.monotonic() > deadline:
                await asyncio.to_thread(self.stop, "immediate")
                raise TimeoutError(f"postgres did not accept connections within {timeout_s}s:\n{self._log_tail()}")
            await asyncio.sleep(0.02)

    def _record(self, mode: RestartMode, began: float, log_from: int) -> Outage:
        outage = Outage(mode=mode, down_s=time.monotonic() - began, recovered=_RECOVERY_MARK in self._log_since(log_from))
        self.outages.append(outage)
        return outage

    def _log_size(self) -> int:
        try:
            return self.log_file.stat().st_size
        except OSError:
            return 0

    def _log_since(self, offset: int) -> str:
        with self.log_file.open("rb") as log:
            log.seek(offset)
            return log.read().decode(errors="replace")

    def _log_tail(self, chars: int = 2000) -> str:
        try:
            return self.log_file.read_text(encoding="utf-8", errors="replace")[-chars:]
        except OSError:
            return ""

    def _close_log(self) -> None:
        if self._log is not None:
            self._log.close()
            self._log = None


@functools.cache
def _postgres_ids() -> tuple[int, int]:
    import pwd

    entry = pwd.getpwnam(_OS_USER)
    return entry.pw_uid, entry.pw_gid


def _cleanup(home: Path, running: dict[str, subprocess.Popen[bytes]]) -> None:
    """Stop the server and remove its files (at ``close()``, or when the interpreter exits without it)."""
    proc = running.pop("proc", None)
    if proc is not None and proc.poll() is None:
        proc.send_signal(signal.SIGQUIT)
        proc.wait(30)
    shutil.rmtree(home, ignore_errors=True)
