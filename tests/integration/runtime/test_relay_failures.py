"""What the relay records of a batch in which some publishes failed: each failed
row keeps its error and counts the attempt, the others are published, and the
failed rows are recorded one UPDATE per error text, not one per row (a NATS
outage fails a whole batch of up to ``XCISS_OUTBOX_BATCH`` rows, every try)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import event, insert, select

from contracts import registry as ev
from services.runtime.bus.connect import connect_nats
from services.runtime.db.service_db import ServiceDatabase
from services.runtime.db.unit_of_work import outbox_row
from services.runtime.service import create_relay
from tests.support.codes import credit_code
from tests.support.platform import Platform, running


async def _write(db: ServiceDatabase, user_id: str, *, oversized: bool) -> str:
    """One outbox row; an oversized one exceeds the NATS server's maximum payload
    (the client refuses to send it: MaxPayloadError)."""
    e = ev.UserRegistered(user_id=user_id, version=1, name="许昌某公司", kind="enterprise", credit_code=credit_code(), in_xuchang=True, verified=False)
    row = outbox_row(e, {})
    if oversized:
        row["payload"] = row["payload"] + b" " * (2 * 1024 * 1024)
    async with db.engine.begin() as conn:
        await conn.execute(insert(db.metadata.tables["outbox"]).values(**row))
    return e.event_id


async def test_failed_rows_keep_their_error_and_are_recorded_together(make_settings) -> None:
    settings = await make_settings(["registry"])
    async with running(Platform(settings, ["registry"]), worker=False, relay=False) as p:
        db = p["registry"].db
        good = [await _write(db, f"u-good-{k}", oversized=False) for k in range(2)]
        bad = [await _write(db, f"u-big-{k}", oversized=True) for k in range(3)]
        relay = create_relay(p["registry"].spec, settings, db)

        updates: list[str] = []

        def count(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
            if statement.lstrip().upper().startswith("UPDATE OUTBOX"):
                updates.append(statement)

        nc = await connect_nats(settings.bus("registry"), "test-relay-failures")
        event.listen(db.engine.sync_engine, "before_cursor_execute", count)
        try:
            sent, failed = await relay.publish_batch(nc.jetstream(timeout=settings.publish_timeout_s))
        finally:
            event.remove(db.engine.sync_engine, "before_cursor_execute", count)
            await nc.close()

        assert (sent, failed) == (2, 3)
        outbox = db.metadata.tables["outbox"]
        async with db.read() as s:
            rows = {r.event_id: r for r in (await s.execute(select(outbox))).all()}
        for event_id in good:
            assert rows[event_id].published_at is not None and rows[event_id].last_error is None
        for event_id in bad:
            row = rows[event_id]
            assert row.published_at is None and row.attempts == 1
            assert "MaxPayloadError" in row.last_error, row.last_error
        # the published rows in one UPDATE, the three failed ones (one error text) in another
        assert len(updates) == 2, updates
