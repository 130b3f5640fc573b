"""``xciss up``'s service processes, forked from one interpreter that has imported their
common stack.

Each of the four service processes would import the same libraries (SQLAlchemy,
Litestar, FastStream, nats, PyJWT, OpenTelemetry …: about 0.8 CPU-s a process) while
the others do the same on two cores. Python's forkserver (``multiprocessing``) starts
one interpreter at the beginning of ``xciss up``, which imports :data:`PRELOAD` while
the bus plan is rendered and the migrations run, and forks each service process from
it: a service imports only its own modules (issue 19, target 5: start-up; bench/README.md,
"Forked from a warm interpreter"). Every module of :data:`PRELOAD` is one each service
imports anyway (``tests/unit/test_process_footprint.py``), so a process's own memory is
what it was; its resident size is lower (the shared libraries' pages it never touches
are not counted in it) and the machine holds about as much in all.

A forked process runs ``xciss`` (``services.command.cli.main``) with its own
arguments and environment — its own NATS seed and token keys, set in it after the
fork: the forkserver holds neither — and takes the command line ``ps`` shows for
it (``… -m services.command.cli run registry``), as if it had been started with it.
The gateway, which imports no database library, is started as before.
"""

from __future__ import annotations

import atexit
import contextlib
import multiprocessing
import os
import signal
import subprocess
import sys
from collections.abc import Callable, Iterable, Mapping, Sequence
from multiprocessing import forkserver, resource_tracker
from typing import Any

import setproctitle

from services.runtime.env import env_bool

#: what every service process imports (each an entry point that pulls in the bulk of
#: its library); the forkserver imports them before it forks anything
PRELOAD = (
    "sqlalchemy.ext.asyncio",
    "sqlalchemy.dialects.sqlite.aiosqlite",
    "aiosqlite",
    "litestar",
    "litestar.plugins.prometheus",
    "uvicorn",
    "uvloop",
    "faststream.nats",
    "nats.js",
    "nkeys",
    "msgspec",
    "jwt",
    "cryptography.hazmat.primitives.ciphers.aead",
    "opentelemetry.sdk.trace.export",
    "opentelemetry.propagate",
    "prometheus_client",
    "uuid_utils",
    "yaml",
)


#: PostgreSQL's dialect, preloaded only where a service's database is PostgreSQL: a process
#: on SQLite never imports it (``runtime/db/upsert.py``)
POSTGRESQL = "sqlalchemy.dialects.postgresql.asyncpg"


def preload_for(database_urls: Iterable[str]) -> tuple[str, ...]:
    """:data:`PRELOAD`, and PostgreSQL's dialect if one of ``database_urls`` is PostgreSQL's.
    (The URL's prefix, as ``runtime/db/engine.is_sqlite`` reads it; that module is not imported
    here: it would bring SQLAlchemy's async engine into ``xciss up``'s own process.)"""
    return (*PRELOAD, POSTGRESQL) if any(url.startswith("postgresql") for url in database_urls) else PRELOAD


def wanted(environ: Mapping[str, str]) -> bool:
    """Forks where a forkserver exists (POSIX), unless ``XCISS_UP_FORKS=0`` asks ``xciss up``
    to start each service process with an interpreter of its own (e.g. to profile one
    from its first line, or to read its environment in ``/proc``)."""
    return env_bool(environ, "XCISS_UP_FORKS", True) and "forkserver" in multiprocessing.get_all_start_methods()


class ForkedProcess:
    """One forked process, with the part of ``subprocess.Popen``'s interface ``xciss up`` uses."""

    def __init__(self, process: Any) -> None:
        self._process = process
        self.pid: int = process.pid

    def poll(self) -> int | None:
        return self._process.exitcode

    def send_signal(self, sig: int) -> None:
        if self._process.exitcode is None:
            os.kill(self.pid, sig)

    def kill(self) -> None:
        self.send_signal(signal.SIGKILL)

    def wait(self, timeout: float | None = None) -> int:
        self._process.join(timeout)
        code = self._process.exitcode
        if code is None:
            raise subprocess.TimeoutExpired(f"pid {self.pid}", timeout or 0.0)
        return int(code)


class ServiceForks:
    """Starts the forkserver at once (it imports :data:`PRELOAD` in the background);
    ``start(argv, env)`` forks one ``xciss`` process from it."""

    def __init__(self, preload: Sequence[str] = PRELOAD) -> None:
        self._ctx = multiprocessing.get_context("forkserver")
        self._ctx.set_forkserver_preload(list(preload))
        forkserver.ensure_running()

    def start(self, argv: Sequence[str], env: Mapping[str, str], run: Callable[[list[str]], object] | None = None) -> ForkedProcess:
        """``xciss ARGV`` (``run(ARGV)`` instead, for the tests) in a process forked
        from the forkserver, with ENV as its environment."""
        process = self._ctx.Process(target=_forked, args=(list(argv), dict(env), run), name=f"xciss {' '.join(argv)}")
        process.start()
        return ForkedProcess(process)


def _forked(argv: list[str], env: dict[str, str], run: Callable[[list[str]], object] | None) -> None:
    """In the forked process: ``xciss ARGV`` with ENV as its environment."""
    # the title first: setproctitle finds the command line's memory through the environment's
    setproctitle.setproctitle(" ".join([sys.executable, "-m", "services.command.cli", *argv]))
    _let_go_of_the_forkserver()
    os.environ.clear()
    os.environ.update(env)
    if "XCISS_PARENT_PID" in env:  # it watches its parent, the forkserver, which ends with xciss up
        os.environ["XCISS_PARENT_PID"] = str(os.getppid())
    if run is None:
        from services.command.cli import main as run
    try:
        run(argv)
    finally:
        # a forked process ends in os._exit: the exit handlers (telemetry's last spans,
        # logging's flush) run here, as they would at an interpreter's end
        atexit._run_exitfuncs()


def _let_go_of_the_forkserver() -> None:
    """multiprocessing hands each forked process the forkserver's "alive" pipe and the
    resource tracker's, so that it could fork in turn; the forkserver ends only when
    every holder of the first has closed it. A service process forks nothing: it closes
    both, so that a killed ``xciss up`` takes the forkserver with it, and the forkserver's
    end, the service processes (each stops when its parent is gone)."""
    for holder, name in ((getattr(forkserver, "_forkserver", None), "_forkserver_alive_fd"), (getattr(resource_tracker, "_resource_tracker", None), "_fd")):
        fd = getattr(holder, name, None)
        if isinstance(fd, int):
            with contextlib.suppress(OSError):
                os.close(fd)
            setattr(holder, name, None)
