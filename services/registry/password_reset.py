"""Password reset by e-mail (issue 17).

``request_reset``: for every active or locked account with that e-mail, a
token (stored as its digest) and the mail carrying its link are written in
one transaction; the caller's answer is the same whether or not an account
exists, and no mail is sent before the answer (``deliver_pending`` runs
afterwards, and a worker retries what is still unsent, so a crash loses no
mail). ``confirm_reset``: a usable token sets the new password (the policy
of ``domain.accounts``), ends every session of the account, clears a lock,
and uses up every other token of the account. Both are audited; neither the
token nor the e-mail address is ever audited or logged."""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import insert, select, update

from contracts.envelope import new_event_id
from services.registry.db.account_models import accounts
from services.registry.db.recovery_models import mail_outbox, password_resets
from services.registry.domain import recovery
from services.registry.domain.accounts import AccountStatus, check_password
from services.registry.domain.notices import absolute_links
from services.registry.session_ends import revoke_account_sessions, revoke_session
from services.registry.passwords import hash_password
from services.runtime import clock
from services.runtime.roles import Role
from services.runtime.bus.consumers import Periodic
from services.runtime.errors import DomainError
from services.runtime.mailer import MailError, send_mail
from services.runtime.db.unit_of_work import Actor
from services.runtime.db.service_db import ServiceDatabase
from services.runtime.http.sessions import Revocations
from services.runtime.settings import Settings

log = logging.getLogger("xciss.registry.password_reset")

ANONYMOUS = Actor(subject="anonymous", role=str(Role.ANONYMOUS))
#: a sender holds a mail this long before another may try it
LEASE = timedelta(seconds=60)
#: after the n-th failed attempt, wait BACKOFF[min(n, len) - 1]
BACKOFF = (timedelta(seconds=30), timedelta(minutes=2), timedelta(minutes=10), timedelta(hours=1))
BATCH = 20

#: mails being sent after a request (kept so they are not collected mid-way)
_pending_sends: set[asyncio.Task[Any]] = set()


def portal_url(settings: Settings) -> str:
    return settings.public_url or f"http://127.0.0.1:{settings.gateway_port}"


async def request_reset(db: ServiceDatabase, settings: Settings, correlation_id: str | None, *, email: str) -> int:
    """Write a token and its mail for each account of ``email`` that may sign in; the number written
    (for the caller's logs and tests only: the API answers the same either way)."""
    try:
        address = recovery.clean_email(email)
    except DomainError:
        address = None
    if address is None:
        raise DomainError("password_reset.invalid_email", "请填写有效的电子邮箱", "give a valid e-mail address", field="email")
    now = clock.utc_now()
    written = 0
    async with db.unit_of_work(ANONYMOUS, correlation_id) as uow:
        s = uow.session
        q = select(accounts).where(accounts.c.email == address, accounts.c.status != str(AccountStatus.DISABLED))
        rows = (await s.execute(q.order_by(accounts.c.created_at))).mappings().all()
        for row in rows:
            token = recovery.new_token()
            expires = recovery.token_expiry(now, settings.password_reset_ttl_minutes)
            await s.execute(
                insert(password_resets).values(id=new_event_id(), account_id=row["id"], token_digest=recovery.token_digest(token), created_at=now, expires_at=expires, used_at=None)
            )
            link = f"{portal_url(settings)}/password/reset?token={token}"
            subject, body = recovery.reset_mail(row["username"], link, settings.password_reset_ttl_minutes)
            await s.execute(
                insert(mail_outbox).values(
                    id=new_event_id(), kind="password_reset", recipient=address, subject=subject, body=body, created_at=now, next_attempt_at=now, attempts=0, last_error=None, sent_at=None
                )
            )
            await uow.audit("account.password_reset_requested", "account", row["id"], after={"expires_at": expires.isoformat()})
            written += 1
        if not rows:
            await uow.audit("account.password_reset_requested", "account", "unknown", reason="no account that may sign in has this e-mail")
    if written:
        task = asyncio.create_task(deliver_pending(db, settings))
        _pending_sends.add(task)
        task.add_done_callback(_pending_sends.discard)
    return written


async def _link(db: ServiceDatabase, token: str) -> tuple[Any, Any]:
    """The reset row of ``token`` and its account (either None when unknown)."""
    digest = recovery.token_digest(token or "")
    async with db.read() as s:
        reset = (await s.execute(select(password_resets).where(password_resets.c.token_digest == digest))).mappings().first()
        account = None if reset is None else (await s.execute(select(accounts).where(accounts.c.id == reset["account_id"]))).mappings().first()
    return reset, account


