"""Optimistic concurrency over HTTP: a record's version is its ``ETag``, and an
edit sent with ``If-Match`` applies only to the version the client read.

Two officers open the same instrument (``ETag: "v3"``); the first saves (the
record is now ``"v4"``); the second's edit, still sent with
``If-Match: "v3"``, is refused with 412 ``request.precondition_failed``
(details: the current ``etag``) instead of silently overwriting the first.
The comparison is the use case's own: it reads the row and updates it only
``WHERE version = <expected>`` in one transaction, so a race between two
edits cannot slip between the check and the write.

``If-Match: *`` (or no header) edits whatever version is current, as before.
A record a ``PUT`` creates the first time (no row yet) has no current
representation, so any ``If-Match`` on it fails (RFC 9110 §13.1.1): a tag or
``*`` is 412 (details.etag: null); without the header the ``PUT`` creates it.
A malformed header is 400 ``request.if_match_invalid``: a strong tag as the
record's ``ETag`` gave it (``"v12"``); weak tags never match an edit.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Annotated, Any, TypeVar

from litestar import Response
from litestar.datastructures import ResponseHeader
from litestar.params import HeaderParameter
from sqlalchemy import Table, update
from sqlalchemy.ext.asyncio import AsyncSession

from services.runtime.db.readmodel import insert_if_absent
from services.runtime.errors import DomainError

HEADER = "If-Match"
_TAG = re.compile(r'"v([1-9][0-9]{0,9})"')

T = TypeVar("T")


class PreconditionFailed(DomainError):
    status = 412

    def __init__(self, current_version: int | None):
        super().__init__(
            "request.precondition_failed",
            "该记录在您读取后已被他人修改，请刷新查看后重试",
            "the record changed since you read it (If-Match does not match its ETag); reload it and apply your change again",
            etag=None if current_version is None else etag(current_version),
        )


class IfMatchInvalid(DomainError):
    status = 400

    def __init__(self) -> None:
        super().__init__(
            "request.if_match_invalid",
            "If-Match 须为记录的 ETag（如 \"v12\"）或 *",
            'If-Match must be the record\'s ETag (e.g. "v12") or *',
            field=HEADER,
        )


def etag(version: int) -> str:
    """The ``ETag`` of a record at ``version`` (a strong tag: ``"v12"``)."""
    return f'"v{version}"'


def expected_version(if_match: str | None) -> int | None:
    """The version an edit's ``If-Match`` expects; ``None`` for no header or ``*``."""
    if if_match is None or if_match.strip() == "*":
        return None
    found = _TAG.fullmatch(if_match.strip())
    if found is None:
        raise IfMatchInvalid()
    return int(found.group(1))


def check_version(current: int, expected: int | None) -> None:
    """Inside the use case's transaction, before it writes: 412 when the caller
    read another version (``expected`` from :func:`expected_version`)."""
    if expected is not None and expected != current:
        raise PreconditionFailed(current)


def check_absent(expected: int | None, *, if_match_sent: bool) -> None:
    """Inside the use case's transaction, before a ``PUT`` creates the record: any
    ``If-Match`` (a tag or ``*``, ``if_match_sent``) asks for a current version
    that does not exist, so 412 (RFC 9110 §13.1.1)."""
    if expected is not None or if_match_sent:
        raise PreconditionFailed(None)


async def write_versioned(
    session: AsyncSession,
    table: Table,
    key: Mapping[str, Any],
    values: Mapping[str, Any],
    current: Mapping[str, Any] | None,
    *,
    expected: int | None,
    if_match_sent: bool,
) -> int | None:
    """Create or replace the record at ``key`` (a ``PUT``) at the version the caller read:
    ``current`` is the row as read, locked, in the same transaction (None: there is none).
    First 412 when the If-Match does not fit (:func:`check_absent`, :func:`check_version`);
    then an insert at version 1 that does nothing when another writer created the row
    meanwhile, or an update ``WHERE version = <the one read>``. Answers the new version, or
    None when another writer got there first (the caller's 409, in its own words)."""
    if current is None:
        check_absent(expected, if_match_sent=if_match_sent)
        return 1 if await insert_if_absent(session, table, {**key, **values, "version": 1}) else None
    check_version(current["version"], expected)
    version = int(current["version"]) + 1
    where = [table.c[k] == v for k, v in key.items()] + [table.c.version == current["version"]]
    done = await session.execute(update(table).where(*where).values(**values, version=version))
    return version if done.rowcount == 1 else None


def tagged(body: T, version: int, *, status_code: int = 200, headers: Mapping[str, str] | None = None) -> Response[T]:
    """``body`` answered with the record's ``ETag``."""
    return Response(body, status_code=status_code, headers={**(headers or {}), "ETag": etag(version)})


#: the handler parameter that documents the header in OpenAPI (read with :func:`expected_version`)
IfMatchHeader = Annotated[
    str | None,
    HeaderParameter(
        name=HEADER,
        description=(
            "apply the edit only to the version read: the record's ETag as a GET gave it (\"v12\"); "
            "another version is 412 request.precondition_failed (details.etag: the current one); "
            "a malformed value 400 request.if_match_invalid; * or no header: the current version"
        ),
    ),
]

#: the ``ETag`` response header in OpenAPI
ETAG_HEADER = [ResponseHeader(name="ETag", description="the record's version (\"v12\"): send it as If-Match on an edit", documentation_only=True)]


def takes_if_match(annotations: Mapping[str, Any]) -> bool:
    """Whether a handler's parameters include :data:`IfMatchHeader` (for the operation docs)."""
    return any(_is_if_match(a) for a in annotations.values())


def _is_if_match(annotation: Any) -> bool:
    if isinstance(annotation, str):  # postponed annotations: the name as written
        return annotation.rpartition(".")[2] == "IfMatchHeader"
    return bool(annotation == IfMatchHeader)
