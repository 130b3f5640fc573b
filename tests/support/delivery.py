"""Delivery of events to a consumer on its own, for the runtime's delivery tests: a user
fact of the registry, a raw publish with a message id of one's own, a vouchers worker
that hands UserRegistered to a handler, and a table's rows counted."""

from __future__ import annotations

from sqlalchemy import func, select

from contracts import registry as ev
from contracts.envelope import encode
from services.runtime.bus.connect import connect_nats
from services.runtime.bus.consumers import Subscription, Worker
from services.runtime.bus_identity.credentials import BusAccess
from services.runtime.db.service_db import ServiceDatabase
from services.runtime.service import declare_streams
from services.vouchers.db.models import metadata as vouchers_metadata
from tests.support.codes import credit_code


def user_event(**kw: object) -> ev.UserRegistered:
    base = dict(user_id="u-1", version=1, name="许昌某公司", kind="enterprise", credit_code=credit_code(), in_xuchang=True, verified=False)
    base.update(kw)
    return ev.UserRegistered(**base)  # type: ignore[arg-type]


async def count_rows(db: ServiceDatabase, table: str, **where: object) -> int:
    t = db.metadata.tables[table]
    q = select(func.count()).select_from(t)
    for k, v in where.items():
        q = q.where(t.c[k] == v)
    async with db.read() as s:
        return (await s.execute(q)).scalar_one()


async def publish_raw(bus: BusAccess, event: ev.Event, msg_id: str) -> None:
    nc = await connect_nats(bus, "test-publisher")
    try:
        await nc.jetstream().publish(type(event).subject, encode(event), headers={"Nats-Msg-Id": msg_id})
    finally:
        await nc.close()


async def start_worker(settings, handler) -> tuple[Worker, ServiceDatabase]:
    db = ServiceDatabase("vouchers", settings.database_url("vouchers"), vouchers_metadata)
    await declare_streams(settings, ["registry", "vouchers", "evaluation", "payments"])
    worker = Worker("vouchers", settings, db, [Subscription(ev.UserRegistered, handler)], settings.bus("vouchers"))
    await worker.start()
    return worker, db
