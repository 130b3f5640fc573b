"""Local accounts (issue 5): the system administrator creates them; the
security administrator unlocks, disables and enables them; an account changes
its own password. One transaction per decision, each with its audit row;
disabling an account or changing its password ends its other sessions
(``login_sessions.py``). Who may do what is ``domain/accounts.py``'s rule."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import and_, func, insert, select, update
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
    normalise_username,
)
from services.registry.session_ends import revoke_account_sessions, revoke_session
from services.registry.passwords import hash_password, verify_password
from services.registry.schemas.accounts import Account, AccountPage
from services.runtime.audit_image import audit_image
from services.runtime.http.auth import Principal
from services.runtime.roles import Role
from services.runtime.errors import Conflict, DomainError, NotFound
from services.runtime.db.unit_of_work import Actor
from services.runtime.db.service_db import ServiceDatabase
from services.runtime.http.sessions import Revocations
from services.runtime.http.pagination import read_page


def account_view(row: RowMapping | dict[str, Any]) -> Account:
    """What may be shown and audited of an account (its audit image is this record): never the hash."""
    return Account(
        account_id=row["id"],
        username=row["username"],
        role=row["role"],
        org=row["org"],
        display_name=row["display_name"],
        status=row["status"],
        failed_attempts=row["failed_attempts"],
        locked_until=row["locked_until"],
        password_changed_at=row["password_changed_at"],
        last_login_at=row["last_login_at"],
        created_at=row["created_at"],
        created_by=row["created_by"],
        version=row["version"],
        org_name=row.get("org_name"),
    )


#: what an account's audit image leaves out: read with the list, not the account's own
READ_ALONG = ("org_name",)


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
) -> Account:
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
            account = account_view(row)
            await uow.audit("account.create", "account", row["id"], after=audit_image(account, leave_out=READ_ALONG))
    except IntegrityError as exc:  # a concurrent creation of the same username
        raise Conflict("account.username_taken", f"用户名 {username} 已被使用", f"the username {username} is taken", field="username") from exc
    return account


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
) -> Account:
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
        after = account_view(await _account(s, account_id))
        revoked = await revoke_account_sessions(s, account_id, now, actor.subject) if action == "disable" else []
        await uow.audit(f"account.{action}", "account", account_id, reason=reason, before=audit_image(account_view(row), leave_out=READ_ALONG), after=audit_image(after, leave_out=READ_ALONG) | {"sessions_revoked": len(revoked)})
    for sid, expires in revoked:
        await revoke_session(revocations, sid, expires)
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
    if not await asyncio.to_thread(verify_password, row["password_hash"], old_password):
        async with db.unit_of_work(actor, correlation_id) as uow:
            await uow.audit("account.password_change_failed", "account", row["id"], reason="wrong current password")
        raise DomainError("account.wrong_password", "当前密码不正确", "the current password is wrong", status=403, field="old_password")
    check_password(new_password, row["username"], field="new_password")
    if await asyncio.to_thread(verify_password, row["password_hash"], new_password):
        raise DomainError("password.reused", "新密码不能与当前密码相同", "the new password must differ from the current one", field="new_password")
    new_hash = await hash_password(new_password)
    now = datetime.now(UTC)
    async with db.unit_of_work(actor, correlation_id) as uow:
        s = uow.session
        await s.execute(
            update(accounts).where(accounts.c.id == row["id"]).values(password_hash=new_hash, password_changed_at=now, updated_at=now, version=accounts.c.version + 1)
        )
        revoked = await revoke_account_sessions(s, row["id"], now, actor.subject, keep=principal.session_id)
        await uow.audit("account.password_change", "account", row["id"], after={"password_changed_at": now.isoformat(), "sessions_revoked": len(revoked)})
    for sid, expires in revoked:
        await revoke_session(revocations, sid, expires)


async def list_accounts(db: ServiceDatabase, *, role: str | None, status: str | None, page: int, page_size: int) -> AccountPage:
    """A page of accounts, each with the name of its unit or user (``org_name``, read with the page)."""
    named = accounts.outerjoin(units, and_(accounts.c.role == str(Role.UNIT), units.c.id == accounts.c.org)).outerjoin(
        users, and_(accounts.c.role == str(Role.USER), users.c.id == accounts.c.org)
    )
    q = select(accounts, func.coalesce(units.c.name, users.c.name).label("org_name")).select_from(named)
    if role:
        q = q.where(accounts.c.role == role)
    if status:
        q = q.where(accounts.c.status == status)
    async with db.read() as s:
        return await read_page(s, q, order_by=[accounts.c.created_at, accounts.c.id], page=page, page_size=page_size, item=account_view)
