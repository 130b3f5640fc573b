"""``xciss up``'s heavy steps run in one forked child (services/command/forked_steps.py):
what a step imports stays there, its answer or its error comes back."""

from __future__ import annotations

import os
import sys

import pytest

from services.command.forked_steps import ForkedSteps, StepFailed


def _import_and_tell(name: str) -> tuple[int, bool]:
    __import__(name)
    return os.getpid(), name in sys.modules


def _refuse(why: str) -> None:
    raise ValueError(why)


def test_a_step_runs_in_the_child_and_what_it_imports_stays_there() -> None:
    module = "xml.dom.minidom"
    sys.modules.pop(module, None)
    steps = ForkedSteps()
    try:
        pid, imported = steps.run(_import_and_tell, module)
        again, _ = steps.run(_import_and_tell, module)
    finally:
        steps.close()
    assert imported and pid != os.getpid() and again == pid  # one child for every step
    assert module not in sys.modules


def test_a_failed_step_is_raised_here_with_its_words_and_the_next_step_still_runs() -> None:
    steps = ForkedSteps()
    try:
        with pytest.raises(StepFailed, match="_refuse: ValueError: the database is locked"):
            steps.run(_refuse, "the database is locked")
        assert steps.run(_import_and_tell, "json")[1]
    finally:
        steps.close()
    steps.close()  # twice is harmless (up closes after the demo and on the way out)
