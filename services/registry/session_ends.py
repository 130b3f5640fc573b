"""Ending login sessions: marking an account's live sessions ended in the
registry's ``sessions`` table, and putting a session on the revocation list every
service reads. Used by sign-out (``login_sessions``), by account decisions
(``accounts``: disable, lock, role change) and by a password reset, which must not
import the token and password machinery of signing in: the registry's worker runs
the reset mails and verifies no token."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select, update

from services.registry.db.account_models import sessions
from services.runtime.errors import DomainError
from services.runtime.http.sessions import Revocations


async def revoke_session(revocations: Revocations, sid: str, expires_at: datetime) -> None:
    """Put a session on the revocation list every service reads (503
    ``session.revocation_unavailable`` when that cannot be confirmed)."""
    await revocations.revoke(sid, expires_at.timestamp())
    if not await revocations.is_revoked(sid):
        raise DomainError(
            "session.revocation_unavailable",
            "会话注销未能同步到各服务（消息总线不可用），请稍后重试",
            "the revocation could not reach the shared session list (NATS unavailable); retry",
            status=503,
        )


async def revoke_account_sessions(s: Any, account_id: str, now: datetime, by: str, keep: str | None = None) -> list[tuple[str, datetime]]:
    """Inside an open transaction: end the account's live sessions but ``keep``;
    their ids and expiry times, for :func:`revoke_session` once committed."""
    q = select(sessions.c.id, sessions.c.expires_at).where(sessions.c.account_id == account_id, sessions.c.revoked_at.is_(None), sessions.c.expires_at > now)
    if keep is not None:
        q = q.where(sessions.c.id != keep)
    live = [(r.id, r.expires_at) for r in (await s.execute(q)).all()]
    if live:
        await s.execute(update(sessions).where(sessions.c.id.in_([i for i, _ in live])).values(revoked_at=now, revoked_by=by))
    return live
