"""Login sessions (issue 5): signing in and out, and ending an account's
sessions on every service (the shared revocation list). One transaction per
decision, each with its audit row.

Login answers the same ``auth.invalid_credentials`` for an unknown username
and a wrong password, and hashes against a dummy hash for an unknown one so
both take about as long. ``login_max_failures`` consecutive wrong passwords
lock the account for ``login_lock_minutes``: the failure that reaches the
limit already answers ``auth.account_locked`` (423) with ``locked_until``.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import insert, select, update

from contracts.envelope import new_event_id
from services.registry.db.account_models import accounts, sessions
from services.registry.domain.accounts import AccountStatus, normalise_username
from services.registry.schemas.accounts import SessionToken
from services.registry.passwords import HASHER, dummy_hash, hash_password, verify_password
from services.registry.session_ends import revoke_session
from services.runtime.http.auth import Principal, TokenError, issue_token
from services.runtime.roles import Role
from services.runtime.errors import DomainError, NotFound
from services.runtime.db.unit_of_work import Actor
from services.runtime.db.service_db import ServiceDatabase
from services.runtime.http.sessions import Revocations
from services.runtime.settings import Settings

log = logging.getLogger("xciss.registry.accounts")


class InvalidCredentials(DomainError):
    status = 401

    def __init__(self) -> None:
        super().__init__("auth.invalid_credentials", "用户名或密码错误", "wrong username or password")


class AccountLocked(DomainError):
    status = 423

    def __init__(self, locked_until: datetime):
        when = locked_until.astimezone(UTC).isoformat()
        super().__init__(
            "auth.account_locked",
            f"密码连续错误次数过多，账号已锁定至 {when}（UTC），届时自动解锁，或请安全管理员解锁",
            f"too many wrong passwords: the account is locked until {when}; it unlocks then, or ask the security administrator",
            locked_until=when,
        )


class AccountDisabled(DomainError):
    status = 403

    def __init__(self) -> None:
        super().__init__("auth.account_disabled", "账号已停用，请联系安全管理员", "the account is disabled; contact the security administrator")


async def login(
    db: ServiceDatabase,
    settings: Settings,
    correlation_id: str | None,
    *,
    username: str,
    password: str,
    now: datetime | None = None,
) -> SessionToken:
    """Check the password; a session and its token, or the reason there is none."""
    username = normalise_username(username)
    now = now or datetime.now(UTC)
    async with db.read() as s:
        row = (await s.execute(select(accounts).where(accounts.c.username == username))).mappings().first()
    anonymous = Actor(subject="anonymous", role=str(Role.ANONYMOUS))
    if row is None:
        await asyncio.to_thread(verify_password, dummy_hash(), password)  # as long as a real check
        async with db.unit_of_work(anonymous, correlation_id) as uow:
            await uow.audit("session.login_failed", "account", "unknown", reason="unknown username")
        log.info("login refused: unknown username")
        raise InvalidCredentials()
    locked = row["status"] == AccountStatus.LOCKED and row["locked_until"] is not None and row["locked_until"] > now
    if locked:
        async with db.unit_of_work(anonymous, correlation_id) as uow:
            await uow.audit("session.login_failed", "account", row["id"], reason="account locked")
        raise AccountLocked(row["locked_until"])
    ok = await asyncio.to_thread(verify_password, row["password_hash"], password)
    account_actor = Actor(subject=row["username"], role=row["role"], org=row["org"])
    if not ok:
        locked_until: datetime | None = None
        async with db.unit_of_work(anonymous, correlation_id) as uow:
            s = uow.session
            if row["status"] == AccountStatus.DISABLED:
                await uow.audit("session.login_failed", "account", row["id"], reason="wrong password (account disabled)")
            else:
                # a lock that has run out starts the count again
                expired_lock = row["status"] == AccountStatus.LOCKED
                await s.execute(
                    update(accounts)
                    .where(accounts.c.id == row["id"])
                    .values(
                        failed_attempts=(1 if expired_lock else accounts.c.failed_attempts + 1),
                        status=str(AccountStatus.ACTIVE),
                        locked_until=None,
                        updated_at=now,
                    )
                )
                failures = (await s.execute(select(accounts.c.failed_attempts).where(accounts.c.id == row["id"]))).scalar_one()
                await uow.audit("session.login_failed", "account", row["id"], reason=f"wrong password ({failures} in a row)")
                if failures >= settings.login_max_failures:
                    locked_until = now + timedelta(minutes=settings.login_lock_minutes)
                    await s.execute(
                        update(accounts)
                        .where(accounts.c.id == row["id"])
                        .values(status=str(AccountStatus.LOCKED), locked_until=locked_until, version=accounts.c.version + 1)
                    )
                    await uow.audit(
                        "account.lock",
                        "account",
                        row["id"],
                        reason=f"{failures} wrong passwords in a row",
                        after={"status": str(AccountStatus.LOCKED), "locked_until": locked_until.isoformat()},
                    )
        if locked_until is not None:
            log.warning("account %s locked after %d wrong passwords", row["id"], settings.login_max_failures)
            raise AccountLocked(locked_until)
        raise InvalidCredentials()
    if row["status"] == AccountStatus.DISABLED:
        async with db.unit_of_work(anonymous, correlation_id) as uow:
            await uow.audit("session.login_failed", "account", row["id"], reason="account disabled")
        raise AccountDisabled()
    new_hash = await hash_password(password) if HASHER.check_needs_rehash(row["password_hash"]) else None
    sid = new_event_id()
    expires = now + timedelta(seconds=settings.session_ttl_s)
    # signed before anything is written: without the signing key no session is recorded
    try:
        token = issue_token(
            settings,
            subject=row["username"],
            role=row["role"],
            org=row["org"],
            name=row["display_name"],
            ttl_s=settings.session_ttl_s,
            session_id=sid,
            now=int(now.timestamp()),
        )
    except TokenError as exc:
        log.error("sign-in cannot sign tokens: %s", exc)
        async with db.unit_of_work(anonymous, correlation_id) as uow:
            await uow.audit("session.login_failed", "account", row["id"], reason="no token signing key")
        raise DomainError(
            "session.signing_unavailable",
            "登录暂不可用：令牌签名密钥未配置",
            "sign-in is unavailable: this registry holds no token signing key (XCISS_JWT_SIGNING_KEY_FILE)",
            status=503,
        ) from exc
    async with db.unit_of_work(account_actor, correlation_id) as uow:
        s = uow.session
        values: dict[str, Any] = {"failed_attempts": 0, "status": str(AccountStatus.ACTIVE), "locked_until": None, "last_login_at": now, "updated_at": now}
        if new_hash is not None:
            values["password_hash"] = new_hash
        await s.execute(update(accounts).where(accounts.c.id == row["id"]).values(**values))
        await s.execute(insert(sessions).values(id=sid, account_id=row["id"], issued_at=now, expires_at=expires, revoked_at=None, revoked_by=None))
        await uow.audit("session.login", "session", sid, after={"account_id": row["id"], "expires_at": expires.isoformat(), "rehashed": new_hash is not None})
    expires_at = datetime.fromtimestamp(int(now.timestamp()) + settings.session_ttl_s, UTC)
    return SessionToken(token=token, token_type="Bearer", expires_at=expires_at, role=row["role"], org=row["org"], session_id=sid)


async def logout(db: ServiceDatabase, revocations: Revocations, actor: Actor, correlation_id: str | None, principal: Principal) -> None:
    if principal.session_id is None:
        raise DomainError(
            "session.not_a_session",
            "该令牌不属于登录会话（服务或开发令牌到期自动失效）",
            "this token belongs to no login session (service and development tokens just expire)",
        )
    now = datetime.now(UTC)
    async with db.unit_of_work(actor, correlation_id) as uow:
        s = uow.session
        row = (await s.execute(select(sessions).where(sessions.c.id == principal.session_id))).mappings().first()
        if row is None:
            raise NotFound("session", "会话", principal.session_id)
        if row["revoked_at"] is None:
            await s.execute(update(sessions).where(sessions.c.id == row["id"]).values(revoked_at=now, revoked_by=actor.subject))
            await uow.audit("session.logout", "session", row["id"], after={"account_id": row["account_id"]})
    await revoke_session(revocations, row["id"], row["expires_at"])
