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


#: the header of a first save: create the record only while there is none
CREATE_ONLY = {"If-None-Match": "*"}


def exists(r: Any, current: str | None) -> None:
    """``r`` is the 412 of a first save (``If-None-Match: *``) of a record somebody saved already."""
    assert r.status_code == 412, r.text
    problem = r.json()
    assert problem["code"] == "request.record_exists" and problem["details"]["etag"] == current, problem


async def first_save_guarded(send: Callable[[int, dict[str, str]], Awaitable[Any]], read: Callable[[], Awaitable[Any]], value: Callable[[Any], Any]) -> None:
    """Two officers open the form of a record not saved yet and both save with ``If-None-Match: *``
    (``send(n, headers)`` sends the n-th officer's values): the first creates it (``"v1"``), the
    second is 412 ``request.record_exists`` naming ``"v1"`` and the stored record stays the first's
    (``value`` of a body); a value of the header but ``*`` is 400 at the header; without it, a
    save replaces the record as before."""
    first = await send(1, CREATE_ONLY)
    assert first.status_code in (200, 201) and first.headers["etag"] == '"v1"', first.text
    exists(await send(2, CREATE_ONLY), '"v1"')
    assert value((await read()).json()) == value(first.json())
    for bad in ('"v1"', "W/*", ""):
        r = await send(2, {"If-None-Match": bad})
        assert r.status_code == 400 and r.json()["code"] == "request.if_none_match_invalid" and r.json()["details"]["field"] == "If-None-Match", (bad, r.text)
    replaced = await send(2, {})
    assert replaced.status_code == 200 and replaced.headers["etag"] == '"v2"', replaced.text
    assert value((await read()).json()) == value(replaced.json()) != value(first.json())