async def check_reset(db: ServiceDatabase, *, token: str) -> datetime:
    """When the link of ``token`` stops working, while it still works: the reset page asks
    before it shows the form, so an old link says so when it is opened, not after a new
    password was typed. Raises :class:`recovery.InvalidResetToken` (unknown, used or
    expired; nothing is used up or audited: the link is only read)."""
    reset, account = await _link(db, token)
    if reset is None or account is None or not recovery.token_usable(reset["expires_at"], reset["used_at"], clock.utc_now()):
        raise recovery.InvalidResetToken()
    return reset["expires_at"]  # type: ignore[no-any-return]


async def confirm_reset(db: ServiceDatabase, revocations: Revocations, correlation_id: str | None, *, token: str, new_password: str) -> None:
    now = clock.utc_now()
    reset, account = await _link(db, token)
    if reset is None or account is None or not recovery.token_usable(reset["expires_at"], reset["used_at"], now):
        async with db.unit_of_work(ANONYMOUS, correlation_id) as uow:
            await uow.audit("account.password_reset_failed", "account", account["id"] if account is not None else "unknown", reason="invalid, used or expired token")
        raise recovery.InvalidResetToken()
    if account["status"] == AccountStatus.DISABLED:
        raise DomainError("auth.account_disabled", "账号已停用，请联系安全管理员", "the account is disabled; contact the security administrator", status=403)
    check_password(new_password, account["username"], field="new_password")
    new_hash = await hash_password(new_password)
    actor = Actor(subject=account["username"], role=account["role"], org=account["org"])
    async with db.unit_of_work(actor, correlation_id) as uow:
        s = uow.session
        used = await s.execute(update(password_resets).where(password_resets.c.id == reset["id"], password_resets.c.used_at.is_(None)).values(used_at=now))
        if used.rowcount != 1:  # used meanwhile by a concurrent request
            raise recovery.InvalidResetToken()
        # every other link of the account stops working too
        await s.execute(update(password_resets).where(password_resets.c.account_id == account["id"], password_resets.c.used_at.is_(None)).values(used_at=now))
        await s.execute(
            update(accounts)
            .where(accounts.c.id == account["id"])
            .values(
                password_hash=new_hash,
                password_changed_at=now,
                failed_attempts=0,
                locked_until=None,
                status=str(AccountStatus.ACTIVE),
                updated_at=now,
                version=accounts.c.version + 1,
            )
        )
        revoked = await revoke_account_sessions(s, account["id"], now, f"password-reset:{account['username']}")
        await uow.audit("account.password_reset", "account", account["id"], after={"password_changed_at": now.isoformat(), "sessions_revoked": len(revoked)})
    for sid, expires in revoked:
        await revoke_session(revocations, sid, expires)


async def deliver_pending(db: ServiceDatabase, settings: Settings, now: datetime | None = None) -> int:
    """Send the mails that are due; each is claimed first (a lease), so concurrent
    senders never send one twice while both run. The number sent."""
    now = now or clock.utc_now()
    async with db.read() as s:
        due = (
            await s.execute(
                select(mail_outbox.c.id)
                .where(mail_outbox.c.sent_at.is_(None), mail_outbox.c.next_attempt_at <= now)
                .order_by(mail_outbox.c.created_at)
                .limit(BATCH)
            )
        ).all()
    sent = 0
    for (mail_id,) in due:
        async with db.sessions() as s, s.begin():
            claimed = await s.execute(
                update(mail_outbox)
                .where(mail_outbox.c.id == mail_id, mail_outbox.c.sent_at.is_(None), mail_outbox.c.next_attempt_at <= now)
                .values(next_attempt_at=now + LEASE, attempts=mail_outbox.c.attempts + 1)
            )
            if claimed.rowcount != 1:
                continue
            mail = (await s.execute(select(mail_outbox).where(mail_outbox.c.id == mail_id))).mappings().one()
        try:
            await send_mail(settings, mail["recipient"], mail["subject"], absolute_links(mail["body"] or "", settings.public_url))
        except MailError as exc:
            wait = BACKOFF[min(mail["attempts"], len(BACKOFF)) - 1]
            log.warning("mail %s (%s) not sent, attempt %d: %s", mail_id, mail["kind"], mail["attempts"], exc)
            async with db.sessions() as s, s.begin():
                await s.execute(update(mail_outbox).where(mail_outbox.c.id == mail_id).values(last_error=str(exc)[:500], next_attempt_at=clock.utc_now() + wait))
            continue
        async with db.sessions() as s, s.begin():
            # sent: the body (with its one-time link) is not kept
            await s.execute(update(mail_outbox).where(mail_outbox.c.id == mail_id).values(sent_at=clock.utc_now(), body=None, last_error=None))
        sent += 1
    return sent


def mail_task(settings: Settings) -> Periodic:
    """The registry worker's retry of mails not yet sent."""

    async def run(db: ServiceDatabase) -> int:
        return await deliver_pending(db, settings)

    return Periodic("deliver_mail", settings.mail_retry_interval_s, run)


__all__ = ["confirm_reset", "deliver_pending", "mail_task", "request_reset"]
