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

The first save of such a record is guarded the other way round: ``If-None-Match: *``
creates it only while there is none (RFC 9110 §13.1.2). Two officers open the form of
a window not set yet; the first saves; the second's ``PUT``, sent with
``If-None-Match: *``, is refused with 412 ``request.record_exists`` (details: the
record's ``etag``) instead of silently overwriting the first. Any other value of
the header is 400 ``request.if_none_match_invalid`` (a write takes only ``*``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

from litestar import Response
from litestar.datastructures import ResponseHeader
from litestar.params import HeaderParameter
from services.runtime.errors import DomainError

if TYPE_CHECKING:  # the gateway reads the tags (etag) without a database: no SQLAlchemy at its import
    from sqlalchemy import Table
    from sqlalchemy.ext.asyncio import AsyncSession

HEADER = "If-Match"
NONE_MATCH = "If-None-Match"
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


class RecordExists(DomainError):
    """A ``PUT`` with ``If-None-Match: *`` found the record saved already (by somebody else)."""

    status = 412

    def __init__(self, current_version: int | None):
        super().__init__(
            "request.record_exists",
            "该记录在您打开后已被他人先行保存，请查看当前内容后重试",
            "the record was saved by somebody else after you opened it (If-None-Match: * but it exists); reload it and apply your change again",
            etag=None if current_version is None else etag(current_version),
        )


class IfNoneMatchInvalid(DomainError):
    status = 400

    def __init__(self) -> None:
        super().__init__("request.if_none_match_invalid", "If-None-Match 只能为 *", "If-None-Match on a write must be *", field=NONE_MATCH)


def create_only(if_none_match: str | None) -> bool:
    """Whether a ``PUT`` may only create its record (``If-None-Match: *``); no header: False."""
    if if_none_match is None:
        return False
    if if_none_match.strip() != "*":
        raise IfNoneMatchInvalid()
    return True


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
    only_create: bool = False,
) -> int | None:
    """Create or replace the record at ``key`` (a ``PUT``) at the version the caller read:
    ``current`` is the row as read, locked, in the same transaction (None: there is none).
    First 412 when the If-Match does not fit (:func:`check_absent`, :func:`check_version`);
    then an insert at version 1 that does nothing when another writer created the row
    meanwhile, or an update ``WHERE version = <the one read>``. Answers the new version, or
    None when another writer got there first (the caller's 409, in its own words).
    ``only_create`` (``If-None-Match: *``): a record that exists, read or created meanwhile,
    is 412 :class:`RecordExists` and nothing is written."""
    from sqlalchemy import update

    from services.runtime.db.readmodel import insert_if_absent

    if current is None:
        check_absent(expected, if_match_sent=if_match_sent)
        if await insert_if_absent(session, table, {**key, **values, "version": 1}):
            return 1
        if only_create:
            raise RecordExists(None)
        return None
    if only_create:
        raise RecordExists(int(current["version"]))
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

#: the handler parameter that documents ``If-None-Match`` on a ``PUT`` that creates its record (read with :func:`create_only`)
IfNoneMatchHeader = Annotated[
    str | None,
    HeaderParameter(
        name=NONE_MATCH,
        description=(
            "* : save only if the record does not exist yet (the form was opened without one); "
            "when it does, 412 request.record_exists (details.etag: its version) and nothing is written; "
            "any other value 400 request.if_none_match_invalid"
        ),
    ),
]

#: the ``ETag`` response header in OpenAPI
ETAG_HEADER = [ResponseHeader(name="ETag", description="the record's version (\"v12\"): send it as If-Match on an edit", documentation_only=True)]


def takes_if_match(annotations: Mapping[str, Any]) -> bool:
    """Whether a handler's parameters include :data:`IfMatchHeader` (for the operation docs)."""
    return any(_is_header(a, "IfMatchHeader", IfMatchHeader) for a in annotations.values())


def takes_if_none_match(annotations: Mapping[str, Any]) -> bool:
    """Whether a handler's parameters include :data:`IfNoneMatchHeader` (for the operation docs)."""
    return any(_is_header(a, "IfNoneMatchHeader", IfNoneMatchHeader) for a in annotations.values())


def _is_header(annotation: Any, name: str, header: Any) -> bool:
    if isinstance(annotation, str):  # postponed annotations: the name as written
        return annotation.rpartition(".")[2] == name
    return bool(annotation == header)
