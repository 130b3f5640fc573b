"""Shared checks of the If-Match rules (services/runtime/http/preconditions.py)
for the integration tests of each edit that takes the header."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

#: malformed If-Match values: no quotes, weak, no "v", version 0, a list
MALFORMED = ("v5", 'W/"v5"', '"5"', '"v0"', '"v5", "v6"')


def stale(r: Any, current: str | None) -> None:
    """``r`` is the 412 of an edit from an older read, naming the ``current`` tag."""
    assert r.status_code == 412, r.text
    problem = r.json()
    assert problem["code"] == "request.precondition_failed" and problem["details"]["etag"] == current, problem


async def malformed_refused(send: Callable[[str], Awaitable[Any]]) -> None:
    """Each malformed tag is 400 ``request.if_match_invalid`` at the header."""
    for bad in MALFORMED:
        r = await send(bad)
        assert r.status_code == 400, (bad, r.text)
        assert r.json()["code"] == "request.if_match_invalid" and r.json()["details"]["field"] == "If-Match", (bad, r.text)
