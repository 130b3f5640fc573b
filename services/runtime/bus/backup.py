"""Backing up and restoring JetStream streams through the server's own API.

A backup of stream S is what ``$JS.API.STREAM.SNAPSHOT.S`` sends: the
stream's configuration and state (the API's answer), then its messages and
consumers as an s2-compressed tar, in chunks the client acknowledges one by
one (the server keeps a window of chunks in flight and gives up when no
acknowledgement comes for 5 s). A restore sends the same chunks back, each
as a request, to the subject ``$JS.API.STREAM.RESTORE.S`` names, and an
empty request to finish; the server answers it with the stream's info.

On disk a backup is one directory per stream, the layout of the ``nats``
command line's ``nats stream backup`` (``backup.json`` with the
configuration and state, ``stream.tar.s2``), so either tool restores the
other's backups. The operator identity runs both (its ``$JS.API.>`` and
``$JS.SNAPSHOT.>`` permissions, ``permissions.py``).
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import msgspec
import nats
from nats.aio.msg import Msg
from nats.js.api import Header

META_FILE = "backup.json"
DATA_FILE = "stream.tar.s2"
CHUNK_BYTES = 128 * 1024
API_TIMEOUT_S = 10.0
#: the server gives up after 5 s without an acknowledgement; the client after this long without a chunk
CHUNK_TIMEOUT_S = 15.0


class BackupError(RuntimeError):
    """The server refused or broke off a backup or a restore."""


class StreamBackup(msgspec.Struct, frozen=True, kw_only=True):
    stream: str
    messages: int
    bytes_written: int
    directory: str


def _api_answer(msg: Msg, what: str) -> dict[str, Any]:
    body = json.loads(msg.data or b"{}")
    if body.get("error"):
        err = body["error"]
        raise BackupError(f"{what}: {err.get('description', err)} (code {err.get('err_code', err.get('code'))})")
    return body


async def stream_names(nc: nats.NATS) -> list[str]:
    names: list[str] = []
    offset = 0
    while True:
        msg = await nc.request("$JS.API.STREAM.NAMES", json.dumps({"offset": offset}).encode(), timeout=API_TIMEOUT_S)
        body = _api_answer(msg, "listing the streams")
        page = body.get("streams") or []
        names += page
        offset += len(page)
        if not page or offset >= body.get("total", 0):
            return sorted(names)


async def backup_stream(nc: nats.NATS, stream: str, directory: Path) -> StreamBackup:
    """Write ``stream``'s snapshot (with its consumers) to ``directory/stream``."""
    target = directory / stream
    target.mkdir(parents=True, exist_ok=True)
    chunks: asyncio.Queue[Msg] = asyncio.Queue()
    inbox = nc.new_inbox()
    sub = await nc.subscribe(inbox, cb=chunks.put)
    written = 0
    try:
        request = {"deliver_subject": inbox, "chunk_size": CHUNK_BYTES, "no_consumers": False}
        answer = _api_answer(
            await nc.request(f"$JS.API.STREAM.SNAPSHOT.{stream}", json.dumps(request).encode(), timeout=API_TIMEOUT_S),
            f"snapshot of {stream}",
        )
        partial = target / (DATA_FILE + ".part")
        with partial.open("wb") as out:
            while True:
                try:
                    msg = await asyncio.wait_for(chunks.get(), CHUNK_TIMEOUT_S)
                except TimeoutError as exc:
                    raise BackupError(f"snapshot of {stream}: no chunk for {CHUNK_TIMEOUT_S:.0f} s after {written} bytes") from exc
                if msg.data:
                    out.write(msg.data)
                    written += len(msg.data)
                    if msg.reply:  # the flow-control acknowledgement; the last short chunk has none
                        await nc.publish(msg.reply, b"")
                    continue
                headers = msg.headers or {}
                status = headers.get(Header.STATUS.value)
                if status and status not in ("204", "200"):
                    description = headers.get(Header.DESCRIPTION.value, "")
                    raise BackupError(f"snapshot of {stream} broken off by the server: {status} {description}".strip())
                break  # the empty end-of-snapshot message
        partial.replace(target / DATA_FILE)
        meta = {"config": answer["config"], "state": answer["state"]}
        (target / META_FILE).write_text(json.dumps(meta, indent=2), encoding="utf-8")
    finally:
        await sub.unsubscribe()
    return StreamBackup(stream=stream, messages=int(answer["state"].get("messages", 0)), bytes_written=written, directory=str(target))


async def backup_all(nc: nats.NATS, directory: Path, streams: list[str] | None = None) -> list[StreamBackup]:
    return [await backup_stream(nc, s, directory) for s in (streams or await stream_names(nc))]


async def restore_stream(nc: nats.NATS, source: Path, replicas: int | None = None) -> dict[str, Any]:
    """Create the stream saved in ``source`` (a stream's backup directory) with
    its messages and consumers; the stream must not exist. ``replicas``
    overrides the saved replica count (restoring an R3 stream on one server)."""
    meta = json.loads((source / META_FILE).read_text(encoding="utf-8"))
    config = dict(meta["config"])
    if replicas is not None:
        config["num_replicas"] = replicas
    stream = config["name"]
    answer = _api_answer(
        await nc.request(
            f"$JS.API.STREAM.RESTORE.{stream}", json.dumps({"config": config, "state": meta["state"]}).encode(), timeout=API_TIMEOUT_S
        ),
        f"restore of {stream}",
    )
    deliver = answer["deliver_subject"]
    with (source / DATA_FILE).open("rb") as data:
        while chunk := data.read(CHUNK_BYTES):
            reply = await nc.request(deliver, chunk, timeout=API_TIMEOUT_S)
            if reply.data:  # an empty answer acknowledges the chunk; a body is an error
                _api_answer(reply, f"restore of {stream}")
    # the end: an empty chunk; the server answers once the stream is in place (big streams take a while)
    done = await nc.request(deliver, b"", timeout=max(API_TIMEOUT_S, 120.0))
    return _api_answer(done, f"restore of {stream}")


async def restore_all(nc: nats.NATS, directory: Path, replicas: int | None = None) -> list[str]:
    restored = []
    for source in sorted(p for p in directory.iterdir() if (p / META_FILE).exists()):
        await restore_stream(nc, source, replicas)
        restored.append(source.name)
    return restored
