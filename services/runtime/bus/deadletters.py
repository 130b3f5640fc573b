"""Operators' view of the dead-letter stream: list, and replay to the
original subject (every consumer's inbox drops what it already handled)."""

from __future__ import annotations

import msgspec
from nats.js.errors import NotFoundError

from contracts.subjects import DEADLETTER_STREAM
from services.runtime.bus.connect import connect_nats
from services.runtime.bus_identity.credentials import BusAccess


class DeadLetter(msgspec.Struct, frozen=True):
    seq: int
    consumer: str
    service: str
    subject: str
    event_id: str | None
    attempts: int
    error: str
    parked_at: str


async def list_dead_letters(bus: BusAccess) -> list[DeadLetter]:
    nc = await connect_nats(bus, "xciss-dlq-cli")
    try:
        js = nc.jetstream()
        try:
            info = await js.stream_info(DEADLETTER_STREAM)
        except NotFoundError:
            return []
        out: list[DeadLetter] = []
        if info.state.messages == 0:
            return out
        for seq in range(info.state.first_seq, info.state.last_seq + 1):
            try:
                msg = await js.get_msg(DEADLETTER_STREAM, seq)
            except NotFoundError:
                continue  # deleted after a replay
            h = msg.headers or {}
            out.append(
                DeadLetter(
                    seq=seq,
                    consumer=h.get("Xciss-Consumer", "?"),
                    service=h.get("Xciss-Service", "?"),
                    subject=h.get("Xciss-Original-Subject", "?"),
                    event_id=h.get("Xciss-Event-Id"),
                    attempts=int(h.get("Xciss-Attempts", "0")),
                    error=h.get("Xciss-Error", ""),
                    parked_at=h.get("Xciss-Parked-At", ""),
                )
            )
        return out
    finally:
        await nc.close()


async def replay(bus: BusAccess, seqs: list[int] | None) -> int:
    """Republish dead letters (all when ``seqs`` is None) and remove them."""
    if seqs is None:
        seqs = [d.seq for d in await list_dead_letters(bus)]
    nc = await connect_nats(bus, "xciss-dlq-cli")
    n = 0
    try:
        js = nc.jetstream()
        for seq in seqs:
            msg = await js.get_msg(DEADLETTER_STREAM, seq)
            h = msg.headers or {}
            headers = {k: v for k, v in h.items() if k in ("traceparent", "tracestate")}
            # a fresh message id: the original id may still be inside the
            # de-duplication window; consumers' inboxes deduplicate by event id
            headers["Nats-Msg-Id"] = f"replay:{seq}:{h.get('Xciss-Event-Id', '')}"
            await js.publish(h["Xciss-Original-Subject"], msg.data or b"", headers=headers)
            await js.delete_msg(DEADLETTER_STREAM, seq)
            n += 1
        return n
    finally:
        await nc.close()
