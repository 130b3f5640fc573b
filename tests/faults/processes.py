"""One child process of the fault harness (``xciss run <service>``, ``xciss gateway``):
its own process group, killed with the harness (PR_SET_PDEATHSIG)."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
from pathlib import Path

from services.command.natsserver import die_with_parent

ROOT = Path(__file__).resolve().parents[2]


class Child:
    """A child process in its own process group: signalled as a group, SIGKILLed
    (after a SIGCONT when it was stopped) — a service process or a NATS server."""

    proc: subprocess.Popen[bytes] | None = None
    stopped = False  # SIGSTOPped

    @property
    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def signal(self, sig: int) -> None:
        if self.alive:
            assert self.proc is not None
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, sig)

    def kill(self) -> None:
        if self.proc is None:
            return
        if self.stopped:
            self.signal(signal.SIGCONT)
        self.signal(signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.proc.wait(15)
        self.stopped = False


class ServiceProcess(Child):
    """One ``xciss run <service>`` (or ``xciss gateway``) child."""

    def __init__(self, name: str, env: dict[str, str], log_path: Path, args: tuple[str, ...] | None = None):
        self.name = name
        self.args = args or ("run", name)
        self.env = env
        self.log_path = log_path

    def start(self) -> None:
        log = open(self.log_path, "ab")  # noqa: SIM115 - handed to the child
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "services.command.cli", *self.args],
            cwd=ROOT, env=self.env, stdin=subprocess.DEVNULL, stdout=log, stderr=log,
            start_new_session=True, preexec_fn=die_with_parent,  # noqa: PLW1509
        )
        log.close()
        self.stopped = False
