"""Local accounts and login sessions (issue 5): one transaction per decision,
each with its audit row. Passwords are hashed with argon2id
(``argon2.PasswordHasher``); no password and no hash is ever logged, audited
or returned.

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
from functools import lru_cache
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import func, insert, select, update
from sqlalchemy.engine import RowMapping
from sqlalchemy.exc import IntegrityError

from contracts.envelope import new_event_id
from services.registry.db.account_models import accounts, sessions
from services.registry.db.party_models import units, users
from services.registry.domain.accounts import (
    AccountStatus,
    check_administrable,
    check_new_account,
    check_password,
)
from services.runtime.auth import Principal, Role, TokenError, issue_token
from services.runtime.errors import Conflict, DomainError, NotFound
from services.runtime.outbox import Actor
from services.runtime.service_db import ServiceDatabase
from services.runtime.sessions import Revocations
from services.runtime.settings import Settings

log = logging.getLogger("xciss.registry.accounts")

#: argon2id with the library's RFC 9106 defaults; a change of parameters
#: rehashes each password at its owner's next successful login
HASHER = PasswordHasher()

USERNAME_PATTERN = r"^[a-z0-9][a-z0-9._-]{2,63}$"


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


@lru_cache(maxsize=1)
def _dummy_hash() -> str:
    return HASHER.hash("xciss-dummy-password-for-unknown-usernames")


def _verify(stored_hash: str, password: str) -> bool:
    try:
        return HASHER.verify(stored_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


async def hash_password(password: str) -> str:
    return await asyncio.to_thread(HASHER.hash, password)


def _snapshot(row: RowMapping | dict[str, Any]) -> dict[str, Any]:
    """What may be shown and audited of an account: never the hash."""
    return {
        "account_id": row["id"],
        "username": row["username"],
        "role": row["role"],
        "org": row["org"],
        "display_name": row["display_name"],
        "status": row["status"],
        "failed_attempts": row["failed_attempts"],
        "locked_until": row["locked_until"],
        "password_changed_at": row["password_changed_at"],
        "last_login_at": row["last_login_at"],
        "created_at": row["created_at"],
        "created_by": row["created_by"],
        "version": row["version"],
    }


def normalise_username(raw: str) -> str:
    return raw.strip().lower()


async def _check_org(s: Any, role: Role, org: str | None) -> None:
    """A unit's or user's account must name an existing unit or user."""
    table = {Role.UNIT: units, Role.USER: users}.get(role)
    if table is None or org is None:
        return
    if (await s.execute(select(table.c.id).where(table.c.id == org))).first() is None:
        raise NotFound(str(role), "单位" if role is Role.UNIT else "用户", org)


async def create_account(
    db: ServiceDatabase,
    actor: Actor,
    correlation_id: str | None,
    *,
    username: str,
    password: str,
    role: Role,
    org: str | None,
    display_name: str | None,
    now: datetime | None = None,
) -> dict[str, Any]:
    username = normalise_username(username)
    check_new_account(actor.role, role, org)
    check_password(password, username)
    password_hash = await hash_password(password)
    now = now or datetime.now(UTC)
    row: dict[str, Any] = {
        "id": new_event_id(),
        "username": username,
        "password_hash": password_hash,
        "role": str(role),
        "org": org,
        "display_name": display_name,
        "status": str(AccountStatus.ACTIVE),
        "failed_attempts": 0,
        "locked_until": None,
        "password_changed_at": now,
        "last_login_at": None,
        "created_at": now,
        "created_by": actor.subject,
        "updated_at": now,
        "version": 1,
    }
    try:
        async with db.unit_of_work(actor, correlation_id) as uow:
            s = uow.session
            await _check_org(s, role, org)
            if (await s.execute(select(accounts.c.id).where(accounts.c.username == username))).first() is not None:
                raise Conflict("account.username_taken", f"用户名 {username} 已被使用", f"the username {username} is taken", field="username")
            await s.execute(insert(accounts).values(**row))
            snap = _snapshot(row)
            await uow.audit("account.create", "account", row["id"], after=snap)
    except IntegrityError as exc:  # a concurrent creation of the same username
        raise Conflict("account.username_taken", f"用户名 {username} 已被使用", f"the username {username} is taken", field="username") from exc
    return snap


async def login(
    db: ServiceDatabase,
    settings: Settings,
    correlation_id: str | None,
    *,
    username: str,
    password: str,
    now: datetime | None = None,
) -> dict[str, Any]:
    """Check the password; a session and its token, or the reason there is none."""
    username = normalise_username(username)
    now = now or datetime.now(UTC)
    async with db.read() as s:
        row = (await s.execute(select(accounts).where(accounts.c.username == username))).mappings().first()
    anonymous = Actor(subject="anonymous", role=str(Role.ANONYMOUS))
    if row is None:
        await asyncio.to_thread(_verify, _dummy_hash(), password)  # as long as a real check
        async with db.unit_of_work(anonymous, correlation_id) as uow:
            await uow.audit("session.login_failed", "account", "unknown", reason="unknown username")
        log.info("login refused: unknown username")
        raise InvalidCredentials()
    locked = row["status"] == AccountStatus.LOCKED and row["locked_until"] is not None and row["locked_until"] > now
    if locked:
        async with db.unit_of_work(anonymous, correlation_id) as uow:
            await uow.audit("session.login_failed", "account", row["id"], reason="account locked")
        raise AccountLocked(row["locked_until"])
    ok = await asyncio.to_thread(_verify, row["password_hash"], password)
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
    return {"token": token, "expires_at": datetime.fromtimestamp(int(now.timestamp()) + settings.session_ttl_s, UTC), "role": row["role"], "org": row["org"], "session_id": sid}


async def _revoke(revocations: Revocations, sid: str, expires_at: datetime) -> None:
    await revocations.revoke(sid, expires_at.timestamp())
    if not await revocations.is_revoked(sid):
        raise DomainError(
            "session.revocation_unavailable",
            "会话注销未能同步到各服务（消息总线不可用），请稍后重试",
            "the revocation could not reach the shared session list (NATS unavailable); retry",
            status=503,
        )


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
    await _revoke(revocations, row["id"], row["expires_at"])


async def _revoke_sessions(s: Any, account_id: str, now: datetime, by: str, keep: str | None = None) -> list[tuple[str, datetime]]:
    q = select(sessions.c.id, sessions.c.expires_at).where(sessions.c.account_id == account_id, sessions.c.revoked_at.is_(None), sessions.c.expires_at > now)
    if keep is not None:
        q = q.where(sessions.c.id != keep)
    live = [(r.id, r.expires_at) for r in (await s.execute(q)).all()]
    if live:
        await s.execute(update(sessions).where(sessions.c.id.in_([i for i, _ in live])).values(revoked_at=now, revoked_by=by))
    return live


async def _account(s: Any, account_id: str) -> RowMapping:
    row = (await s.execute(select(accounts).where(accounts.c.id == account_id))).mappings().first()
    if row is None:
        raise NotFound("account", "账号", account_id)
    return row


async def change_status(
    db: ServiceDatabase,
    revocations: Revocations,
    actor: Actor,
    correlation_id: str | None,
    account_id: str,
    *,
    action: str,
    reason: str | None,
) -> dict[str, Any]:
    """The security administrator's ``unlock``, ``disable`` and ``enable``."""
    if action == "disable" and not (reason or "").strip():
        raise DomainError("account.reason_required", "停用账号须说明理由", "disabling an account needs a reason", field="reason")
    now = datetime.now(UTC)
    async with db.unit_of_work(actor, correlation_id) as uow:
        s = uow.session
        row = await _account(s, account_id)
        check_administrable(actor.subject, row["username"])
        status = row["status"]
        if action == "unlock":
            if status == AccountStatus.DISABLED:
                raise Conflict("account.disabled", "账号已停用，应先启用", "the account is disabled; enable it instead")
            values: dict[str, Any] = {"status": str(AccountStatus.ACTIVE), "failed_attempts": 0, "locked_until": None}
        elif action == "disable":
            if status == AccountStatus.DISABLED:
                raise Conflict("account.already_disabled", "账号已停用", "the account is already disabled")
            values = {"status": str(AccountStatus.DISABLED)}
        elif action == "enable":
            if status != AccountStatus.DISABLED:
                raise Conflict("account.not_disabled", "账号未停用", "the account is not disabled")
            values = {"status": str(AccountStatus.ACTIVE), "failed_attempts": 0, "locked_until": None}
        else:  # pragma: no cover - the API names the action
            raise ValueError(action)
        await s.execute(update(accounts).where(accounts.c.id == account_id).values(**values, updated_at=now, version=row["version"] + 1))
        after = _snapshot(await _account(s, account_id))
        revoked = await _revoke_sessions(s, account_id, now, actor.subject) if action == "disable" else []
        await uow.audit(f"account.{action}", "account", account_id, reason=reason, before=_snapshot(row), after=after | {"sessions_revoked": len(revoked)})
    for sid, expires in revoked:
        await _revoke(revocations, sid, expires)
    return after


