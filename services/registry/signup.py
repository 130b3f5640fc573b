"""Self-service sign-up (issue 17): an enterprise or a start-up team creates
its login account (role ``user``) and its user record in one transaction,
with the ``registry.user.registered`` event and one audit row for each. The
account may sign in at once; the user is pending until the center verifies
it (``user_review``), as any registration. A credit code another user
already gave is accepted, pending, with ``duplicate_of`` (``credit_codes``)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.exc import IntegrityError

from contracts import registry as ev
from contracts.envelope import new_event_id
from services.registry import accounts as acc
from services.registry import credit_codes as codes
from services.registry.db.account_models import accounts
from services.registry.db.party_models import users
from services.registry.domain import recovery
from services.registry.domain.accounts import AccountStatus, check_password
from services.registry.domain.parties import SpecialClass, UserClass, UserKind
from services.registry.passwords import hash_password
from services.registry.schemas.users import SignedUpAccount, Signup
from services.registry.user_rows import as_seen, new_user_row, user_image, user_snapshot, user_view
from services.runtime import clock
from services.runtime.audit_image import audit_image
from services.runtime.roles import Role
from services.runtime.errors import Conflict, DomainError
from services.runtime.db.unit_of_work import Actor
from services.runtime.db.service_db import ServiceDatabase


def _username_taken(username: str) -> Conflict:
    return Conflict("account.username_taken", f"用户名 {username} 已被使用", f"the username {username} is taken", field="username")


def _leader_taken() -> Conflict:
    return Conflict("user.duplicate", "该团队负责人已注册", "this team leader is already registered", field="leader_id_number")


async def sign_up(
    db: ServiceDatabase,
    correlation_id: str | None,
    *,
    pii_key: str,
    city_prefix: str,
    username: str,
    password: str,
    name: str,
    kind: UserKind,
    classes: list[UserClass],
    special_classes: list[SpecialClass],
    credit_code: str | None,
    leader_name: str | None,
    leader_id_number: str | None,
    incubator_credit_code: str | None,
    contact_name: str | None,
    phone: str | None,
    email: str | None,
) -> Signup:
    """The new account (with its e-mail and phone) and user; the user as its registrant
    sees it: who else gave the credit code (``duplicate_of``) is the center's to see."""
    username = recovery.clean_username(username)
    name = recovery.clean_name(name)
    contact, phone, email = recovery.clean_contact(contact_name, phone, email)
    if kind is UserKind.TEAM and not classes:
        classes = [UserClass.STARTUP_TEAM]  # a team's only class (R4)
    if not classes:
        raise DomainError("signup.field_required", "请至少选择一个用户类别", "choose at least one class", field="classes")
    check_password(password, username)
    row = new_user_row(
        pii_key=pii_key,
        city_prefix=city_prefix,
        name=name,
        kind=kind,
        credit_code=credit_code,
        classes=classes,
        special_classes=special_classes,
        leader_name=(leader_name or "").strip() or None,
        leader_id_number=(leader_id_number or "").strip() or None,
        incubator_credit_code=incubator_credit_code,
    )
    password_hash = await hash_password(password)
    now = clock.utc_now()
    account: dict[str, Any] = {
        "id": new_event_id(),
        "username": username,
        "password_hash": password_hash,
        "role": str(Role.USER),
        "org": row["id"],
        "display_name": contact[:100],
        "email": email,
        "phone": phone,
        "status": str(AccountStatus.ACTIVE),
        "failed_attempts": 0,
        "locked_until": None,
        "password_changed_at": now,
        "last_login_at": None,
        "created_at": now,
        "created_by": f"signup:{username}",
        "updated_at": now,
        "version": 1,
    }
    # the registrant acts for the user it creates
    actor = Actor(subject=username, role=str(Role.USER), org=row["id"])
    try:
        async with db.unit_of_work(actor, correlation_id) as uow:
            s = uow.session
            if (await s.execute(select(accounts.c.id).where(accounts.c.username == username))).first() is not None:
                raise _username_taken(username)
            if row["leader_id_digest"] and (await s.execute(select(users.c.id).where(users.c.leader_id_digest == row["leader_id_digest"]))).first() is not None:
                raise _leader_taken()
            row["duplicate_of"] = await codes.holder(s, row["credit_code"])
            await s.execute(insert(users).values(**row))
            await s.execute(insert(accounts).values(**account))
            await uow.emit(ev.UserRegistered(**user_snapshot(row)))  # type: ignore[arg-type]
            shown_user = user_view(row)
            await uow.audit("user.register", "user", row["id"], after=user_image(shown_user))
            # the contact's phone and e-mail are personal data: the audit says only which were given
            await uow.audit("account.signup", "account", account["id"], after={**audit_image(acc.account_view(account), leave_out=acc.READ_ALONG), "email_given": email is not None, "phone_given": phone is not None})
    except IntegrityError as exc:  # a concurrent sign-up of the same username or team leader
        async with db.read() as s:
            taken = (await s.execute(select(accounts.c.id).where(accounts.c.username == username))).first() is not None
        raise (_username_taken(username) if taken else _leader_taken()) from exc
    shown_account = SignedUpAccount(
        account_id=account["id"],
        username=username,
        role=account["role"],
        org=account["org"],
        display_name=account["display_name"],
        email=email,
        phone=phone,
        status=account["status"],
    )
    return Signup(account=shown_account, user=as_seen(shown_user, by_staff=False))
