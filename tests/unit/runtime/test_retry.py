"""again_after (services/runtime/retry.py): a transient failure is tried again after
each delay in turn; the last failure, or another kind at once, reaches the caller."""

from __future__ import annotations

import pytest

from services.runtime.retry import again_after


class Flaky:
    def __init__(self, failures: list[Exception]) -> None:
        self.failures, self.calls = list(failures), 0

    async def __call__(self) -> str:
        self.calls += 1
        if self.failures:
            raise self.failures.pop(0)
        return "done"


async def test_a_transient_failure_is_tried_again_after_the_delays(waits: list[float]) -> None:
    op = Flaky([TimeoutError(), TimeoutError()])
    assert await again_after(op, (0.25, 0.5, 1.0), TimeoutError) == "done"
    assert op.calls == 3 and waits == [0.25, 0.5]


async def test_the_last_failure_reaches_the_caller_after_every_delay(waits: list[float]) -> None:
    op = Flaky([TimeoutError()] * 5)
    with pytest.raises(TimeoutError):
        await again_after(op, (0.5, 1.0), TimeoutError)
    assert op.calls == 3 and waits == [0.5, 1.0]


async def test_another_failure_is_not_tried_again(waits: list[float]) -> None:
    op = Flaky([ValueError("bad"), TimeoutError()])
    with pytest.raises(ValueError, match="bad"):
        await again_after(op, (0.5, 1.0), TimeoutError)
    assert op.calls == 1 and waits == []


async def test_no_delays_is_one_try(waits: list[float]) -> None:
    op = Flaky([TimeoutError()])
    with pytest.raises(TimeoutError):
        await again_after(op, ())
    assert op.calls == 1 and waits == []
