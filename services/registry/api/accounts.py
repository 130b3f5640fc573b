"""Local accounts and login sessions over HTTP (issue 5)."""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
from litestar import Controller, Request, delete, get, post
from litestar.di import NamedDependency
from litestar.exceptions import TooManyRequestsException
from litestar.params import FromPath, JSONBody, Parameter
from litestar.stores.base import Store

from services.registry import accounts, login_sessions
from services.registry.domain.accounts import USERNAME_PATTERN, AccountStatus, normalise_username
from services.registry.schemas.accounts import Account, AccountPage, SessionToken
from services.runtime.http.auth import PUBLIC, access, principal_of
from services.runtime.roles import Role
from services.runtime.client_address import client_address as address_behind_proxies
from services.runtime.client_address import networks
from services.runtime.http.app import actor_of
from services.runtime.http.edge import correlation_of
from services.runtime.http.pagination import PageNumber, PageSize
from services.runtime.db.service_db import ServiceDatabase
from services.runtime.http.sessions import Revocations, WindowLimiter
from services.runtime.settings import Settings

Username = Annotated[str, msgspec.Meta(pattern=USERNAME_PATTERN, description="3–64 characters: a–z, 0–9, '.', '_', '-'")]
#: the policy (length, classes, not the username) is checked by the service, which names the failing rules
Password = Annotated[str, msgspec.Meta(max_length=1024)]
Reason = Annotated[str, msgspec.Meta(max_length=2000)]


class Credentials(msgspec.Struct, forbid_unknown_fields=True):
    username: Annotated[str, msgspec.Meta(max_length=200)]
    password: Password


class NewAccount(msgspec.Struct, forbid_unknown_fields=True):
    username: Username
    password: Password
    role: Role
    org: Annotated[str, msgspec.Meta(max_length=100)] | None = None
    display_name: Annotated[str, msgspec.Meta(max_length=100)] | None = None


class AccountDecision(msgspec.Struct, forbid_unknown_fields=True):
    reason: Reason | None = None


class PasswordChange(msgspec.Struct, forbid_unknown_fields=True):
    old_password: Password
    new_password: Password


def client_address(request: Request[Any, Any, Any], settings: Settings) -> str:
    """The client's address: ``X-Forwarded-For`` is believed only as far as trusted proxies wrote it."""
    peer = request.client.host if request.client else None
    return address_behind_proxies(peer, request.headers.get("x-forwarded-for"), networks(settings.trusted_proxies))


async def _limit(store: Store, settings: Settings, request: Request[Any, Any, Any], username: str) -> None:
    limiter = WindowLimiter(store, settings.login_rate_limit_per_minute, 60, prefix="login")
    for key in (f"user:{normalise_username(username)}", f"ip:{client_address(request, settings)}"):
        reset = await limiter.hit(key)
        if reset is not None:
            raise TooManyRequestsException(headers={"RateLimit-Reset": str(reset)})


class SessionController(Controller):
    path = "/v1/sessions"
    tags = ["sessions"]

    @post("/", operation_id="login", status_code=201, **access(PUBLIC, errors=(503,)))
    async def login(
        self,
        request: Request,
        db: NamedDependency[ServiceDatabase],
        settings: NamedDependency[Settings],
        session_store: NamedDependency[Store],
        data: JSONBody[Credentials],
    ) -> SessionToken:
        """Sign in with a local account: a bearer token for every service,
        valid ``XCISS_SESSION_TTL_S`` seconds. 401 ``auth.invalid_credentials``
        (unknown username or wrong password alike); 423 ``auth.account_locked``
        with ``details.locked_until`` after ``XCISS_LOGIN_MAX_FAILURES`` wrong
        passwords in a row; 403 ``auth.account_disabled``; 429
        ``request.rate_limited`` beyond ``XCISS_LOGIN_RATE_LIMIT_PER_MINUTE``
        attempts per username or client address; 503
        ``session.signing_unavailable`` when this registry holds no token
        signing key (no session is recorded)."""
        await _limit(session_store, settings, request, data.username)
        return await login_sessions.login(db, settings, correlation_of(request), username=data.username, password=data.password)

    @delete("/current", operation_id="logout", status_code=204, **access(*(r for r in Role if r is not Role.ANONYMOUS)))
    async def logout(self, request: Request, db: NamedDependency[ServiceDatabase], revocations: NamedDependency[Revocations]) -> None:
        """End the caller's login session: its token is refused by every
        service from now on. 422 ``session.not_a_session`` for a token that
        belongs to no session (service and development tokens)."""
        await login_sessions.logout(db, revocations, actor_of(request), correlation_of(request), principal_of(request))


