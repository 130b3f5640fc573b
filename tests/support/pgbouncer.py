"""PgBouncer in transaction mode in front of the test PostgreSQL server
(issue 20: "the app works behind a transaction pooler").

Debian's ``pgbouncer`` binary (``apt-get install pgbouncer``) on a loopback
port, every database name forwarded to the server of
``XCISS_TEST_POSTGRES_URL`` (``* = host=… port=…``), ``pool_mode =
transaction``: consecutive transactions of one client connection may run on
different server connections, and PgBouncer (1.18 on Debian 12) does not carry
prepared statements between them — the setting that breaks asyncpg's statement
cache unless ``XCISS_DB_TRANSACTION_POOLER`` turns it off. Trust
authentication, like the test server. As root it runs as the ``postgres`` OS
user (``-u``: PgBouncer refuses root); its config, log and pid file stay in
one directory of its own under the system's temporary directory (a test's
``tmp_path`` is closed to that user), removed by ``stop()``."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit

from services.command.natsserver import port_open
from tests.support.ports import free_port

_OS_USER = "postgres"


class PgBouncer:
    def __init__(self, server_url: str, *, pool_size: int = 5):
        self.directory = Path(tempfile.mkdtemp(prefix="xciss-pgbouncer-"))
        target = urlsplit(server_url)
        self.target = (target.hostname or "127.0.0.1", target.port or 5432)
        self.user = target.username or "postgres"
        self.port = free_port()
        self.pool_size = pool_size
        self.proc: subprocess.Popen[bytes] | None = None

    @staticmethod
    def binary() -> str | None:
        return shutil.which("pgbouncer") or next((p for p in ("/usr/sbin/pgbouncer",) if Path(p).exists()), None)

    @property
    def log(self) -> Path:
        return self.directory / "pgbouncer.log"

    def route(self, url: str) -> str:
        """The same database URL, through this pooler."""
        parts = urlsplit(url)
        netloc = f"{parts.username}@127.0.0.1:{self.port}" if parts.username else f"127.0.0.1:{self.port}"
        return parts._replace(netloc=netloc).geturl()

    def start(self, timeout_s: float = 15.0) -> None:
        binary = self.binary()
        assert binary, "pgbouncer is not installed (apt-get install pgbouncer)"
        host, port = self.target
        (self.directory / "userlist.txt").write_text(f'"{self.user}" ""\n', encoding="utf-8")
        (self.directory / "pgbouncer.ini").write_text(
            "\n".join(
                [
                    "[databases]",
                    f"* = host={host} port={port}",
                    "[pgbouncer]",
                    "listen_addr = 127.0.0.1",
                    f"listen_port = {self.port}",
                    "unix_socket_dir =",
                    "auth_type = trust",
                    f"auth_file = {self.directory / 'userlist.txt'}",
                    "pool_mode = transaction",
                    f"default_pool_size = {self.pool_size}",
                    "max_client_conn = 500",
                    "ignore_startup_parameters = extra_float_digits,options",
                    f"logfile = {self.log}",
                    f"pidfile = {self.directory / 'pgbouncer.pid'}",
                    "",
                ]
            ),
            encoding="utf-8",
        )
        args = [binary, str(self.directory / "pgbouncer.ini")]
        if os.geteuid() == 0:
            shutil.chown(self.directory, _OS_USER)
            for f in self.directory.iterdir():
                shutil.chown(f, _OS_USER)
            args[1:1] = ["-u", _OS_USER]
        self.proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True)
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"pgbouncer exited with {self.proc.returncode}: {self.proc.stderr.read().decode(errors='replace') if self.proc.stderr else ''}")
            if port_open("127.0.0.1", self.port):
                return
            time.sleep(0.05)
        self.stop()
        raise TimeoutError(f"pgbouncer did not listen on {self.port} within {timeout_s}s")

    def stop(self) -> None:
        """Stop the pooler; its directory (and log) goes too."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        shutil.rmtree(self.directory, ignore_errors=True)
