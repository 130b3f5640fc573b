"""Users after registration: the center's list and review (R4), and their
classes. The review: verification, and the
rejection of one that is not genuine — for example a credit code given
by somebody who is not that enterprise, a registration that is not genuine.
A pending user or a wrongly verified one may be rejected, with a reason; it
is then unverified for good, holds no credit code, and vouchers learns it
from ``registry.user.rejected`` (it may no longer apply for vouchers).
Vouchers it already received are the bureau's matter (a fraud finding)."""

from __future__ import annotations

import msgspec
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from contracts import registry as ev
from services.registry import credit_codes as codes
from services.registry.db.party_models import users
from services.registry.domain.parties import (
    SpecialClass,
    UserClass,
    UserKind,
    check_reason,
    check_user_classes,
)
from services.registry.parties import name_or_code_contains, update_user, user_row
from services.registry.schemas.users import User, UserPage
from services.registry.user_rows import as_seen, user_image, user_snapshot, user_view
from services.runtime import clock
from services.runtime.errors import Conflict
from services.runtime.db.unit_of_work import Actor
from services.runtime.http.preconditions import check_version
from services.runtime.db.service_db import ServiceDatabase
from services.runtime.http.pagination import read_page


async def user_with_units(db: ServiceDatabase, user_id: str, *, by_staff: bool) -> User:
    """A user's record with ``same_party_units``: the units registered under
    its credit code (R26: the user is those units, their parent and colleges);
    that and ``duplicate_of`` only for the center and the bureau (``by_staff``)."""
    async with db.read() as s:
        row = await user_row(s, user_id)
        user = msgspec.structs.replace(user_view(row), same_party_units=await codes.units_of(s, row["credit_code"]))
    return as_seen(user, by_staff=by_staff)


async def reject_user(db: ServiceDatabase, actor: Actor, correlation_id: str | None, user_id: str, *, reason: str | None) -> User:
    text = check_reason(reason, required=True)
    now = clock.utc_now()
    async with db.unit_of_work(actor, correlation_id) as uow:
        s = uow.session
        row = await user_row(s, user_id)
        if row["rejected_at"] is not None:
            raise Conflict("user.already_rejected", "该用户注册已被驳回", "the user's registration is already rejected")
        after = await update_user(s, row, verified=False, updated_at=now, rejected_at=now, rejected_by=actor.label, rejection_reason=text)
        await uow.emit(ev.UserRejected(**user_snapshot(after)))
        await uow.audit("user.reject", "user", user_id, reason=text, before=user_image(user_view(row)), after=user_image(user_view(after)))
    return user_view(after)


async def verify_user(db: ServiceDatabase, actor: Actor, correlation_id: str | None, user_id: str, *, reason: str | None) -> User:
    reason = check_reason(reason, required=False)
    try:
        return await _verify_user(db, actor, correlation_id, user_id, reason=reason)
    except IntegrityError as exc:  # another user of the code was verified meanwhile
        raise codes.code_held(None) from exc


async def _verify_user(db: ServiceDatabase, actor: Actor, correlation_id: str | None, user_id: str, *, reason: str | None) -> User:
    now = clock.utc_now()
    async with db.unit_of_work(actor, correlation_id) as uow:
        s = uow.session
        row = await user_row(s, user_id)
        if row["verified"]:
            raise Conflict("user.already_verified", "该用户已通过审核", "the user is already verified")
        if row["rejected_at"] is not None:
            raise Conflict("user.rejected", "该用户注册已被驳回", "the user's registration was rejected")
        held = await codes.holder(s, row["credit_code"], verified_only=True, other_than=user_id)
        if held:
            raise codes.code_held(row["credit_code"], held)
        after = await update_user(s, row, verified=True, updated_at=now, verified_by=actor.subject, verified_at=now)
        user = user_view(after)  # as the API shows a user (the event's snapshot lacks the review state)
        await uow.emit(ev.UserVerified(**user_snapshot(after)))
        await uow.audit("user.verify", "user", user_id, reason=reason, before=user_image(user_view(row)), after=user_image(user))
    return user


async def change_user_classes(
    db: ServiceDatabase,
    actor: Actor,
    correlation_id: str | None,
    user_id: str,
    *,
    classes: list[UserClass] | None,
    special_classes: list[SpecialClass] | None,
    sound_finances: bool | None,
    reason: str | None,
    expected_version: int | None = None,
) -> User:
    """The center changes a user's classes, special classes or its sound-finances
    assessment, with a reason; the class rules of registration still hold. 412
    when ``expected_version`` (an If-Match) is not the user's."""
    reason = check_reason(reason, required=True, what_zh="变更用户类别或信用状况", what_en="a change of classes")
    now = clock.utc_now()
    async with db.unit_of_work(actor, correlation_id) as uow:
        s = uow.session
        row = await user_row(s, user_id)
        check_version(row["version"], expected_version)
        new_classes = [str(c) for c in classes] if classes is not None else list(row["classes"])
        new_special = [str(c) for c in special_classes] if special_classes is not None else list(row["special_classes"])
        new_sound = row["sound_finances"] if sound_finances is None else sound_finances
        check_user_classes(UserKind(row["kind"]), [UserClass(c) for c in new_classes], [SpecialClass(c) for c in new_special])
        if new_classes == list(row["classes"]) and new_special == list(row["special_classes"]) and new_sound == row["sound_finances"]:
            raise Conflict("user.unchanged", "未做任何变更", "nothing would change")
        after = await update_user(s, row, classes=new_classes, special_classes=new_special, sound_finances=new_sound, updated_at=now)
        user = user_view(after)
        await uow.emit(ev.UserClassesChanged(**user_snapshot(after)))
        await uow.audit("user.classes_change", "user", user_id, reason=reason, before=user_image(user_view(row)), after=user_image(user))
    return user


async def list_users(db: ServiceDatabase, *, verified: bool | None, page: int, page_size: int, status: str | None = None, text: str | None = None) -> UserPage:
    """``verified=false`` is the center's queue: unverified and not rejected; ``text``: part of the
    user's name or credit code (the bureau's picker of the party of a fraud finding)."""
    conds = []
    if text := (text or "").strip():
        conds.append(name_or_code_contains(users, text))
    if verified is not None:
        conds += [users.c.verified == verified] + ([] if verified else [users.c.rejected_at.is_(None)])
    if status == codes.REJECTED:
        conds.append(users.c.rejected_at.is_not(None))
    elif status is not None:
        conds += [users.c.verified == (status == codes.VERIFIED), users.c.rejected_at.is_(None)]
    async with db.read() as s:
        return await read_page(s, select(users).where(*conds), order_by=[users.c.created_at, users.c.id], page=page, page_size=page_size, item=user_view)
