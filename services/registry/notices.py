"""Telling an organisation something (issues 16 and 17): one in-app
notification of the organisation plus one mail through ``mail_outbox`` to each
of its active accounts of that role with an e-mail (a city-wide staff role's:
every active account of the role, ``CITY_WIDE``), written in the caller's
transaction (so a notice is never lost, nor written without the change or the
inbox row that caused it). The registry worker's mail task sends the mails
(password_reset.deliver_pending)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import insert, select

from contracts.envelope import new_event_id
from services.registry.db.account_models import accounts
from services.registry.db.notification_models import notifications
from services.registry.db.recovery_models import mail_outbox
from services.registry.domain.notices import CITY_WIDE, STAFF_ROLES, Notice, mail_body, mail_subject


async def tell(s: Any, notice: Notice, link: str | None, now: datetime, *, booking_id: str | None = None) -> int:
    """Write the notification and its mails; the number of mails written."""
    await s.execute(
        insert(notifications).values(
            id=new_event_id(),
            recipient_role=notice.recipient_role,
            recipient_org=notice.recipient_org,
            kind=notice.kind,
            booking_id=booking_id,
            text_zh=notice.text_zh,
            text_en=notice.text_en,
            link=link,
            created_at=now,
            read_at=None,
        )
    )
    # a city-wide staff role's notice goes to every active account of the role (they have no organisation)
    whose = () if notice.recipient_org == CITY_WIDE and notice.recipient_role in STAFF_ROLES else (accounts.c.org == notice.recipient_org,)
    q = select(accounts.c.email).where(accounts.c.role == notice.recipient_role, *whose, accounts.c.status == "active", accounts.c.email.is_not(None))
    addresses = sorted({e for (e,) in (await s.execute(q)).all() if e})
    for address in addresses:
        await s.execute(
            insert(mail_outbox).values(
                id=new_event_id(),
                kind=notice.kind,
                recipient=address,
                subject=mail_subject(notice),
                body=mail_body(notice, link or "/notifications"),
                created_at=now,
                next_attempt_at=now,
                attempts=0,
                last_error=None,
                sent_at=None,
            )
        )
    return len(addresses)
