"""Heavy one-off steps of a long-lived light process, in a child forked for them.

``xciss up`` stays running to watch the platform's processes; what its start-up
steps import (SQLAlchemy and alembic for the migrations, every service's spec
for the bus plan, the demo loader) would stay in its memory for as long as it
runs (over 100 MiB). :class:`ForkedSteps` forks one child before any of them,
which imports what the steps need once and runs each on the parent's word,
answering its result or its error; the parent closes it when the last step is
done and stays small (issue 19, target 5).
"""

from __future__ import annotations

import multiprocessing
import signal
from collections.abc import Callable
from typing import Any


#: the longest a step may take (migrations of a large database, the demo data over
#: HTTP); a step still running then, e.g. waiting on a lock another process holds,
#: fails with the time it was given instead of holding ``xciss up`` for ever
STEP_TIMEOUT_S = 600.0


class StepFailed(RuntimeError):
    pass


class ForkedSteps:
    """Fork before the parent starts a thread; ``run(step, *args)``: ``step(*args)`` in
    the child, its result here (picklable, as are the step and its arguments)."""

    def __init__(self) -> None:
        ctx = multiprocessing.get_context("fork")
        self._pipe, theirs = ctx.Pipe()
        self._child = ctx.Process(target=_serve, args=(theirs,), name="xciss-steps", daemon=True)
        self._child.start()
        theirs.close()

    def run(self, step: Callable[..., Any], *args: Any, timeout_s: float = STEP_TIMEOUT_S) -> Any:
        self._pipe.send((step, args))
        if not self._pipe.poll(timeout_s):
            # the child is mid-step: it cannot be asked to stop, and cannot run another
            self._child.kill()
            self._child.join()
            raise StepFailed(f"{step.__name__}: no answer within {timeout_s:g} s; its process was stopped")
        try:
            ok, value = self._pipe.recv()
        except EOFError:
            self._child.join(5)
            raise StepFailed(f"{step.__name__}: the step's process ended (exit {self._child.exitcode})") from None
        if not ok:
            raise StepFailed(f"{step.__name__}: {value}")
        return value

    def close(self) -> None:
        if self._child.is_alive():
            try:
                self._pipe.send(None)
            except OSError:
                pass
            self._child.join(10)
            if self._child.is_alive():
                self._child.kill()
                self._child.join()
        self._pipe.close()


def _serve(pipe: Any) -> None:
    # the parent owns Ctrl-C and SIGTERM: it stops the platform, and then this child
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    while (asked := pipe.recv()) is not None:
        step, args = asked
        try:
            answer: tuple[bool, Any] = (True, step(*args))
        except Exception as exc:  # noqa: BLE001 - the parent raises it with these words
            answer = (False, f"{type(exc).__name__}: {exc}")
        pipe.send(answer)
    pipe.close()
