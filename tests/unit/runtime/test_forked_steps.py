"""``xciss up``'s heavy steps run in one forked child (services/command/forked_steps.py):
what a step imports stays there, its answer or its error comes back.

Each test drives the steps from a fresh interpreter, as ``xciss up`` does: a fork
from a test worker (which has threads of its own) could copy a lock another thread
holds into the child."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]


def _import_and_tell(name: str) -> tuple[int, bool]:
    __import__(name)
    return os.getpid(), name in sys.modules


def _refuse(why: str) -> None:
    raise ValueError(why)


def _hang(seconds: float) -> None:
    import time

    time.sleep(seconds)


def _run(script: str) -> str:
    head = "import os, sys\nfrom services.command.forked_steps import ForkedSteps, StepFailed\nfrom tests.unit.runtime.test_forked_steps import _hang, _import_and_tell, _refuse\n"
    out = subprocess.run([sys.executable, "-c", head + script], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    return out.stdout.strip()


def test_a_step_runs_in_the_child_and_what_it_imports_stays_there() -> None:
    told = _run(
        """
module = "xml.dom.minidom"
assert module not in sys.modules
steps = ForkedSteps()
try:
    pid, imported = steps.run(_import_and_tell, module)
    again, _ = steps.run(_import_and_tell, module)
finally:
    steps.close()
print(pid != os.getpid(), imported, again == pid, module in sys.modules)
"""
    )
    # in another process, imported there, one child for every step, not imported here
    assert told == "True True True False"


def test_a_failed_step_is_raised_here_with_its_words_and_the_next_step_still_runs() -> None:
    told = _run(
        """
steps = ForkedSteps()
try:
    try:
        steps.run(_refuse, "the database is locked")
    except StepFailed as exc:
        print(exc)
    print(steps.run(_import_and_tell, "json")[1])
finally:
    steps.close()
steps.close()  # twice is harmless (up closes after the demo and on the way out)
"""
    )
    assert told.splitlines() == ["_refuse: ValueError: the database is locked", "True"]


def test_a_step_that_does_not_answer_in_time_fails_and_its_process_is_stopped() -> None:
    told = _run(
        """
import time
steps = ForkedSteps()
child = steps._child
started = time.monotonic()
try:
    steps.run(_hang, 30, timeout_s=0.5)
except StepFailed as exc:
    print(exc)
print(time.monotonic() - started < 10, child.is_alive())
steps.close()  # closing after a stopped step is harmless
"""
    )
    assert told.splitlines() == ["_hang: no answer within 0.5 s; its process was stopped", "True False"]