class AccountController(Controller):
    path = "/v1/accounts"
    tags = ["accounts"]

    @post("/", operation_id="createAccount", status_code=201, **access(Role.SYSADMIN))
    async def create(self, request: Request, db: NamedDependency[ServiceDatabase], data: JSONBody[NewAccount]) -> Account:
        """The system administrator creates an account of a business role
        (not sysadmin, secadmin, auditor or service: those are the
        operator's, ``xciss accounts create``). 422 ``password.weak`` names
        the field and the failed rules."""
        return await accounts.create_account(
            db,
            actor_of(request),
            correlation_of(request),
            username=data.username,
            password=data.password,
            role=data.role,
            org=data.org,
            display_name=data.display_name,
        )

    @get("/", operation_id="listAccounts", **access(Role.SYSADMIN, Role.SECADMIN))
    async def list_(
        self,
        db: NamedDependency[ServiceDatabase],
        page: PageNumber = 1,
        page_size: PageSize = 20,
        role: Role | None = Parameter(default=None),
        status: AccountStatus | None = Parameter(default=None),
    ) -> AccountPage:
        """Accounts, oldest first; filter by role and status."""
        return await accounts.list_accounts(db, role=str(role) if role else None, status=str(status) if status else None, page=page, page_size=page_size)

    @post("/{account_id:str}/unlock", operation_id="unlockAccount", status_code=200, **access(Role.SECADMIN))
    async def unlock(
        self, request: Request, db: NamedDependency[ServiceDatabase], revocations: NamedDependency[Revocations], account_id: FromPath[str], data: JSONBody[AccountDecision]
    ) -> Account:
        """The security administrator unlocks a locked account (clears its failures)."""
        return await accounts.change_status(db, revocations, actor_of(request), correlation_of(request), account_id, action="unlock", reason=data.reason)

    @post("/{account_id:str}/disable", operation_id="disableAccount", status_code=200, **access(Role.SECADMIN))
    async def disable(
        self, request: Request, db: NamedDependency[ServiceDatabase], revocations: NamedDependency[Revocations], account_id: FromPath[str], data: JSONBody[AccountDecision]
    ) -> Account:
        """The security administrator disables an account, with a reason; its sessions end at once."""
        return await accounts.change_status(db, revocations, actor_of(request), correlation_of(request), account_id, action="disable", reason=data.reason)

    @post("/{account_id:str}/enable", operation_id="enableAccount", status_code=200, **access(Role.SECADMIN))
    async def enable(
        self, request: Request, db: NamedDependency[ServiceDatabase], revocations: NamedDependency[Revocations], account_id: FromPath[str], data: JSONBody[AccountDecision]
    ) -> Account:
        """The security administrator enables a disabled account again."""
        return await accounts.change_status(db, revocations, actor_of(request), correlation_of(request), account_id, action="enable", reason=data.reason)

    @post("/me/password", operation_id="changeOwnPassword", status_code=204, **access(*(r for r in Role if r is not Role.ANONYMOUS)))
    async def change_password(
        self, request: Request, db: NamedDependency[ServiceDatabase], revocations: NamedDependency[Revocations], data: JSONBody[PasswordChange]
    ) -> None:
        """The signed-in account changes its own password (the current one is
        required); its other sessions end. 403 ``account.wrong_password``,
        422 ``password.weak`` naming ``new_password``."""
        await accounts.change_password(
            db, revocations, actor_of(request), correlation_of(request), principal_of(request), old_password=data.old_password, new_password=data.new_password
        )
