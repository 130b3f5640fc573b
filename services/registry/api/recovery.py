"""Self-service sign-up and password reset over HTTP (issue 17). All three
are public and limited per client address (and a reset request per e-mail)
to ``XCISS_RECOVERY_RATE_LIMIT_PER_HOUR`` an hour, across replicas."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import msgspec
from litestar import Controller, Request, post
from litestar.di import NamedDependency
from litestar.exceptions import TooManyRequestsException
from litestar.params import JSONBody
from litestar.stores.base import Store

from services.registry import password_reset, signup
from services.registry.api.accounts import client_address
from services.registry.domain.parties import SpecialClass, UserClass, UserKind
from services.registry.schemas.users import Signup
from services.runtime.http.auth import PUBLIC, access
from services.runtime.http.edge import correlation_of
from services.runtime.db.service_db import ServiceDatabase
from services.runtime.http.sessions import Revocations, WindowLimiter
from services.runtime.settings import Settings

Text = Annotated[str, msgspec.Meta(max_length=200)]


class SignupRequest(msgspec.Struct, forbid_unknown_fields=True):
    """Checked by the service, which names the field of each refusal in Chinese and English."""

    username: Text
    password: Annotated[str, msgspec.Meta(max_length=1024)]
    name: Text
    kind: UserKind
    contact_name: Text
    phone: Annotated[str, msgspec.Meta(max_length=40)] | None = None
    email: Annotated[str, msgspec.Meta(max_length=254)] | None = None
    #: a team's only class, startup_team, is implied when none is given
    classes: Annotated[list[UserClass], msgspec.Meta(max_length=4)] = []
    special_classes: Annotated[list[SpecialClass], msgspec.Meta(max_length=2)] = []
    #: an enterprise's 统一社会信用代码; a team has none and gives its leader and incubator
    credit_code: Annotated[str, msgspec.Meta(max_length=40)] | None = None
    leader_name: Annotated[str, msgspec.Meta(max_length=100)] | None = None
    leader_id_number: Annotated[str, msgspec.Meta(max_length=25)] | None = None
    incubator_credit_code: Annotated[str, msgspec.Meta(max_length=40)] | None = None


class ResetRequest(msgspec.Struct, forbid_unknown_fields=True):
    email: Annotated[str, msgspec.Meta(max_length=254)]


class ResetAccepted(msgspec.Struct):
    """The same answer whether or not an account has the address."""

    accepted: bool
    expires_in_minutes: int


class ResetCheck(msgspec.Struct, forbid_unknown_fields=True):
    token: Annotated[str, msgspec.Meta(max_length=200)]


class ResetUsable(msgspec.Struct):
    """The link still works, until ``expires_at``."""

    usable: bool
    expires_at: datetime


class ResetConfirmation(msgspec.Struct, forbid_unknown_fields=True):
    token: Annotated[str, msgspec.Meta(max_length=200)]
    new_password: Annotated[str, msgspec.Meta(max_length=1024)]


async def _limit(store: Store, limit: int, window_s: int, prefix: str, *keys: str) -> None:
    limiter = WindowLimiter(store, limit, window_s, prefix=prefix)
    for key in keys:
        reset = await limiter.hit(key)
        if reset is not None:
            raise TooManyRequestsException(headers={"RateLimit-Reset": str(reset)})


class SignupController(Controller):
    path = "/v1/signup"
    tags = ["accounts"]

    @post("/", operation_id="signUp", status_code=201, **access(PUBLIC, errors=(409, 429)))
    async def sign_up(self, request: Request, db: NamedDependency[ServiceDatabase], settings: NamedDependency[Settings], session_store: NamedDependency[Store], data: JSONBody[SignupRequest]) -> Signup:
        """An enterprise or a start-up team creates its login account (role ``user``) and its
        user record at once; the account signs in at once, the user is pending until the center
        verifies it (``GET /v1/users/{org}`` shows ``status`` and ``rejection_reason``). 422 with
        ``details.field``: ``signup.field_required``, ``signup.invalid_username``,
        ``signup.invalid_phone``, ``signup.invalid_email``, ``signup.contact_required`` (neither
        phone nor e-mail), ``password.weak``, ``registry.credit_code_invalid``, ``user.team_fields_required``;
        409 ``account.username_taken``, ``user.duplicate`` (a team leader registers once); a credit
        code another user gave is accepted, pending, for the center to decide. 429 beyond
        ``XCISS_RECOVERY_RATE_LIMIT_PER_HOUR`` sign-ups per client address."""
        await _limit(session_store, settings.recovery_rate_limit_per_hour, 3600, "signup", f"ip:{client_address(request, settings)}")
        return await signup.sign_up(
            db,
            correlation_of(request),
            pii_key=settings.pii_key(),
            city_prefix=settings.city_division_prefix,
            username=data.username,
            password=data.password,
            name=data.name,
            kind=data.kind,
            classes=data.classes,
            special_classes=data.special_classes,
            credit_code=(data.credit_code or "").strip() or None,
            leader_name=data.leader_name,
            leader_id_number=data.leader_id_number,
            incubator_credit_code=(data.incubator_credit_code or "").strip() or None,
            contact_name=data.contact_name,
            phone=data.phone,
            email=data.email,
        )


class PasswordResetController(Controller):
    path = "/v1/password-resets"
    tags = ["accounts"]

    @post("/", operation_id="requestPasswordReset", status_code=202, **access(PUBLIC, errors=(429,)))
    async def request_reset(self, request: Request, db: NamedDependency[ServiceDatabase], settings: NamedDependency[Settings], session_store: NamedDependency[Store], data: JSONBody[ResetRequest]) -> ResetAccepted:
        """"Forgot password": when an account that may sign in has this e-mail, a single-use link
        valid ``XCISS_PASSWORD_RESET_TTL_MINUTES`` is mailed to it. The answer is the same whether or
        not such an account exists. 422 ``password_reset.invalid_email``; 429 beyond
        ``XCISS_RECOVERY_RATE_LIMIT_PER_HOUR`` requests per client address or per e-mail."""
        address = data.email.strip().lower()
        await _limit(session_store, settings.recovery_rate_limit_per_hour, 3600, "reset", f"ip:{client_address(request, settings)}", f"email:{address}")
        await password_reset.request_reset(db, settings, correlation_of(request), email=data.email)
        return ResetAccepted(accepted=True, expires_in_minutes=settings.password_reset_ttl_minutes)

    @post("/check", operation_id="checkPasswordReset", status_code=200, **access(PUBLIC, errors=(429,)))
    async def check(self, request: Request, db: NamedDependency[ServiceDatabase], settings: NamedDependency[Settings], session_store: NamedDependency[Store], data: JSONBody[ResetCheck]) -> ResetUsable:
        """Whether a reset link still works, without using it up (the portal asks before it shows
        the form). 422 ``password_reset.invalid_token`` (unknown, used or expired; ``details.field``
        ``token``); 429 beyond ``XCISS_LOGIN_RATE_LIMIT_PER_MINUTE`` per client address, counted with
        the confirmations."""
        await _limit(session_store, settings.login_rate_limit_per_minute, 60, "reset-confirm", f"ip:{client_address(request, settings)}")
        return ResetUsable(usable=True, expires_at=await password_reset.check_reset(db, token=data.token))

    @post("/confirm", operation_id="confirmPasswordReset", status_code=204, **access(PUBLIC, errors=(403, 429)))
    async def confirm(
        self,
        request: Request,
        db: NamedDependency[ServiceDatabase],
        settings: NamedDependency[Settings],
        session_store: NamedDependency[Store],
        revocations: NamedDependency[Revocations],
        data: JSONBody[ResetConfirmation],
    ) -> None:
        """Set a new password with the link's token: every session of the account ends, a lock is
        cleared, the account's other links stop working. 422 ``password_reset.invalid_token``
        (unknown, used or expired; ``details.field`` ``token``), ``password.weak`` (``new_password``);
        403 ``auth.account_disabled``; 429 beyond ``XCISS_LOGIN_RATE_LIMIT_PER_MINUTE`` per client address."""
        await _limit(session_store, settings.login_rate_limit_per_minute, 60, "reset-confirm", f"ip:{client_address(request, settings)}")
        await password_reset.confirm_reset(db, revocations, correlation_of(request), token=data.token, new_password=data.new_password)
