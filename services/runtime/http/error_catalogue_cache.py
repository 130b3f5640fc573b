"""A cache of the scanned error catalogue (``error_catalogue.scanned``).

Reading the catalogue from the source parses and walks every module of the
services with ``ast``: about a second of CPU, which every API process used to
spend at start-up (issue 19: ``xciss up`` starts five processes on two
cores). The result is kept in a file beside the source, keyed by a digest of
the scanned files' paths and contents: any edit to any of them makes the file
stale, and a stale or unreadable file is scanned again, so the cache can never
give an out-of-date answer. Writing it is best effort (a read-only file
system, a race with another process: the next start scans again); the image
writes it at build time (deploy/Containerfile).
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import tempfile
from pathlib import Path

import msgspec

FILE = Path(__file__).resolve().parent / ".error_catalogue.cache.json"


class CachedCode(msgspec.Struct, array_like=True):
    code: str
    status: int
    message_zh: str
    message_en: str
    statuses: list[int]
    places: list[str]


class _Cached(msgspec.Struct):
    digest: str
    entries: list[CachedCode]


def digest(files: list[Path], root: Path) -> str:
    h = hashlib.sha256()
    for f in files:
        h.update(f.relative_to(root).as_posix().encode())
        h.update(b"\0")
        h.update(f.read_bytes())
        h.update(b"\0")
    return h.hexdigest()


def load(expected: str, path: Path | None = None) -> list[CachedCode] | None:
    try:
        cached = msgspec.json.decode((path or FILE).read_bytes(), type=_Cached)
    except (OSError, msgspec.DecodeError, msgspec.ValidationError):
        return None
    return cached.entries if cached.digest == expected else None


def store(value: str, entries: list[CachedCode], path: Path | None = None) -> None:
    path = path or FILE
    data = msgspec.json.encode(_Cached(value, entries))
    with contextlib.suppress(OSError):  # read-only, or gone: scanned again next time
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name, suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as out:
                out.write(data)
            os.replace(tmp, path)  # whole or not at all: a reader never sees half a file
        finally:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
