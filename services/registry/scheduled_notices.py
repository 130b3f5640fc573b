"""Notices due later (issue 17): a voucher's holder is reminded 30 days before
it expires; a unit, before a must-list instrument's listing deadline, and the
unit and the center after it when it is overdue (scheduled and cancelled by the
registry's own instrument use cases, listing_notices.py). The event that makes a notice due (``VoucherIssued``) schedules it
in the inbox's transaction; the event that makes it moot (used, expired,
revoked) cancels it, even when it arrives first (a row recording only the
cancellation, so the later schedule does nothing); a periodic task tells each
due notice once (a conditional update of ``sent_at``, so concurrent workers
never tell twice) through ``notices.tell``, in the same transaction."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select, update

from contracts.envelope import new_event_id
from services.registry.db.notification_models import scheduled_notices
from services.registry.domain.notices import Notice
from services.registry.notices import tell
from services.runtime import clock
from services.runtime.bus.consumers import Periodic
from services.runtime.db.readmodel import insert_if_absent
from services.runtime.db.service_db import ServiceDatabase
from services.runtime.db.unit_of_work import SYSTEM
from services.runtime.settings import Settings

#: how many due notices one run tells at most (the next run takes the rest)
BATCH = 200


async def schedule(s: Any, notice: Notice, *, ref: str, due_at: datetime, link: str | None, now: datetime) -> bool:
    """Schedule ``notice`` about ``ref``; nothing when one was scheduled or cancelled already
    (``ON CONFLICT DO NOTHING`` on the (kind, ref) index: a writer racing on the same
    notice, e.g. the listing backfill beside a unit listing the instrument, never fails).
    Whether it was scheduled."""
    return await insert_if_absent(
        s, scheduled_notices,
        dict(
            id=new_event_id(), kind=notice.kind, ref=ref, recipient_role=notice.recipient_role, recipient_org=notice.recipient_org, due_at=due_at,
            subject_zh=notice.subject_zh, text_zh=notice.text_zh, subject_en=notice.subject_en, text_en=notice.text_en, link=link, created_at=now,
        ),
    )  # fmt: skip


async def cancel(s: Any, kind: str, ref: str, *, role: str, org: str, now: datetime) -> None:
    """The notice about ``ref`` is moot: if none is scheduled yet (the cancelling event
    came first), record the cancellation; else cancel it if not yet told. The insert
    does nothing on a row another writer made meanwhile (it waits for that writer's
    commit on PostgreSQL), and the update then cancels that row."""
    if await insert_if_absent(s, scheduled_notices, dict(id=new_event_id(), kind=kind, ref=ref, recipient_role=role, recipient_org=org, created_at=now, cancelled_at=now)):
        return
    await s.execute(
        update(scheduled_notices)
        .where(scheduled_notices.c.kind == kind, scheduled_notices.c.ref == ref, scheduled_notices.c.sent_at.is_(None), scheduled_notices.c.cancelled_at.is_(None))
        .values(cancelled_at=now)
    )


async def send_due(db: ServiceDatabase, now: datetime | None = None) -> int:
    """Tell the notices that are due, each once. The number told."""
    now = now or clock.utc_now()
    due = (scheduled_notices.c.sent_at.is_(None), scheduled_notices.c.cancelled_at.is_(None), scheduled_notices.c.due_at <= now)
    told = 0
    async with db.unit_of_work(SYSTEM, None) as uow:
        s = uow.session
        rows = (await s.execute(select(scheduled_notices).where(*due).order_by(scheduled_notices.c.due_at).limit(BATCH))).mappings().all()
        for r in rows:
            claimed = await s.execute(update(scheduled_notices).where(scheduled_notices.c.id == r["id"], *due).values(sent_at=now))
            if claimed.rowcount != 1:
                continue
            notice = Notice(
                r["recipient_role"], r["recipient_org"], r["kind"], subject_zh=r["subject_zh"], text_zh=r["text_zh"], subject_en=r["subject_en"], text_en=r["text_en"]
            )
            await tell(s, notice, r["link"], now)
            told += 1
    return told


def task(settings: Settings) -> Periodic:
    """The registry worker's scheduled notices (as often as the booking reminders)."""
    return Periodic("send_scheduled_notices", settings.notice_interval_s, send_due)