async def change_password(
    db: ServiceDatabase,
    revocations: Revocations,
    actor: Actor,
    correlation_id: str | None,
    principal: Principal,
    *,
    old_password: str,
    new_password: str,
) -> None:
    """The signed-in account changes its own password; its other sessions end."""
    if principal.session_id is None:
        raise DomainError("account.not_local", "只有本地账号登录的会话可以修改密码", "only a session of a local account can change its password")
    async with db.read() as s:
        sess = (await s.execute(select(sessions).where(sessions.c.id == principal.session_id))).mappings().first()
        if sess is None:
            raise NotFound("session", "会话", principal.session_id)
        row = await _account(s, sess["account_id"])
    if not await asyncio.to_thread(_verify, row["password_hash"], old_password):
        async with db.unit_of_work(actor, correlation_id) as uow:
            await uow.audit("account.password_change_failed", "account", row["id"], reason="wrong current password")
        raise DomainError("account.wrong_password", "当前密码不正确", "the current password is wrong", status=403, field="old_password")
    check_password(new_password, row["username"], field="new_password")
    if await asyncio.to_thread(_verify, row["password_hash"], new_password):
        raise DomainError("password.reused", "新密码不能与当前密码相同", "the new password must differ from the current one", field="new_password")
    new_hash = await hash_password(new_password)
    now = datetime.now(UTC)
    async with db.unit_of_work(actor, correlation_id) as uow:
        s = uow.session
        await s.execute(
            update(accounts).where(accounts.c.id == row["id"]).values(password_hash=new_hash, password_changed_at=now, updated_at=now, version=accounts.c.version + 1)
        )
        revoked = await _revoke_sessions(s, row["id"], now, actor.subject, keep=principal.session_id)
        await uow.audit("account.password_change", "account", row["id"], after={"password_changed_at": now.isoformat(), "sessions_revoked": len(revoked)})
    for sid, expires in revoked:
        await _revoke(revocations, sid, expires)


async def list_accounts(db: ServiceDatabase, *, role: str | None, status: str | None, page: int, page_size: int) -> tuple[list[dict[str, Any]], int]:
    q = select(accounts)
    c = select(func.count()).select_from(accounts)
    if role:
        q, c = q.where(accounts.c.role == role), c.where(accounts.c.role == role)
    if status:
        q, c = q.where(accounts.c.status == status), c.where(accounts.c.status == status)
    async with db.read() as s:
        total = (await s.execute(c)).scalar_one()
        rows = (await s.execute(q.order_by(accounts.c.created_at, accounts.c.id).offset((page - 1) * page_size).limit(page_size))).mappings().all()
    return [_snapshot(r) for r in rows], total
